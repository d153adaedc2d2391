"""Deciding alerts on real PostgreSQL: the rows written with the cursor, once; cooldowns across
events; the batch event that updates its fast-path alert; the default rule of a fresh install."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import select, text

from homesec.contract.alerts import AlertKind, AlertRule, AlertStatus
from homesec.models import AlertCursor, AlertRow
from homesec.store import alert_rules, alerts
from homesec.workflows.alert_decisions import decide_new_events

CHANNELS = ["mqtt", "webhook:0000aaaa"]
DEFAULT = AlertRule(name="High risk or above", min_risk_level="high")


async def all_alerts(sessions) -> list[AlertRow]:
    async with sessions() as session:
        return list((await session.scalars(select(AlertRow).order_by(AlertRow.id))).all())


async def decide(sessions, now=None, quiet_hours=None):
    return await decide_new_events(sessions, CHANNELS, now or dt.datetime.now(dt.UTC),
                                   quiet_hours=quiet_hours, zone=dt.UTC)  # fmt: skip


async def test_a_fresh_install_has_the_default_rule(fresh_database_url):
    from homesec.ops.migrate import upgrade
    from homesec.store.database import create_engine, session_factory

    await asyncio.to_thread(upgrade, fresh_database_url)
    engine = create_engine(fresh_database_url)
    try:
        rules = await alert_rules.list_rules(session_factory(engine))
        async with engine.connect() as connection:
            cursor = (
                await connection.execute(text("SELECT id, last_event_id FROM alert_cursor"))
            ).all()
    finally:
        await engine.dispose()
    assert len(rules) == 1
    rule = rules[0]
    assert (rule.min_risk_level, rule.camera_ids, rule.channels, rule.cooldown_seconds) == (
        "high",
        (),
        (),
        300,
    )
    assert rule.enabled and cursor == [(1, 0)]


async def test_alerts_are_written_with_the_cursor_and_never_twice(db_sessions, rows):
    await alert_rules.create_rule(db_sessions, DEFAULT)
    await rows.camera("porch", "Porch")
    low = await rows.event("porch", [await rows.detection("porch")], score=10, level="low",
                           fast_path=False)  # fmt: skip
    high = await rows.event("porch", [await rows.detection("porch")], score=70, level="high",
                            fast_path=True)  # fmt: skip
    assert await decide(db_sessions) == 2
    written = await all_alerts(db_sessions)
    assert {(a.event_id, a.channel, a.status) for a in written} == {
        (high, "mqtt", "pending"), (high, "webhook:0000aaaa", "pending"),
    }  # fmt: skip
    assert low not in {a.event_id for a in written}
    async with db_sessions() as session:
        assert (await session.get(AlertCursor, 1)).last_event_id == high

    # A crash before the commit leaves the cursor behind: deciding the same events again
    # writes nothing twice (the idempotency keys).
    async with db_sessions.begin() as session:
        await session.execute(text("UPDATE alert_cursor SET last_event_id = 0"))
    assert await decide(db_sessions) == 2
    assert len(await all_alerts(db_sessions)) == 2
    assert await decide(db_sessions) == 0


async def test_the_cooldown_holds_back_the_next_alert_of_the_camera(db_sessions, rows):
    rule = await alert_rules.create_rule(db_sessions, DEFAULT)
    await rows.camera("porch", "Porch")
    await rows.camera("garage", "Garage")
    for camera in ("porch", "porch", "garage"):
        await rows.event(camera, [await rows.detection(camera)], score=70, level="high",
                         fast_path=True)  # fmt: skip
    await decide(db_sessions)
    statuses = [(a.camera_id, a.status) for a in await all_alerts(db_sessions)
                if a.channel == "mqtt"]  # fmt: skip
    assert statuses == [
        ("porch", AlertStatus.PENDING),
        ("porch", AlertStatus.SUPPRESSED_COOLDOWN),
        ("garage", AlertStatus.PENDING),
    ]
    assert {a.rule_id for a in await all_alerts(db_sessions)} == {rule.id}


async def test_quiet_hours_suppress_high_but_not_critical(db_sessions, rows):
    await alert_rules.create_rule(db_sessions, AlertRule(name="all", min_risk_level="high",
                                                         cooldown_seconds=0))  # fmt: skip
    await rows.camera("porch", "Porch")
    await rows.event("porch", [await rows.detection("porch")], score=70, level="high",
                     fast_path=True)  # fmt: skip
    await rows.event("porch", [await rows.detection("porch")], score=95, level="critical",
                     fast_path=True)  # fmt: skip
    midnight = dt.datetime(2025, 12, 6, 0, 30, tzinfo=dt.UTC)
    await decide(db_sessions, now=midnight, quiet_hours=(dt.time(23), dt.time(7)))
    statuses = [a.status for a in await all_alerts(db_sessions) if a.channel == "mqtt"]
    assert statuses == [AlertStatus.SUPPRESSED_QUIET_HOURS, AlertStatus.PENDING]


async def test_the_batch_event_of_the_same_visit_updates_the_fast_path_alert(db_sessions, rows):
    await alert_rules.create_rule(db_sessions, DEFAULT)
    await rows.camera("porch", "Porch")
    seen = await rows.detection("porch")
    fast = await rows.event("porch", [seen], score=65, level="high", fast_path=True)
    await decide(db_sessions)
    later = await rows.detection("porch")
    batch = await rows.event("porch", [seen, later], score=40, level="medium", fast_path=False)
    # Another visit's batch (not holding the fast-path detection) is judged on its own.
    other = await rows.event("porch", [await rows.detection("porch")], score=20, level="low",
                             fast_path=False)  # fmt: skip
    await decide(db_sessions)
    written = await all_alerts(db_sessions)
    firsts = {a.channel: a for a in written if a.event_id == fast}
    updates = [a for a in written if a.event_id == batch]
    assert {a.kind for a in updates} == {AlertKind.UPDATE} and len(updates) == 2
    for update in updates:
        assert update.updates_alert_id == firsts[update.channel].id
        assert update.status == AlertStatus.PENDING
    assert other not in {a.event_id for a in written}


async def test_a_backfills_reanalysis_of_the_past_alerts_nobody(db_sessions, rows):
    await alert_rules.create_rule(db_sessions, DEFAULT)
    await rows.camera("porch", "Porch")
    async with db_sessions.begin() as session:
        await session.execute(
            text(
                "INSERT INTO events (batch_id, camera_id, started_at, risk_score, risk_level, "
                "detection_ids, is_fast_path) VALUES ('reanalysis-1', 'porch', now(), 90, "
                "'critical', '[]', false)"
            )
        )
    assert await decide(db_sessions) == 1  # decided: the cursor passed it
    assert await all_alerts(db_sessions) == []


async def test_an_update_waits_for_its_alert(db_sessions, rows):
    await alert_rules.create_rule(db_sessions, DEFAULT)
    await rows.camera("porch", "Porch")
    seen = await rows.detection("porch")
    await rows.event("porch", [seen], score=65, level="high", fast_path=True)
    await decide(db_sessions)
    await rows.event("porch", [seen], score=70, level="high", fast_path=False)
    await decide(db_sessions)
    now = dt.datetime.now(dt.UTC)
    later = now + dt.timedelta(seconds=60)
    for first in [a for a in await all_alerts(db_sessions) if a.kind == AlertKind.ALERT]:
        # Its alert failed once and waits a minute: the update must not overtake it.
        await alerts.mark_failed(db_sessions, first.id, "HTTP 503", AlertStatus.PENDING, later)
    assert await alerts.due(db_sessions, now, 10) == []
    assert await alerts.next_due_at(db_sessions) == later
    for first in [a for a in await all_alerts(db_sessions) if a.kind == AlertKind.ALERT]:
        await alerts.mark_sent(db_sessions, first.id, now)
    assert {a.kind for a in await alerts.due(db_sessions, now, 10)} == {AlertKind.UPDATE}


async def test_the_update_margin_decides_whether_the_push_channel_hears_of_an_update(
    db_sessions, rows
):
    """NOTIFY_UPDATE_MIN_SCORE_CHANGE reaches the decision: 70 then 80 in the same band is
    quiet on Apprise with the default 15, pushed with 5; MQTT and webhooks get it either way."""
    channels = ["apprise:1111bbbb", *CHANNELS]
    await alert_rules.create_rule(db_sessions, AlertRule(name="r", min_risk_level="high",
                                                         cooldown_seconds=0))  # fmt: skip
    await rows.camera("porch", "Porch")
    statuses = {}
    for margin in (15, 5):
        seen = await rows.detection("porch")
        await rows.event("porch", [seen], score=70, level="high", fast_path=True)
        batch = await rows.event("porch", [seen, await rows.detection("porch")], score=80,
                                 level="high", fast_path=False)  # fmt: skip
        await decide_new_events(db_sessions, channels, dt.datetime.now(dt.UTC), quiet_hours=None,
                                zone=dt.UTC, update_min_score_change=margin)  # fmt: skip
        written = await all_alerts(db_sessions)
        statuses[margin] = {a.channel.split(":")[0]: a.status for a in written
                            if a.event_id == batch}  # fmt: skip
    pending = AlertStatus.PENDING
    assert statuses[15] == {"apprise": AlertStatus.SUPPRESSED_UNCHANGED, "mqtt": pending,
                            "webhook": pending}  # fmt: skip
    assert statuses[5] == {"apprise": pending, "mqtt": pending, "webhook": pending}
