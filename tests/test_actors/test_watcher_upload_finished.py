"""CameraWatcher.upload_finished: the FTP server's hand-over is ingested at once, once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from homesec.models import Log
from tests.support.waiting import eventually
from tests.support.watcher import TIMEOUT, jobs, ledger, noise_jpeg, write


async def test_a_handed_over_upload_skips_the_settle_wait_and_is_queued_once(
    start_watcher, watcher_settings, folder, db_sessions, redis_client, tmp_path
):
    # Polling with a long settle time: the folder watch alone would take 30 s.
    settings = watcher_settings(FILE_WATCHER_POLLING="true", UPLOAD_SETTLE_SECONDS="30")
    watcher = await start_watcher(settings, folder)
    # After the start-up scan: it puts every queued ledger row on the stream again (at least
    # once, by design), so a hand-over racing it could be enqueued twice, which is not what
    # this test is about.
    await eventually(
        lambda: watcher._observer is not None and not watcher._scan_needed, timeout=TIMEOUT
    )
    path = write(folder / "snap" / "2025-12-23" / "a.jpg", noise_jpeg())
    started = asyncio.get_running_loop().time()
    assert await watcher.upload_finished(path) is True
    rows = await ledger(db_sessions)
    assert [row.status for row in rows.values()] == ["queued"]
    assert [job.file_path for job in await jobs(redis_client)] == [path]
    assert asyncio.get_running_loop().time() - started < 5
    # Told twice (or found by the folder watch as well): still one row, one job.
    assert await watcher.upload_finished(path) is True
    await asyncio.sleep(1.5)
    assert len(await ledger(db_sessions)) == 1 and len(await jobs(redis_client)) == 1
    assert watcher.counters["accepted"] == 1
    # Nothing outside its folder.
    outside = write(tmp_path / "elsewhere.jpg", noise_jpeg())
    assert await watcher.upload_finished(outside) is False
    assert await watcher.upload_finished(str(folder) + "_other/x.jpg") is False


@pytest.mark.parametrize("hand_over_first", [True, False])
async def test_one_upload_is_read_once_though_both_the_ftp_server_and_the_folder_report_it(
    start_watcher, watcher_settings, folder, db_sessions, redis_client, hand_over_first
):
    # Issue 19's bug: the FTP hand-over and the folder's own close-write both reached the
    # watcher, and the file was validated, decoded and hashed twice, the ledger saying
    # "already recorded" the second time. Either may come first.
    settings = watcher_settings(UPLOAD_SETTLE_SECONDS="0.2")  # inotify: the close-write is seen
    watcher = await start_watcher(settings, folder)
    await eventually(
        lambda: watcher._observer is not None and not watcher._scan_needed, timeout=TIMEOUT
    )
    read: list[str] = []
    ingest_many = watcher.ingest.ingest_many

    async def counting(paths, sessions, redis):
        read.extend(paths)
        return await ingest_many(paths, sessions, redis)

    watcher.ingest.ingest_many = counting
    path = write(folder / "snap" / "b.jpg", noise_jpeg())
    if not hand_over_first:  # the folder's watch takes it in first
        await eventually(lambda: _status(db_sessions, path, "queued"), timeout=TIMEOUT)
    assert await watcher.upload_finished(path) is True
    await eventually(lambda: _status(db_sessions, path, "queued"), timeout=TIMEOUT)
    await asyncio.sleep(1.5)  # every report of the upload has come and gone
    assert read == [path]
    assert len(await jobs(redis_client)) == 1
    # The camera writes the file again: a new upload, read again.
    write(folder / "snap" / "b.jpg", noise_jpeg())
    assert await watcher.upload_finished(path) is True
    assert read == [path, path]


async def test_a_rejected_upload_is_set_aside_recorded_and_logged_once(
    start_watcher, watcher_settings, folder, db_sessions, tmp_path
):
    # inotify: the folder watch sees the close as well as the hand-over.
    settings = watcher_settings()
    watcher = await start_watcher(settings, folder)
    await eventually(
        lambda: watcher._observer is not None and not watcher._scan_needed, timeout=TIMEOUT
    )
    camera = watcher.camera_id
    text = b"not a picture at all\n" * 20
    path = write(folder / "snap" / "notes.jpg", text)
    assert await watcher.upload_finished(path) is True
    rows = await ledger(db_sessions)
    assert rows[path].status == "rejected" and rows[path].error.startswith("not_an_image: ")
    # Out of the camera's folder, into a place no watcher watches, for the owner to look at.
    aside = tmp_path / "cameras" / ".rejected" / camera / "snap" / "notes.jpg"
    assert _contents(Path(path)) is None
    assert _contents(aside) == text
    await asyncio.sleep(1.5)  # the folder watch's own report of the file comes and goes
    async with db_sessions() as session:
        logged = (
            await session.scalars(
                select(Log).where(Log.camera_id == camera, Log.message.contains("rejected"))
            )
        ).all()
    assert len(logged) == 1, [log.message for log in logged]
    assert logged[0].extra["file_path"] == path
    assert str(aside) in logged[0].message
    assert watcher.counters["rejected"] == 1
    # The camera sends a good image under the same name: it is taken.
    write(folder / "snap" / "notes.jpg", noise_jpeg())
    assert await watcher.upload_finished(path) is True
    await eventually(lambda: _status(db_sessions, path, "queued"), timeout=TIMEOUT)


async def _status(sessions, path: str, status: str) -> bool:
    row = (await ledger(sessions)).get(path)
    return row is not None and row.status == status


def _contents(path: Path) -> bytes | None:
    return path.read_bytes() if path.exists() else None
