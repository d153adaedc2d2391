"""Alert rules and alerts (docs/alerts.md)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from msgspec import Meta

from homesec.contract.alerts import AlertKind, AlertStatus, ChannelKind
from homesec.http.schemas.common import DbId, text
from homesec.models.enums import RiskLevel

RuleName = text(100, min_length=1)
CameraIdText = text(100, min_length=1)
ObjectType = text(50, min_length=1)
Weekday = Annotated[int, Meta(ge=1, le=7, description="ISO weekday: 1 Monday .. 7 Sunday")]
TimeRange = Annotated[
    str,
    Meta(pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$", description="local HH:MM-HH:MM, e.g. 22:00-06:00"),
]
Score = Annotated[int, Meta(ge=0, le=100)]
Confidence = Annotated[float, Meta(ge=0, le=1)]
Cooldown = Annotated[int, Meta(ge=0, le=7 * 86_400, description="seconds, per camera")]


class AlertRuleCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A rule; its conditions are ANDed, and an empty list means any (every camera, every
    class, every day, all day, every configured channel)."""

    name: RuleName
    enabled: bool = True
    min_risk_level: RiskLevel | None = None
    min_risk_score: Score | None = None
    camera_ids: Annotated[list[CameraIdText], Meta(max_length=100)] = []
    object_types: Annotated[list[ObjectType], Meta(max_length=50)] = []
    min_confidence: Confidence | None = None
    days: Annotated[list[Weekday], Meta(max_length=7)] = []
    time_ranges: Annotated[list[TimeRange], Meta(max_length=12)] = []
    fast_path: bool | None = None  # True: fast-path events only; False: batch events only
    cooldown_seconds: Cooldown = 300
    channels: Annotated[list[ChannelKind], Meta(max_length=3)] = []


class AlertRuleUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The fields to change; ``null`` clears an optional condition."""

    name: RuleName | msgspec.UnsetType = msgspec.UNSET
    enabled: bool | msgspec.UnsetType = msgspec.UNSET
    min_risk_level: RiskLevel | msgspec.UnsetType | None = msgspec.UNSET
    min_risk_score: Score | msgspec.UnsetType | None = msgspec.UNSET
    camera_ids: Annotated[list[CameraIdText], Meta(max_length=100)] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    object_types: Annotated[list[ObjectType], Meta(max_length=50)] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    min_confidence: Confidence | msgspec.UnsetType | None = msgspec.UNSET
    days: Annotated[list[Weekday], Meta(max_length=7)] | msgspec.UnsetType = msgspec.UNSET
    time_ranges: Annotated[list[TimeRange], Meta(max_length=12)] | msgspec.UnsetType = msgspec.UNSET
    fast_path: bool | msgspec.UnsetType | None = msgspec.UNSET
    cooldown_seconds: Cooldown | msgspec.UnsetType = msgspec.UNSET
    channels: Annotated[list[ChannelKind], Meta(max_length=3)] | msgspec.UnsetType = msgspec.UNSET


class AlertRule(msgspec.Struct, kw_only=True):
    id: int
    name: str
    enabled: bool
    min_risk_level: str | None
    min_risk_score: int | None
    camera_ids: list[str]
    object_types: list[str]
    min_confidence: float | None
    days: list[int]
    time_ranges: list[str]
    fast_path: bool | None
    cooldown_seconds: int
    channels: list[str]


class AlertRuleList(msgspec.Struct, kw_only=True):
    items: list[AlertRule]
    count: int
    # The channels configured now (NOTIFY_URLS, MQTT_URL, WEBHOOK_URLS), by name.
    configured_channels: list[str]


class RuleTrialEvent(msgspec.Struct, kw_only=True):
    event_id: int
    camera_id: str
    started_at: dt.datetime
    risk_level: str | None
    risk_score: int | None
    is_fast_path: bool
    would_fire: bool
    outcome: str  # pending (it would send), suppressed_cooldown, or no_match
    reason: str


class RuleTrial(msgspec.Struct, kw_only=True):
    rule_id: int
    events_checked: int
    would_fire: int
    events: list[RuleTrialEvent]


class Alert(msgspec.Struct, kw_only=True):
    id: int
    event_id: int | None
    rule_id: int | None
    camera_id: str | None
    channel: str
    kind: AlertKind
    updates_alert_id: int | None
    status: AlertStatus
    attempts: int
    last_error: str | None
    created_at: dt.datetime
    sent_at: dt.datetime | None
    acknowledged: bool


class AlertList(msgspec.Struct, kw_only=True):
    items: list[Alert]
    # Pass as before_id for the next (older) page; null on the last page.
    next_before_id: int | None


class ChannelTrial(msgspec.Struct, kw_only=True):
    channel: str
    status: AlertStatus
    error: str | None
    alert_id: DbId


class ChannelTrialList(msgspec.Struct, kw_only=True):
    results: list[ChannelTrial]
    ok: bool
