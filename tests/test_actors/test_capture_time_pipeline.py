"""Issue 22: an event's time is when the picture was taken. A snapshot goes the whole way here,
in this process, on the test's PostgreSQL and Redis: the watcher's ingest, the Detector (the
scripted engine), the camera's Batcher and the Analyst (the rules engine); the event's
``started_at`` is the EXIF DateTimeOriginal in the house's zone when it is believable, else the
upload's mtime, never when the detector got to it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import os
import time
import zoneinfo
from pathlib import Path

import msgspec
import pytest
from PIL import Image
from sqlalchemy import select

from homesec.actors.analyst import Analyst
from homesec.actors.batcher import Batcher
from homesec.actors.batcher_directory import LocalBatcherDirectory
from homesec.actors.detector import Detector
from homesec.contract import actor_names
from homesec.contract.jobs import DetectionJob
from homesec.models import Detection, Event, Upload
from homesec.policy.capture_time import DATE_TIME_ORIGINAL, EXIF_IFD
from homesec.store import streams
from homesec.workflows.ingest import Outcome, UploadIngest
from tests.support.images import RED
from tests.support.pipeline import (
    CAMERA,
    all_acknowledged,
    analysis_jobs,
    pipeline_settings,
    seed_camera,
    start,
    stop,
)
from tests.support.waiting import eventually

HOUSE = "Europe/Berlin"
ZONE = zoneinfo.ZoneInfo(HOUSE)


def snapshot(path: Path, taken: dt.datetime | None, mtime: dt.datetime, seed: int = 0) -> None:
    """A JPEG the scripted engine reads as a person (red top-left block), with
    ``DateTimeOriginal`` written as the camera would (local wall-clock time, no offset) when
    ``taken`` is given, and the upload's end as its mtime."""
    image = Image.new("RGB", (320, 240), RED)
    image.paste(Image.effect_noise((160, 120), 40 + seed).convert("RGB"), (160, 120))
    exif = Image.Exif()
    if taken is not None:
        exif.get_ifd(EXIF_IFD)[DATE_TIME_ORIGINAL] = taken.astimezone(ZONE).strftime(
            "%Y:%m:%d %H:%M:%S"
        )
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue())
    os.utime(path, (mtime.timestamp(), mtime.timestamp()))


@pytest.fixture
async def house(tmp_path, db_sessions, redis_client, migrated_database_url, redis_url):
    """Ingest, a Detector, the camera's Batcher and an Analyst for a house in Berlin; ``run``
    takes files through all of them and returns the events."""
    folder = tmp_path / "cameras" / CAMERA
    await seed_camera(db_sessions, folder)
    settings = pipeline_settings(
        tmp_path,
        detector_model="scripted",
        llm_engine="rules",
        timezone=HOUSE,
        batch_idle_timeout_seconds=0.5,
        # The fast path would make a second (preliminary) event per visit; one is enough here.
        fast_path_object_types=["nothing"],
    )
    ingest = UploadIngest(CAMERA, str(folder), settings, time.time)
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
        folder: Path

        async def run(self, paths: list[Path]) -> list[Event]:
            answers = await ingest.ingest_many([str(p) for p in paths], db_sessions, redis_client)
            assert [answer.outcome for answer in answers] == [Outcome.ENQUEUED] * len(paths)
            await eventually(
                lambda: all_acknowledged(redis_client), timeout=15.0, what="detections stored"
            )
            await asyncio.sleep(settings.batch_idle_timeout_seconds)
            await batcher.tick()  # closes the batch: idle
            assert len(await analysis_jobs(redis_client)) == 1

            async def event_written() -> bool:
                return bool(await events())

            await eventually(event_written, timeout=15.0, what="the event")
            return await events()

    async def events() -> list[Event]:
        async with db_sessions() as session:
            return list(await session.scalars(select(Event).order_by(Event.id)))

    found = House()
    found.folder = folder
    yield found
    await stop(analyst, tasks[1])
    await stop(detector, tasks[0])
    await stop(batcher)


async def rows(db_sessions, model) -> list:
    async with db_sessions() as session:
        return list(await session.scalars(select(model).order_by(model.id)))


def recently(seconds: float) -> dt.datetime:
    """A whole second ``seconds`` ago (EXIF keeps whole seconds)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(seconds=seconds)


async def test_the_event_starts_when_the_picture_was_taken(house, db_sessions, redis_client):
    # Taken at 12:59:29 house time, the upload done a minute later; the detector gets to it
    # later still. The event says 12:59:29.
    taken = recently(180)
    uploaded = taken + dt.timedelta(seconds=64)
    path = house.folder / "snap.jpg"
    snapshot(path, taken, uploaded)

    [event] = await house.run([path])

    assert event.started_at == taken == event.ended_at
    [upload] = await rows(db_sessions, Upload)
    assert upload.captured_at == taken
    detections = await rows(db_sessions, Detection)
    assert detections and {d.captured_at for d in detections} == {taken}
    # detected_at keeps its meaning: when the detection was processed, after the upload.
    assert all(d.detected_at > uploaded for d in detections)


async def test_without_exif_the_event_starts_when_the_upload_finished(house, db_sessions):
    uploaded = recently(90)
    path = house.folder / "plain.jpg"
    snapshot(path, None, uploaded)

    [event] = await house.run([path])

    assert event.started_at == uploaded


@pytest.mark.parametrize(
    "taken_from_upload",
    [
        dt.timedelta(hours=-1),  # a camera set to UTC in a house an hour east of it
        dt.timedelta(hours=2),  # a clock far ahead
        None,  # an unset clock: 2000-01-01
    ],
    ids=["an hour behind", "ahead", "unset clock"],
)
async def test_an_implausible_exif_time_gives_way_to_the_upload_time(
    house, db_sessions, taken_from_upload
):
    uploaded = recently(60)
    taken = (
        uploaded + taken_from_upload
        if taken_from_upload is not None
        else dt.datetime(2000, 1, 1, 8, 0, tzinfo=ZONE)
    )
    path = house.folder / "odd.jpg"
    snapshot(path, taken, uploaded)

    [event] = await house.run([path])

    assert event.started_at == uploaded
    [upload] = await rows(db_sessions, Upload)
    assert upload.captured_at == uploaded


async def test_a_burst_uploaded_late_is_one_visit_timed_by_its_pictures(house, db_sessions):
    # Five snapshots two seconds apart, sent ten minutes late in one go: the Batcher windows by
    # arrival, so they are still one visit, and the event spans the pictures, not the upload.
    first = recently(900)
    paths = []
    for index in range(5):
        path = house.folder / f"burst-{index}.jpg"
        snapshot(path, first + dt.timedelta(seconds=2 * index), recently(300 - index), seed=index)
        paths.append(path)

    [event] = await house.run(paths)

    assert (event.started_at, event.ended_at) == (first, first + dt.timedelta(seconds=8))
    detections = await rows(db_sessions, Detection)
    assert len(detections) >= 5


async def test_a_job_queued_before_capture_times_takes_the_ledger_rows(
    house, db_sessions, monkeypatch
):
    # A job without ``captured_at`` (queued by an older watcher, or requeued from the ledger by
    # a scan or the reconciler): the detector reads the time from the upload's row.
    taken = recently(200)
    path = house.folder / "requeued.jpg"
    snapshot(path, taken, taken + dt.timedelta(seconds=30))
    real_enqueue = streams.enqueue_many

    async def without_capture_time(redis, queue, jobs):
        stripped = [msgspec.structs.replace(job, captured_at=None) for job in jobs]
        assert all(isinstance(job, DetectionJob) for job in stripped)
        return await real_enqueue(redis, queue, stripped)

    monkeypatch.setattr(streams, "enqueue_many", without_capture_time)

    [event] = await house.run([path])

    assert event.started_at == taken
