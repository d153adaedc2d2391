"""An event worth exporting (issue 24), as the pipeline leaves one: a camera with a role, two
uploaded pictures in its folder with their ledger rows (received, hashed), three detections with
boxes (taken, processed), and the scored event listing them; and a way to tamper with a zip."""

from __future__ import annotations

import datetime as dt
import hashlib
import zipfile
from collections.abc import Callable
from pathlib import Path

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.models import Camera, Detection, Event, Upload, UploadStatus
from homesec.settings import Settings
from tests.support.rows import write_jpeg

TAKEN = dt.datetime(2026, 7, 4, 1, 30, 5, tzinfo=dt.UTC)  # 03:30:05 in Europe/Berlin (summer)
RECEIVED = TAKEN + dt.timedelta(seconds=4)
PROCESSED = TAKEN + dt.timedelta(seconds=6)


class SeededEvent(msgspec.Struct):
    event_id: int
    originals: list[Path]  # in the order taken


async def seed_evidence_event(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    camera_id: str = "back_door",
    started_at: dt.datetime = TAKEN,
) -> SeededEvent:
    folder = settings.foscam_base_path / camera_id
    first = write_jpeg(folder / "2026-07-04" / "snap 1.jpg", (320, 240), (90, 60, 40))
    second = write_jpeg(folder / "snap2.jpg", (320, 240), (30, 70, 110))
    shift = started_at - TAKEN
    async with sessions.begin() as session:
        session.add(
            Camera(id=camera_id, name="Back Door", folder_path=str(folder), role="entrance")
        )
        await session.flush()
        for number, path in enumerate((first, second)):
            session.add(
                Upload(
                    camera_id=camera_id,
                    file_path=str(path),
                    sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                    file_size=path.stat().st_size,
                    status=UploadStatus.DONE,
                    received_at=RECEIVED + shift + dt.timedelta(seconds=10 * number),
                    captured_at=TAKEN + shift + dt.timedelta(seconds=10 * number),
                )
            )
        rows = [
            Detection(
                camera_id=camera_id,
                file_path=str(path),
                object_type=kind,
                confidence=confidence,
                bbox_x=x,
                bbox_y=40,
                bbox_width=80,
                bbox_height=150,
                captured_at=TAKEN + shift + dt.timedelta(seconds=10 * number),
                detected_at=PROCESSED + shift + dt.timedelta(seconds=10 * number),
                zones=["porch door"],
            )
            for number, path, kind, confidence, x in (
                (0, first, "person", 0.93, 40),
                (0, first, "backpack", 0.61, 150),
                (1, second, "person", 0.88, 200),
            )
        ]
        session.add_all(rows)
        await session.flush()
        event = Event(
            batch_id=f"{camera_id}-{started_at.timestamp()}",
            camera_id=camera_id,
            started_at=started_at,
            ended_at=started_at + dt.timedelta(seconds=10),
            risk_score=72,
            risk_level="high",
            summary="A person with a backpack at the back door at night.",
            reasoning="A person at an entrance at 03:30, when nobody is usually there: +20.",
            detection_ids=msgspec.json.encode([row.id for row in rows]).decode(),
            scored_by_engine="rules",
            prompt_version="rules-test",
        )
        session.add(event)
        await session.flush()
        return SeededEvent(event_id=event.id, originals=[first, second])


def rewrite_zip(
    path: Path, change: Callable[[dict[str, bytes]], None], out: Path | None = None
) -> Path:
    """Copy the zip at ``path`` to ``out`` (default: beside it, ``tampered-``) with ``change``
    applied to its members (name -> bytes, names as stored, folder included)."""
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    change(members)
    target = out or path.with_name(f"tampered-{path.name}")
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return target


def member(members: dict[str, bytes], suffix: str) -> str:
    """The one member name ending in ``suffix``."""
    [name] = [name for name in members if name.endswith(suffix)]
    return name
