"""Retention and the disk guard against an event on hold (issue 24): a held event, its
detections, their thumbnails, its originals and their ledger rows stay whatever their age; the
same event unheld goes like any other. Real PostgreSQL, real files."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from sqlalchemy import select

from homesec.actors.janitor import Janitor
from homesec.models import Detection, Event, Upload
from homesec.store import events as store_events
from tests.support.evidence import seed_evidence_event
from tests.support.pipeline import pipeline_settings

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
OLD = NOW - dt.timedelta(days=40)  # past RETENTION_DAYS=30


class Disk:
    """A ``shutil.disk_usage`` stand-in: fixed figures."""

    def __init__(self, total: int, free: int) -> None:
        self.total, self.free = total, free

    def __call__(self, path: str) -> tuple[int, int, int]:
        return self.total, self.total - self.free, self.free


def make_janitor(tmp_path: Path, database_url: str, redis_url: str, **options) -> Janitor:
    disk = options.pop("disk", Disk(10**12, 10**12))
    settings = pipeline_settings(
        tmp_path,
        retention_days=30,
        delete_images=True,
        **{"min_free_disk_percent": 0.0, **options},
    )
    return Janitor(
        "janitor",
        settings,
        database_url,
        redis_url,
        str(tmp_path / "ray"),
        disk_usage=disk,
        clock=lambda: NOW,
    )


@pytest.fixture
async def janitor(tmp_path, migrated_database_url, redis_url):
    made: list[Janitor] = []

    def make(**options) -> Janitor:
        made.append(make_janitor(tmp_path, migrated_database_url, redis_url, **options))
        return made[-1]

    yield make
    for actor in made:
        await actor.close()


async def with_thumbnails(db_sessions, tmp_path: Path, camera_id: str) -> list[str]:
    """Give each detection of the camera an old thumbnail file, as the detector would."""
    paths = []
    async with db_sessions.begin() as session:
        rows = (
            await session.scalars(select(Detection).where(Detection.camera_id == camera_id))
        ).all()
        for row in rows:
            path = tmp_path / "thumbnails" / camera_id / f"{row.id}_0.jpg"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"t" * 1000)
            os.utime(path, (OLD.timestamp(), OLD.timestamp()))
            row.thumbnail_path = str(path)
            paths.append(str(path))
    return paths


async def seed_two_old_events(db_sessions, settings_dir: Path):
    """Two 40-day-old events of two cameras, each with its pictures, detections and ledger."""
    settings = pipeline_settings(settings_dir)
    kept = await seed_evidence_event(db_sessions, settings, camera_id="held_cam", started_at=OLD)
    gone = await seed_evidence_event(db_sessions, settings, camera_id="other_cam", started_at=OLD)
    for seeded in (kept, gone):
        for path in seeded.originals:
            os.utime(path, (OLD.timestamp(), OLD.timestamp()))
    return kept, gone


def exist(*paths: str | Path) -> list[bool]:
    return [os.path.exists(path) for path in paths]


async def rows_of(db_sessions, camera_id: str) -> tuple[int, int, int]:
    async with db_sessions() as session:

        async def count(model) -> int:
            found = await session.scalars(select(model.id).where(model.camera_id == camera_id))
            return len(found.all())

        return await count(Event), await count(Detection), await count(Upload)


async def test_retention_keeps_a_held_event_and_its_files_and_deletes_the_unheld_one(
    tmp_path, db_sessions, janitor
):
    kept, gone = await seed_two_old_events(db_sessions, tmp_path)
    kept_thumbnails = await with_thumbnails(db_sessions, tmp_path, "held_cam")
    gone_thumbnails = await with_thumbnails(db_sessions, tmp_path, "other_cam")
    hold = await store_events.set_hold(db_sessions, kept.event_id, at=NOW, note="for the police")
    assert hold is not None and hold.held_at == NOW
    actor = janitor()

    preview = await actor.run_cleanup(dry_run=True)
    stats = await actor.run_cleanup()

    # The unheld event goes with its 3 detections, thumbnails and 2 originals; nothing held.
    assert (stats.events_deleted, stats.detections_deleted) == (1, 3)
    assert (stats.thumbnails_deleted, stats.images_deleted) == (3, 2)
    assert (preview.events_deleted, preview.detections_deleted) == (1, 3)
    assert await rows_of(db_sessions, "held_cam") == (1, 3, 2)
    assert await rows_of(db_sessions, "other_cam") == (0, 0, 0)
    assert all(exist(*kept_thumbnails, *kept.originals))
    assert not any(exist(*gone_thumbnails, *gone.originals))

    # Released, it is an old event like any other: the next run deletes it.
    assert await store_events.release_hold(db_sessions, kept.event_id) is not None
    stats = await actor.run_cleanup()
    assert (stats.events_deleted, stats.detections_deleted, stats.images_deleted) == (1, 3, 2)
    assert await rows_of(db_sessions, "held_cam") == (0, 0, 0)
    assert not any(exist(*kept_thumbnails, *kept.originals))


async def test_the_disk_guard_passes_over_a_held_events_files(tmp_path, db_sessions, janitor):
    kept, gone = await seed_two_old_events(db_sessions, tmp_path)
    kept_thumbnails = await with_thumbnails(db_sessions, tmp_path, "held_cam")
    await with_thumbnails(db_sessions, tmp_path, "other_cam")
    await store_events.set_hold(db_sessions, kept.event_id, at=NOW, note=None)
    # Far short of space: everything that may go, goes.
    actor = janitor(disk=Disk(total=10**9, free=1000), min_free_disk_percent=10)

    await actor.relieve_disk_pressure()

    assert all(exist(*kept_thumbnails, *kept.originals))
    assert not any(exist(*gone.originals))
