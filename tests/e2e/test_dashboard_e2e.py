"""The dashboard in headless Chromium against the running pipeline, with the Ray-backed
adapters `homesec up` uses: an upload becomes a live event on the page, its page shows the
frame, the System page lists the actors, and the retention preview comes from the Janitor."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from homesec.actors.directory import RayActorDirectory, run_cleanup
from homesec.contract import keys
from homesec.http.app import create_app
from tests.support.browser import DESKTOP, no_horizontal_scroll, shoot
from tests.support.images import RED, jpeg_bytes
from tests.support.live_pipeline import e2e_settings, running_pipeline, unique_camera, write_slowly

pytestmark = [pytest.mark.ray, pytest.mark.slow]


async def test_an_upload_appears_live_and_the_system_page_shows_the_pipeline(
    ray_cluster, migrated_database_url, redis_url, tmp_path: Path, serve, watched, screenshots
):
    settings = e2e_settings(tmp_path)
    camera = unique_camera("porch")
    (settings.foscam_base_path / camera).mkdir(parents=True)
    app = create_app(
        settings,
        database_url=migrated_database_url,
        redis_url=redis_url,
        actors=RayActorDirectory(),
        cleanup=run_cleanup,
        events_channel=keys.SECURITY_EVENTS,  # where the pipeline publishes
    )
    base = serve(app)
    async with running_pipeline(settings, migrated_database_url, redis_url):
        browser = await watched(base)
        system = await browser.page(DESKTOP)
        await system.goto(base + "/system")
        # The supervisor reports its actors within a cycle or two.
        for _ in range(60):
            actors = await system.locator("section.card table tbody tr").all_inner_texts()
            if any(f"watcher:{camera}" in row and "ALIVE" in row for row in actors):
                break
            await system.wait_for_timeout(1000)
            await system.reload()
        else:
            raise AssertionError(f"no watcher for {camera} on the System page: {actors}")

        await system.locator("#health", has_text=re.compile("healthy|degraded")).wait_for()
        page = await browser.page(DESKTOP)
        await page.goto(f"{base}/?camera={camera}&reviewed=all")
        await page.wait_for_selector("#live.badge.on")
        await write_slowly(
            settings.foscam_base_path / camera / "person.jpg", jpeg_bytes(RED, seed=23)
        )
        # The fast-path event arrives over the WebSocket, without a reload.
        first = page.locator("ol#events > li.event").first
        await first.wait_for(timeout=90_000)
        assert "person" in await first.inner_text()
        await shoot(page, screenshots, "pipeline-events")
        await first.locator("a").click()
        await page.wait_for_url(re.compile(r"/events/\d+"))
        await page.wait_for_load_state("networkidle")
        widths = await page.eval_on_selector_all(
            ".frame img", "(i) => i.map((x) => x.naturalWidth)"
        )
        assert widths == [640]
        assert await page.locator(".frame svg rect").count() >= 1
        await shoot(page, screenshots, "pipeline-event")

        # Retention: the preview is the Janitor's dry run; nothing is past its retention.
        await system.reload()
        await system.click("#preview-cleanup")
        result = system.locator("#cleanup-result")
        await result.wait_for()
        assert (await result.inner_text()).startswith("A cleanup now would delete: 0 events")
        # A run asks first, then reports what the Janitor deleted (nothing is that old).
        system.once("dialog", lambda dialog: dialog.accept())
        await system.click("#run-cleanup")
        await system.locator("#cleanup-result", has_text="Deleted: 0 events").wait_for()
        await no_horizontal_scroll(system)
        await shoot(system, screenshots, "pipeline-system")
