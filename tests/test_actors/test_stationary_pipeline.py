"""Issue 23's things that stay put through the stages, in this process, on the test's
PostgreSQL and Redis: uploads go through the Detector (the scripted engine), the camera's
Batcher and the Analyst (the rules engine). A car photographed again and again makes one event
(its arrival), a person walking past it makes theirs, and the car after them still makes none."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import select

from homesec.actors.analyst import Analyst
from homesec.actors.batcher import Batcher
from homesec.actors.batcher_directory import LocalBatcherDirectory
from homesec.actors.detector import Detector
from homesec.contract import actor_names
from homesec.models import Detection, Event
from tests.support.images import BLUE, RED
from tests.support.pipeline import (
    CAMERA,
    all_acknowledged,
    pipeline_settings,
    queue_upload,
    seed_camera,
    start,
    stop,
    write_image,
)
from tests.support.waiting import eventually

WAIT = 15.0
IDLE = 0.5  # the batch idle time: each upload below closes its batch before the next


@pytest.fixture
async def house(tmp_path, db_sessions, redis_client, migrated_database_url, redis_url):
    folder = tmp_path / "cameras" / CAMERA
    await seed_camera(db_sessions, folder)
    # Settled after 0.3 s rather than a minute: uploads come about 0.6 s apart here.
    settings = pipeline_settings(
        tmp_path,
        detector_model="scripted",
        llm_engine="rules",
        batch_idle_timeout_seconds=IDLE,
        stationary_settle_seconds=0.3,
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
        async def upload(self, name: str, colour) -> None:
            path = folder / name
            data = await asyncio.to_thread(write_image, path, colour)
            await queue_upload(db_sessions, redis_client, path, data)
            await eventually(lambda: all_acknowledged(redis_client), WAIT, "the detector")
            await asyncio.sleep(IDLE)
            await batcher.tick()  # closes the open batch, if there is one: idle

    yield House()
    await stop(analyst, tasks[1])
    await stop(detector, tasks[0])
    await stop(batcher)


async def rows(db_sessions, model) -> list:
    async with db_sessions() as session:
        return list(await session.scalars(select(model).order_by(model.id)))


async def test_a_parked_car_makes_one_event_and_a_passer_by_one_more(house, db_sessions):
    for n in range(5):
        await house.upload(f"car-{n}.jpg", BLUE)
    await house.upload("passer-by.jpg", RED)
    await house.upload("car-5.jpg", BLUE)

    found = await rows(db_sessions, Detection)
    assert [(d.object_type, d.stationary) for d in found] == [
        ("car", False),  # it arrives: a visit
        *[("car", True)] * 4,  # parked: stored, no visit
        ("person", False),
        ("car", True),  # still parked after the passer-by
    ]

    async def events() -> list[Event] | None:
        written = [event for event in await rows(db_sessions, Event) if not event.is_fast_path]
        return written if len(written) == 2 else None

    await eventually(events, WAIT, "the two visits' events")
    kinds = [
        {d.object_type for d in found if d.id in json.loads(event.detection_ids)}
        for event in await events()
    ]
    assert kinds == [{"car"}, {"person"}]
    await asyncio.sleep(1.0)  # the Analyst's chance to write a third, were there one
    assert len(await events()) == 2
