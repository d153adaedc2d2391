"""The event page's evidence controls in a real browser (issue 24), on a phone and a desktop:
Keep puts the event on hold and shows the Kept badge (also after a reload), Release takes it
off; Export evidence downloads the signed archive, which verifies."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import msgspec

from homesec.files.evidence_archive import verify_archive
from homesec.store import events as store_events
from tests.support.browser import DESKTOP, PHONE, no_horizontal_scroll, shoot
from tests.support.evidence import seed_evidence_event


def seeded_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def verified(path: Path, data_dir: Path) -> list[str]:
    return [finding.line() for finding in verify_archive(path, data_dir).findings]


async def test_keep_release_and_export_from_the_event_page(
    make_app, serve, watched, db_sessions, settings, screenshots, tmp_path
) -> None:
    seeded = await seed_evidence_event(db_sessions, settings)
    house = msgspec.structs.replace(settings, timezone="Europe/Berlin")
    base = serve(make_app(settings=house))
    browser = await watched(base)

    for viewport in (PHONE, DESKTOP):
        page = await browser.page(viewport)
        await page.goto(f"{base}/events/{seeded.event_id}")
        badge, hold = page.locator("#held-badge"), page.locator("#hold")
        assert not await badge.is_visible()
        assert await hold.inner_text() == "Keep (hold)"

        await no_horizontal_scroll(page)
        await shoot(page, screenshots, "evidence-unheld")
        await page.fill("#hold-note", "for the insurer")
        await hold.click()
        await page.wait_for_selector("#held-badge:visible")
        assert await hold.get_attribute("aria-pressed") == "true"
        state = await page.inner_text("#hold-state")
        assert ": for the insurer. Retention will not delete it" in state, state
        await page.reload()
        assert await badge.is_visible() and await hold.inner_text() == "Release hold"
        assert "for the insurer" in await page.inner_text("#hold-state")
        # The controls sit in the first screen, before the pictures, on a phone too.
        export = page.locator("#export-evidence")
        box = await export.bounding_box()
        assert box is not None and box["y"] + box["height"] < viewport["height"]
        await no_horizontal_scroll(page)
        await shoot(page, screenshots, "evidence-held")

        async with page.expect_download() as started:
            await export.click()
        download = await started.value
        assert download.suggested_filename == f"homesec-event-{seeded.event_id}.zip"
        saved = tmp_path / f"{viewport['width']}.zip"
        await download.save_as(saved)
        assert verified(saved, settings.data_dir) == []

        await hold.click()
        await page.wait_for_selector("#held-badge", state="hidden")
        assert await hold.inner_text() == "Keep (hold)"
        await page.reload()
        assert not await badge.is_visible()
        await page.close()

    # The list marks a held event too.
    await store_events.set_hold(db_sessions, seeded.event_id, at=seeded_now(), note=None)
    page = await browser.page(PHONE)
    await page.goto(f"{base}/?reviewed=all")
    row = page.locator(f"li.event[data-id='{seeded.event_id}']")
    assert await row.locator(".badge.held").inner_text() == "Kept"
    await no_horizontal_scroll(page)
    await shoot(page, screenshots, "evidence-list")
