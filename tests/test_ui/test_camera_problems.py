"""Cameras that go blind in a real browser (issue 23): a camera alert is one line on the Alerts
page, marked camera, saying what is wrong, with each channel's part, and is acknowledged there;
the Cameras page shows the problem as a badge; phone and desktop widths."""

from __future__ import annotations

import datetime as dt

import msgspec
from sqlalchemy import select

from homesec.contract.alerts import AlertRule
from homesec.contract.messages import CameraProblemData, CameraProblemMessage, encode_message
from homesec.models import AlertRow
from homesec.store import alert_rules, camera_problems
from homesec.workflows.camera_alert_decisions import decide_camera_problems
from tests.support.browser import DESKTOP, PHONE, no_horizontal_scroll, shoot
from tests.support.rows import add_camera

CHANNELS = ["apprise:1a2b3c4d", "webhook:5e6f7a8b"]


async def test_a_camera_alert_on_the_alerts_and_cameras_pages(
    make_app, serve, watched, db_sessions, settings, screenshots
) -> None:
    await add_camera(db_sessions, settings, "back_yard")
    await alert_rules.create_rule(db_sessions, AlertRule(name="High", min_risk_level="high"))
    now = dt.datetime.now(dt.UTC)
    async with db_sessions.begin() as session:
        await camera_problems.open_problem(
            session, "back_yard", "view moved", now,
            detail="brightness 96, contrast 41.0, sharpness 0.93 of usual, scene match 0.08",
        )  # fmt: skip
    assert await decide_camera_problems(db_sessions, CHANNELS, now, quiet_hours=None, zone=dt.UTC)
    async with db_sessions() as session:
        rows = (await session.scalars(select(AlertRow).order_by(AlertRow.id))).all()
    assert [row.kind for row in rows] == ["camera", "camera"]

    house = msgspec.structs.replace(settings, notify_urls=(), webhook_urls=())
    base = serve(make_app(settings=house))
    browser = await watched(base)
    for viewport in (PHONE, DESKTOP):
        page = await browser.page(viewport)
        await page.goto(base + "/alerts")
        lines = page.locator("li.alert")
        assert await lines.count() == 1
        line = lines.first
        assert await line.locator(".chip.camera-problem").inner_text() in ("camera", "CAMERA")
        assert "view moved: brightness 96" in await line.locator(".summary").inner_text()
        assert "Back Yard" in await line.inner_text()
        assert "rule High" in await line.inner_text()
        assert await line.locator("li.delivery").count() == 2
        await no_horizontal_scroll(page)
        await shoot(page, screenshots, "alerts-camera-problem")

        await page.goto(base + "/cameras")
        badge = page.locator("li.camera-card[data-id='back_yard'] .camera-problem")
        assert await badge.inner_text() in ("view moved", "VIEW MOVED")
        await no_horizontal_scroll(page)
        await page.close()

    page = await browser.page(DESKTOP)
    await page.goto(base + "/alerts")
    line = page.locator("li.alert").first
    await line.locator("button.acknowledge").click()
    await line.locator(".ack").wait_for()
    async with db_sessions() as session:
        flags = (await session.scalars(select(AlertRow.acknowledged))).all()
    assert flags == [True, True]  # both channels' rows of the one problem


async def test_a_problem_that_opens_and_clears_shows_on_the_cameras_page_live(
    make_app, serve, watched, db_sessions, settings, redis_client, events_channel, screenshots
) -> None:
    await add_camera(db_sessions, settings, "side_gate")
    base = serve(make_app())
    browser = await watched(base)
    page = await browser.page(PHONE)
    await page.goto(base + "/cameras")
    badges = page.locator("li.camera-card[data-id='side_gate'] .camera-problem")
    assert await badges.count() == 0
    # The page's own edits stay put while a live update comes in.
    name_field = page.locator("li.camera-card[data-id='side_gate'] input[name=name]")
    if await name_field.count():
        await name_field.fill("Side gate (typing)")
    await page.wait_for_timeout(500)  # the WebSocket opens after the page loads

    now = dt.datetime.now(dt.UTC)
    async with db_sessions.begin() as session:
        problem_id = await camera_problems.open_problem(session, "side_gate", "lens covered", now)
    opened = CameraProblemData(
        camera_id="side_gate", problem="lens covered", state="opened", at=now.isoformat(),
        problem_id=problem_id,
    )  # fmt: skip
    await redis_client.publish(events_channel, encode_message(CameraProblemMessage(data=opened)))
    await badges.first.wait_for(timeout=10_000)
    assert await badges.inner_text() in ("lens covered", "LENS COVERED")
    if await name_field.count():
        assert await name_field.input_value() == "Side gate (typing)"
    await no_horizontal_scroll(page)
    await shoot(page, screenshots, "cameras-problem-live")

    async with db_sessions.begin() as session:
        await camera_problems.clear_problem(session, "side_gate", "lens covered", now)
    cleared = msgspec.structs.replace(opened, state="cleared")
    await redis_client.publish(events_channel, encode_message(CameraProblemMessage(data=cleared)))
    await badges.first.wait_for(state="detached", timeout=10_000)
