"""Alert rules and alerts: what ``/api/alerts`` reads and changes, over the store's modules."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.contract import keys
from homesec.contract.alerts import AlertRule, AlertStatus
from homesec.http.errors import BadRequest, NotFound
from homesec.http.schemas import alerts as schemas
from homesec.pipeline.alert_channels import configured_channels
from homesec.pipeline.alert_rules import parse_time_range, replay
from homesec.settings import Settings, local_zone
from homesec.store import alert_facts, alert_rules, alerts
from homesec.store.alerts import StoredAlert

# How long POST /api/alerts/test waits for the Notifier beyond one channel's timeout (it may be
# between sweeps, or busy with another channel's retries).
TRIAL_GRACE_SECONDS = 10.0


def to_rule(rule: AlertRule) -> schemas.AlertRule:
    return msgspec.convert(msgspec.structs.asdict(rule), schemas.AlertRule)


def to_alert(row: StoredAlert) -> schemas.Alert:
    return msgspec.convert(msgspec.structs.asdict(row), schemas.Alert, from_attributes=True)


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
        configured_channels=list(configured_channels(settings)),
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
    return schemas.AlertList(
        items=[to_alert(row) for row in page], next_before_id=page[-1].id if more else None
    )


async def acknowledge(sessions: async_sessionmaker[AsyncSession], alert_id: int) -> schemas.Alert:
    row = await alerts.acknowledge(sessions, alert_id, dt.datetime.now(dt.UTC))
    if row is None:
        raise NotFound(f"no alert {alert_id}")
    return to_alert(row)


async def send_trial(
    sessions: async_sessionmaker[AsyncSession], redis, settings: Settings
) -> schemas.ChannelTrialList:
    """A test message to every configured channel, through the outbox and the Notifier (the
    path real alerts take); waits for each channel's outcome."""
    channels = list(configured_channels(settings))
    if not channels:
        raise BadRequest(
            "no alert channel is configured: set NOTIFY_URLS, MQTT_URL or WEBHOOK_URLS "
            "(docs/alerts.md) and restart homesec"
        )
    ids = await alerts.add_test_alerts(sessions, channels, secrets.token_hex(6))
    await redis.publish(keys.NOTIFIER_WAKE, "test")
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
