"""Feedback on an event's scoring: a false alarm, or the band it should have had."""

from __future__ import annotations

import datetime as dt

import msgspec

from homesec.models.enums import FeedbackKind, RiskLevel


class FeedbackCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``should_be`` is required with ``wrong_severity`` and refused with ``false_alarm``."""

    feedback: FeedbackKind
    should_be: RiskLevel | None = None


class Feedback(msgspec.Struct, kw_only=True):
    id: int
    event_id: int
    feedback: FeedbackKind
    should_be: RiskLevel | None
    created_at: dt.datetime


class FeedbackList(msgspec.Struct, kw_only=True):
    """Oldest first."""

    items: list[Feedback]
    count: int
