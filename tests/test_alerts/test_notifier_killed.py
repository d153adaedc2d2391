"""The Notifier under Ray, killed in the middle of a delivery: the broker tells Home Assistant
(the last will), and a new Notifier loses nothing and sends nothing twice but the one message
that was in flight, which goes again with the same idempotency key."""

from __future__ import annotations

import secrets

import pytest

from homesec.actors import ray_gateway
from homesec.contract.alerts import AlertRule, AlertStatus
from homesec.contract.reports import ActorSpec
from homesec.store import alert_rules, alerts
from tests.support.alerts import alert_settings, retained
from tests.support.waiting import eventually

pytestmark = [pytest.mark.ray, pytest.mark.slow]


def notifier_spec(name: str, settings, database_url: str, redis_url: str) -> ActorSpec:
    return ActorSpec(
        name=name,
        kind="notifier",
        settings=settings,
        database_url=database_url,
        redis_url=redis_url,
        tuning={"sweep_seconds": 0.2, "retry_base_seconds": 0.2},
    )


async def test_killed_mid_delivery_nothing_lost_nothing_twice(
    ray_cluster, tmp_path, mqtt_broker, subscriber, receiver, rows, db_sessions,
    migrated_database_url, redis_url,
):  # fmt: skip
    prefix = f"hs{secrets.token_hex(2)}"
    settings = alert_settings(
        tmp_path,
        WEBHOOK_URLS=f"http://127.0.0.1:{receiver.port}/hook",
        MQTT_URL=f"mqtt://127.0.0.1:{mqtt_broker}",
        MQTT_TOPIC_PREFIX=prefix,
        NOTIFY_TIMEOUT_SECONDS="30",
    )
    rule = AlertRule(name="hooks", min_risk_level="high", cooldown_seconds=0, channels=("webhook",))
    await alert_rules.create_rule(db_sessions, rule)
    await rows.camera("porch", "Porch")
    for _ in range(4):
        await rows.event("porch", [await rows.detection("porch")], score=80, level="high",
                         fast_path=True)  # fmt: skip
    receiver.hold = 6.0  # the first delivery hangs: the Notifier dies while it waits
    name = f"notifier-test-{secrets.token_hex(3)}"
    spec = notifier_spec(name, settings, migrated_database_url, redis_url)
    handle = ray_gateway.create_actor(spec)
    try:
        await eventually(receiver.holding.is_set, 90, "a delivery in flight")
        assert retained(mqtt_broker, f"{prefix}/available") == b"online"
        ray_gateway.kill(handle)
        will = await eventually(
            lambda: b"offline" in subscriber.on(f"{prefix}/available"), 30, "the last will"
        )
        assert will
        in_flight = [a for a in await alerts.recent(db_sessions, 10) if a.attempts]
        assert len(in_flight) == 1 and in_flight[0].status == AlertStatus.PENDING

        receiver.hold = 0.0
        handle = ray_gateway.create_actor(spec)

        async def all_sent() -> bool:
            return {a.status for a in await alerts.recent(db_sessions, 10)} == {AlertStatus.SENT}

        await eventually(all_sent, 90, "every alert sent", interval=0.3)
        assert retained(mqtt_broker, f"{prefix}/available") == b"online"
    finally:
        ray_gateway.kill(handle)

    stored = await alerts.recent(db_sessions, 10)
    keys = {a.idempotency_key for a in stored}
    delivered = [d["headers"]["Idempotency-Key"] for d in receiver.deliveries]
    assert sorted(delivered) == sorted(keys)  # every alert, each delivered once
    # The only repeat is the message in flight when the Notifier died, with its own key.
    assert [r["headers"]["Idempotency-Key"] for r in receiver.repeats] in (
        [],
        [in_flight[0].idempotency_key],
    )
