"""What the CameraWatcher's tests share (tests/test_actors: test_camera_watcher.py,
test_watcher_upload_finished.py; their fixtures are in tests/test_actors/conftest.py): files in
a camera's folder, and what the watcher made of them."""

from __future__ import annotations

import io
import os
from pathlib import Path

import msgspec
from PIL import Image
from sqlalchemy import select

from homesec.contract import keys
from homesec.contract.jobs import DetectionJob
from homesec.models import Upload

SETTLE_SECONDS = 0.5
TIMEOUT = 10.0  # the most any step of a watcher's test waits


def noise_jpeg(width: int = 320, height: int = 240) -> bytes:
    """A JPEG of random noise: tens of KB, and a new SHA-256 every call."""
    image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def write(path: Path, data: bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return str(path)


async def ledger(sessions) -> dict[str, Upload]:
    async with sessions() as session:
        return {row.file_path: row for row in (await session.scalars(select(Upload))).all()}


async def jobs(redis) -> list[DetectionJob]:
    entries = await redis.xrange(keys.DETECTION_QUEUE)
    return [msgspec.json.decode(f[keys.STREAM_FIELD], type=DetectionJob) for _, f in entries]
