"""Events: analysed batches of one camera's detections with their risk assessment."""

from __future__ import annotations

import datetime as dt

import msgspec

from homesec.http.schemas.common import text
from homesec.models.enums import RiskLevel

Notes = text(10_000)


class SearchMatch(msgspec.Struct, kw_only=True):
    """How an event matched ``q``: its relevance (higher first) and its matched words as HTML
    fragments (the text HTML-escaped, each matched word in ``<mark>``), None where that text
    did not match (the words may have matched the camera, the objects or the zones)."""

    relevance: int
    summary_html: str | None
    snippet_html: str | None  # from the notes, else the reasoning


class Event(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: int
    batch_id: str
    camera_id: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    risk_score: int | None
    risk_level: RiskLevel | None
    summary: str | None
    reasoning: str | None
    detection_ids: list[int]
    detection_count: int
    reviewed: bool
    notes: str | None
    is_fast_path: bool
    # homesec's additions, left out of the JSON while unset (so the contract's shape stays as
    # it was for events without them). One visit, one verdict: the final (batch) event names the
    # preliminary (fast-path) event it supersedes and carries it in ``preliminary``;
    # ``superseded_by_event_id`` is set on a preliminary event (listed only with
    # ``include_superseded=true``).
    supersedes_event_id: int | None = None
    superseded_by_event_id: int | None = None
    preliminary: Event | None = None
    # The incident (issue 23) its visit belongs to: visits on different cameras close in time
    # (/api/incidents/{id}); left out for a visit alone.
    incident_id: int | None = None
    # Who scored it: the engine (rules, openai, vllm), its model, the prompt or rules version;
    # None for events written before homesec recorded it.
    scored_by_engine: str | None = None
    scored_by_model: str | None = None
    prompt_version: str | None = None
    # On hold ("keep", issue 24): retention deletes neither the event nor its files while
    # ``held_at`` is set; ``hold_note`` says why. Left out while not held.
    held_at: dt.datetime | None = None
    hold_note: str | None = None
    # Only in the results of a search (``q``).
    search: SearchMatch | None = None


class EventPage(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Newest first (a search: most relevant first). ``next_cursor`` fetches the following
    page; None on the last one.

    ``count`` (all events matching the filters) is there only when asked for with
    ``include_count=true``: counting a large table costs more than the page itself.
    """

    items: list[Event]
    next_cursor: str | None
    count: int | None = None
    # What ``q`` was read as; only for a search.
    search: SearchUnderstood | None = None


class SearchUnderstood(msgspec.Struct, kw_only=True):
    """``q`` as the search read it: the words searched for (None: only time words, or none
    left) and the time phrases understood with the range they name, ``[start, end)`` in UTC.
    A search ranks the newest ``ranked_newest`` matches (the filters and time words narrow
    which); older matches are reached by narrowing."""

    words: str | None
    time_phrases: list[str]
    start: dt.datetime | None
    end: dt.datetime | None
    ranked_newest: int


class EventUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Only the review may change: the risk analysis of an event is immutable."""

    reviewed: bool | msgspec.UnsetType = msgspec.UNSET
    notes: Notes | msgspec.UnsetType | None = msgspec.UNSET


class EventHoldRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``PUT /api/events/{id}/hold``: keep the event out of retention, with why (optional)."""

    note: Notes | None = None


class CameraEventCount(msgspec.Struct, kw_only=True):
    camera_id: str
    camera_name: str
    event_count: int


class EventStats(msgspec.Struct, kw_only=True):
    total_events: int
    events_by_risk_level: dict[str, int]  # every level, unscored events under "unscored"
    events_by_camera: list[CameraEventCount]
