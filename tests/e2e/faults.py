"""What the tests of faults while images flow share (test_pipeline_faults.py, test_outages.py):
a stream of distinct images, and the checks that every upload and detection counted once."""

from __future__ import annotations

import asyncio
import collections
import json
from pathlib import Path

from tests.support.images import BLUE, GREY, RED, jpeg_bytes
from tests.support.live_pipeline import detections_of, events_of, uploads_by_status

COLOURS = (RED, BLUE, GREY, BLUE)  # persons, cars, nothing


async def write_images(base: Path, cameras: list[str], count: int, pace: float) -> int:
    """``count`` distinct JPEGs round-robin into the cameras' folders; returns how many will
    yield a detection (the scripted engine sees red and blue)."""
    expected = 0
    for index in range(count):
        colour = COLOURS[index % len(COLOURS)]
        expected += colour != GREY
        camera = cameras[index % len(cameras)]
        path = base / camera / f"img_{index:04d}.jpg"
        path.write_bytes(jpeg_bytes(colour, size=(320, 240), seed=index))
        await asyncio.sleep(pace)
    return expected


async def all_processed(sessions, cameras, total: int):
    statuses = await uploads_by_status(sessions, cameras)
    return statuses if statuses.get("done", 0) >= total else None


async def every_detection_batched(sessions, cameras):
    detections = await detections_of(sessions, cameras)
    events = await events_of(sessions, cameras)
    batched = collections.Counter(
        detection_id
        for event in events
        if not event.is_fast_path
        for detection_id in json.loads(event.detection_ids)
    )
    ids = {detection.id for detection in detections}
    return (detections, events, batched) if ids and set(batched) >= ids else None


def assert_exactly_once(detections, events, batched, total_uploads, expected_detections):
    per_file = collections.Counter(detection.file_path for detection in detections)
    assert len(per_file) == expected_detections, "one detection per red or blue image"
    assert set(per_file.values()) == {1}, "no image was detected twice"
    assert set(batched.values()) == {1}, "no detection is in two batch events"
    assert len({event.batch_id for event in events}) == len(events)
