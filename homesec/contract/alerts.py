"""Alerts as data: the vocabularies of the ``alerts`` table, a rule as pure code reads it, an
event as a rule judges it (:class:`JudgedEvent`) and as an alert tells it
(:class:`AnnouncedEvent`), and the message every channel sends.

A rule names channel *kinds* (``apprise``, ``mqtt``, ``webhook``); each configured URL of a kind
is one concrete channel (``apprise:1a2b3c4d``), so an alert row, its idempotency key and its
retries belong to exactly one destination, and one failing URL never makes another send twice.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import msgspec


class AlertStatus(StrEnum):
    """Where an alert row stands (``alerts.status``)."""

    PENDING = "pending"  # in the outbox: the Notifier sends it (again, after a failed attempt)
    SENT = "sent"
    FAILED = "failed"  # gave up after NOTIFY_MAX_ATTEMPTS; last_error says why
    SUPPRESSED_COOLDOWN = "suppressed_cooldown"
    SUPPRESSED_QUIET_HOURS = "suppressed_quiet_hours"
    # An update that says what the first push said (same band, a score within
    # NOTIFY_UPDATE_MIN_SCORE_CHANGE): no second push; MQTT and webhooks still get it.
    SUPPRESSED_UNCHANGED = "suppressed_unchanged"


class AlertKind(StrEnum):
    ALERT = "alert"  # the first message of a visit
    UPDATE = "update"  # the batch's verdict on a visit a fast-path alert announced
    TEST = "test"  # POST /api/alerts/test
    CAMERA = "camera"  # a camera went blind or silent (issue 23): no event, a camera problem
    DIGEST = "digest"  # the morning digest (issue 24): last night in one message, no event


class ChannelKind(StrEnum):
    APPRISE = "apprise"
    MQTT = "mqtt"
    WEBHOOK = "webhook"


CHANNEL_KINDS: tuple[str, ...] = tuple(kind.value for kind in ChannelKind)


def channel_kind(channel: str) -> str:
    """``apprise:1a2b3c4d`` -> ``apprise``."""
    return channel.split(":", 1)[0]


class AlertRule(msgspec.Struct, frozen=True, kw_only=True):
    """One alert rule; its conditions are ANDed, and an empty or None condition holds always.

    ``days``: ISO weekdays 1 (Monday) .. 7; ``time_ranges``: local ``HH:MM-HH:MM`` ranges (one
    that ends before it starts runs over midnight, and its after-midnight part belongs to the
    day it started). ``fast_path``: True only fast-path events, False only batch events, None
    both. ``channels``: channel kinds; empty means every configured channel.
    """

    id: int = 0
    name: str
    enabled: bool = True
    min_risk_level: str | None = None
    min_risk_score: int | None = None
    camera_ids: tuple[str, ...] = ()
    object_types: tuple[str, ...] = ()
    min_confidence: float | None = None
    days: tuple[int, ...] = ()
    time_ranges: tuple[str, ...] = ()
    fast_path: bool | None = None
    cooldown_seconds: int = 300
    channels: tuple[str, ...] = ()
    # The house's modes (home, away, night) the rule holds in; empty: every mode.
    modes: tuple[str, ...] = ()
    # Zone names (issue 23): the event must have a detection in one of them (any camera's zone
    # of that name, case aside); empty: anywhere.
    zones: tuple[str, ...] = ()


class JudgedEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An event as an alert rule judges it: its verdict and the best confidence of each class
    in it. Made by ``store/alert_facts.py``; read by ``policy/alert_rules.py`` (the Notifier's
    decisions, and the rule trial of ``/api/alerts/rules/{id}/test``)."""

    event_id: int
    camera_id: str
    risk_score: int | None
    risk_level: str | None
    is_fast_path: bool
    started_at: dt.datetime
    confidences: dict[str, float] = {}  # object class -> its best confidence in the event
    house_mode: str = "home"  # the house's mode when the event started
    zones: tuple[str, ...] = ()  # the zones its detections stood in (issue 23)
    # The incident its visit belongs to (visits on different cameras close in time, issue 23)
    # and the incident's verdict on the whole story: rules judge that where it is given.
    incident_id: int | None = None
    incident_risk_score: int | None = None
    incident_risk_level: str | None = None

    @property
    def judged_score(self) -> int | None:
        """The score a rule judges: the incident's when the event is part of one."""
        if self.incident_id is not None and self.incident_risk_score is not None:
            return max(self.incident_risk_score, self.risk_score or 0)
        return self.risk_score

    @property
    def judged_level(self) -> str | None:
        if self.incident_id is not None and self.incident_risk_level is not None:
            return self.incident_risk_level
        return self.risk_level


class AnnouncedEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An event as an alert tells it: what its message and its MQTT state say, with the pictures
    to attach. Made by ``store/alert_facts.py``; read by ``compose`` in
    ``policy/alert_message.py`` and by the Notifier's MQTT state. Apart from :class:`JudgedEvent`
    because it is read once per message sent, with the camera's name and the pictures, not once
    per event decided."""

    event_id: int
    camera_id: str
    camera_name: str
    started_at: dt.datetime
    risk_level: str | None
    risk_score: int | None
    summary: str | None
    object_types: tuple[str, ...]
    thumbnail_path: str | None  # the most confident detection's that has one
    image_path: str | None = None  # the uploaded image of the most confident detection
    # The incident its visit belongs to, if any: its id, its story so far in words and its
    # verdict on the whole story (issue 23).
    incident_id: int | None = None
    story: str | None = None
    incident_risk_level: str | None = None
    incident_risk_score: int | None = None


class AlertMessage(msgspec.Struct, frozen=True, kw_only=True):
    """What one channel sends for one alert row. ``alert_id`` is the conversation's: an update
    carries the id of the alert it updates, so a receiver can replace what it showed."""

    alert_id: int
    kind: str  # AlertKind
    title: str
    body: str
    camera_id: str
    camera_name: str
    local_time: str  # ISO-8601 in the house's zone
    risk_level: str | None
    risk_score: int | None
    summary: str | None
    event_id: int | None
    link: str | None
    idempotency_key: str
    thumbnail_path: str | None = None  # the best detection's thumbnail, for channels that attach
    update: bool = False
    object_types: tuple[str, ...] = ()
    # The incident (visits on different cameras close in time) and its story so far; None: a
    # visit alone.
    incident_id: int | None = None
    story: str | None = None


class DeliveryResult(msgspec.Struct, frozen=True, kw_only=True):
    """How one send went: ``ok``, or the error to store and show."""

    channel: str
    ok: bool
    error: str | None = None
