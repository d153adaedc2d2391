"""Alert rules and alerts: what ``/api/alerts`` reads and changes, over the store's modules."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.contract.alerts import AlertRule, AlertStatus
from homesec.http.errors import BadRequest, NotFound
from homesec.http.queries import notify_channels as channel_queries
from homesec.http.schemas import alerts as schemas
from homesec.policy.alert_rules import parse_time_range, replay
from homesec.settings import Settings, local_zone
from homesec.store import alert_facts, alert_rules, alerts, notifier_wake
from homesec.store.alerts import StoredAlert
from homesec.store.events import StoredEvent, stored_events

# How long POST /api/alerts/test waits for the Notifier beyond one channel's timeout (it may be
# between sweeps, or busy with another channel's retries).
TRIAL_GRACE_SECONDS = 10.0


def to_rule(rule: AlertRule) -> schemas.AlertRule:
    return msgspec.convert(msgspec.structs.asdict(rule), schemas.AlertRule)


def to_alert(row: StoredAlert, labels: dict[str, str]) -> schemas.Alert:
    values = msgspec.structs.asdict(row)
    values["channel_label"] = channel_queries.label_of(row.channel, labels)
    return msgspec.convert(values, schemas.Alert, from_attributes=True)


def _checked(rule: AlertRule) -> AlertRule:
    for text in rule.time_ranges:
        try:
            parse_time_range(text)
        except ValueError as exc:
            raise BadRequest(f"time_ranges: {exc}") from None
    return rule


async def list_rules(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> schemas.AlertRuleList:
    rules = await alert_rules.list_rules(sessions)
    return schemas.AlertRuleList(
        items=[to_rule(rule) for rule in rules],
        count=len(rules),
        configured_channels=[view.name for view in await channel_queries.views(sessions, settings)],
    )


async def get_rule(sessions: async_sessionmaker[AsyncSession], rule_id: int) -> AlertRule:
    rule = await alert_rules.get_rule(sessions, rule_id)
    if rule is None:
        raise NotFound(f"no alert rule {rule_id}")
    return rule


async def create_rule(
    sessions: async_sessionmaker[AsyncSession], data: schemas.AlertRuleCreate
) -> schemas.AlertRule:
    rule = msgspec.convert(msgspec.to_builtins(data), AlertRule)
    return to_rule(await alert_rules.create_rule(sessions, _checked(rule)))


async def update_rule(
    sessions: async_sessionmaker[AsyncSession], rule_id: int, data: schemas.AlertRuleUpdate
) -> schemas.AlertRule:
    changes = {
        field: value
        for field in data.__struct_fields__
        if (value := getattr(data, field)) is not msgspec.UNSET
    }
    rule = alert_rules.merged(await get_rule(sessions, rule_id), msgspec.to_builtins(changes))
    stored = await alert_rules.replace_rule(sessions, rule_id, _checked(rule))
    if stored is None:
        raise NotFound(f"no alert rule {rule_id}")
    return to_rule(stored)


async def delete_rule(sessions: async_sessionmaker[AsyncSession], rule_id: int) -> None:
    if not await alert_rules.delete_rule(sessions, rule_id):
        raise NotFound(f"no alert rule {rule_id}")


async def try_rule(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, rule_id: int, limit: int
) -> schemas.RuleTrial:
    """Which of the last ``limit`` events the rule would have fired for (each judged at its own
    time, with the cooldown its earlier alerts would have set; enabled or not)."""
    rule = msgspec.structs.replace(await get_rule(sessions, rule_id), enabled=True)
    async with sessions() as session:
        events = await alert_facts.recent_events(session, limit)
    verdicts = replay(rule, events, zone=local_zone(settings))
    items = [
        schemas.RuleTrialEvent(
            event_id=facts.event_id,
            camera_id=facts.camera_id,
            started_at=facts.started_at,
            risk_level=facts.risk_level,
            risk_score=facts.risk_score,
            is_fast_path=facts.is_fast_path,
            would_fire=verdict.status is AlertStatus.PENDING,
            outcome=verdict.status.value if verdict.status is not None else "no_match",
            reason=verdict.reason,
        )
        for facts, verdict in reversed(verdicts)  # newest first, as lists are
    ]
    return schemas.RuleTrial(
        rule_id=rule_id,
        events_checked=len(items),
        would_fire=sum(item.would_fire for item in items),
        events=items,
    )


async def recent_alerts(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    limit: int,
    *,
    status: AlertStatus | None,
    acknowledged: bool | None,
    before_id: int | None,
) -> schemas.AlertList:
    rows = await alerts.recent(sessions, limit + 1, status=status, acknowledged=acknowledged,
                               before_id=before_id)  # fmt: skip
    page = rows[:limit]
    more = len(rows) > limit
    labels = await channel_queries.labels(sessions, settings)
    return schemas.AlertList(
        items=[to_alert(row, labels) for row in page], next_before_id=page[-1].id if more else None
    )


async def acknowledge(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, alert_id: int
) -> schemas.Alert:
    row = await alerts.acknowledge(sessions, alert_id, dt.datetime.now(dt.UTC))
    if row is None:
        raise NotFound(f"no alert {alert_id}")
    return to_alert(row, await channel_queries.labels(sessions, settings))


async def send_trial(
    sessions: async_sessionmaker[AsyncSession],
    redis,
    settings: Settings,
    only: str | None = None,
) -> schemas.ChannelTrialList:
    """A test message to every configured channel (or to the one named ``only``), through the
    outbox and the Notifier (the path real alerts take); waits for each channel's outcome."""
    labels = await channel_queries.labels(sessions, settings)
    channels = list(labels)
    if only is not None:
        if only not in labels:
            raise NotFound(f"no channel {only} is configured")
        channels = [only]
    if not channels:
        raise BadRequest(
            "no alert channel is configured: add one on the Alerts page, or set NOTIFY_URLS, "
            "MQTT_URL or WEBHOOK_URLS (docs/alerts.md) and restart homesec"
        )
    ids = await alerts.add_test_alerts(sessions, channels, secrets.token_hex(6))
    await notifier_wake.wake(redis, "test")
    deadline = asyncio.get_running_loop().time() + settings.notify_timeout_seconds
    deadline += TRIAL_GRACE_SECONDS
    rows = await alerts.by_ids(sessions, ids)
    while any(row.status == AlertStatus.PENDING for row in rows):
        if asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.2)
        rows = await alerts.by_ids(sessions, ids)
    results = [
        schemas.ChannelTrial(
            channel=row.channel,
            channel_label=channel_queries.label_of(row.channel, labels),
            status=AlertStatus(row.status),
            error=row.last_error
            if row.status != AlertStatus.PENDING
            else "not sent yet: is the Notifier running (homesec status)?",
            alert_id=row.id,
        )
        for row in rows
    ]
    return schemas.ChannelTrialList(
        results=results, ok=all(r.status == AlertStatus.SENT for r in results)
    )


# --- the Alerts page: one line per alert, a status per channel -----------------------------------
class Delivery(msgspec.Struct, frozen=True, kw_only=True):
    """One channel's part of an alert."""

    alert_id: int
    channel: str
    label: str
    status: str
    attempts: int
    last_error: str | None
    sent_at: dt.datetime | None


class AlertLine(msgspec.Struct, frozen=True, kw_only=True):
    """One alert (or update, or test message) with its event and each channel's part."""

    id: int  # its newest row's: orders and pages the lines
    first_id: int  # its first row's: what "Acknowledge" sends (the API acknowledges them all)
    kind: str
    event_id: int | None
    rule_id: int | None
    camera_id: str | None
    created_at: dt.datetime
    acknowledged: bool
    event: StoredEvent | None  # None for a test message, or once its event is gone
    deliveries: list[Delivery]


async def alert_lines(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    limit: int,
    *,
    status: AlertStatus | None,
    acknowledged: bool | None,
    before_id: int | None,
) -> tuple[list[AlertLine], int | None]:
    """The newest ``limit`` alerts as lines, and the ``before_id`` of the next page (None on the
    last)."""
    groups = await alerts.recent_grouped(
        sessions, limit + 1, status=status, acknowledged=acknowledged, before_id=before_id
    )
    more = len(groups) > limit
    groups = groups[:limit]
    labels = await channel_queries.labels(sessions, settings)
    event_ids = sorted({row.event_id for group in groups for row in group if row.event_id})
    async with sessions() as session:
        shown = await stored_events(session, event_ids)
    lines = []
    for group in groups:
        first = group[0]
        lines.append(AlertLine(
            id=alerts.group_id(group),
            first_id=first.id,
            kind=first.kind,
            event_id=first.event_id,
            rule_id=next((row.rule_id for row in group if row.rule_id is not None), None),
            camera_id=first.camera_id,
            created_at=first.created_at,
            acknowledged=all(row.acknowledged for row in group),
            event=shown.get(first.event_id) if first.event_id is not None else None,
            deliveries=[
                Delivery(alert_id=row.id, channel=row.channel,
                         label=channel_queries.label_of(row.channel, labels), status=row.status,
                         attempts=row.attempts, last_error=row.last_error, sent_at=row.sent_at)
                for row in sorted(group, key=lambda row: (labels.get(row.channel) is None,
                                                          row.channel))
            ],
        ))  # fmt: skip
    return lines, (lines[-1].id if more and lines else None)
