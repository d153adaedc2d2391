"""Issue 23's zones through the stages, in this process, on the test's PostgreSQL and Redis:
an upload goes through the Detector (the scripted engine), the camera's Batcher and the Analyst
(the rules engine). A person standing only in an ignored zone makes no event at all, not even
the fast path's; one at the porch door makes an event whose reasoning names the zone."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from homesec.actors.analyst import Analyst
from homesec.actors.batcher import Batcher
from homesec.actors.batcher_directory import LocalBatcherDirectory
from homesec.actors.detector import Detector
from homesec.contract import actor_names
from homesec.contract.zones import Zone, ZoneAction
from homesec.models import Detection, Event, Upload, UploadStatus
from homesec.store import camera_zones
from tests.support.images import RED
from tests.support.pipeline import (
    CAMERA,
    all_acknowledged,
    analysis_jobs,
    pipeline_settings,
    queue_upload,
    seed_camera,
    start,
    stop,
    write_image,
)
from tests.support.waiting import eventually

WAIT = 15.0  # seconds, as long as the stages had before

# The scripted engine's box is the centre half of the image: it stands at (0.5, 0.75).
BOTTOM = [(0.0, 0.6), (1.0, 0.6), (1.0, 1.0), (0.0, 1.0)]


@pytest.fixture
async def house(tmp_path, db_sessions, redis_client, migrated_database_url, redis_url):
    folder = tmp_path / "cameras" / CAMERA
    await seed_camera(db_sessions, folder)
    # The fast path stays on: a confident person would make an event at once.
    settings = pipeline_settings(
        tmp_path, detector_model="scripted", llm_engine="rules", batch_idle_timeout_seconds=0.5
    )
    batcher = Batcher(
        actor_names.batcher(CAMERA), settings, migrated_database_url, redis_url, CAMERA
    )
    detector = Detector(
        actor_names.detector(0),
        settings,
        migrated_database_url,
        redis_url,
        LocalBatcherDirectory({CAMERA: batcher}),
    )
    analyst = Analyst("analyst:test", settings, migrated_database_url, redis_url)
    tasks = [start(detector), start(analyst)]

    class House:
        async def upload(self, name: str) -> str:
            path = folder / name
            data = await asyncio.to_thread(write_image, path, RED)
            job = await queue_upload(db_sessions, redis_client, path, data)
            await eventually(lambda: all_acknowledged(redis_client), WAIT, "the detector")
            await asyncio.sleep(settings.batch_idle_timeout_seconds)
            await batcher.tick()  # closes a batch, if there is one: idle
            return job.file_path

    yield House()
    await stop(analyst, tasks[1])
    await stop(detector, tasks[0])
    await stop(batcher)


async def rows(db_sessions, model) -> list:
    async with db_sessions() as session:
        return list(await session.scalars(select(model).order_by(model.id)))


async def test_a_person_only_in_an_ignored_zone_makes_no_event(house, db_sessions, redis_client):
    zones = [Zone(name="street", points=BOTTOM, action=ZoneAction.IGNORE)]
    await camera_zones.replace_zones(db_sessions, CAMERA, zones)

    path = await house.upload("street.jpg")

    [upload] = await rows(db_sessions, Upload)
    assert (upload.file_path, upload.status) == (path, UploadStatus.DONE)
    assert await rows(db_sessions, Detection) == []
    assert await analysis_jobs(redis_client) == []  # neither a batch nor the fast path
    await asyncio.sleep(1.0)  # the Analyst's chance to write something, were there anything
    assert await rows(db_sessions, Event) == []


async def test_a_person_at_the_porch_door_makes_an_event_that_names_it(house, db_sessions):
    zones = [
        Zone(name="street", points=BOTTOM, action=ZoneAction.IGNORE),
        Zone(name="porch door", points=[(0.3, 0.5), (0.7, 0.5), (0.7, 0.9), (0.3, 0.9)],
             action=ZoneAction.WATCH),
    ]  # fmt: skip
    await camera_zones.replace_zones(db_sessions, CAMERA, zones)

    await house.upload("porch.jpg")

    [detection] = await rows(db_sessions, Detection)
    assert (detection.object_type, detection.zones) == ("person", ["street", "porch door"])

    async def batch_event() -> Event | None:
        return next((e for e in await rows(db_sessions, Event) if not e.is_fast_path), None)

    await eventually(batch_event, WAIT, "the batch's event")
    event = await batch_event()
    assert "a person in the zone 'porch door' (a way into the house)" in event.reasoning


async def test_without_zones_the_same_person_makes_an_event(house, db_sessions):
    await house.upload("plain.jpg")
    [detection] = await rows(db_sessions, Detection)
    assert detection.zones == []

    async def any_event() -> bool:
        return bool(await rows(db_sessions, Event))

    await eventually(any_event, WAIT, "an event")
    assert all("zone" not in event.reasoning for event in await rows(db_sessions, Event))
