"""Deciding alerts for new events, in one transaction with the outbox rows it writes.

The Notifier calls :func:`decide_new_events` when an event is published and on a periodic sweep.
Under the cursor's row lock it reads the events after the cursor, judges each against the
enabled rules (:func:`homesec.policy.alert_rules.decide`), writes the alert rows and moves the
cursor, and commits all of it together. A crash before the commit leaves the cursor where it
was, and the same events are decided again; the idempotency keys make a second decision write
nothing twice.

Two stages, one conversation: a batch event whose visit a fast-path alert already announced
(:func:`homesec.store.alert_facts.fast_path_events_of_same_visit`) gets no new alert; each
channel's alert gets an ``update`` row instead, carrying the batch's verdict. An update that is
no news next to the alert (same band, a score within ``update_min_score_change``:
:func:`homesec.policy.alert_rules.update_worth_a_push`) is recorded but not pushed
(``suppressed_unchanged`` on Apprise); MQTT and webhooks get it all the same.

One incident, one alert (issue 23): an event whose visit joined an incident (visits on
different cameras close in time) whose alert already went out updates that alert on each of its
channels instead of raising a new one; the update tells the story so far and is pushed when the
incident reached a new camera or its verdict is news. Rules judge an incident's event by the
incident's score on the whole story.

The cursor is an event id, which assumes events commit in id order. The Analyst writes one
event per transaction, one batch after another, so they do; a second writer committing a lower
id after a higher one was decided would see that event skipped. Events of a backfill's
reanalysis are passed over on purpose: they are the past, scored again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.contract.alerts import AlertKind, AlertRule, JudgedEvent
from homesec.policy.alert_rules import (
    channel_choices,
    decide,
    rule_channels,
    update_status,
    update_worth_a_push,
)
from homesec.store import alert_cursor, alert_facts, alert_rules, alerts
from homesec.store.alerts import NewAlert, StoredAlert
from homesec.store.events import stored_events

DECISION_BATCH = 200
# NOTIFY_UPDATE_MIN_SCORE_CHANGE's default.
UPDATE_MIN_SCORE_CHANGE = 15


def alert_key(event_id: int, channel: str) -> str:
    """One alert per event and channel, whichever rules match."""
    return f"event:{event_id}:{channel}"


def update_key(alert_id: int, event_id: int) -> str:
    return f"update:{alert_id}:{event_id}"


async def decide_new_events(
    sessions: async_sessionmaker[AsyncSession],
    channels: Sequence[str],
    now: dt.datetime,
    *,
    quiet_hours: tuple[dt.time, dt.time] | None,
    zone: dt.tzinfo | None,
    update_min_score_change: int = UPDATE_MIN_SCORE_CHANGE,
    limit: int = DECISION_BATCH,
) -> int:
    """Decide the events after the cursor (at most ``limit``); the number decided."""
    async with sessions.begin() as session:
        after = await alert_cursor.lock(session)
        events = await alert_facts.events_after(session, after, limit)
        if not events:
            return 0
        rules = await alert_rules.enabled_rules(session)
        for event in events:
            if event.is_reanalysis:  # the past, scored again: no alarm now
                continue
            rows = await _updates_of_visit(session, event, update_min_score_change)
            if not rows:
                rows = await _updates_of_incident(session, event, update_min_score_change)
            if not rows:
                rows = await _alerts_by_rules(session, event.facts, rules, channels, now,
                                              quiet_hours=quiet_hours, zone=zone)  # fmt: skip
            await alerts.add(session, rows, now)
        await alert_cursor.advance(session, events[-1].facts.event_id)
        return len(events)


async def _updates_of_visit(
    session: AsyncSession, event: alert_facts.DecidableEvent, min_score_change: int
) -> list[NewAlert]:
    """A batch's verdict updates the alert its visit's fast-path verdict sent, per channel; it
    is news for the phone when it moved from what the channel last announced."""
    facts = event.facts
    if facts.is_fast_path:
        return []
    fast_ids = await alert_facts.fast_path_events_of_same_visit(
        session, facts.camera_id, event.detection_ids, facts.started_at
    )
    announced = await alerts.announced_for_events(session, fast_ids)
    told = await _last_told(session, announced)
    return _updates(
        facts,
        announced,
        lambda first: update_worth_a_push(
            *told(first), facts.risk_level, facts.risk_score, min_score_change
        ),
    )


async def _updates_of_incident(
    session: AsyncSession, event: alert_facts.DecidableEvent, min_score_change: int
) -> list[NewAlert]:
    """An event that joined an incident whose alert went out updates that alert (one incident,
    one alert), per channel it went to. The update is news for the phone when the incident
    reached a camera it had not, or its verdict moved, as a visit's update would, from what
    the channel last announced (the alert, or an update since)."""
    facts = event.facts
    if facts.incident_id is None:
        return []
    so_far = await alert_facts.incident_so_far(session, facts.incident_id, facts.event_id)
    announced = _first_per_channel(
        await alerts.announced_for_events(session, so_far.other_event_ids)
    )
    told = await _last_told(session, announced)
    new_camera = facts.camera_id not in so_far.other_cameras
    return _updates(
        facts,
        announced,
        lambda first: (
            new_camera
            or update_worth_a_push(
                *told(first), facts.judged_level, facts.judged_score, min_score_change
            )
        ),
    )


async def _last_told(
    session: AsyncSession, announced: Sequence[StoredAlert]
) -> Callable[[StoredAlert], tuple[str | None, int | None]]:
    """The verdict (band, score) each first alert's channel last announced: the alert's, or an
    update's since; (None, None) once that event is gone."""
    told = await alerts.last_told_events(session, [first.id for first in announced])
    said = await stored_events(session, list(told.values()))

    def verdict(first: StoredAlert) -> tuple[str | None, int | None]:
        event = said.get(told.get(first.id, first.event_id))
        return (event.risk_level, event.risk_score) if event else (None, None)

    return verdict


def _updates(
    facts: JudgedEvent, announced: Sequence[StoredAlert], news: Callable[[StoredAlert], bool]
) -> list[NewAlert]:
    """An update of each announced alert with this event, pushed where ``news`` says so."""
    return [
        NewAlert(
            channel=first.channel,
            status=update_status(first.channel, worth_a_push=news(first)),
            idempotency_key=update_key(first.id, facts.event_id),
            kind=AlertKind.UPDATE,
            event_id=facts.event_id,
            rule_id=first.rule_id,
            camera_id=facts.camera_id,
            updates_alert_id=first.id,
        )
        for first in announced
    ]


def _first_per_channel(announced: Sequence[StoredAlert]) -> list[StoredAlert]:
    """The incident's alert on each channel: the first one sent there."""
    first: dict[str, StoredAlert] = {}
    for alert in sorted(announced, key=lambda a: a.id):
        first.setdefault(alert.channel, alert)
    return list(first.values())


async def _alerts_by_rules(
    session: AsyncSession,
    facts: JudgedEvent,
    rules: Sequence[AlertRule],
    channels: Sequence[str],
    now: dt.datetime,
    *,
    quiet_hours: tuple[dt.time, dt.time] | None,
    zone: dt.tzinfo | None,
) -> list[NewAlert]:
    """One row per channel that some rule sends this event to; a rule that sends it wins over
    one that holds it back (cooldown, quiet hours)."""
    decisions = []
    for rule in rules:
        targets = rule_channels(rule, channels)
        if not targets:
            continue
        last = await alerts.last_alerted_at(session, rule.id, facts.camera_id)
        verdict = decide(rule, facts, last, now, quiet_hours=quiet_hours, zone=zone)
        if verdict.status is not None:
            decisions.append((rule.id, targets, verdict.status))
    return [
        NewAlert(
            channel=channel,
            status=status,
            idempotency_key=alert_key(facts.event_id, channel),
            event_id=facts.event_id,
            rule_id=rule_id,
            camera_id=facts.camera_id,
        )
        for channel, (status, rule_id) in channel_choices(decisions).items()
    ]
