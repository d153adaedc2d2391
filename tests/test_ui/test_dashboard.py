"""The dashboard in a real browser: live events, filters, keys, the event page, review and
notes, feedback, cameras (added with their FTP accounts, new passwords, removal), system, login
and logout, phone width, nothing from another host."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ftplib
import io
import re
import socket

import msgspec
from sqlalchemy import func, select

from homesec.actors.ftp_server import FtpServerActor
from homesec.contract import keys
from homesec.contract.messages import SecurityEventData, SecurityEventMessage, encode_message
from homesec.contract.reports import ActorStatus, FtpBan, SupervisorReport
from homesec.files.ftp_server import AccountTable, FtpServer, FtpServerConfig
from homesec.files.network import lan_address
from homesec.http.pages.templates import local_time
from homesec.models import (
    APIKey,
    Camera,
    CameraAccount,
    Event,
    EventFeedback,
    GPUStats,
    Log,
    Upload,
)
from homesec.models.enums import UploadStatus
from homesec.policy.camera_accounts import FtpAccount, hash_password, verify_password
from homesec.policy.ftp_policy import BanPolicy
from homesec.settings import local_zone
from homesec.store import camera_accounts
from homesec.store.api_keys import hash_api_key
from tests.support.browser import DESKTOP, PHONE, no_horizontal_scroll, shoot
from tests.support.rows import NOW, add_camera, add_event, seed_dashboard, write_jpeg

KEY = "a long and secret dashboard key"


async def images_loaded(page, selector: str) -> list[int]:
    await page.wait_for_load_state("networkidle")
    return await page.eval_on_selector_all(
        selector, "(images) => images.map((image) => image.complete ? image.naturalWidth : 0)"
    )


async def test_events_page_live_filters_and_keys(
    make_app, serve, watched, db_sessions, settings, redis_client, events_channel, screenshots
) -> None:
    ids = await seed_dashboard(db_sessions, settings)
    base = serve(make_app())
    browser = await watched(base)
    page = await browser.page(DESKTOP)
    await page.goto(base + "/")
    rows = page.locator("ol#events > li.event")
    assert await rows.count() == 3
    assert all(width > 0 for width in await images_loaded(page, "img.thumb"))
    await page.wait_for_selector("#live.badge.on")
    await shoot(page, screenshots, "events")

    # A new event appears at the top, live.
    new_id = await add_event(
        db_sessions, batch_id="live", camera_id="garage", started_at=NOW,
        risk_score=65, risk_level="high", summary="Someone walks along the garage at night.",
    )  # fmt: skip
    message = SecurityEventMessage(
        data=SecurityEventData(
            id=new_id, event_id=new_id, batch_id="live", camera_id="garage", risk_score=65,
            risk_level="high", summary="Someone walks along the garage at night.",
            started_at=NOW.isoformat(),
        )
    )  # fmt: skip
    await redis_client.publish(events_channel, encode_message(message))
    await page.wait_for_selector(f'ol#events > li.event[data-id="{new_id}"]:first-child')
    assert await rows.count() == 4

    # Keys: j moves to the first line, r marks it reviewed (saved through the API).
    await page.keyboard.press("j")
    await page.keyboard.press("r")
    await page.wait_for_selector(f'li.event.reviewed[data-id="{new_id}"]')
    async with db_sessions() as session:
        assert (await session.get(Event, new_id)).reviewed is True

    # A filter changes the list and the address.
    await page.select_option("select[name=band]", "critical")
    await page.wait_for_url(re.compile(r"/\?band=critical$"))
    assert await page.locator("ol#events > li.event").count() == 1
    assert await page.get_attribute("ol#events > li.event", "data-id") == str(ids["critical"])
    await page.select_option("select[name=camera]", "front_door")
    await page.wait_for_url(re.compile(r"camera=front_door"))
    assert "band=critical" in page.url

    # Mark all shown reviewed.
    await page.click("#mark-all")
    await page.wait_for_selector("li.event.reviewed")
    async with db_sessions() as session:
        assert (await session.get(Event, ids["critical"])).reviewed is True
        assert (await session.get(Event, ids["high"])).reviewed is False

    # The server goes away: the badge says so; it comes back: the page reconnects by itself.
    serve.stop(base)
    await page.locator("#live", has_text="disconnected").wait_for()
    serve(make_app(), port=int(base.rsplit(":", 1)[1]))
    await page.locator("#live.on", has_text="live").wait_for(timeout=40_000)
    # The browser logged the refused reconnection attempts meanwhile; nothing else.
    refused = [e for e in browser.errors if "WebSocket connection to" in e]
    browser.errors = [e for e in browser.errors if e not in refused]

    phone = await browser.page(PHONE)
    await phone.goto(base + "/?reviewed=all")
    await phone.wait_for_selector("#live.badge.on")
    await no_horizontal_scroll(phone)
    await shoot(phone, screenshots, "events")
    # Dark follows the system setting.
    await phone.emulate_media(color_scheme="dark")
    background = await phone.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(18, 21, 27)"
    await shoot(phone, screenshots, "events-dark")


async def test_event_page_frames_review_notes_and_feedback(
    make_app, serve, watched, db_sessions, settings, screenshots
) -> None:
    ids = await seed_dashboard(db_sessions, settings)
    base = serve(make_app())
    browser = await watched(base)
    page = await browser.page(DESKTOP)
    await page.goto(base + "/")
    await page.click(f'li.event[data-id="{ids["high"]}"] a')
    await page.wait_for_url(re.compile(rf"/events/{ids['high']}"))
    assert all(width == 640 for width in await images_loaded(page, ".frame img"))
    assert await page.locator(".frame svg rect").count() == 2
    labels = await page.locator(".frame svg text").all_text_contents()
    assert sorted(labels) == ["dog 71%", "person 93%"]
    assert all(width > 0 for width in await images_loaded(page, ".crops img"))
    assert "Someone not seen before" in await page.inner_text(".reasoning")
    await shoot(page, screenshots, "event")

    await page.check("#reviewed")
    await page.wait_for_selector("#saved:has-text('review saved')")
    await page.fill("#notes", "The neighbour's dog walker.")
    await page.click("#save-notes")
    await page.wait_for_selector("#saved:has-text('note saved')")
    await page.select_option("#should-be", "low")
    await page.click("#wrong-severity")
    await page.wait_for_selector("#feedback-saved:has-text('should be low')")
    await page.click("#false-alarm")
    await page.wait_for_selector("#feedback-saved:has-text('false alarm')")

    await page.reload()
    assert await page.is_checked("#reviewed")
    assert await page.input_value("#notes") == "The neighbour's dog walker."
    async with db_sessions() as session:
        feedback = (await session.scalars(select(EventFeedback).order_by(EventFeedback.id))).all()
    assert [(row.event_id, row.feedback, row.should_be) for row in feedback] == [
        (ids["high"], "wrong_severity", "low"),
        (ids["high"], "false_alarm", None),
    ]
    # Older goes to the next event of the list (the list's filters kept).
    await page.click("#older")
    await page.wait_for_url(re.compile(rf"/events/{ids['low']}"))

    phone = await browser.page(PHONE)
    await phone.goto(f"{base}/events/{ids['high']}")
    assert all(width == 640 for width in await images_loaded(phone, ".frame img"))
    await no_horizontal_scroll(phone)
    await shoot(phone, screenshots, "event")


async def test_a_pushed_links_preliminary_event_leads_to_the_visits_final_verdict(
    make_app, serve, watched, db_sessions, settings, screenshots
) -> None:
    """The first push links the fast-path event; opened after the batch superseded it (on a
    phone, as a push is), the page says so first and one tap opens the final verdict."""
    await add_camera(db_sessions, settings, "front_door")
    fast = await add_event(
        db_sessions, batch_id="fast-visit", camera_id="front_door", started_at=NOW,
        risk_score=70, risk_level="high", summary="A person at the door.", is_fast_path=True,
    )  # fmt: skip
    final = await add_event(
        db_sessions, batch_id="visit", camera_id="front_door", started_at=NOW,
        risk_score=88, risk_level="critical", summary="A person tries the door handle.",
        supersedes_event_id=fast,
    )  # fmt: skip
    base = serve(make_app())
    browser = await watched(base)
    phone = await browser.page(PHONE)
    await phone.goto(f"{base}/events/{fast}")
    notice = phone.locator("#superseded")
    assert await notice.is_visible()
    assert "critical 88" in await notice.inner_text()
    top = await notice.bounding_box()
    assert top is not None and top["y"] < (await phone.locator(".event-detail").bounding_box())["y"]
    await no_horizontal_scroll(phone)
    await shoot(phone, screenshots, "event-superseded")
    await phone.click("#final-verdict")
    await phone.wait_for_url(re.compile(rf"/events/{final}$"))
    assert await phone.locator("#superseded").count() == 0
    assert "tries the door handle" in await phone.inner_text(".summary")
    browser.check()


async def test_cameras_and_system_pages(
    make_app, serve, watched, db_sessions, settings, redis_client, screenshots
) -> None:
    await seed_dashboard(db_sessions, settings)
    await add_camera(db_sessions, settings, "back_yard")  # never uploaded: no snapshot
    base = serve(make_app())
    browser = await watched(base)
    page = await browser.page(DESKTOP)
    await page.goto(base + "/cameras")
    await page.wait_for_selector('li[data-id="back_yard"] .snapshot.none')
    # The header's health badge, from /ws/system: no pipeline runs in this test.
    await page.locator("#health.status-degraded", has_text="degraded").wait_for()
    assert "homesec up" in await page.get_attribute("#health", "title")
    assert await page.locator("li.camera-card").count() == 3
    assert all(width == 640 for width in await images_loaded(page, "img.snapshot"))
    assert await page.locator("img.snapshot").count() == 2
    card = page.locator('li.camera-card[data-id="garage"]')
    await card.locator("input[name=name]").fill("Garage and drive")
    await card.locator("form.rename button").click()
    await card.locator(".saved:has-text('name saved')").wait_for()
    # Its role for the scoring: guessed from the name until set.
    assert "(garage)" in await card.locator("select.role option[value='']").inner_text()
    await card.locator("select.role").select_option("driveway")
    await card.locator(".saved:has-text('role driveway saved')").wait_for()
    await card.locator("input.enabled").uncheck()
    await card.locator(".saved:has-text('analysis off')").wait_for()
    async with db_sessions() as session:
        garage = await session.get(Camera, "garage")
        assert (garage.name, garage.enabled, garage.role) == ("Garage and drive", False, "driveway")
    await page.reload()
    assert await page.locator('li.camera-card.disabled[data-id="garage"]').count() == 1
    assert await card.locator("select.role").input_value() == "driveway"
    # Back to the guess: the role is cleared.
    await card.locator("select.role").select_option("")
    await card.locator(".saved:has-text('guessed from the name')").wait_for()
    async with db_sessions() as session:
        assert (await session.get(Camera, "garage", populate_existing=True)).role is None
    await shoot(page, screenshots, "cameras")
    phone = await browser.page(PHONE)
    await phone.goto(base + "/cameras")
    await no_horizontal_scroll(phone)
    await shoot(phone, screenshots, "cameras")

    async with db_sessions.begin() as session:
        for level, message in (
            ("INFO", "all is well"),
            ("WARNING", "camera garage uploads a 0-byte file"),
            ("ERROR", "the LLM at http://127.0.0.1:8080/v1 did not answer within 60 s"),
        ):
            session.add(Log(level=level, component="analyst", message=message))
        for minutes, load in ((50, 20.0), (30, 85.0), (10, 40.0)):
            session.add(
                GPUStats(
                    recorded_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes),
                    gpu_name="NVIDIA H200", gpu_utilization=load,
                    memory_used=30_000 + 500 * minutes,
                    memory_total=141_000,
                )
            )  # fmt: skip
    # A job waiting since ten minutes ago (a stream id starts with its millisecond).
    ten_minutes_ago = int((dt.datetime.now(dt.UTC).timestamp() - 600) * 1000)
    await redis_client.xadd(
        keys.ANALYSIS_QUEUE, {keys.STREAM_FIELD: "{}"}, id=f"{ten_minutes_ago}-0"
    )
    dead = keys.dlq(keys.DETECTION_QUEUE)
    await redis_client.rpush(dead, '{"not": "a job"}', '{"still": "not a job"}')
    system = await browser.page(DESKTOP)
    await system.goto(base + "/system")
    logged = await system.locator("ol.logs li").all_inner_texts()
    assert len(logged) == 2 and "did not answer" in logged[0] and "0-byte" in logged[1]
    row = system.locator('div.dlq[data-queue="detection_queue"]')
    count = system.locator('td.dlq-count[data-queue="detection_queue"]')
    assert await count.inner_text() == "2"
    waiting = system.locator("table tr", has_text="analysis_queue").locator("td.oldest")
    assert await waiting.inner_text() == "10 min"
    points = await system.get_attribute("svg.chart polyline.utilisation", "points")
    assert len(points.split()) == 3
    await shoot(system, screenshots, "system")
    phone_system = await browser.page(PHONE)
    await phone_system.goto(base + "/system")
    await no_horizontal_scroll(phone_system)
    await shoot(phone_system, screenshots, "system")
    # Each destructive button asks first: dismissed, nothing happens; accepted, it is done.
    system.once("dialog", lambda dialog: dialog.dismiss())
    await row.locator("button.clear").click()
    await asyncio.sleep(0.5)
    assert await redis_client.llen(dead) == 2
    system.once("dialog", lambda dialog: dialog.accept())
    await row.locator("button.clear").click()
    await row.wait_for(state="hidden")
    assert await count.inner_text() == "0"
    assert await redis_client.llen(dead) == 0
    await system.goto(base + "/system?level=all&search=well")
    assert await system.locator("ol.logs li").count() == 1
    assert "all is well" in await system.locator("ol.logs li").first.inner_text()

    for viewport in (DESKTOP, PHONE):
        system = await browser.page(viewport)
        await system.goto(base + "/system")
        assert await system.locator("section.card h2").first.inner_text() == "Actors"
        await no_horizontal_scroll(system)
        docs = await browser.page(viewport)
        await docs.goto(base + "/schema")
        await docs.wait_for_selector(".swagger-ui .info .title")
        await shoot(docs, screenshots, "api-docs")
    browser.check()


async def test_login_images_websocket_and_logout(
    make_app, serve, watched, db_sessions, settings, screenshots
) -> None:
    ids = await seed_dashboard(db_sessions, settings)
    async with db_sessions.begin() as session:
        session.add(APIKey(key_hash=hash_api_key(KEY), name="browser"))
    secured = msgspec.structs.replace(settings, api_key_enabled=True)
    base = serve(make_app(settings=secured))
    browser = await watched(base)
    page = await browser.page(PHONE)
    await page.goto(f"{base}/events/{ids['high']}")
    await page.wait_for_url(re.compile(r"/login\?next="))
    await no_horizontal_scroll(page)
    await shoot(page, screenshots, "login")
    # Unauthorised: the image routes refuse without the session.
    refused = await page.request.get(f"{base}/api/detections/{ids['frame_detection']}/crop")
    assert refused.status == 401

    desktop = await browser.page(DESKTOP)
    await desktop.goto(base + "/")
    await desktop.wait_for_url(re.compile(r"/login\?next=%2F$"))
    await shoot(desktop, screenshots, "login")

    await page.fill("#key", "not the key")
    await page.click("form.login button")
    await page.wait_for_selector(".login .error")
    # The failed login's 401 is the page itself; Chromium logs it as a console error.
    browser.errors = [e for e in browser.errors if "401" not in e]
    await page.fill("#key", KEY)
    await page.click("form.login button")
    await page.wait_for_url(f"{base}/events/{ids['high']}")
    assert all(width == 640 for width in await images_loaded(page, ".frame img"))
    cookies = await browser.context.cookies()
    assert [(c["name"], c["httpOnly"], c["sameSite"]) for c in cookies] == [
        ("homesec_session", True, "Strict")
    ]
    assert KEY not in str(cookies)
    assert await page.evaluate("() => document.cookie") == ""  # not readable by scripts
    assert await page.evaluate("() => JSON.stringify(localStorage)") == "{}"
    await page.goto(base + "/")
    await page.wait_for_selector("#live.badge.on")  # the WebSocket opened with the cookie
    await shoot(page, screenshots, "events-logged-in")

    await page.click("form.logout button")
    await page.wait_for_url(re.compile(r"/login$"))
    await page.goto(base + "/cameras")
    await page.wait_for_url(re.compile(r"/login\?next=%2Fcameras"))


JPEG = b"\xff\xd8\xff\xe0" + bytes(2000) + b"\xff\xd9"


def _ftp_upload(address: tuple[str, int], user: str, password: str) -> list[str]:
    client = ftplib.FTP(timeout=10)
    client.connect(*address)
    try:
        client.login(user, password)
        client.storbinary("STOR test.jpg", io.BytesIO(JPEG))
        return client.nlst()
    finally:
        client.close()


async def _stored_hash(db_sessions, camera_id: str) -> str | None:
    async with db_sessions() as session:
        return await session.scalar(
            select(CameraAccount.password_hash).where(CameraAccount.camera_id == camera_id)
        )


async def test_cameras_page_adds_a_camera_shows_its_ftp_settings_and_removes_it(
    make_app, serve, watched, db_sessions, settings, screenshots
) -> None:
    base = serve(make_app())
    browser = await watched(base)
    await browser.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)

    # No camera: the page says how to add one (the form above, or the command).
    for viewport in (DESKTOP, PHONE):
        page = await browser.page(viewport)
        await page.goto(base + "/cameras")
        empty = await page.locator("#no-cameras").inner_text()
        assert "Add one above" in empty and 'homesec camera add "Front Door"' in empty
        assert "first uploads" not in await page.inner_text("main")
        # No FTP server with this API (its bans are a 503): nothing about bans, nothing broken.
        assert await page.locator("#ftp-bans").is_hidden()
        assert await page.locator("#ftp-notices").count() == 0
        await no_horizontal_scroll(page)
        await shoot(page, screenshots, "cameras-empty")
    phone = page  # the 390 px one

    # A name with nothing to make an id of: a clear error, what was typed kept, nothing made.
    await phone.fill("#add-form input[name=name]", "   ")
    await phone.click("#add-form button")
    await phone.locator("#add-error", has_text="Give the camera a name").wait_for()
    await phone.fill("#add-form input[name=name]", "!!!")
    await phone.click("#add-form button")
    await phone.locator("#add-error", has_text="has no letters or digits").wait_for()
    assert await phone.input_value("#add-form input[name=name]") == "!!!"
    refused = [e for e in browser.errors if "400 (Bad Request)" in e]
    assert len(refused) == 1  # the refused POST is the point; Chromium logs its 400
    browser.errors = [e for e in browser.errors if e not in refused]
    async with db_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Camera)) == 0

    # Added: the FTP settings to enter, the password once, with a copy button.
    await phone.fill("#add-form input[name=name]", "Front Door")
    await phone.click("#add-form button")
    panel = phone.locator("#new-camera")
    await panel.wait_for()
    assert await phone.locator("#add-error").is_hidden()
    fact = lambda name: panel.locator(f'[data-fact="{name}"]').inner_text()  # noqa: E731
    assert await fact("name") == "Front Door"
    assert await fact("server") == lan_address()
    assert (await fact("port"), await fact("username"), await fact("folder")) == (
        str(settings.ftp_port), "front_door", "/",
    )  # fmt: skip
    assert await fact("tls") == "no (plain FTP)"
    assert await fact("passive_ports") == "60000-60099"
    first = await panel.locator("input.password").input_value()
    assert len(first) == 20 and first.isalnum()
    assert verify_password(first, await _stored_hash(db_sessions, "front_door"))
    await panel.locator("button.copy").click()
    await panel.locator(".copied", has_text="Copied.").wait_for()
    assert await phone.evaluate("() => navigator.clipboard.readText()") == first
    # Its card is in the list at once: waiting for its first upload (not "offline"), with
    # its FTP settings open and never the password.
    card = phone.locator('li.camera-card[data-id="front_door"]')
    await card.wait_for()
    assert await card.locator(".badge").first.inner_text() == "waiting for its first upload"
    assert await card.locator("details.ftp").get_attribute("open") is not None
    assert await card.locator(".ftp-user").inner_text() == "front_door"
    details = await card.locator("dl.facts").inner_text()
    assert lan_address() in details and str(settings.ftp_port) in details
    assert first not in await card.inner_text()
    assert await phone.locator("#no-cameras").is_hidden()
    await no_horizontal_scroll(phone)
    await shoot(phone, screenshots, "cameras-added")
    await phone.emulate_media(color_scheme="dark")
    await shoot(phone, screenshots, "cameras-added-dark")
    await phone.emulate_media(color_scheme="light")
    # Done: the password leaves the page.
    await phone.click("#new-camera-done")
    assert await panel.is_hidden()
    assert first not in await phone.content()

    # A camera that did upload keeps its status words.
    await add_camera(db_sessions, settings, "drive")
    async with db_sessions.begin() as session:
        drive = await session.get(Camera, "drive")
        drive.status, drive.last_seen_at = "online", dt.datetime.now(dt.UTC)
    await phone.reload()
    assert await phone.locator('li[data-id="drive"] .badge').first.inner_text() == "online"
    assert await phone.locator('li[data-id="drive"] details.ftp').get_attribute("open") is None
    assert "No account" in await phone.locator('li[data-id="drive"] .no-account').text_content()

    # A new password: asked first, shown once, copied; only the new one verifies.
    phone.once("dialog", lambda dialog: dialog.accept())
    await card.locator("button.new-password").click()
    await card.locator(".saved", has_text="new password saved").wait_for()
    second = await card.locator("input.password").input_value()
    assert len(second) == 20 and second != first
    await card.locator("button.copy").click()
    await card.locator(".copied", has_text="Copied.").wait_for()
    assert await phone.evaluate("() => navigator.clipboard.readText()") == second
    await no_horizontal_scroll(phone)
    await shoot(phone, screenshots, "cameras-new-password")
    stored = await _stored_hash(db_sessions, "front_door")
    assert verify_password(second, stored) and not verify_password(first, stored)
    # homesec's FTP server, with the accounts as it reads them, takes the new password.
    table = AccountTable(await camera_accounts.ftp_accounts(db_sessions))
    ftp = FtpServer(
        FtpServerConfig(host="127.0.0.1", port=0, auth_failed_delay=0.01), table, lambda *_: None
    )
    ftp.start()
    try:
        listed = await asyncio.to_thread(_ftp_upload, ftp.address, "front_door", second)
    finally:
        ftp.stop()
    assert listed == ["test.jpg"]

    # On a desktop: another camera, its settings beside the list, then the list.
    desktop = await browser.page(DESKTOP)
    await desktop.goto(base + "/cameras")
    await desktop.fill("#add-form input[name=name]", "Garage")
    await desktop.click("#add-form button")
    await desktop.locator("#new-camera input.password").wait_for()
    await desktop.locator('li.camera-card[data-id="garage"] .badge.status-waiting').wait_for()
    await shoot(desktop, screenshots, "cameras-added")
    await desktop.click("#new-camera-done")
    await shoot(desktop, screenshots, "cameras-list")
    await phone.reload()
    await no_horizontal_scroll(phone)
    await shoot(phone, screenshots, "cameras-list")
    await phone.emulate_media(color_scheme="dark")
    await shoot(phone, screenshots, "cameras-list-dark")
    await phone.emulate_media(color_scheme="light")

    # Removal asks first: dismissed, nothing happens; accepted, the camera is gone.
    drive_card = phone.locator('li.camera-card[data-id="drive"]')
    phone.once("dialog", lambda dialog: dialog.dismiss())
    await drive_card.locator("button.remove").click()
    await asyncio.sleep(0.5)
    assert await drive_card.count() == 1
    async with db_sessions() as session:
        assert await session.get(Camera, "drive") is not None
    for camera_id in ("drive", "front_door", "garage"):
        phone.once("dialog", lambda dialog: dialog.accept())
        await phone.locator(f'li.camera-card[data-id="{camera_id}"] button.remove').click()
        await phone.locator(f'li.camera-card[data-id="{camera_id}"]').wait_for(state="detached")
    async with db_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Camera)) == 0
        assert await session.scalar(select(func.count()).select_from(CameraAccount)) == 0
    assert await phone.locator("#no-cameras").is_visible()
    browser.check()


# --- what the FTP server knows, on the Cameras page (issues 21 and 22) -----------------------

BANNED = "127.0.0.6"  # the camera with a stale password
FLOODERS = ("127.0.0.10", "127.0.0.11")


class FtpActors:
    """The actor directory of a running pipeline, at its edge: a real FTP server in this
    process holds the bans (as in tests/test_http/test_ftp_bans.py), and the Supervisor's report
    carries the problems the FtpServerActor around it reports (a flood, a camera at its quota)."""

    def __init__(self, server: FtpServer, settings) -> None:
        self.server = server
        self.actor = FtpServerActor("ftp_server", settings, "postgresql://-", "redis://-")
        self.actor.server = server

    async def supervisor_report(self) -> SupervisorReport:
        ftp = ActorStatus(
            name="ftp_server", kind="ftp_server", state="ALIVE",
            problems=self.actor.health_problems(),
        )  # fmt: skip
        return SupervisorReport(actors=[ftp], checked_at=dt.datetime.now(dt.UTC))

    async def ftp_bans(self) -> list[FtpBan]:
        return self.server.state.active_bans()

    async def ftp_unban(self, address: str) -> bool:
        return self.server.state.unban(address)

    async def ftp_accounts_changed(self) -> None:
        return None  # the test's server is given its accounts directly


def _ftp_login(server: FtpServer, password: str, source: str = "127.0.0.1") -> ftplib.FTP:
    client = ftplib.FTP(timeout=10, source_address=(source, 0))
    try:
        client.connect(*server.address)
        client.login("porch", password)
    except ftplib.error_perm:
        client.close()
        raise
    return client


def _ftp_trouble(server: FtpServer, attempts: int) -> None:
    """A camera at its quota (552), an address banned for wrong passwords, and a flood of
    connections that never log in: each as a real FTP client makes it."""
    client = _ftp_login(server, "porch-secret-1")
    try:
        client.storbinary("STOR over.jpg", io.BytesIO(JPEG))
    except ftplib.error_perm as refused:
        assert str(refused).startswith("552"), refused
    else:
        raise AssertionError("the upload over the quota was taken")
    client.quit()
    for _ in range(attempts):
        with contextlib.suppress(ftplib.error_perm):
            _ftp_login(server, "an old password", BANNED).close()
    flood = []
    for source in FLOODERS:
        for _ in range(3):
            sock = socket.socket()
            sock.settimeout(5)
            sock.bind((source, 0))
            sock.connect(server.address)
            flood.append(sock)
    for sock in flood:
        with contextlib.suppress(OSError):
            sock.recv(1024)  # the greeting, or the 421 of a connection turned away
        sock.close()


async def test_cameras_page_shows_rejected_uploads_ftp_bans_and_the_ftp_servers_problems(
    make_app, serve, watched, db_sessions, settings, screenshots
) -> None:
    porch = await add_camera(db_sessions, settings, "porch")
    await add_camera(db_sessions, settings, "garage")
    snapshot = write_jpeg(porch / "snap.jpg", (640, 480), (90, 110, 80))
    # Times of this test's own (the module's clock reading is minutes old in a long run), the
    # last rejection 7 min 20 s ago: the page still says "7 min ago" for 40 s.
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    last_rejected = now - dt.timedelta(minutes=7, seconds=20)
    async with db_sessions.begin() as session:
        for camera in await session.scalars(select(Camera)):
            camera.status, camera.last_seen_at = "online", now - dt.timedelta(minutes=2)
        session.add(Upload(camera_id="porch", file_path=str(snapshot), status=UploadStatus.DONE))
        for received, name in (
            (last_rejected, "test.txt.jpg"),
            (now - dt.timedelta(minutes=30), "empty.jpg"),
            (now - dt.timedelta(minutes=90), "big.jpg"),
        ):
            session.add(
                Upload(
                    camera_id="porch", file_path=str(porch / name), status=UploadStatus.REJECTED,
                    received_at=received, error="not_an_image",
                )
            )  # fmt: skip
        # A finished upload is not a rejected one: the garage shows nothing.
        session.add(
            Upload(camera_id="garage", file_path=str(porch / "g.jpg"), status=UploadStatus.DONE)
        )

    accounts = AccountTable(
        [FtpAccount(username="porch", camera_id="porch", folder_path=str(porch),
                    password_hash=hash_password("porch-secret-1"))]
    )  # fmt: skip
    config = FtpServerConfig(
        host="127.0.0.1", port=0, auth_failed_delay=0.01, ban=BanPolicy.from_settings(settings),
        camera_quota_bytes=1, max_unauthenticated=2, max_unauthenticated_per_address=1,
    )  # fmt: skip
    ftp = FtpServer(config, accounts, lambda *_: None)
    ftp.start()
    try:
        await asyncio.to_thread(_ftp_trouble, ftp, settings.ftp_ban_attempts)
        [ban] = ftp.state.active_bans()
        assert ban.address == BANNED
        base = serve(make_app(actors=FtpActors(ftp, settings)))
        browser = await watched(base)
        for viewport in (DESKTOP, PHONE):
            page = await browser.page(viewport)
            await page.goto(base + "/cameras")

            # On top: the flood and the camera at its quota, each with what to do.
            notices = await page.locator("#ftp-notices li").all_inner_texts()
            assert len(notices) == 2, notices
            quota = next(text for text in notices if "upload quota" in text)
            assert quota.startswith("Camera porch is at its upload quota")
            assert "What to do: raise FTP_CAMERA_QUOTA_BYTES" in quota
            flood = next(text for text in notices if "FTP flood" in text)
            assert all(address in flood for address in FLOODERS)
            assert "What to do: find the machine at those addresses" in flood
            assert BANNED not in " ".join(notices)  # the bans have their own section

            # The porch's rejected uploads: how many, when last, where and why.
            rejected = page.locator('li[data-id="porch"] .rejected')
            said = await rejected.inner_text()
            assert "3 uploads rejected, the last one 7 min ago" in said
            assert local_time(last_rejected, local_zone(settings), "list") in said
            where = str(settings.foscam_base_path / ".rejected" / "porch")
            assert where in said and "kept 7 days" in said and "not a JPEG or PNG" in said
            assert await page.locator('li[data-id="garage"] .rejected').count() == 0

            # The blocked address: what it tried, until when in the house's time.
            bans = page.locator("#ftp-bans")
            assert await bans.is_visible()
            explained = await bans.locator("p.ban-rule").inner_text()
            assert "5 wrong passwords from one address within 10 min block it for 15 min" in (
                explained
            )
            assert "homesec camera unban ADDRESS does the same" in explained
            item = bans.locator(f'li.ban[data-address="{BANNED}"]')
            text = await item.inner_text()
            until = dt.datetime.fromtimestamp(ban.until, dt.UTC)
            assert f"blocked until {local_time(until, local_zone(settings), 'short')}" in text
            assert "(in 15 min)" in text and "tried porch" in text
            await no_horizontal_scroll(page)
            await shoot(page, screenshots, "cameras-ftp")
            await page.emulate_media(color_scheme="dark")
            await shoot(page, screenshots, "cameras-ftp-dark")
            await page.emulate_media(color_scheme="light")
        phone = page

        # Unban asks first: dismissed, the ban stays; accepted, it is lifted and the list goes.
        phone.once("dialog", lambda dialog: dialog.dismiss())
        await item.locator("button.unban").click()
        await asyncio.sleep(0.5)
        assert [b.address for b in ftp.state.active_bans()] == [BANNED]
        asked: list[str] = []

        async def accept(dialog) -> None:
            asked.append(dialog.message)
            await dialog.accept()

        phone.once("dialog", accept)
        await item.locator("button.unban").click()
        await phone.locator("#ftp-bans .unbanned", has_text=f"{BANNED} may log in again").wait_for()
        assert "give it the right password first" in asked[0]
        assert await item.count() == 0
        assert ftp.state.active_bans() == []
        # The camera logs in again from there with its right password.
        (await asyncio.to_thread(_ftp_login, ftp, "porch-secret-1", BANNED)).quit()
        await no_horizontal_scroll(phone)
        await shoot(phone, screenshots, "cameras-ftp-unbanned")
        # With no ban, the section is gone at the next visit.
        await phone.reload()
        assert await phone.locator("#ftp-bans").is_hidden()
    finally:
        ftp.stop()
