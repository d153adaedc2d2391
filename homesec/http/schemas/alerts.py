"""Alert rules and alerts (docs/alerts.md)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

import msgspec
from msgspec import Meta

from homesec.contract.alerts import AlertKind, AlertStatus, ChannelKind
from homesec.contract.enums import HouseMode
from homesec.http.schemas.common import NO_NUL, DbId, text
from homesec.models.enums import RiskLevel

RuleName = text(100, min_length=1)
CameraIdText = text(100, min_length=1)
ObjectType = text(50, min_length=1)
ZoneName = text(60, min_length=1)
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
    # The house's modes the rule holds in; empty: every mode.
    modes: Annotated[list[HouseMode], Meta(max_length=3)] = []
    # The event must have a detection in one of these zones (their names); empty: anywhere.
    zones: Annotated[list[ZoneName], Meta(max_length=32)] = []


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
    modes: Annotated[list[HouseMode], Meta(max_length=3)] | msgspec.UnsetType = msgspec.UNSET
    zones: Annotated[list[ZoneName], Meta(max_length=32)] | msgspec.UnsetType = msgspec.UNSET


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
    modes: list[str] = []
    zones: list[str] = []


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
    # The channel as people read it: service and host ("ntfy · ntfy.sh"), never its URL.
    channel_label: str
    kind: AlertKind
    updates_alert_id: int | None
    status: AlertStatus
    attempts: int
    last_error: str | None
    created_at: dt.datetime
    sent_at: dt.datetime | None
    acknowledged: bool
    # What it is about (issue 23): "event" (an event's alert or update), "camera" (the camera
    # went blind or silent: kind is "camera" too) or "test".
    source: str = "event"
    camera_problem_id: int | None = None  # a camera alert's problem


class AlertList(msgspec.Struct, kw_only=True):
    items: list[Alert]
    # Pass as before_id for the next (older) page; null on the last page.
    next_before_id: int | None


class ChannelTrial(msgspec.Struct, kw_only=True):
    channel: str
    channel_label: str
    status: AlertStatus
    error: str | None
    alert_id: DbId


class ChannelTrialList(msgspec.Struct, kw_only=True):
    results: list[ChannelTrial]
    ok: bool


# --- channels --------------------------------------------------------------------------------
class AddableKind(StrEnum):
    """The kinds of channel the Alerts page adds (MQTT is one connection: MQTT_URL)."""

    APPRISE = "apprise"
    WEBHOOK = "webhook"


class ChannelSource(StrEnum):
    ENVIRONMENT = "environment"  # NOTIFY_URLS, WEBHOOK_URLS, MQTT_URL: changed there, not here
    PAGE = "page"  # added on the Alerts page or with POST /api/alerts/channels


class NotifyChannelCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A channel to add. The URL is stored to be used and never shown again: answers carry its
    label and a masked form only."""

    kind: AddableKind
    url: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=2000,
            pattern=NO_NUL,
            description="apprise: an Apprise URL (ntfys://ntfy.sh/my-topic, tgram://token/chat "
            "...); webhook: an http(s) URL that takes a JSON POST",
        ),
    ]


class NotifyChannel(msgspec.Struct, kw_only=True):
    """A channel as it may be shown: never its URL."""

    name: str  # as alert rows name it: apprise:1a2b3c4d (environment), webhook:page-3, mqtt
    id: int | None  # a page channel's id (for DELETE and test); null for the environment's
    kind: ChannelKind
    label: str  # service and host: "ntfy · ntfy.sh", "Webhook · 192.168.1.5:8123"
    masked_url: str  # "ntfys://ntfy.sh/•••": what may be shown of the URL
    source: ChannelSource
    removable: bool
    created_at: dt.datetime | None


class NotifyChannelList(msgspec.Struct, kw_only=True):
    items: list[NotifyChannel]
    count: int
