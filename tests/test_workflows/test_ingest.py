"""UploadIngest on a real PostgreSQL and Redis: which of two identical files is the original."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

from PIL import Image
from sqlalchemy import select

from homesec.models import Camera, Upload
from homesec.workflows.ingest import Outcome, UploadIngest
from tests.support.settings import make_settings


def _jpeg() -> bytes:
    image = Image.frombytes("RGB", (64, 48), os.urandom(64 * 48 * 3))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


async def test_of_two_identical_files_the_one_that_arrived_first_is_the_original(
    tmp_path: Path, db_sessions, redis_client
):
    # Issue 19's bug: whichever the watcher happened to take in first was kept, so an original
    # found by a scan after its own later copy was marked "duplicate of" the copy.
    folder = tmp_path / "cameras" / "porch"
    folder.mkdir(parents=True)
    async with db_sessions.begin() as session:
        session.add(Camera(id="porch", name="Porch", folder_path=str(folder)))
    content = _jpeg()
    original, copy = folder / "first.jpg", folder / "again.jpg"
    original.write_bytes(content)
    copy.write_bytes(content)
    now = time.time()
    os.utime(original, (now - 120, now - 120))  # uploaded two minutes before its copy
    os.utime(copy, (now - 60, now - 60))
    settings = make_settings(tmp_path / "data", foscam_base_path=tmp_path / "cameras")
    ingest = UploadIngest("porch", str(folder), settings, time.time)

    # The copy is named first, as a folder listing may well do.
    answers = await ingest.ingest_many([str(copy), str(original)], db_sessions, redis_client)

    assert [answer.outcome for answer in answers] == [Outcome.DUPLICATE, Outcome.ENQUEUED]
    async with db_sessions() as session:
        rows = {row.file_path: row for row in (await session.scalars(select(Upload))).all()}
    assert rows[str(original)].status == "queued"
    assert (rows[str(copy)].status, rows[str(copy)].error) == (
        "duplicate",
        f"duplicate of {original}",
    )
