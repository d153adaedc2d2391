"""The event page reads right in a real browser: one frame count everywhere, a time range with
both ends to the second, labels of crowded boxes that never overlap, and on a phone the review
controls before the pictures."""

from __future__ import annotations

import datetime as dt
import itertools

import msgspec

from tests.support.browser import DESKTOP, PHONE, no_horizontal_scroll, shoot
from tests.support.rows import add_camera, add_detection, add_event, write_jpeg

START = dt.datetime(2025, 12, 23, 13, 1, 15, tzinfo=dt.UTC)
# Seven images read by the detector in four batches: the images of one batch share its time.
BATCH_OFFSETS = (0, 0, 9, 9, 18, 18, 27)
# The last image: ten boxes piled on one another (a crowd at the door) and their labels.
CROWD = [(200 + 6 * n, 150 + 5 * n, 90, 180) for n in range(10)]


async def seed(db_sessions, settings) -> int:
    folder = await add_camera(db_sessions, settings, "front_door")
    ids = []
    for index, offset in enumerate(BATCH_OFFSETS):
        image = str(write_jpeg(folder / f"f{index}.jpg", (640, 480), (70, 90 + 10 * index, 110)))
        boxes = CROWD if index == len(BATCH_OFFSETS) - 1 else [(40 + 60 * index, 100, 80, 200)]
        for n, (x, y, width, height) in enumerate(boxes):
            ids.append(
                await add_detection(
                    db_sessions, camera_id="front_door", file_path=image,
                    object_type="person" if n % 3 else "dog", confidence=0.9 - n / 100,
                    bbox_x=x, bbox_y=y, bbox_width=width, bbox_height=height,
                    detected_at=START + dt.timedelta(seconds=offset),
                )
            )  # fmt: skip
    # The summary as the analyst wrote it while it counted a detector batch as a frame.
    return await add_event(
        db_sessions, batch_id="crowd", camera_id="front_door", started_at=START,
        ended_at=START + dt.timedelta(seconds=27), risk_score=64, risk_level="high",
        summary="7 people and 3 dogs, seen in 4 frames over 27 s at Front Door at 13:01 (day).",
        reasoning="Many people at the front door at once.", detection_ids=str(ids),
    )  # fmt: skip


def intersecting(rects: list[dict]) -> list[tuple[dict, dict]]:
    return [
        (a, b)
        for a, b in itertools.combinations(rects, 2)
        if a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and b["top"] < a["bottom"]
    ]


LABEL_RECTS = """(svg) => [...svg.querySelectorAll("text")]
  .filter((text) => getComputedStyle(text).display !== "none")
  .map((text) => { const r = text.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; })"""


async def test_the_event_page_agrees_with_itself_and_reads_on_a_phone(
    make_app, serve, watched, db_sessions, settings, screenshots
) -> None:
    event = await seed(db_sessions, settings)
    base = serve(make_app(settings=msgspec.structs.replace(settings, timezone="UTC")))
    browser = await watched(base)

    for viewport in (DESKTOP, PHONE):
        page = await browser.page(viewport)
        await page.goto(f"{base}/events/{event}")
        # One count of frames: the summary says what the facts say (7 images, not 4 batches).
        summary = await page.inner_text(".summary")
        assert "seen in 7 frames over 27 s" in summary, summary
        assert "in 7 frames" in await page.inner_text(".facts")
        assert "4 frames" not in await page.inner_text("article.event-detail")
        assert await page.locator("figure.frame").count() == 7
        # Both ends of the range to the second.
        assert "Tue 23 Dec 2025 13:01:15 \N{EN DASH} 13:01:42" in await page.inner_text(".when")

        # Every label of the crowded frame is drawn, and no two labels overlap.
        await page.wait_for_selector("svg.boxes[data-labels-placed]")
        for svg in await page.locator("svg.boxes").element_handles():
            rects = await svg.evaluate(LABEL_RECTS)
            assert not intersecting(rects), intersecting(rects)
        crowded = page.locator("svg.boxes").nth(6)
        assert len(await crowded.evaluate(LABEL_RECTS)) == len(CROWD)
        await no_horizontal_scroll(page)
        await shoot(page, screenshots, "event-crowd")

        review = await page.locator("section.review-box").bounding_box()
        first_frame = await page.locator("figure.frame").first.bounding_box()
        assert review is not None and first_frame is not None
        if viewport == PHONE:
            # Review, notes and feedback come before the pictures, within the first screen.
            assert review["y"] + review["height"] <= first_frame["y"]
            assert review["y"] < PHONE["height"]
        else:
            # Beside the pictures: the frames on the left, summary and review on the right.
            assert first_frame["x"] + first_frame["width"] <= review["x"]
            assert review["y"] < DESKTOP["height"]
