"""CameraWatcher.upload_finished: the FTP server's hand-over is ingested at once, once."""

from __future__ import annotations

import asyncio

from tests.test_actors.test_camera_watcher import (  # the fixtures of the watcher's tests
    camera_id,
    eventually,
    folder,
    jobs,
    jpeg_bytes,
    ledger,
    make_settings,
    start_watcher,
    write,
)

__all__ = ["camera_id", "folder", "make_settings", "start_watcher"]


async def test_a_handed_over_upload_skips_the_settle_wait_and_is_queued_once(
    start_watcher, make_settings, folder, db_sessions, redis_client, tmp_path
):
    # Polling with a long settle time: the folder watch alone would take 30 s.
    settings = make_settings(FILE_WATCHER_POLLING="true", UPLOAD_SETTLE_SECONDS="30")
    watcher = await start_watcher(settings, folder)
    # After the start-up scan: it puts every queued ledger row on the stream again (at least
    # once, by design), so a hand-over racing it could be enqueued twice, which is not what
    # this test is about.
    await eventually(lambda: watcher._observer is not None and not watcher._scan_needed)
    path = write(folder / "snap" / "2025-12-23" / "a.jpg", jpeg_bytes())
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
    outside = write(tmp_path / "elsewhere.jpg", jpeg_bytes())
    assert await watcher.upload_finished(outside) is False
    assert await watcher.upload_finished(str(folder) + "_other/x.jpg") is False
