"""Incidents (issue 23): visits on different cameras close in time, told and scored as one."""

from __future__ import annotations

import datetime as dt

import msgspec

from homesec.http.schemas.events import Event
from homesec.models.enums import RiskLevel


class IncidentCamera(msgspec.Struct, kw_only=True):
    camera_id: str
    camera_name: str


class Incident(msgspec.Struct, kw_only=True):
    """An incident: its cameras in the order first seen, its verdict on the whole story (never
    below its worst visit), the story in words, and the owner's review."""

    id: int
    started_at: dt.datetime
    ended_at: dt.datetime
    cameras: list[IncidentCamera]
    risk_score: int | None
    risk_level: RiskLevel | None
    summary: str | None  # the story: "A person at Driveway at 02:09, then at Back Door at 02:10."
    reasoning: str | None  # the latest assessment, made with the whole story before it
    reviewed: bool
    visit_count: int
    # The event ids of its visits, oldest first (each a final verdict; a preliminary one it
    # superseded is inside it, as on /api/events).
    event_ids: list[int]


class IncidentDetail(Incident, kw_only=True):
    """An incident with its visits, oldest first."""

    visits: list[Event]


class IncidentPage(msgspec.Struct, kw_only=True):
    """Newest first. ``next_cursor`` fetches the following page; None on the last one."""

    items: list[Incident]
    next_cursor: str | None


class IncidentUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The owner's review: reviewing an incident reviews every visit of it."""

    reviewed: bool
