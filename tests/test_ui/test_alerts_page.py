"""The Alerts page in a real browser: a rule created, edited (a refused value shown and kept),
listed in words, tested against recent events and deleted after a confirmation; an alert (one
line, its event's score, band and summary, a status per channel) acknowledged; a test message
through a running Notifier to a real Apprise receiver; a channel added (a bad URL refused first),
sent a test through the Notifier to a real webhook receiver and removed after a confirmation,
its URL never on the page again; phone and desktop widths."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import secrets
import threading
import zoneinfo

import msgspec
import pytest
from sqlalchemy import select

from homesec.actors.notifier import Notifier
from homesec.contract.alerts import AlertRule, AlertStatus
from homesec.engines.notify import build_channels
from homesec.models import AlertRow, AlertRuleRow, NotifyChannelRow
from homesec.store import alert_rules
from tests.support.alerts import Receiver, port_outside_ray
from tests.support.browser import DESKTOP, PHONE, no_horizontal_scroll, shoot
from tests.support.rows import NOW, add_alert, seed_dashboard
from tests.support.waiting import eventually

HOUSE = "America/New_York"


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


class RunningNotifier:
    """The Notifier on an event loop of its own thread (the page's request waits for it), on
    an events channel of this test's own, so :meth:`listening` can tell when it has subscribed
    (to that channel and the wake-up channel at once). A short sweep sends the test message even
    if a wake-up were missed."""

    def __init__(self, settings, database_url: str, redis_url: str) -> None:
        self.channel = f"security_events:test:alerts-page:{secrets.token_hex(4)}"
        self.notifier = Notifier("notifier", settings, database_url, redis_url,
                                 sweep_seconds=2, events_channel=self.channel)  # fmt: skip
        self.notifier.channels = build_channels(settings, client_id="unused")
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    async def listening(self, redis_client, timeout: float = 30.0) -> None:
        async def subscribers() -> int:
            return (await redis_client.pubsub_numsub(self.channel))[0][1]

        await eventually(subscribers, timeout, "the Notifier to subscribe", interval=0.1)

    def __enter__(self) -> RunningNotifier:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.notifier.run(), self.loop)
        return self

    def __exit__(self, *exc) -> None:
        asyncio.run_coroutine_threadsafe(self.notifier.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)
        self.loop.close()


async def test_alerts_page(
    make_app, serve, watched, db_sessions, settings, migrated_database_url, redis_url,
    receiver, redis_client, screenshots,
) -> None:  # fmt: skip
    ids = await seed_dashboard(db_sessions, settings)
    default = await alert_rules.create_rule(
        db_sessions,
        AlertRule(
            name="High or above", min_risk_level="high", camera_ids=("front_door", "old_shed")
        ),
    )
    sent = await add_alert(db_sessions, event_id=ids["high"], rule_id=default.id,
                           channel="apprise:1a2b3c4d", camera_id="front_door", at=NOW)  # fmt: skip
    failed = await add_alert(
        db_sessions, event_id=ids["high"], rule_id=default.id, channel="webhook:5e6f7a8b",
        camera_id="front_door", status=AlertStatus.FAILED, at=NOW,
        error="ConnectError: [Errno 111] Connection refused (after 10 attempts)",
    )  # fmt: skip
    house = msgspec.structs.replace(
        settings, timezone=HOUSE, notify_timeout_seconds=5.0,
        notify_urls=(f"json://127.0.0.1:{receiver.port}/apprise",),
        webhook_urls=(f"http://127.0.0.1:{port_outside_ray()}/nobody-listens",),
    )  # fmt: skip
    base = serve(make_app(settings=house))
    browser = await watched(base)
    page = await browser.page(DESKTOP)
    await page.goto(base + "/alerts")
    assert await page.locator("li.rule").count() == 1

    # Create a rule.
    await page.click("#new-rule")
    form = page.locator("#rule-form")
    await form.locator("input[name=name]").fill("Front door people")
    await form.locator("select[name=min_risk_level]").select_option("high")
    await form.locator("input[name=camera_ids][value=front_door]").check()
    await form.locator("input[name=object_types]").fill("person")
    await form.locator("input[name=min_confidence]").fill("60")
    await form.locator("input[name=channels][value=apprise]").check()
    await form.locator("input[name=cooldown_seconds]").fill("600")
    async with page.expect_navigation():
        await page.click("#save-rule")
    assert re.search(r"/alerts\?saved=\d+#rule-\d+$", page.url)
    async with db_sessions() as session:
        named = select(AlertRuleRow).where(AlertRuleRow.name == "Front door people")
        row = (await session.scalars(named)).one()
    rule = page.locator(f"li#rule-{row.id}")
    assert await rule.evaluate("(li) => li.classList.contains('just-saved')")
    chips = await rule.locator(".conditions .chip").all_inner_texts()
    assert chips == ["band high or above", "camera Front Door", "person",
                     "confidence 60% or more"]  # fmt: skip
    assert "Cooldown 10 min per camera · to apprise" in await rule.inner_text()

    # Edit it: a refused time range is shown and what was typed stays.
    await rule.locator("button.edit").click()
    assert await form.locator("input[name=name]").input_value() == "Front door people"
    assert await form.locator("input[name=min_confidence]").input_value() == "60"
    assert await form.locator("input[name=camera_ids][value=front_door]").is_checked()
    await form.locator("input[name=name]").fill("Front door, fast path")
    await form.locator("input[name=time_ranges]").fill("7pm-8pm")
    await page.click("#save-rule")
    await form.locator(".form-error", has_text='"7pm-8pm" is not HH:MM-HH:MM').wait_for()
    await form.locator("input[name=time_ranges]").fill("25:00-06:00")  # the API refuses it
    await page.click("#save-rule")
    await form.locator(".form-error", has_text="time_ranges").wait_for()
    # The refused PATCH is the point here; Chromium logs its 400 as a console error.
    refused = [e for e in browser.errors if "400 (Bad Request)" in e and "/api/alerts/rules/" in e]
    assert len(refused) == 1
    browser.errors = [e for e in browser.errors if e not in refused]
    assert await form.locator("input[name=name]").input_value() == "Front door, fast path"
    assert await form.locator("input[name=time_ranges]").input_value() == "25:00-06:00"
    async with db_sessions() as session:
        assert (await session.get(AlertRuleRow, row.id)).name == "Front door people"
    await form.locator("input[name=time_ranges]").fill("")
    await form.locator("select[name=fast_path]").select_option("true")
    for day in (1, 2, 3, 4, 5):
        await form.locator(f"input[name=days][value='{day}']").check()
    async with page.expect_navigation():
        await page.click("#save-rule")
    chips = await rule.locator(".conditions .chip").all_inner_texts()
    assert "fast-path events only" in chips and "Mon\u2013Fri" in chips
    assert await rule.locator(".rule-name").inner_text() == "Front door, fast path"
    # Days do not matter to the test below: every day again.
    await rule.locator("button.edit").click()
    for day in (1, 2, 3, 4, 5):
        await form.locator(f"input[name=days][value='{day}']").uncheck()
    async with page.expect_navigation():
        await page.click("#save-rule")

    # A camera the rule names that is gone (old_shed) survives an edit of the rule.
    kept = page.locator(f"li#rule-{default.id}")
    assert "cameras Front Door, old_shed" in await kept.locator(".conditions").inner_text()
    await kept.locator("button.edit").click()
    assert await form.locator("input[name=camera_ids][value=old_shed]").is_checked()
    assert "unknown camera" in await form.locator("fieldset.cameras").inner_text()
    async with page.expect_navigation():
        await page.click("#save-rule")
    async with db_sessions() as session:
        stored = await session.get(AlertRuleRow, default.id)
        assert list(stored.camera_ids) == ["front_door", "old_shed"]

    # Test it against recent events: only the critical one is a fast-path event.
    await rule.locator("form.trial button").click()
    result = rule.locator(".trial-result")
    await result.locator(".trial-summary").wait_for()
    assert "fired for 1 of the last 3 events" in await result.inner_text()
    firing = result.locator("li.trial-event.fires")
    assert await firing.count() == 1
    assert await firing.locator("a").get_attribute("href") == f"/events/{ids['critical']}"
    started = (NOW - dt.timedelta(minutes=40)).astimezone(zoneinfo.ZoneInfo(HOUSE))
    assert started.strftime("%a %d %b %H:%M") in await firing.inner_text()
    assert "Front Door" in await firing.inner_text()

    # The enabled switch.
    await rule.locator("input.enabled").uncheck()
    await rule.locator(".rule-status", has_text="rule off").wait_for()
    async with db_sessions() as session:
        assert (await session.get(AlertRuleRow, row.id)).enabled is False

    # One line for the alert, with its event's verdict and each channel's part; acknowledged,
    # its rows on both channels are.
    line = page.locator(f'li.alert[data-id="{sent}"]')
    assert await page.locator(f'li.alert[data-id="{failed}"]').count() == 0
    assert f"/events/{ids['high']}" == await line.locator("a").get_attribute("href")
    assert "Front Door" in await line.inner_text()
    assert "rule High or above" in await line.inner_text()
    assert await line.locator(".band-name").inner_text() in ("high", "HIGH")
    assert await line.evaluate("(li) => li.classList.contains('band-high')")
    deliveries = line.locator("li.delivery")
    assert await deliveries.count() == 2
    pushed = line.locator("li.delivery[data-channel='apprise:1a2b3c4d']")
    assert await pushed.locator(".badge").inner_text() == "sent"
    assert await pushed.locator(".channel-label").inner_text() == "Apprise (removed)"
    hooked = line.locator("li.delivery[data-channel='webhook:5e6f7a8b']")
    assert await hooked.locator(".badge").inner_text() == "failed"
    assert "Connection refused" in await hooked.locator(".error").inner_text()
    await line.locator("button.acknowledge").click()
    await line.locator(".ack").wait_for()
    async with db_sessions() as session:
        flags = (await session.scalars(select(AlertRow.acknowledged).where(
            AlertRow.id.in_([sent, failed])))).all()  # fmt: skip
    assert flags == [True, True]

    # A test message through the Notifier to a real receiver (Apprise's json://).
    with RunningNotifier(house, migrated_database_url, redis_url) as running:
        await running.listening(redis_client)
        assert await page.locator("#recent li.alert .chip", has_text="test message").count() == 0
        await page.click("#send-test")
        summary = page.locator("#test-summary", has_text="1 of 2 channels did not take it")
        await summary.wait_for(timeout=40_000)
        apprise = page.locator("#test-results li[data-channel^='apprise:']")
        assert await apprise.locator(".badge").inner_text() == "sent"
        webhook = page.locator("#test-results li[data-channel^='webhook:']")
        assert await webhook.locator(".badge").inner_text() == "failed"
        assert "ConnectError" in await webhook.locator(".error").inner_text()
        titles = [body.get("title") for body in receiver.json_bodies("/apprise")]
        assert "homesec test message" in titles
        # The recent alerts gain the test's line without a reload (the page swaps the section).
        await page.locator("#recent li.alert .chip", has_text="test message").first.wait_for(
            timeout=10_000
        )
        # The environment's channels by service and host, not removable here.
        env_apprise = page.locator("li.channel.source-environment").first
        assert await env_apprise.locator(".channel-label").inner_text() == (
            f"JSON \u00b7 127.0.0.1:{receiver.port}")  # fmt: skip
        assert (
            await page.locator("li.channel.source-environment button.remove-channel").count() == 0
        )

        # Add a webhook: a bad URL first (refused, said why), then a good one.
        secret_path = f"/hook/{secrets.token_hex(8)}"
        channel_form = page.locator("#channel-form")
        await channel_form.locator("select[name=kind]").select_option("webhook")
        await channel_form.locator("input[name=url]").fill("ftp://192.168.1.5/nope")
        await page.click("#add-channel")
        await channel_form.locator(".channel-error", has_text="http:// or https://").wait_for()
        refused = [e for e in browser.errors if "400 (Bad Request)" in e]
        assert len(refused) == 1
        browser.errors = [e for e in browser.errors if e not in refused]
        await channel_form.locator("input[name=url]").fill(
            f"http://127.0.0.1:{receiver.port}{secret_path}")  # fmt: skip
        async with page.expect_navigation():
            await page.click("#add-channel")
        added = page.locator("li.channel.source-page")
        assert await added.count() == 1
        label = f"Webhook \u00b7 127.0.0.1:{receiver.port}"
        assert await added.locator(".channel-label").inner_text() == label
        assert await added.locator(".masked").inner_text() == (
            f"http://127.0.0.1:{receiver.port}/\u2022\u2022\u2022")  # fmt: skip
        assert label in await page.locator("#channels-status").inner_text()
        assert secret_path not in await page.content()
        assert await channel_form.locator("input[name=url]").input_value() == ""

        # Send it a test: through the Notifier, which took the channel without a restart.
        await added.locator("button.test-channel").click()
        result = added.locator(".channel-result.status-sent")
        await result.wait_for(timeout=40_000)
        assert "sent" in await result.inner_text()
        (hook,) = receiver.json_bodies(secret_path)
        assert hook["kind"] == "test"
        await shoot(page, screenshots, "alerts")

        # Remove it: dismissed, nothing happens; accepted, it is gone (and its URL from the
        # table).
        page.once("dialog", lambda dialog: dialog.dismiss())
        await added.locator("button.remove-channel").click()
        await asyncio.sleep(0.5)
        assert await added.count() == 1
        page.once("dialog", lambda dialog: dialog.accept())
        await added.locator("button.remove-channel").click()
        await added.wait_for(state="detached")
        await page.locator("#channels-status", has_text="removed").wait_for()
        async with db_sessions() as session:
            assert (await session.scalars(select(NotifyChannelRow))).all() == []

    # Delete the rule: dismissed, nothing happens; accepted, it is gone.
    page.once("dialog", lambda dialog: dialog.dismiss())
    await rule.locator("button.delete").click()
    await asyncio.sleep(0.5)
    assert await rule.count() == 1
    page.once("dialog", lambda dialog: dialog.accept())
    await rule.locator("button.delete").click()
    await rule.wait_for(state="detached")
    await page.locator("#rules-status", has_text="deleted").wait_for()
    async with db_sessions() as session:
        assert await session.get(AlertRuleRow, row.id) is None

    # Phone width: the list, the editor and the trial fit.
    phone = await browser.page(PHONE)
    await phone.goto(base + "/alerts")
    await phone.locator("li.rule form.trial button").first.click()
    await phone.locator(".trial-summary").wait_for()
    await no_horizontal_scroll(phone)
    await shoot(phone, screenshots, "alerts")
    await phone.click("#new-rule")
    await no_horizontal_scroll(phone)
    await shoot(phone, screenshots, "alerts-editor")
    await phone.emulate_media(color_scheme="dark")
    await shoot(phone, screenshots, "alerts-dark")
