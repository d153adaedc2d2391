"""The dashboard as a user meets it: a real `homesec up` with API keys on, in headless Chromium.

Log in with a key, see an upload arrive live on the Events page, open it (its frame loads through
the session cookie), see the camera on the Cameras page, log out. The edges of the world are the
e2e tests' doubles: the scripted detector (a red marker is a person) and the rules engine.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import signal
import subprocess
from pathlib import Path

import pytest

from tests.support.browser import DESKTOP, PHONE, no_horizontal_scroll, shoot
from tests.support.homesec_process import free_port, start_up, up_env
from tests.support.images import RED, jpeg_bytes

pytestmark = [pytest.mark.slow]

KEY = "front-door-" + secrets.token_hex(8)


def _stop(process: subprocess.Popen) -> str:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            rest, _ = process.communicate(timeout=90)
            return rest or ""
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(30)
    return ""


async def test_homesec_up_with_keys_serves_the_dashboard_to_a_logged_in_browser(
    service_data_dir: Path, fresh_database_url, redis_url, watched, screenshots
):
    camera = f"porch_{secrets.token_hex(2)}"
    data = service_data_dir / "data"
    folder = data / "cameras" / camera
    folder.mkdir(parents=True)
    port = free_port()
    env = up_env(
        data,
        fresh_database_url,
        redis_url,
        HOMESEC_PORT=str(port),
        API_KEY_ENABLED="true",
        API_KEYS=KEY,
        UPLOAD_SETTLE_SECONDS="0.5",
        FTP_ENABLED="false",
    )
    process, output = await asyncio.to_thread(start_up, env)
    base = f"http://127.0.0.1:{port}"
    assert f"{base}/" in output  # it tells the user where the dashboard is
    rest = ""
    try:
        browser = await watched(base)
        page = await browser.page(PHONE)
        await page.goto(base + "/")
        await page.wait_for_url(re.compile(r"/login\?next="))
        await page.fill("#key", KEY)
        await page.click("form.login button")
        await page.wait_for_url(f"{base}/")
        await page.wait_for_selector("#live.badge.on")  # the WebSocket opened with the cookie

        (folder / "snap_0001.jpg").write_bytes(jpeg_bytes(RED, seed=77))
        first = page.locator("ol#events > li.event").first
        await first.wait_for(timeout=90_000)  # arrives live, without a reload
        assert "person" in await first.inner_text()
        await no_horizontal_scroll(page)
        await shoot(page, screenshots, "up-events")

        await first.locator("a").click()
        await page.wait_for_url(re.compile(r"/events/\d+"))
        await page.wait_for_load_state("networkidle")
        widths = await page.eval_on_selector_all(
            ".frame img", "(i) => i.map((x) => x.naturalWidth)"
        )
        assert widths and all(width > 0 for width in widths)  # the frame, through the cookie
        await no_horizontal_scroll(page)
        await shoot(page, screenshots, "up-event")

        desktop = await browser.page(DESKTOP)
        await desktop.goto(base + "/cameras")
        await desktop.locator(f'li.camera-card[data-id="{camera}"]').first.wait_for()
        await shoot(desktop, screenshots, "up-cameras")

        await page.goto(base + "/")
        await page.click("form.logout button")
        await page.wait_for_url(re.compile(r"/login$"))
        refused = await page.request.get(f"{base}/api/events")
        assert refused.status == 401
        for opened in browser.context.pages:  # before homesec stops: no reconnect attempts
            await opened.close()
    finally:
        rest = await asyncio.to_thread(_stop, process)
    assert process.returncode == 0, output + rest
