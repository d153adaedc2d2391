"""An empty Events page says why: no camera yet, no detector model (with the uploads waiting
for it), or filters that match nothing (with a way to clear them)."""

from __future__ import annotations

import datetime as dt
import re

from homesec.contract.reports import ActorStatus, Problem, SupervisorReport
from homesec.models import Upload
from homesec.models.enums import UploadStatus
from tests.support.browser import DESKTOP, PHONE, no_horizontal_scroll, shoot
from tests.support.rows import add_camera, add_event

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


class NoModelDirectory:
    """The Supervisor's report while the detector has no model."""

    async def supervisor_report(self) -> SupervisorReport | None:
        problem = Problem(
            component="detector:0",
            summary="no detector engine: no model directory at /models/rtdetr",
            remedy="put an RT-DETRv2 model directory where DETECTOR_MODEL points",
        )
        return SupervisorReport(
            actors=[
                ActorStatus(name="detector:0", kind="detector", state="ALIVE", problems=[problem])
            ],
            checked_at=NOW,
        )


async def test_no_camera_yet_leads_to_the_cameras_page(make_app, serve, watched, screenshots):
    base = serve(make_app())
    browser = await watched(base)
    for viewport in (PHONE, DESKTOP):
        page = await browser.page(viewport)
        await page.goto(base + "/")
        assert "there is no camera" in await page.inner_text("#empty")
        await no_horizontal_scroll(page)
        await shoot(page, screenshots, "events-empty-no-camera")
    await page.click("#add-camera")
    await page.wait_for_url(re.compile(r"/cameras$"))


async def test_no_detector_model_says_how_many_uploads_wait(
    make_app, serve, watched, db_sessions, settings, screenshots
) -> None:
    folder = await add_camera(db_sessions, settings, "front_door")
    async with db_sessions.begin() as session:
        for n, status in enumerate(("queued", "queued", "queued", "done", "rejected")):
            session.add(
                Upload(
                    camera_id="front_door", file_path=str(folder / f"{n}.jpg"),
                    status=UploadStatus(status),
                )
            )  # fmt: skip
    base = serve(make_app(actors=NoModelDirectory()))
    browser = await watched(base)
    for viewport in (PHONE, DESKTOP):
        page = await browser.page(viewport)
        await page.goto(base + "/")
        said = await page.inner_text("#empty")
        assert "the detector has no model" in said and "3 uploads wait for it" in said, said
        await no_horizontal_scroll(page)
        await shoot(page, screenshots, "events-empty-no-model")


async def test_filters_that_match_nothing_can_be_cleared(
    make_app, serve, watched, db_sessions, settings, screenshots
) -> None:
    await add_camera(db_sessions, settings, "garage")
    event = await add_event(
        db_sessions, batch_id="car", camera_id="garage", started_at=NOW - dt.timedelta(minutes=3),
        risk_score=12, risk_level="low", summary="A car parks in the drive.",
    )  # fmt: skip
    base = serve(make_app())
    browser = await watched(base)
    page = await browser.page(PHONE)
    await page.goto(base + "/?band=critical")
    assert await page.locator("ol#events > li.event").count() == 0
    assert "No events match these filters" in await page.inner_text("#empty")
    await no_horizontal_scroll(page)
    await shoot(page, screenshots, "events-empty-filters")
    await page.click("#clear-filters")
    await page.wait_for_url(re.compile(r"/$"))
    assert await page.get_attribute("ol#events > li.event", "data-id") == str(event)
    assert await page.locator("#empty").is_hidden()
