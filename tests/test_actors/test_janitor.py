"""The Janitor against a real PostgreSQL, with real files in a temporary data directory.

Each test seeds a small world (:func:`seed_world`) of rows and files older and newer than the
limits, with ``now`` injected, and looks at what is left after a cleanup.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import secrets
import zoneinfo
from pathlib import Path

import msgspec
import pytest
from sqlalchemy import func, select, text

from homesec.actors import ray_gateway
from homesec.actors.janitor import Janitor, schedule_zone
from homesec.actors.ray_gateway import create_actor
from homesec.contract.reports import ActorSpec, CleanupStats
from homesec.models import (
    AlertRow,
    Camera,
    CameraProblem,
    Detection,
    Event,
    GPUStats,
    Log,
    Upload,
    UploadStatus,
)
from homesec.store import retention
from tests.support.pipeline import CAMERA, pipeline_settings

RETENTION_DAYS = 30
LOG_RETENTION_DAYS = 7
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
OLD = NOW - dt.timedelta(days=40)
NEW = NOW - dt.timedelta(days=1)
OLD_LOG = NOW - dt.timedelta(days=10)
NEW_LOG = NOW - dt.timedelta(days=2)


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


class Disk:
    """A ``shutil.disk_usage`` stand-in: fixed figures, and how often it was asked."""

    def __init__(self, total: int = 10**12, free: int = 10**12) -> None:
        self.total, self.free, self.calls = total, free, 0

    def __call__(self, path: str) -> tuple[int, int, int]:
        self.calls += 1
        return self.total, self.total - self.free, self.free


def put(path: Path, size: int, modified: dt.datetime) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    os.utime(path, (modified.timestamp(), modified.timestamp()))
    return str(path)


def janitor(tmp_path: Path, database_url: str, redis_url: str, **options) -> Janitor:
    clock = options.pop("clock", Clock(NOW))
    disk = options.pop("disk", Disk())
    settings = pipeline_settings(
        tmp_path,
        retention_days=RETENTION_DAYS,
        log_retention_days=LOG_RETENTION_DAYS,
        timezone="Europe/Berlin",
        **{"min_free_disk_percent": 0.0, **options},
    )
    return Janitor(
        "janitor",
        settings,
        database_url,
        redis_url,
        str(tmp_path / "ray"),
        disk_usage=disk,
        clock=clock,
    )


class World(msgspec.Struct):
    """The paths a test looks at; see :func:`seed_world`."""

    cameras: Path
    thumbnails: Path
    old_image: str
    new_image: str
    reused_image: str
    rejected_image: str
    queued_image: str
    old_thumbnails: list[str]
    new_thumbnail: str
    shared_thumbnail: str
    orphan_thumbnail: str


async def seed_world(db_sessions, tmp_path: Path) -> World:
    """Rows and files on both sides of the limits:

    - ``old.jpg``: uploaded 40 days ago, two detections with thumbnails, an event: all expired;
    - ``new.jpg``: a day old, one detection, an event: all kept;
    - ``reused.jpg``: a camera reusing a file name; a 40-day-old detection and a day-old one
      share the path and (thumbnail paths are per upload path) the thumbnail; the ledger row
      was rewritten a day ago;
    - ``rejected.jpg``: rejected 40 days ago, no detections; ``vanished.jpg``: a 40-day-old
      ledger row whose file is gone; ``queued.jpg``: 40 days in the queue, the detector's;
    - an orphan thumbnail file no row names, 40 days old;
    - 3 old and 2 new gpu_stats; 4 logs 10 days old and 1 two days old.
    """
    cameras = tmp_path / "cameras" / CAMERA
    thumbnails = tmp_path / "thumbnails" / CAMERA
    world = World(
        cameras=cameras,
        thumbnails=thumbnails,
        old_image=put(cameras / "old.jpg", 1000, OLD),
        new_image=put(cameras / "new.jpg", 1200, NEW),
        reused_image=put(cameras / "reused.jpg", 1300, NEW),
        rejected_image=put(cameras / "rejected.jpg", 500, OLD),
        queued_image=put(cameras / "queued.jpg", 600, OLD),
        old_thumbnails=[
            put(thumbnails / "old_0.jpg", 100, OLD),
            put(thumbnails / "old_1.jpg", 110, OLD),
        ],
        new_thumbnail=put(thumbnails / "new_0.jpg", 120, NEW),
        shared_thumbnail=put(thumbnails / "reused_0.jpg", 130, NEW),
        orphan_thumbnail=put(thumbnails / "orphan_0.jpg", 90, OLD),
    )
    vanished = str(cameras / "vanished.jpg")

    def upload(path: str, status: str, received_at: dt.datetime) -> Upload:
        return Upload(
            camera_id=CAMERA, file_path=path, status=status, received_at=received_at, file_size=1
        )

    def detection(path: str, at: dt.datetime, thumbnail: str | None) -> Detection:
        return Detection(
            camera_id=CAMERA,
            file_path=path,
            detected_at=at,
            object_type="person",
            confidence=0.9,
            thumbnail_path=thumbnail,
        )

    async with db_sessions.begin() as session:
        session.add(Camera(id=CAMERA, name="Front door", folder_path=str(cameras)))
        await session.flush()
        session.add_all(
            [
                upload(world.old_image, UploadStatus.DONE, OLD),
                upload(world.new_image, UploadStatus.DONE, NEW),
                upload(world.reused_image, UploadStatus.DONE, NEW),
                upload(world.rejected_image, UploadStatus.REJECTED, OLD),
                upload(vanished, UploadStatus.DONE, OLD),
                upload(world.queued_image, UploadStatus.QUEUED, OLD),
                detection(world.old_image, OLD, world.old_thumbnails[0]),
                detection(world.old_image, OLD, world.old_thumbnails[1]),
                detection(world.new_image, NEW, world.new_thumbnail),
                detection(world.reused_image, OLD, world.shared_thumbnail),
                detection(world.reused_image, NEW, world.shared_thumbnail),
                Event(batch_id="old", camera_id=CAMERA, started_at=OLD, risk_score=10),
                Event(batch_id="new", camera_id=CAMERA, started_at=NEW, risk_score=10),
                *(GPUStats(recorded_at=OLD, gpu_name="gpu") for _ in range(3)),
                *(GPUStats(recorded_at=NEW, gpu_name="gpu") for _ in range(2)),
                *(Log(timestamp=OLD_LOG, level="INFO", component="t", message="m") for _ in "abcd"),
                Log(timestamp=NEW_LOG, level="INFO", component="t", message="m"),
            ]
        )
    return world


async def count(db_sessions, table) -> int:
    async with db_sessions() as session:
        return await session.scalar(select(func.count()).select_from(table))


async def row_counts(db_sessions) -> dict[str, int]:
    tables = {"events": Event, "detections": Detection, "gpu_stats": GPUStats, "logs": Log}
    return {name: await count(db_sessions, table) for name, table in tables.items()}


async def ledger_paths(db_sessions) -> set[str]:
    async with db_sessions() as session:
        return set((await session.scalars(select(Upload.file_path))).all())


async def janitor_logs(db_sessions) -> list[Log]:
    async with db_sessions() as session:
        statement = select(Log).where(Log.component == "janitor").order_by(Log.id)
        return list((await session.scalars(statement)).all())


@pytest.fixture
async def closing():
    """Collects Janitors built in a test and closes their connections after it."""
    made: list[Janitor] = []
    yield made.append
    for actor in made:
        await actor.close()


def exist(*paths: str) -> list[bool]:
    return [os.path.exists(path) for path in paths]


def sizes(*paths: str) -> int:
    return sum(os.path.getsize(path) for path in paths)


# --- the retention cleanup -----------------------------------------------------------------------


async def test_cleanup_deletes_expired_rows_and_their_thumbnails(
    tmp_path, migrated_database_url, redis_url, db_sessions, closing
):
    world = await seed_world(db_sessions, tmp_path)
    actor = janitor(tmp_path, migrated_database_url, redis_url)
    closing(actor)
    freed_thumbnails = [*world.old_thumbnails, world.orphan_thumbnail]
    expected_bytes = sizes(*freed_thumbnails)

    stats = await actor.run_cleanup()

    assert stats == CleanupStats(
        events_deleted=1,
        detections_deleted=3,  # old.jpg's two, reused.jpg's old one
        gpu_stats_deleted=3,
        logs_deleted=4,
        thumbnails_deleted=3,  # old.jpg's two and the orphan; reused_0 is still in use
        images_deleted=0,
        space_reclaimed=expected_bytes,
        retention_days=RETENTION_DAYS,
        dry_run=False,
        timestamp=NOW,
    )
    assert not any(exist(*freed_thumbnails))
    assert all(exist(world.new_thumbnail, world.shared_thumbnail))
    # DELETE_IMAGES is off.
    assert all(exist(world.old_image, world.new_image, world.rejected_image, world.queued_image))
    counts = await row_counts(db_sessions)
    assert counts == {"events": 1, "detections": 2, "gpu_stats": 2, "logs": 1 + 1}  # + its report
    # Only the row of the vanished file goes: any other would make the watcher ingest its file
    # again. The queued row is the detector's.
    assert await ledger_paths(db_sessions) == {
        world.old_image,
        world.new_image,
        world.reused_image,
        world.rejected_image,
        world.queued_image,
    }


async def test_camera_problems_cleared_before_the_cutoff_go_with_their_alerts(
    tmp_path, migrated_database_url, redis_url, db_sessions, closing
):
    """A cleared problem older than the retention is history; a recent one and an open one,
    however old (it is the camera's status now), stay."""
    async with db_sessions.begin() as session:
        session.add(Camera(id="shed", name="Shed", folder_path=str(tmp_path / "shed")))
        await session.flush()
        problems = {
            name: CameraProblem(camera_id="shed", problem=kind, started_at=OLD, cleared_at=cleared)
            for name, kind, cleared in (
                ("old", "lens covered", OLD + dt.timedelta(hours=1)),
                ("recent", "blurred", NEW),
                ("open", "offline", None),
            )
        }
        session.add_all(problems.values())
        await session.flush()
        for name, problem in problems.items():
            session.add(
                AlertRow(
                    camera_problem_id=problem.id, camera_id="shed", channel="mqtt",
                    kind="camera", status="sent", idempotency_key=f"camera:{name}",
                    created_at=OLD, next_attempt_at=OLD, sent_at=OLD,
                )
            )  # fmt: skip
    actor = janitor(tmp_path, migrated_database_url, redis_url)
    closing(actor)

    preview = await actor.run_cleanup(dry_run=True)
    stats = await actor.run_cleanup()

    assert preview.camera_problems_deleted == stats.camera_problems_deleted == 1
    async with db_sessions() as session:
        kept = set(await session.scalars(select(CameraProblem.problem)))
        alerted = set(await session.scalars(select(AlertRow.idempotency_key)))
    assert kept == {"blurred", "offline"}
    assert alerted == {"camera:recent", "camera:open"}


async def test_with_delete_images_originals_and_their_ledger_rows_go_too(
    tmp_path, migrated_database_url, redis_url, db_sessions, closing
):
    world = await seed_world(db_sessions, tmp_path)
    actor = janitor(tmp_path, migrated_database_url, redis_url, delete_images=True)
    closing(actor)
    freed = [*world.old_thumbnails, world.orphan_thumbnail, world.old_image, world.rejected_image]
    expected_bytes = sizes(*freed)

    stats = await actor.run_cleanup()

    assert (stats.thumbnails_deleted, stats.images_deleted) == (3, 2)
    assert stats.space_reclaimed == expected_bytes
    assert not any(exist(*freed))
    # reused.jpg holds a newer detection, queued.jpg waits for the detector, new.jpg is new.
    assert all(exist(world.reused_image, world.queued_image, world.new_image))
    assert await ledger_paths(db_sessions) == {
        world.new_image,
        world.reused_image,
        world.queued_image,
    }


@pytest.mark.parametrize("delete_images", [False, True])
async def test_a_dry_run_counts_exactly_what_the_real_run_then_deletes(
    tmp_path, migrated_database_url, redis_url, db_sessions, closing, delete_images
):
    world = await seed_world(db_sessions, tmp_path)
    actor = janitor(tmp_path, migrated_database_url, redis_url, delete_images=delete_images)
    closing(actor)
    counts_before = await row_counts(db_sessions)
    ledger_before = await ledger_paths(db_sessions)

    preview = await actor.run_cleanup(dry_run=True)

    assert preview.dry_run
    assert await row_counts(db_sessions) == counts_before  # not even a log row
    assert await ledger_paths(db_sessions) == ledger_before
    assert all(exist(*world.old_thumbnails, world.old_image))

    real = await actor.run_cleanup()

    assert msgspec.structs.replace(preview, dry_run=False) == real
    assert real.events_deleted and real.thumbnails_deleted
    assert bool(real.images_deleted) == delete_images


async def test_no_file_is_deleted_when_the_commit_fails(
    tmp_path, migrated_database_url, redis_url, db_sessions, closing
):
    world = await seed_world(db_sessions, tmp_path)
    actor = janitor(tmp_path, migrated_database_url, redis_url, delete_images=True)
    closing(actor)
    counts_before = await row_counts(db_sessions)
    # A deferred constraint trigger lets every DELETE succeed and fails the COMMIT itself.
    statements = [
        "CREATE FUNCTION janitor_test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'refused at commit'; END $$",
        "CREATE CONSTRAINT TRIGGER janitor_test_refuse AFTER DELETE ON detections "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION janitor_test_refuse()",
    ]
    async with db_sessions.begin() as session:
        for statement in statements:
            await session.execute(text(statement))
    try:
        with pytest.raises(Exception, match="refused at commit"):
            await actor.run_cleanup()
    finally:
        async with db_sessions.begin() as session:
            await session.execute(text("DROP TRIGGER janitor_test_refuse ON detections"))
            await session.execute(text("DROP FUNCTION janitor_test_refuse()"))

    assert all(exist(*world.old_thumbnails, world.orphan_thumbnail, world.old_image))
    assert await row_counts(db_sessions) == counts_before
    assert await janitor_logs(db_sessions) == []
    # Nothing was lost: the next run does it all.
    assert (await actor.run_cleanup()).detections_deleted == 3


async def test_paths_outside_the_allowed_folders_are_never_deleted(
    tmp_path, migrated_database_url, redis_url, db_sessions, closing, caplog
):
    outside = tmp_path / "outside"
    thumbnails = tmp_path / "thumbnails" / CAMERA
    secret_thumbnail = put(outside / "secret_thumbnail.jpg", 10, OLD)
    secret_image = put(outside / "secret_image.jpg", 10, OLD)
    dotdot = put(outside / "dotdot.jpg", 10, OLD)
    link_target = put(outside / "target.jpg", 10, OLD)
    thumbnails.mkdir(parents=True)
    link = thumbnails / "link.jpg"
    link.symlink_to(link_target)
    # A file of the thumbnail folder stored as an original: images may only go from the camera
    # folders. (New, so that it is no orphan thumbnail either.)
    thumbnail_as_image = put(thumbnails / "not_an_image.jpg", 10, NEW)
    stored = [
        (secret_image, secret_thumbnail),
        (str(tmp_path / "cameras" / CAMERA / ".." / ".." / "outside" / "dotdot.jpg"), None),
        ("relative/image.jpg", str(thumbnails / ".." / ".." / "outside" / "dotdot.jpg")),
        (thumbnail_as_image, str(link)),
    ]
    async with db_sessions.begin() as session:
        session.add(Camera(id=CAMERA, name="Front door", folder_path=str(tmp_path / "cameras")))
        await session.flush()
        session.add_all(
            Detection(camera_id=CAMERA, file_path=image, detected_at=OLD, thumbnail_path=thumb)
            for image, thumb in stored
        )
    actor = janitor(tmp_path, migrated_database_url, redis_url, delete_images=True)
    closing(actor)

    with caplog.at_level(logging.WARNING, logger="homesec.janitor"):
        stats = await actor.run_cleanup()

    assert stats.detections_deleted == 4  # the rows go; their files are not ours to delete
    assert (stats.thumbnails_deleted, stats.images_deleted, stats.space_reclaimed) == (0, 0, 0)
    assert all(exist(secret_thumbnail, secret_image, dotdot, link_target, thumbnail_as_image))
    assert link.is_symlink()
    # Four originals and three thumbnails (the symlink among them).
    assert "refused to delete 7 paths" in caplog.text
    [report] = await janitor_logs(db_sessions)
    assert report.extra["paths_refused"] == 7


async def test_a_second_caller_waits_for_the_running_cleanup(
    tmp_path, migrated_database_url, redis_url, db_sessions, closing, monkeypatch
):
    await seed_world(db_sessions, tmp_path)
    actor = janitor(tmp_path, migrated_database_url, redis_url)
    closing(actor)
    running = 0
    most_at_once = 0
    remove_expired_rows = retention.remove_expired_rows

    async def watched(*args, **kwargs):
        nonlocal running, most_at_once
        running += 1
        most_at_once = max(most_at_once, running)
        try:
            await asyncio.sleep(0)  # give the other caller its chance to barge in
            return await remove_expired_rows(*args, **kwargs)
        finally:
            running -= 1

    monkeypatch.setattr(retention, "remove_expired_rows", watched)

    first, second = await asyncio.gather(actor.run_cleanup(), actor.run_cleanup())

    assert most_at_once == 1
    # The second ran after the first, and found nothing left.
    assert [(s.events_deleted, s.detections_deleted) for s in (first, second)] == [(1, 3), (0, 0)]


async def test_the_statistics_are_logged_and_a_dry_run_logs_no_row(
    tmp_path, migrated_database_url, redis_url, db_sessions, closing, caplog
):
    await seed_world(db_sessions, tmp_path)
    actor = janitor(tmp_path, migrated_database_url, redis_url)
    closing(actor)

    with caplog.at_level(logging.INFO, logger="homesec.janitor"):
        await actor.run_cleanup(dry_run=True)
        assert await janitor_logs(db_sessions) == []
        stats = await actor.run_cleanup()

    assert "cleanup dry run would delete 1 events, 3 detections" in caplog.text
    assert "cleanup deleted 1 events, 3 detections, 3 gpu_stats, 4 logs" in caplog.text
    [report] = await janitor_logs(db_sessions)
    assert report.level == "INFO"
    assert report.timestamp == NOW
    assert report.extra["kind"] == "cleanup"
    statistics = msgspec.to_builtins(stats)
    assert {name: report.extra[name] for name in statistics} == statistics
    assert report.extra["uploads_deleted"] == 1  # vanished.jpg's
    assert await retention.last_cleanup_at(db_sessions) == NOW
    detail = actor.health_detail()
    assert detail["last_cleanup"].endswith(f"{stats.space_reclaimed} bytes")


# --- the schedule --------------------------------------------------------------------------------


async def test_the_main_loop_runs_once_when_due_and_checks_the_disk_each_wake_up(
    tmp_path, migrated_database_url, redis_url, db_sessions, closing
):
    await seed_world(db_sessions, tmp_path)
    clock = Clock(NOW)
    disk = Disk()
    actor = janitor(
        tmp_path, migrated_database_url, redis_url, clock=clock, disk=disk, min_free_disk_percent=5
    )
    closing(actor)
    await actor.load_schedule()  # nothing on record: from the start
    due = actor.next_run_at
    assert due.astimezone(actor.zone).time() == dt.time(3, 0)
    assert NOW < due <= NOW + dt.timedelta(days=1)

    assert 0 < await actor.tick() <= actor.wake_seconds
    assert actor.counters["cleanups"] == 0
    clock.now = due + dt.timedelta(minutes=2)  # woken a little late
    assert 0 < await actor.tick() <= actor.wake_seconds
    assert actor.counters["cleanups"] == 1
    await actor.tick()
    assert actor.counters["cleanups"] == 1  # not twice on one day
    following = actor.next_run_at.astimezone(actor.zone)
    assert following.date() == due.astimezone(actor.zone).date() + dt.timedelta(days=1)
    assert following.time() == dt.time(3, 0)
    assert disk.calls == 3  # one filesystem, one look per wake-up

    # A Janitor restarted two days later finds the last run on record and catches up at once.
    later = Clock(due + dt.timedelta(days=2))
    restarted = janitor(tmp_path, migrated_database_url, redis_url, clock=later)
    closing(restarted)
    await restarted.load_schedule()
    assert restarted.next_run_at == actor.next_run_at
    await restarted.tick()
    assert restarted.counters["cleanups"] == 1
    assert restarted.next_run_at > later.now
    assert restarted.health_detail()["next_cleanup_at"].endswith(("+01:00", "+02:00"))


async def test_a_failed_scheduled_cleanup_is_tried_again_at_the_next_wake_up(
    tmp_path, migrated_database_url, redis_url, db_sessions, closing, monkeypatch
):
    clock = Clock(NOW)
    actor = janitor(tmp_path, migrated_database_url, redis_url, clock=clock)
    closing(actor)
    clock.now = actor.next_run_at + dt.timedelta(minutes=1)

    async def broken(*args, **kwargs):
        raise ConnectionError("PostgreSQL is restarting")

    monkeypatch.setattr(retention, "remove_expired_rows", broken)
    assert await actor.tick() == actor.wake_seconds
    assert "PostgreSQL is restarting" in actor.last_error
    monkeypatch.undo()
    await actor.tick()
    assert actor.counters["cleanups"] == 1


def test_the_schedule_follows_the_configured_zone_else_the_machines(tmp_path, monkeypatch):
    berlin = pipeline_settings(tmp_path, timezone="Europe/Berlin")
    assert schedule_zone(berlin) == zoneinfo.ZoneInfo("Europe/Berlin")
    monkeypatch.setenv("TZ", "America/New_York")
    assert schedule_zone(pipeline_settings(tmp_path)) == zoneinfo.ZoneInfo("America/New_York")
    monkeypatch.setenv("TZ", "Not/A_Zone")
    # Else the zone of /etc/localtime (with its DST rules), or UTC where there is none.
    assert isinstance(schedule_zone(pipeline_settings(tmp_path)), zoneinfo.ZoneInfo | dt.timezone)


# --- the disk guard ------------------------------------------------------------------------------


async def seed_thumbnails(db_sessions, tmp_path: Path, ages_days: list[int]) -> list[str]:
    """Fresh detections (nothing expired) each with a 1000-byte thumbnail of the given age."""
    thumbnails = tmp_path / "thumbnails" / CAMERA
    paths = [
        put(thumbnails / f"t{i}.jpg", 1000, NOW - dt.timedelta(days=age))
        for i, age in enumerate(ages_days)
    ]
    async with db_sessions.begin() as session:
        session.add(Camera(id=CAMERA, name="Front door", folder_path=str(tmp_path / "cameras")))
        await session.flush()
        session.add_all(
            Detection(camera_id=CAMERA, file_path="/x.jpg", detected_at=NEW, thumbnail_path=path)
            for path in paths
        )
    return paths


async def named_thumbnails(db_sessions) -> set[str | None]:
    async with db_sessions() as session:
        return set((await session.scalars(select(Detection.thumbnail_path))).all())


async def test_under_disk_pressure_the_oldest_thumbnails_go_whatever_their_age(
    tmp_path, migrated_database_url, redis_url, db_sessions, closing
):
    paths = await seed_thumbnails(db_sessions, tmp_path, [5, 4, 3, 1])
    # 8% free, threshold 10% plus a 1% margin: 3000 bytes to free, the three oldest thumbnails.
    disk = Disk(total=100_000, free=8_000)
    actor = janitor(tmp_path, migrated_database_url, redis_url, disk=disk, min_free_disk_percent=10)
    closing(actor)

    [summary] = await actor.relieve_disk_pressure()

    assert exist(*paths) == [False, False, False, True]
    assert await named_thumbnails(db_sessions) == {None, paths[3]}
    assert "3 thumbnails and 0 images, 3000 bytes" in summary
    [row] = await janitor_logs(db_sessions)
    assert row.level == "WARNING"
    assert row.extra["kind"] == "disk_pressure"
    assert (row.extra["thumbnails_deleted"], row.extra["space_reclaimed"]) == (3, 3000)
    assert "last_disk_relief" in actor.health_detail()


async def test_with_delete_images_old_finished_originals_go_too_but_never_queued_ones(
    tmp_path, migrated_database_url, redis_url, db_sessions, closing
):
    thumbnails = await seed_thumbnails(db_sessions, tmp_path, [5, 4])
    cameras = tmp_path / "cameras" / CAMERA
    done = put(cameras / "done.jpg", 2000, NOW - dt.timedelta(days=10))
    queued = put(cameras / "queued.jpg", 5000, NOW - dt.timedelta(days=20))
    async with db_sessions.begin() as session:
        for path, status in ((done, UploadStatus.DONE), (queued, UploadStatus.QUEUED)):
            session.add(Upload(camera_id=CAMERA, file_path=path, status=status))
    disk = Disk(total=100_000, free=8_000)
    actor = janitor(
        tmp_path,
        migrated_database_url,
        redis_url,
        disk=disk,
        min_free_disk_percent=10,
        delete_images=True,
    )
    closing(actor)

    [summary] = await actor.relieve_disk_pressure()

    # Oldest first across both kinds: done.jpg (10 days, 2000 bytes), then t0 (5 days).
    assert exist(done, thumbnails[0], queued, thumbnails[1]) == [False, False, True, True]
    assert "1 thumbnails and 1 images, 3000 bytes" in summary
    assert await ledger_paths(db_sessions) == {done, queued}  # rows stay: files are gone


async def test_with_room_on_the_disk_the_guard_does_nothing(
    tmp_path, migrated_database_url, redis_url, db_sessions, closing
):
    paths = await seed_thumbnails(db_sessions, tmp_path, [50])
    disk = Disk(total=100_000, free=50_000)
    actor = janitor(tmp_path, migrated_database_url, redis_url, disk=disk, min_free_disk_percent=10)
    closing(actor)

    assert await actor.relieve_disk_pressure() == []
    assert exist(paths[0]) == [True]
    assert await janitor_logs(db_sessions) == []


async def test_a_hopeless_shortage_is_written_down_once_per_episode(
    tmp_path, migrated_database_url, redis_url, db_sessions, closing
):
    (tmp_path / "thumbnails").mkdir()
    disk = Disk(total=100_000, free=1_000)
    actor = janitor(tmp_path, migrated_database_url, redis_url, disk=disk, min_free_disk_percent=10)
    closing(actor)

    for _ in range(3):
        [summary] = await actor.relieve_disk_pressure()
        assert "nothing left that may be deleted" in summary
    assert len(await janitor_logs(db_sessions)) == 1
    disk.free = 50_000
    assert await actor.relieve_disk_pressure() == []
    disk.free = 1_000
    await actor.relieve_disk_pressure()
    assert len(await janitor_logs(db_sessions)) == 2  # a new episode


# --- Ray's session folders -----------------------------------------------------------------------


def make_session(ray_dir: Path, name: str, modified: dt.datetime, log_modified=None) -> Path:
    folder = ray_dir / name
    put(folder / "logs" / "raylet.out", 10, log_modified or modified)
    put(folder / "session.json", 10, modified)
    for place in (folder / "logs", folder):
        os.utime(place, (modified.timestamp(), modified.timestamp()))
    return folder


async def test_idle_ray_sessions_are_pruned_but_never_the_current_or_an_active_one(
    tmp_path, migrated_database_url, redis_url, db_sessions, closing
):
    ray_dir = tmp_path / "ray"
    old = make_session(ray_dir, "session_2025-01-01_00-00-00_1_1", OLD_LOG)
    current = make_session(ray_dir, "session_2025-01-02_00-00-00_1_2", OLD_LOG)
    active = make_session(ray_dir, "session_2025-01-03_00-00-00_1_3", OLD_LOG, log_modified=NEW)
    recent = make_session(ray_dir, "session_2025-01-04_00-00-00_1_4", NEW_LOG)
    other = make_session(ray_dir, "not_a_session", OLD_LOG)
    (ray_dir / "session_latest").symlink_to(current.name)
    actor = janitor(tmp_path, migrated_database_url, redis_url)
    closing(actor)

    await actor.run_cleanup(dry_run=True)
    assert old.exists()

    await actor.run_cleanup()

    assert not old.exists()
    assert all(folder.exists() for folder in (current, active, recent, other))
    [report] = await janitor_logs(db_sessions)
    assert report.extra["ray_sessions_pruned"] == [old.name]


# --- under Ray -----------------------------------------------------------------------------------


@pytest.mark.ray
async def test_a_dry_run_through_ray(
    ray_cluster, tmp_path, migrated_database_url, redis_url, db_sessions
):
    import ray

    await seed_world(db_sessions, tmp_path)
    # Half a day away from now, so the actor's own loop cannot run a real cleanup meanwhile.
    cleanup_time = (dt.datetime.now() + dt.timedelta(hours=12)).time().replace(second=0)
    settings = pipeline_settings(
        tmp_path,
        retention_days=RETENTION_DAYS,
        log_retention_days=LOG_RETENTION_DAYS,
        cleanup_time=cleanup_time,
        min_free_disk_percent=0.0,
    )
    name = f"janitor-test-{secrets.token_hex(3)}"
    spec = ActorSpec(
        name=name,
        kind="janitor",
        settings=settings,
        database_url=migrated_database_url,
        redis_url=redis_url,
        tuning={"ray_temp_dir": str(tmp_path / "ray")},
    )
    handle = create_actor(spec)
    try:
        stats: CleanupStats = await handle.run_cleanup.remote(dry_run=True)
        health = await ray_gateway.health(handle, 30.0)
    finally:
        ray.kill(handle, no_restart=True)

    assert stats.dry_run
    assert (stats.events_deleted, stats.detections_deleted, stats.thumbnails_deleted) == (1, 3, 3)
    assert await count(db_sessions, Detection) == 5
    assert health.kind == "janitor" and health.state == "running"  # its loop waits for CLEANUP_TIME
    assert health.detail["last_cleanup"] == "none since start"
    assert "next_cleanup_at" in health.detail


# --- issue 21: files in a camera's folder that no ledger row explains -----------------------


async def test_the_cleanup_sweeps_old_stray_files_that_no_ledger_row_explains(
    tmp_path, migrated_database_url, redis_url, db_sessions, closing
):
    """What a leaked camera password once stored (issue 21) goes once it is older than
    STRAY_FILE_GRACE_HOURS; what is still being uploaded, what a row explains and any image the
    watcher has yet to record stays."""
    world = await seed_world(db_sessions, tmp_path)
    cameras = world.cameras
    other = tmp_path / "cameras" / "back_yard"
    stale = NOW - dt.timedelta(hours=30)
    fresh = NOW - dt.timedelta(hours=1)
    strays = [
        put(cameras / "data.bin", 5000, stale),
        put(cameras / "movie.mp4", 7000, stale),
        put(cameras / ".hidden.jpg", 3000, stale),
        put(cameras / ".stash" / "blob.bin", 9000, stale),
        put(cameras / "snap" / "left.jpg.part", 2000, stale),  # never renamed into place
        put(other / ".stash" / "x.bin", 1000, stale),
    ]
    kept = [
        put(cameras / "snap" / "now.jpg.part", 2000, fresh),  # being uploaded
        put(cameras / ".fresh.bin", 100, fresh),
        put(cameras / "2025-12-23" / "not_yet.jpg", 4000, OLD),  # an image: the watcher's
        put(tmp_path / "cameras" / ".removed" / "gone-2025" / "a.bin", 10, OLD),  # archived
    ]
    actor = janitor(tmp_path, migrated_database_url, redis_url, stray_file_grace_hours=24.0)
    closing(actor)

    await actor.run_cleanup(dry_run=True)
    assert all(exist(*strays))  # a preview deletes nothing

    await actor.run_cleanup()

    assert not any(exist(*strays))
    assert all(exist(*kept))
    # Every file a ledger row explains stays, whatever its name or age.
    assert all(exist(world.old_image, world.rejected_image, world.queued_image, world.new_image))
    [report] = await janitor_logs(db_sessions)
    assert report.extra["stray_files_deleted"] == len(strays)
    assert report.extra["stray_bytes_deleted"] == 5000 + 7000 + 3000 + 9000 + 2000 + 1000


# --- issue 22: rejected uploads, set aside for a while ------------------------------------------


async def test_the_cleanup_deletes_rejected_uploads_kept_longer_than_their_retention(
    tmp_path, migrated_database_url, redis_url, db_sessions, closing
):
    await seed_world(db_sessions, tmp_path)
    aside = tmp_path / "cameras" / ".rejected"
    expired = [
        put(aside / "front_door" / "notes.jpg", 500, NOW - dt.timedelta(days=8)),
        put(aside / "back_yard" / "snap" / "empty.jpg", 0, NOW - dt.timedelta(days=7, hours=1)),
    ]
    kept = [put(aside / "front_door" / "snap" / "text.jpg", 300, NOW - dt.timedelta(days=6))]
    actor = janitor(tmp_path, migrated_database_url, redis_url)  # the default: 7 days
    closing(actor)

    await actor.run_cleanup(dry_run=True)
    assert all(exist(*expired))  # a preview deletes nothing

    await actor.run_cleanup()

    assert not any(exist(*expired))
    assert all(exist(*kept))
    [report] = await janitor_logs(db_sessions)
    assert report.extra["rejected_uploads_deleted"] == 2
