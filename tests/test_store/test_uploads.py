"""The watcher's ledger: what a scan does with what it finds, and who may rewrite a row."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from homesec.models import Camera, Log, Upload
from homesec.policy.cameras import CameraFolder
from homesec.policy.uploads import FileSeen, LedgerRow, plan_scan
from homesec.store import cameras, uploads
from homesec.store.cameras import register_cameras

NOW = dt.datetime(2025, 12, 23, 10, 30, tzinfo=dt.UTC)


def row(path: str, status: str, size: int | None = 100, row_id: int = 1) -> LedgerRow:
    return LedgerRow(row_id, path, status, "ab" * 32, size)


def test_plan_scan_sorts_files_by_what_the_ledger_says():
    files = [
        FileSeen("/c/new.jpg", 100, 1.0),
        FileSeen("/c/done.jpg", 100, 1.0),
        FileSeen("/c/dup.jpg", 100, 1.0),
        FileSeen("/c/failed.jpg", 100, 1.0),
        FileSeen("/c/rejected.jpg", 100, 1.0),
        FileSeen("/c/rewritten.jpg", 4000, 1.0),
        FileSeen("/c/queued.jpg", 100, 1.0),
    ]
    rows = [
        row("/c/done.jpg", "done"),
        row("/c/dup.jpg", "duplicate"),
        row("/c/failed.jpg", "failed"),
        row("/c/rejected.jpg", "rejected"),
        row("/c/rewritten.jpg", "rejected"),
        row("/c/queued.jpg", "queued", row_id=7),
        row("/c/vanished.jpg", "processing", row_id=8),  # its file is gone: requeued anyway
    ]
    plan = plan_scan(files, rows)
    assert [seen.path for seen in plan.fresh] == ["/c/new.jpg", "/c/rewritten.jpg"]
    assert [queued.id for queued in plan.requeue] == [7, 8]


async def _camera(sessions) -> str:
    await register_cameras(sessions, [CameraFolder("front", "front", "/c/front")])
    return "front"


async def test_rows_for_scan_takes_more_paths_than_a_statement_has_parameters(db_sessions):
    camera_id = await _camera(db_sessions)
    async with db_sessions.begin() as session:
        session.add_all(
            [
                Upload(camera_id=camera_id, file_path="/c/front/a.jpg", status="done"),
                Upload(camera_id=camera_id, file_path="/c/front/q.jpg", status="queued"),
            ]
        )
    paths = [f"/c/front/{index}.jpg" for index in range(40_000)] + ["/c/front/a.jpg"]
    rows = await uploads.rows_for_scan(db_sessions, camera_id, paths)
    assert sorted(found.file_path for found in rows) == ["/c/front/a.jpg", "/c/front/q.jpg"]


def _valid(path: str, sha: str, seen_at: dt.datetime = NOW) -> uploads.ValidUpload:
    return uploads.ValidUpload(file_path=path, sha256=sha, file_size=10, seen_at=seen_at)


async def _record(sessions, sha: str, path: str = "/c/front/s.jpg") -> int | None:
    """One new upload recorded ``queued``: its id, or None when the row was left alone."""
    recorded = await uploads.record_valid(sessions, "front", [_valid(path, sha)], [None])
    return recorded.queued.get(path)


async def _reject(sessions, path: str = "/c/front/s.jpg") -> bool:
    return await uploads.record_rejected(
        sessions,
        camera_id="front",
        file_path=path,
        reason="truncated",
        message="truncated image",
        log_message="upload rejected (truncated): s.jpg",
        sha256=None,
        file_size=5,
    )


async def _row(sessions, path: str = "/c/front/s.jpg") -> Upload:
    async with sessions() as session:
        return await session.scalar(select(Upload).where(Upload.file_path == path))


async def test_a_row_is_rewritten_only_when_its_file_changed_and_the_detector_does_not_own_it(
    db_sessions,
):
    await _camera(db_sessions)
    assert await _reject(db_sessions)
    assert (await _row(db_sessions)).error == "truncated: truncated image"

    # Rejected, then rewritten whole: queued.
    upload_id = await _record(db_sessions, "a" * 64)
    queued = await _row(db_sessions)
    assert (queued.id, queued.status, queued.error) == (upload_id, "queued", None)

    # The detector owns a queued row: neither a rejection nor new content touches it.
    assert not await _reject(db_sessions)
    assert await _record(db_sessions, "b" * 64) is None
    assert (await _row(db_sessions)).sha256 == "a" * 64

    # Done: the same content again changes nothing; new content (an overwritten snapshot) is
    # a new upload, with processed_at cleared for the detector.
    async with db_sessions.begin() as session:
        await session.execute(update(Upload).values(status="done", processed_at=NOW))
    assert await _record(db_sessions, "a" * 64) is None
    assert await _record(db_sessions, "c" * 64) == upload_id
    rewritten = await _row(db_sessions)
    assert (rewritten.status, rewritten.sha256, rewritten.processed_at) == (
        "queued",
        "c" * 64,
        None,
    )

    async with db_sessions() as session:
        logs = (await session.scalars(select(Log))).all()
        last_seen = await session.scalar(select(Camera.last_seen_at))
    assert [log.extra for log in logs] == [
        {"reason": "truncated", "file_path": "/c/front/s.jpg"}
    ]  # the refused rejection wrote no log either
    assert last_seen == NOW


async def test_last_seen_never_moves_backwards(db_sessions):
    await _camera(db_sessions)
    await uploads.record_valid(
        db_sessions, "front", [_valid("/c/front/d.jpg", "d" * 64)], ["/c/front/o.jpg"]
    )
    late = NOW - dt.timedelta(days=1)  # found late, after a restart
    await uploads.record_valid(
        db_sessions, "front", [_valid("/c/front/old.jpg", "e" * 64, late)], [None]
    )
    state = await cameras.camera_state(db_sessions, "front")
    assert state.last_seen_at == NOW.timestamp()
    assert (await _row(db_sessions, "/c/front/d.jpg")).error == "duplicate of /c/front/o.jpg"


async def test_valid_uploads_are_recorded_together(db_sessions):
    await _camera(db_sessions)
    assert await _record(db_sessions, "a" * 64, "/c/front/same.jpg") is not None
    async with db_sessions.begin() as session:
        session.add(Upload(camera_id="front", file_path="/c/front/owned.jpg", status="processing"))

    def valid(name: str, sha: str, minute: int) -> uploads.ValidUpload:
        return _valid(f"/c/front/{name}", sha, NOW + dt.timedelta(minutes=minute))

    found = [
        valid("new.jpg", "b" * 64, 1),
        valid("copy.jpg", "b" * 64, 3),
        valid("same.jpg", "a" * 64, 2),  # the ledger holds this content for this path
        valid("owned.jpg", "c" * 64, 0),  # the detector owns the row
    ]
    originals = [None, "/c/front/new.jpg", None, None]

    recorded = await uploads.record_valid(db_sessions, "front", found, originals)

    assert list(recorded.queued) == ["/c/front/new.jpg"]
    assert recorded.duplicates == {"/c/front/copy.jpg"}
    new = await _row(db_sessions, "/c/front/new.jpg")
    assert (new.id, new.status) == (recorded.queued["/c/front/new.jpg"], "queued")
    copy = await _row(db_sessions, "/c/front/copy.jpg")
    assert (copy.status, copy.error) == ("duplicate", "duplicate of /c/front/new.jpg")
    assert (await _row(db_sessions, "/c/front/owned.jpg")).sha256 is None
    async with db_sessions() as session:
        assert await session.scalar(select(Camera.last_seen_at)) == NOW + dt.timedelta(minutes=3)


async def test_a_failed_job_marks_its_upload_failed_but_a_done_upload_stays_done(db_sessions):
    # Issue 19: a hand-over that failed after the detections were stored flipped `done` rows to
    # `failed`; the ledger then said an upload failed whose detections are there.
    await _camera(db_sessions)
    async with db_sessions.begin() as session:
        session.add(Upload(camera_id="front", file_path="/c/front/done.jpg", status="done"))
        session.add(Upload(camera_id="front", file_path="/c/front/busy.jpg", status="processing"))

    await uploads.mark_failed(db_sessions, "/c/front/done.jpg", "batcher restarting")
    await uploads.mark_failed(db_sessions, "/c/front/busy.jpg", "decode error")

    done = await _row(db_sessions, "/c/front/done.jpg")
    assert (done.status, done.error, done.attempts) == ("done", None, 0)
    busy = await _row(db_sessions, "/c/front/busy.jpg")
    assert (busy.status, busy.error) == ("failed", "decode error")
