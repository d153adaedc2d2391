"""Channels added on the Alerts page (``/api/alerts/channels``, the ``notify_channels`` table):
added with a clear refusal of a bad URL, listed with the environment's by service and host,
tested and removed; the URL (the secret) never in an answer or on the page after it was entered.
And the Notifier, running, takes a channel added in PostgreSQL for the next alert without a
restart, and stops sending to one removed.

The Notifier runs as a plain object on an event loop of its own thread (the test client holds the
test's loop while a request runs); a real HTTP receiver takes the webhooks and Apprise's json://.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading

import pytest
from litestar.testing import AsyncTestClient

from homesec.actors.notifier import Notifier
from homesec.contract.alerts import AlertRule, AlertStatus
from homesec.http.app import create_app
from homesec.store import alert_rules, alerts, notify_channels
from tests.support.alerts import alert_settings
from tests.support.waiting import eventually

# What makes each URL a secret: none of it may come back.
APPRISE_SECRET = "apprise-topic-s3cret"
WEBHOOK_SECRET_PATH = "hook-token-s3cret"


@pytest.fixture
def make_client(migrated_database_url, redis_url, db_sessions, tmp_path):
    def make(**env: str) -> AsyncTestClient:
        settings = alert_settings(tmp_path, **env)
        app = create_app(settings, database_url=migrated_database_url, redis_url=redis_url,
                         events_channel="security_events:test:channels-api")  # fmt: skip
        return AsyncTestClient(app, base_url="http://127.0.0.1")

    return make


class RunningNotifier:
    """The Notifier on a loop of its own thread, with no channel of the environment."""

    def __init__(self, settings, database_url: str, redis_url: str) -> None:
        self.notifier = Notifier(
            "notifier", settings, database_url, redis_url, sweep_seconds=1,
            retry_base_seconds=0.2, events_channel="security_events:test:channels-notifier",
        )  # fmt: skip
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> Notifier:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.notifier.run(), self.loop)
        return self.notifier

    def __exit__(self, *exc) -> None:
        asyncio.run_coroutine_threadsafe(self.notifier.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)
        self.loop.close()


def assert_no_secret(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text, f"{secret!r} leaked into {text[:300]!r}"


async def test_channels_are_added_listed_refused_and_removed_without_showing_their_url(
    make_client, db_sessions, rows
):
    apprise_url = f"ntfys://ntfy.example.org/{APPRISE_SECRET}"
    webhook_url = f"http://192.168.1.5:8123/api/webhook/{WEBHOOK_SECRET_PATH}"
    env_url = "https://hooks.example.net/env-hook-s3cret"
    async with make_client(WEBHOOK_URLS=env_url) as client:
        added = await client.post("/api/alerts/channels",
                                  json={"kind": "apprise", "url": apprise_url})  # fmt: skip
        assert added.status_code == 201, added.text
        assert_no_secret(added.text, APPRISE_SECRET)
        body = added.json()
        assert body["label"] == "ntfy \u00b7 ntfy.example.org"
        assert body["masked_url"] == "ntfys://ntfy.example.org/\u2022\u2022\u2022"
        assert body["source"] == "page" and body["removable"] is True
        assert body["name"] == f"apprise:page-{body['id']}"
        hook = await client.post("/api/alerts/channels",
                                 json={"kind": "webhook", "url": webhook_url})  # fmt: skip
        assert hook.status_code == 201 and hook.json()["label"] == "Webhook \u00b7 192.168.1.5:8123"
        assert_no_secret(hook.text, WEBHOOK_SECRET_PATH)

        # Stored with the URL (the Notifier needs it) ...
        stored = {target.url for target in await notify_channels.enabled_targets(db_sessions)}
        assert stored == {apprise_url, webhook_url}

        # ... listed with the environment's, by service and host, never the URL.
        listed = await client.get("/api/alerts/channels")
        assert listed.status_code == 200
        assert_no_secret(listed.text, APPRISE_SECRET, WEBHOOK_SECRET_PATH, "env-hook-s3cret")
        items = listed.json()["items"]
        assert [(i["label"], i["source"], i["removable"]) for i in items] == [
            ("Webhook \u00b7 hooks.example.net", "environment", False),
            ("ntfy \u00b7 ntfy.example.org", "page", True),
            ("Webhook \u00b7 192.168.1.5:8123", "page", True),
        ]
        rules = (await client.get("/api/alerts/rules")).json()
        assert f"webhook:page-{hook.json()['id']}" in rules["configured_channels"]

        # Bad URLs: a clear reason, and nothing stored.
        for kind, url, reason in [
            ("webhook", "ftp://192.168.1.5/x", "http:// or https://"),
            ("webhook", "http://", "http:// or https://"),
            ("webhook", "http://host:99999/x", "not a URL"),
            ("webhook", "http://host/a b", "no spaces"),
            ("apprise", "ntfy.sh/topic", "service://"),
            ("apprise", "nosuchservice://secret-bit", "Apprise does not understand"),
            ("apprise", "   ", "empty"),
        ]:  # fmt: skip
            refused = await client.post("/api/alerts/channels", json={"kind": kind, "url": url})
            assert refused.status_code == 400, (url, refused.text)
            assert reason in refused.json()["detail"], (url, refused.text)
        assert "secret-bit" not in refused.text
        for body in ({"kind": "mqtt", "url": "mqtt://broker"}, {"url": "json://x"},
                     {"kind": "webhook", "url": webhook_url, "label": "mine"}):  # fmt: skip
            assert (await client.post("/api/alerts/channels", json=body)).status_code == 400
        again = await client.post(
            "/api/alerts/channels", json={"kind": "webhook", "url": webhook_url}
        )
        assert again.status_code == 409 and "added already" in again.json()["detail"]
        from_env = await client.post(
            "/api/alerts/channels", json={"kind": "webhook", "url": env_url}
        )
        assert from_env.status_code == 409 and "WEBHOOK_URLS" in from_env.json()["detail"]
        assert_no_secret(from_env.text, "env-hook-s3cret")
        assert len(await notify_channels.listed(db_sessions)) == 2

        # The page: labels and masked URLs, no secret anywhere in its HTML.
        page = await client.get("/alerts")
        assert page.status_code == 200
        assert_no_secret(page.text, APPRISE_SECRET, WEBHOOK_SECRET_PATH, "env-hook-s3cret")
        assert "ntfy \u00b7 ntfy.example.org" in page.text and "from environment" in page.text

        # Removed: gone from the list and the table, its URL with it; a pending alert given up.
        webhook_name = f"webhook:page-{hook.json()['id']}"
        async with db_sessions.begin() as session:
            (pending,) = await alerts.add(session, [alerts.NewAlert(
                channel=webhook_name, status=AlertStatus.PENDING, idempotency_key="k:1",
            )], dt.datetime.now(dt.UTC))  # fmt: skip
        removed = await client.delete(f"/api/alerts/channels/{hook.json()['id']}")
        assert removed.status_code == 204
        assert (await client.delete(f"/api/alerts/channels/{hook.json()['id']}")).status_code == 404
        assert (
            await client.post(f"/api/alerts/channels/{hook.json()['id']}/test")
        ).status_code == 404
        assert [i["label"] for i in (await client.get("/api/alerts/channels")).json()["items"]] == [
            "Webhook \u00b7 hooks.example.net", "ntfy \u00b7 ntfy.example.org"]  # fmt: skip
        assert {t.url for t in await notify_channels.enabled_targets(db_sessions)} == {apprise_url}
        given_up = await alerts.get(db_sessions, pending)
        assert given_up.status == AlertStatus.FAILED and "removed" in given_up.last_error
        # Its alert still reads as a webhook, not a hash.
        listed_alerts = (await client.get("/api/alerts")).json()["items"]
        assert listed_alerts[0]["channel_label"] == "Webhook (removed)"
        # A channel of the environment is not removable here (it has no id).
        assert (await client.request("DELETE", "/api/alerts/channels/x")).status_code == 400


async def test_a_channel_added_while_the_notifier_runs_gets_the_next_alert(
    make_client, rows, db_sessions, receiver, tmp_path, migrated_database_url, redis_url
):
    settings = alert_settings(tmp_path, NOTIFY_TIMEOUT_SECONDS="5")
    await alert_rules.create_rule(
        db_sessions, AlertRule(name="high", min_risk_level="high", cooldown_seconds=0)
    )
    await rows.camera("porch", "Porch")
    with RunningNotifier(settings, migrated_database_url, redis_url) as notifier:
        # No channel yet: an event decided now alerts nobody.
        before = await rows.event("porch", [await rows.detection("porch")], score=80,
                                  level="high", fast_path=True)  # fmt: skip
        await eventually(lambda: not notifier.channels and notifier.counters[
            "decided_batches"] > 0, 20, "the Notifier to decide the first event")  # fmt: skip
        assert await alerts.recent(db_sessions, 10) == []

        async with make_client(NOTIFY_TIMEOUT_SECONDS="5") as client:
            hook = (await client.post("/api/alerts/channels", json={
                "kind": "webhook",
                "url": f"http://127.0.0.1:{receiver.port}/hook/{WEBHOOK_SECRET_PATH}",
            })).json()  # fmt: skip
            push = (await client.post("/api/alerts/channels", json={
                "kind": "apprise", "url": f"json://127.0.0.1:{receiver.port}/apprise",
            })).json()  # fmt: skip

            # The Notifier takes both without a restart (an event is decided for the channels
            # it knows then: wait until it knows both) ...
            await eventually(lambda: {hook["name"], push["name"]} <= set(
                notifier.channels), 20, "the Notifier to take the new channels")  # fmt: skip
            # ... and the next event goes to both.
            after = await rows.event("porch", [await rows.detection("porch")], score=90,
                                     level="critical", fast_path=True,
                                     summary="Someone at the porch at night")  # fmt: skip
            hook_path = f"/hook/{WEBHOOK_SECRET_PATH}"
            (delivered,) = await eventually(
                lambda: receiver.json_bodies(hook_path), 30, "the webhook"
            )
            assert delivered["event"]["id"] == after and delivered["event"]["risk_score"] == 90
            (pushed,) = await eventually(
                lambda: receiver.json_bodies("/apprise"), 30, "the Apprise push"
            )
            assert "Someone at the porch at night" in pushed["message"]
            assert before not in {body["event"]["id"] for body in receiver.json_bodies(hook_path)}

            # A test through one channel: only that channel, its result answered.
            tested = await client.post(f"/api/alerts/channels/{hook['id']}/test")
            assert tested.status_code == 200, tested.text
            assert_no_secret(tested.text, WEBHOOK_SECRET_PATH)
            (result,) = tested.json()["results"]
            assert result["status"] == "sent" and result["channel_label"] == hook["label"]
            assert receiver.json_bodies(hook_path)[-1]["kind"] == "test"
            assert len(receiver.json_bodies("/apprise")) == 1
            by_name = await client.post("/api/alerts/test", params={"channel": push["name"]})
            assert by_name.json()["results"][0]["status"] == "sent"
            assert (await client.post("/api/alerts/test", params={"channel": "webhook:nope"}
                                      )).status_code == 404  # fmt: skip

            # Removed: the next event reaches the Apprise channel only.
            assert (await client.delete(f"/api/alerts/channels/{hook['id']}")).status_code == 204
            await eventually(
                lambda: hook["name"] not in notifier.channels,
                20,
                "the Notifier to drop the removed channel",
            )
            hook_posts = len(receiver.json_bodies(hook_path))
            last = await rows.event("porch", [await rows.detection("porch")], score=95,
                                    level="critical", fast_path=True)  # fmt: skip
            await eventually(
                lambda: len(receiver.json_bodies("/apprise")) == 3, 30, "the last event's push"
            )
    rows_of_last = [row for row in await alerts.recent(db_sessions, 50) if row.event_id == last]
    assert [row.channel for row in rows_of_last] == [push["name"]]
    assert len(receiver.json_bodies(hook_path)) == hook_posts
