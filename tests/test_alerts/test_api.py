"""``/api/alerts``: rules (CRUD and their test against past events), recent alerts and their
acknowledgement, and a test message to every channel through a running Notifier."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading

from homesec.actors.notifier import Notifier
from homesec.engines.notify import build_channels
from homesec.ops.ports import free_port
from homesec.workflows.alert_decisions import decide_new_events
from tests.support.alerts import alert_settings


async def test_rules_are_created_read_changed_and_deleted(make_client):
    async with make_client(WEBHOOK_URLS="http://127.0.0.1:9/hook") as client:
        listed = (await client.get("/api/alerts/rules")).json()
        assert listed["count"] == 0 and listed["configured_channels"][0].startswith("webhook:")
        created = await client.post("/api/alerts/rules", json={
            "name": "Night at the porch", "min_risk_level": "medium", "camera_ids": ["porch"],
            "object_types": ["person"], "days": [5, 6], "time_ranges": ["22:00-06:00"],
            "channels": ["webhook"],
        })  # fmt: skip
        assert created.status_code == 201, created.text
        rule = created.json()
        assert rule["cooldown_seconds"] == 300 and rule["fast_path"] is None
        rule_url = f"/api/alerts/rules/{rule['id']}"

        changed = await client.patch(rule_url, json={"cooldown_seconds": 60, "days": []})
        assert changed.status_code == 200, changed.text
        assert changed.json()["cooldown_seconds"] == 60 and changed.json()["days"] == []
        assert changed.json()["time_ranges"] == ["22:00-06:00"]  # untouched
        cleared = await client.patch(rule_url, json={"min_risk_level": None})
        assert cleared.json()["min_risk_level"] is None

        for bad in ({"time_ranges": ["25:00-06:00"]}, {"days": [8]}, {"channels": ["pager"]},
                    {"colour": "red"}, {"min_risk_score": 101}):  # fmt: skip
            refused = await client.patch(rule_url, json=bad)
            assert refused.status_code == 400, (bad, refused.text)
        assert "time_ranges" in (await client.patch(rule_url, json={
            "time_ranges": ["25:00-06:00"]})).json()["detail"]  # fmt: skip
        assert (await client.get(rule_url)).json()["cooldown_seconds"] == 60

        assert (await client.delete(rule_url)).status_code == 204
        assert (await client.get(rule_url)).status_code == 404
        assert (await client.patch(rule_url, json={"enabled": False})).status_code == 404


async def test_a_rules_test_says_which_past_events_it_would_have_fired_for(make_client, rows):
    await rows.camera("porch", "Porch")
    start = dt.datetime(2025, 12, 5, 23, 0, tzinfo=dt.UTC)
    ids = []
    for minutes, score, level in [(0, 70, "high"), (1, 75, "high"), (10, 20, "low"),
                                  (20, 90, "critical")]:  # fmt: skip
        at = start + dt.timedelta(minutes=minutes)
        detection = await rows.detection("porch", at=at)
        ids.append(await rows.event("porch", [detection], score=score, level=level,
                                    fast_path=True, at=at))  # fmt: skip
    async with make_client() as client:
        rule = (await client.post("/api/alerts/rules", json={
            "name": "high", "min_risk_level": "high"})).json()  # fmt: skip
        trial = await client.post(f"/api/alerts/rules/{rule['id']}/test?last=10")
        assert trial.status_code == 200, trial.text
        body = trial.json()
    assert body["events_checked"] == 4 and body["would_fire"] == 2
    outcomes = {e["event_id"]: e["outcome"] for e in body["events"]}
    assert outcomes == {ids[0]: "pending", ids[1]: "suppressed_cooldown",
                        ids[2]: "no_match", ids[3]: "pending"}  # fmt: skip
    assert body["events"][0]["event_id"] == ids[3]  # newest first


async def test_recent_alerts_are_listed_and_acknowledged(make_client, rows, db_sessions):
    async with make_client() as client:
        await client.post("/api/alerts/rules", json={"name": "high", "min_risk_level": "high"})
        await rows.camera("porch", "Porch")
        for _ in range(2):
            await rows.event("porch", [await rows.detection("porch")], score=70, level="high",
                             fast_path=True)  # fmt: skip
        await decide_new_events(db_sessions, ["mqtt", "webhook:1"], dt.datetime.now(dt.UTC),
                                quiet_hours=None, zone=dt.UTC)  # fmt: skip
        page = (await client.get("/api/alerts?limit=3")).json()
        assert len(page["items"]) == 3 and page["next_before_id"] is not None
        rest = (await client.get(f"/api/alerts?before_id={page['next_before_id']}")).json()
        assert len(rest["items"]) == 1 and rest["next_before_id"] is None
        newest = page["items"][0]
        acked = await client.post(f"/api/alerts/{newest['id']}/acknowledge")
        assert acked.status_code == 200 and acked.json()["acknowledged"] is True
        open_ones = (await client.get("/api/alerts?acknowledged=false")).json()["items"]
        assert newest["event_id"] not in {a["event_id"] for a in open_ones}  # both channels
        assert len(open_ones) == 2
        suppressed = (await client.get("/api/alerts?status=suppressed_cooldown")).json()
        assert {a["status"] for a in suppressed["items"]} == {"suppressed_cooldown"}
        assert (await client.post("/api/alerts/999999/acknowledge")).status_code == 404


async def test_a_test_message_reaches_every_channel_and_reports_each(
    make_client, receiver, tmp_path, migrated_database_url, redis_url, db_sessions
):
    async with make_client() as client:
        refused = await client.post("/api/alerts/test")
        assert refused.status_code == 400 and "NOTIFY_URLS" in refused.json()["detail"]

    env = {
        "NOTIFY_URLS": f"json://127.0.0.1:{receiver.port}/apprise",
        "WEBHOOK_URLS": f"http://127.0.0.1:{receiver.port}/hook,http://127.0.0.1:{free_port()}/x",
        "NOTIFY_TIMEOUT_SECONDS": "5",
    }
    settings = alert_settings(tmp_path, **env)
    notifier = Notifier("notifier", settings, migrated_database_url, redis_url, sweep_seconds=30)
    notifier.channels = build_channels(settings, client_id="unused")
    # On a loop of its own: the test client holds this loop while a request runs.
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever)
    thread.start()
    asyncio.run_coroutine_threadsafe(notifier.run(), loop)
    try:
        await asyncio.sleep(1.0)  # subscribed to its wake-up channel
        async with make_client(**env) as client:
            answer = await client.post("/api/alerts/test")
    finally:
        asyncio.run_coroutine_threadsafe(notifier.stop(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()
    assert answer.status_code == 200, answer.text
    body = answer.json()
    results = {r["channel"].split(":")[0] + (":down" if r["error"] else ""): r
               for r in body["results"]}  # fmt: skip
    assert body["ok"] is False and len(body["results"]) == 3
    assert results["apprise"]["status"] == "sent" and results["webhook"]["status"] == "sent"
    assert results["webhook:down"]["status"] == "failed"
    assert "ConnectError" in results["webhook:down"]["error"]
    assert receiver.json_bodies("/apprise")[0]["title"] == "homesec test message"
    assert receiver.json_bodies("/hook")[0]["kind"] == "test"
