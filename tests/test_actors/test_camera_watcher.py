"""CameraWatcher against a real folder, PostgreSQL and Redis: uploads become ledger rows and
detection jobs exactly once; bad files are recorded and never stop it; restarts, back-pressure
and camera status. The watcher runs as a plain object in the test's event loop (one test runs it
under Ray)."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import struct
import zlib

import msgspec
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import select, update

from homesec.contract import keys
from homesec.contract.messages import CameraStatusMessage
from homesec.models import Camera, Log, Upload
from homesec.store import streams
from homesec.workflows import ingest
from tests.support.waiting import eventually
from tests.support.watcher import SETTLE_SECONDS, TIMEOUT, jobs, ledger, noise_jpeg, write

# --- helpers ----------------------------------------------------------------------------------


def huge_png_bytes(side: int = 20_000) -> bytes:
    """A valid 1-bit PNG of side x side pixels (400 M for 20000): a few tens of KB on disk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte + one bit per pixel
    idat = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def statuses_of(sessions, wanted: str):
    async def check():
        rows = await ledger(sessions)
        return rows if rows and all(row.status == wanted for row in rows.values()) else None

    return check


# --- completeness ------------------------------------------------------------------------------


@pytest.mark.parametrize("polling", [False, True], ids=["inotify", "polling"])
async def test_a_slow_upload_is_read_once_complete_and_queued_once(
    polling, folder, watcher_settings, start_watcher, db_sessions, redis_client, monkeypatch
):
    validated: list[tuple[str, int]] = []
    real_validate = ingest.validate_upload

    def spy(path, camera_folder, limits=None):
        validated.append((path, os.path.getsize(path)))
        return real_validate(path, camera_folder, limits)

    monkeypatch.setattr(ingest, "validate_upload", spy)
    settings = watcher_settings(FILE_WATCHER_POLLING=str(polling).lower())
    watcher = await start_watcher(settings, folder)
    await eventually(lambda: watcher.health_detail()["observer_alive"] == "true", timeout=TIMEOUT)
    assert watcher.health_detail()["observer"] == ("polling" if polling else "inotify")

    content = noise_jpeg()
    target = folder / "MDAlarm_20251223-103005.jpg"
    step = -(-len(content) // 10)
    chunks = [content[i : i + step] for i in range(0, len(content), step)]
    # One open file written chunk by chunk, pausing less than the settle time: the close (and
    # the end-of-image marker) comes only with the last chunk.
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        for piece in chunks[:-1]:
            os.write(descriptor, piece)
            await asyncio.sleep(SETTLE_SECONDS * 0.4)
        assert await ledger(db_sessions) == {}
        os.write(descriptor, chunks[-1])
        assert validated == []  # never read while being written
    finally:
        os.close(descriptor)

    rows = await eventually(statuses_of(db_sessions, "queued"), timeout=TIMEOUT)
    await eventually(lambda: watcher.counters["enqueued"] >= 1, timeout=TIMEOUT)
    await start_watcher.stop(watcher)

    assert validated == [(str(target), len(content))]
    assert list(rows) == [str(target)]
    row = rows[str(target)]
    assert row.file_size == len(content)
    queued = await jobs(redis_client)
    assert len(queued) == 1
    assert queued[0].file_path == str(target)
    assert queued[0].sha256 == row.sha256
    assert queued[0].upload_id == row.id
    assert queued[0].camera_id == watcher.camera_id
    assert watcher.counters["rejected"] == 0


# --- duplicates and bad input ------------------------------------------------------------------


async def test_duplicates_and_bad_files_are_recorded_with_reasons_beside_good_ones(
    folder, tmp_path, watcher_settings, start_watcher, db_sessions, redis_client
):
    watcher = await start_watcher(watcher_settings(), folder)
    await eventually(lambda: watcher.health_detail()["observer_alive"] == "true", timeout=TIMEOUT)

    original = noise_jpeg()
    good = write(folder / "good.jpg", original)
    await eventually(statuses_of(db_sessions, "queued"), timeout=TIMEOUT)
    copy = write(folder / "copy.jpg", original)

    valid = noise_jpeg()
    outside = write(tmp_path / "outside" / "secret.jpg", noise_jpeg())
    (folder / "link.jpg").symlink_to(outside)
    odd = write(folder / "front door ünï\ncode 📷.jpg", noise_jpeg())
    dated = write(folder / "2025-12-23" / "MDAlarm_1.jpg", noise_jpeg())
    write(folder / os.fsdecode(b"bad\xffname.jpg"), noise_jpeg())  # not UTF-8
    rejected = {
        write(folder / "empty.jpg", b""): "empty",
        write(folder / "truncated.jpg", valid[: len(valid) // 2]): "truncated",
        write(folder / "text.jpg", b"not a picture at all\n" * 20): "not_an_image",
        write(folder / "huge.png", huge_png_bytes()): "too_many_pixels",
        write(folder / "notes.txt", b"camera notes\n" * 20): "bad_extension",
        str(folder / "link.jpg"): "outside_folder",
        f"{folder}/bad\\xffname.jpg": "undecodable_name",
    }
    for ignored in (".hidden.jpg", "upload.jpg.tmp", "MDAlarm_2.jpg.part", ".sync/inner.jpg"):
        write(folder / ignored, noise_jpeg())

    expected = {good: "queued", copy: "duplicate", odd: "queued", dated: "queued"}
    expected |= dict.fromkeys(rejected, "rejected")

    async def all_recorded():
        rows = await ledger(db_sessions)
        return rows if {path: row.status for path, row in rows.items()} == expected else None

    rows = await eventually(all_recorded, timeout=TIMEOUT)
    assert rows[copy].error == f"duplicate of {good}"
    assert rows[copy].sha256 == rows[good].sha256
    for path, reason in rejected.items():
        assert rows[path].error.startswith(f"{reason}: "), (path, rows[path].error)
    async with db_sessions() as session:
        logs = (await session.scalars(select(Log).where(Log.extra.is_not(None)))).all()
    by_path = {log.extra["file_path"]: log for log in logs if "file_path" in log.extra}
    assert {path: log.extra["reason"] for path, log in by_path.items()} == rejected
    assert all(
        log.level == "WARNING" and log.component == "watcher" and log.camera_id == watcher.camera_id
        for log in by_path.values()
    )

    # Still running: a later upload goes through, and the good files were queued exactly once.
    later = write(folder / "later.jpg", noise_jpeg())
    await eventually(lambda: watcher.counters["enqueued"] == 4, timeout=TIMEOUT)
    assert (await watcher.health()).state == "running"
    assert sorted(job.file_path for job in await jobs(redis_client)) == sorted(
        [good, odd, dated, later]
    )

    # Never retried blindly: with the queued files done, a scan finds nothing to look at again
    # (nothing pending) and enqueues nothing ...
    async with db_sessions.begin() as session:
        await session.execute(update(Upload).where(Upload.status == "queued").values(status="done"))
    assert await watcher.scan_now() == 0
    assert watcher.health_detail()["pending_uploads"] == "0"
    assert watcher.counters["rejected"] == len(rejected)
    # ... but a rejected file that changes is looked at again.
    write(folder / "truncated.jpg", valid)
    fixed = await eventually(
        lambda: _status_of(db_sessions, str(folder / "truncated.jpg"), "queued"), timeout=TIMEOUT
    )
    assert fixed.error is None and fixed.file_size == len(valid)


async def _status_of(sessions, path: str, status: str) -> Upload | None:
    row = (await ledger(sessions)).get(path)
    return row if row is not None and row.status == status else None


# --- restarts ----------------------------------------------------------------------------------


async def test_restart_enqueues_what_arrived_meanwhile_and_what_redis_lost(
    folder, watcher_settings, start_watcher, db_sessions, redis_client
):
    settings = watcher_settings()
    first = await start_watcher(settings, folder)
    done = write(folder / "done.jpg", noise_jpeg())
    await eventually(statuses_of(db_sessions, "queued"), timeout=TIMEOUT)
    await start_watcher.stop(first)

    # While it is down: new files (one in a dated subfolder), and the ledger moves on.
    arrived = write(folder / "arrived.jpg", noise_jpeg())
    dated = write(folder / "2025-12-24" / "arrived.jpg", noise_jpeg())
    lost = write(folder / "lost.jpg", noise_jpeg())  # queued, but its entry is gone
    rejected = write(folder / "rejected.jpg", b"junk" * 50)
    rewritten = write(folder / "rewritten.jpg", noise_jpeg())  # rejected when it was smaller
    async with db_sessions.begin() as session:
        await session.execute(update(Upload).values(status="done"))
        session.add_all(
            [
                Upload(camera_id=first.camera_id, file_path=lost, status="queued", sha256="ab"),
                Upload(
                    camera_id=first.camera_id,
                    file_path=rejected,
                    status="rejected",
                    file_size=200,
                    error="not_an_image: not a JPEG or PNG image",
                ),
                Upload(
                    camera_id=first.camera_id,
                    file_path=rewritten,
                    status="rejected",
                    file_size=10,
                    error="truncated: truncated image",
                ),
            ]
        )
    await redis_client.flushdb()

    second = await start_watcher(settings, folder)
    unfinished = {arrived, dated, lost, rewritten}

    async def requeued():
        rows = await ledger(db_sessions)
        queued = {path for path, row in rows.items() if row.status == "queued"}
        return queued == unfinished and len(await jobs(redis_client)) == len(unfinished)

    await eventually(requeued, timeout=TIMEOUT)
    rows = await ledger(db_sessions)
    assert rows[done].status == "done" and rows[rejected].status == "rejected"
    assert {job.file_path for job in await jobs(redis_client)} == unfinished

    # Redis loses everything again: scan_now() enqueues every queued row, nothing else.
    await redis_client.flushdb()
    assert await second.scan_now() == len(unfinished)
    queued = await jobs(redis_client)
    assert {job.file_path for job in queued} == unfinished
    assert {job.upload_id for job in queued} == {rows[path].id for path in unfinished}


async def test_a_failed_xadd_leaves_the_row_queued_and_is_enqueued_again(
    folder, watcher_settings, start_watcher, db_sessions, redis_client, monkeypatch
):
    attempts: list[str] = []
    real_enqueue = streams.enqueue_many

    async def flaky_enqueue(redis, stream, jobs):
        attempts.extend(job.file_path for job in jobs)
        if len(attempts) == 1:
            raise RedisConnectionError("Redis went away")
        return await real_enqueue(redis, stream, jobs)

    monkeypatch.setattr(streams, "enqueue_many", flaky_enqueue)
    watcher = await start_watcher(watcher_settings(), folder)
    path = write(folder / "a.jpg", noise_jpeg())

    queued = await eventually(lambda: jobs(redis_client), timeout=TIMEOUT)
    rows = await ledger(db_sessions)
    assert attempts == [path, path]
    assert [(job.file_path, job.upload_id) for job in queued] == [(path, rows[path].id)]
    assert rows[path].status == "queued"
    assert "Redis went away" in watcher.last_error
    assert watcher.health_detail()["deferred"] == "0"


# --- back-pressure -----------------------------------------------------------------------------


async def test_a_full_queue_defers_files_on_disk_until_it_drains(
    folder, watcher_settings, start_watcher, db_sessions, redis_client
):
    watcher = await start_watcher(watcher_settings(QUEUE_MAX_DEPTH="2"), folder)
    await eventually(lambda: watcher.health_detail()["observer_alive"] == "true", timeout=TIMEOUT)
    paths = [write(folder / f"MDAlarm_{index}.jpg", noise_jpeg()) for index in range(5)]

    # Both: files are deferred while the admitted ones are still being ingested.
    await eventually(
        lambda: watcher.counters["deferred"] == 3 and watcher.counters["accepted"] == 2,
        timeout=TIMEOUT,
    )
    assert watcher.counters["accepted"] == 2
    assert watcher.health_detail()["deferred"] == "3"
    assert len(await ledger(db_sessions)) == 2  # deferred files have no row yet
    assert await redis_client.xlen(keys.DETECTION_QUEUE) == 2

    # Drained by deleting the stream: two more fit.
    await redis_client.delete(keys.DETECTION_QUEUE)
    await eventually(lambda: watcher.counters["accepted"] == 4, timeout=TIMEOUT)
    assert len(await ledger(db_sessions)) == 4

    # Drained the way detectors drain it: read and acknowledged, entries still in the stream.
    await redis_client.xgroup_create(keys.DETECTION_QUEUE, keys.DETECTOR_GROUP, id="0")
    entries = await redis_client.xreadgroup(
        keys.DETECTOR_GROUP, "test", {keys.DETECTION_QUEUE: ">"}, count=10
    )
    await redis_client.xack(
        keys.DETECTION_QUEUE, keys.DETECTOR_GROUP, *[i for i, _ in entries[0][1]]
    )
    await eventually(lambda: watcher.counters["enqueued"] == 5, timeout=TIMEOUT)
    rows = await ledger(db_sessions)
    assert sorted(rows) == sorted(paths)
    assert {row.status for row in rows.values()} == {"queued"}
    assert watcher.counters["deferred"] == 3 and watcher.health_detail()["deferred"] == "0"


# --- camera status -----------------------------------------------------------------------------


async def test_camera_status_follows_uploads_and_the_folder(
    folder, watcher_settings, start_watcher, db_sessions, redis_client, camera_id
):
    pubsub = redis_client.pubsub()
    await pubsub.subscribe(keys.SECURITY_EVENTS)
    published: list[str] = []

    async def status_now(wanted: str):
        while (message := await pubsub.get_message(ignore_subscribe_messages=True)) is not None:
            decoded = msgspec.json.decode(message["data"])
            if decoded.get("type") == "camera_status":
                event = msgspec.json.decode(message["data"], type=CameraStatusMessage)
                if event.data.camera_id == camera_id:
                    published.append(event.data.status)
        async with db_sessions() as session:
            stored = await session.scalar(select(Camera.status).where(Camera.id == camera_id))
        return published and published[-1] == wanted and stored == wanted

    try:
        settings = watcher_settings(CAMERA_OFFLINE_SECONDS="1")
        watcher = await start_watcher(settings, folder, status_check_seconds=0.1)
        await eventually(
            lambda: status_now("offline"), timeout=TIMEOUT
        )  # registered; no upload yet
        write(folder / "a.jpg", noise_jpeg())
        await eventually(lambda: status_now("online"), timeout=TIMEOUT)
        await eventually(lambda: status_now("offline"), timeout=TIMEOUT)  # a second without uploads
        shutil.rmtree(folder)
        await eventually(lambda: status_now("error"), timeout=TIMEOUT)
        assert watcher.health_detail()["observer_alive"] == "false"
        # The folder comes back (no recent upload: offline), is watched afresh, and the file
        # in it, found by the scan, makes the camera online again.
        write(folder / "b.jpg", noise_jpeg())
        await eventually(lambda: status_now("online"), timeout=TIMEOUT)
        assert published == ["offline", "online", "offline", "error", "offline", "online"]
        async with db_sessions() as session:
            logged = (
                await session.scalars(
                    select(Log.extra).where(Log.camera_id == camera_id).order_by(Log.id)
                )
            ).all()
        assert [extra["status"] for extra in logged if "status" in extra] == published
    finally:
        await pubsub.aclose()


# --- under Ray ---------------------------------------------------------------------------------


@pytest.mark.ray
async def test_runs_as_a_ray_actor(
    ray_cluster,
    folder,
    watcher_settings,
    migrated_database_url,
    redis_url,
    db_sessions,
    redis_client,
):
    import ray

    from homesec.actors import ray_gateway
    from homesec.actors.ray_gateway import create_actor
    from homesec.contract.reports import ActorSpec

    name = f"watcher:test-{secrets.token_hex(3)}"
    spec = ActorSpec(
        name=name,
        kind="watcher",
        settings=watcher_settings(),
        database_url=migrated_database_url,
        redis_url=redis_url,
        camera_id="ray-cam",
        folder_path=str(folder),
    )
    handle = create_actor(spec)
    try:
        await eventually(
            lambda: _observer_alive(ray_gateway.health(handle, 30.0)), timeout=60.0, interval=0.2
        )
        path = write(folder / "MDAlarm_ray.jpg", noise_jpeg())
        rows = await eventually(statuses_of(db_sessions, "queued"), timeout=TIMEOUT)
        assert list(rows) == [path]

        # Health answers on its own thread: the count may trail the ledger row by a moment.
        async def counted():
            health = await ray_gateway.health(handle, 30.0)
            return health if health.counters.get("enqueued") else None

        health = await eventually(counted, timeout=TIMEOUT)
        assert health.kind == "watcher" and health.state == "running"
        assert health.counters["enqueued"] == 1
        assert [job.camera_id for job in await jobs(redis_client)] == ["ray-cam"]
        await handle.stop.remote()
    finally:
        ray.kill(handle, no_restart=True)


async def _observer_alive(reference) -> bool:
    health = await reference
    return health.detail.get("observer_alive") == "true"
