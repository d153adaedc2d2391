"""Things that stay put in a real browser (issue 23): the event page draws a parked car apart
(dashed, "stationary") in the event's frames and lists it under "Stayed put" with the time its
spot was first seen; the Cameras page lists what stays put in each camera's view. Phone and
desktop widths."""

from __future__ import annotations

import datetime as dt

import msgspec
from sqlalchemy import select

from homesec.models import Detection
from tests.support.browser import DESKTOP, PHONE, no_horizontal_scroll, shoot
from tests.support.rows import add_camera, add_detection, add_event, write_jpeg

CAR = (330, 260, 220, 130)


async def seed(db_sessions, settings) -> int:
    folder = await add_camera(db_sessions, settings, "driveway")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    parked_since = now - dt.timedelta(hours=2, minutes=7)
    people = []
    for index in range(3):
        taken = now - dt.timedelta(seconds=30 - 10 * index)
        image = str(write_jpeg(folder / f"f{index}.jpg", (640, 480), (60, 80 + 20 * index, 100)))
        x, y, width, height = CAR
        await add_detection(
            db_sessions, camera_id="driveway", file_path=image, object_type="car",
            confidence=0.88, bbox_x=x, bbox_y=y, bbox_width=width, bbox_height=height,
            detected_at=taken, captured_at=taken, stationary=True, spot_since=parked_since,
        )  # fmt: skip
        if index < 2:  # the passer-by is in the first two frames
            people.append(
                await add_detection(
                    db_sessions, camera_id="driveway", file_path=image, object_type="person",
                    confidence=0.93, bbox_x=60 + 90 * index, bbox_y=150, bbox_width=70,
                    bbox_height=200, detected_at=taken, captured_at=taken, spot_since=taken,
                )
            )  # fmt: skip
    return await add_event(
        db_sessions, batch_id="passer-by", camera_id="driveway",
        started_at=now - dt.timedelta(seconds=30), ended_at=now - dt.timedelta(seconds=20),
        risk_score=22, risk_level="low", summary="A person walked past the parked car.",
        reasoning="A passer-by on the pavement.", detection_ids=str(people),
    )  # fmt: skip


async def test_a_parked_car_on_the_event_and_cameras_pages(
    make_app, serve, watched, db_sessions, settings, screenshots
) -> None:
    event = await seed(db_sessions, settings)
    async with db_sessions() as session:
        since = (
            await session.scalars(select(Detection.spot_since).where(Detection.stationary))
        ).first()
    clock = since.strftime("%H:%M")
    base = serve(make_app(settings=msgspec.structs.replace(settings, timezone="UTC")))
    browser = await watched(base)
    for viewport in (PHONE, DESKTOP):
        page = await browser.page(viewport)
        await page.goto(f"{base}/events/{event}")
        # Two frames: the passer-by's; the car drawn in each, apart from the event's boxes.
        assert await page.locator("figure.frame").count() == 2
        assert await page.locator("g.box.stationary").count() == 2
        assert await page.locator("g.box:not(.stationary)").count() == 2
        # The labels are moved to a layer of their own once placed (labels.js).
        labels = await page.locator("svg.boxes text").all_text_contents()
        assert sorted(labels) == ["car · stationary"] * 2 + ["person 93%"] * 2
        # The event's own detections are the passer-by's; the car is listed once, apart.
        assert await page.locator("ul.crops:not(.stationary-list) li").count() == 2
        parked = page.locator("ul.stationary-list li")
        assert await parked.count() == 1
        assert f"stationary: parked here since {clock}" in await parked.inner_text()
        await no_horizontal_scroll(page)
        await shoot(page, screenshots, "stationary-event")

        await page.goto(f"{base}/cameras")
        things = page.locator("li.camera-card[data-id='driveway'] li.stationary-thing")
        assert await things.count() == 1
        text = await things.inner_text()
        assert text.startswith("car") and f"parked here since {clock}" in text, text
        await no_horizontal_scroll(page)
        await shoot(page, screenshots, "stationary-cameras")
        await page.close()
