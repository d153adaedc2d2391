"""Alert rules that require the house's modes: stored and changed through the API, and judged
by the Notifier's decisions against the mode in force when each event started."""

from __future__ import annotations

import datetime as dt

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from homesec.contract.alerts import AlertRule
from homesec.http.app import create_app
from homesec.models import AlertRow
from homesec.store import alert_rules, house_modes
from homesec.workflows.alert_decisions import decide_new_events
from tests.support.alerts import alert_settings


@pytest.fixture
def make_client(migrated_database_url, redis_url, db_sessions, tmp_path):
    def make() -> AsyncTestClient:
        app = create_app(
            alert_settings(tmp_path),
            database_url=migrated_database_url,
            redis_url=redis_url,
            events_channel="security_events:test:mode-rules",
        )
        return AsyncTestClient(app, base_url="http://127.0.0.1")

    return make


async def test_a_rules_modes_are_stored_changed_and_checked(make_client):
    async with make_client() as client:
        created = await client.post(
            "/api/alerts/rules", json={"name": "While away", "modes": ["away", "night"]}
        )
        assert created.status_code == 201, created.text
        assert created.json()["modes"] == ["away", "night"]
        url = f"/api/alerts/rules/{created.json()['id']}"
        assert (await client.get(url)).json()["modes"] == ["away", "night"]

        refused = await client.patch(url, json={"modes": ["holiday"]})
        assert refused.status_code == 400
        assert "modes" in refused.json()["detail"]
        assert (await client.get(url)).json()["modes"] == ["away", "night"]

        cleared = await client.patch(url, json={"modes": []})
        assert cleared.status_code == 200 and cleared.json()["modes"] == []
        plain = await client.post("/api/alerts/rules", json={"name": "Any mode"})
        assert plain.json()["modes"] == []  # a rule without modes holds in every mode


async def test_a_rule_for_away_fires_only_for_events_while_away(rows, db_sessions):
    await alert_rules.create_rule(db_sessions, AlertRule(name="away only", modes=("away",)))
    await rows.camera("garden", "Garden")
    morning = dt.datetime(2026, 6, 3, 9, 0, tzinfo=dt.UTC)
    # Home at 9:00; away from 12:00 on.
    await house_modes.set_mode(db_sessions, "away", "test", at=morning.replace(hour=12))
    afternoon = morning.replace(hour=15)
    seen = {at: await rows.detection("garden", at=at) for at in (morning, afternoon)}
    at_home, while_away = [
        await rows.event("garden", [seen[at]], score=70, level="high", fast_path=False, at=at)
        for at in (morning, afternoon)
    ]

    await decide_new_events(db_sessions, ["webhook:0000aaaa"], dt.datetime.now(dt.UTC),
                            quiet_hours=None, zone=dt.UTC)  # fmt: skip
    async with db_sessions() as session:
        alerted = set((await session.scalars(select(AlertRow.event_id))).all())
    assert while_away in alerted
    assert at_home not in alerted
