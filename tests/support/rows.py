"""Rows as the pipeline writes them, for the front door's tests (tests/test_http, tests/test_ui):
cameras with their folders, detections, events, alerts, and the sets of them that several
modules' tests read."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.contract.alerts import AlertStatus
from homesec.models import Camera, Detection, Event
from homesec.settings import Settings
from homesec.store import alerts as alert_store
from homesec.store.alerts import NewAlert

T0 = dt.datetime(2025, 12, 23, 12, 0, tzinfo=dt.UTC)
# The dashboard's events are recent, so they show without a date filter.
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


async def add_camera(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, camera_id: str
) -> Path:
    folder = settings.foscam_base_path / camera_id
    folder.mkdir(parents=True, exist_ok=True)
    async with sessions.begin() as session:
        session.add(
            Camera(id=camera_id, name=camera_id.replace("_", " ").title(), folder_path=str(folder))
        )
    return folder


async def add_detection(sessions: async_sessionmaker[AsyncSession], **fields: Any) -> int:
    fields.setdefault("file_path", "/nowhere/image.jpg")
    fields.setdefault("object_type", "person")
    fields.setdefault("confidence", 0.9)
    fields.setdefault("detected_at", T0)
    async with sessions.begin() as session:
        row = Detection(**fields)
        session.add(row)
        await session.flush()
        return row.id


async def add_event(sessions: async_sessionmaker[AsyncSession], **fields: Any) -> int:
    fields.setdefault("batch_id", f"batch-{fields.get('started_at', T0).timestamp()}-{id(fields)}")
    fields.setdefault("started_at", T0)
    async with sessions.begin() as session:
        row = Event(**fields)
        session.add(row)
        await session.flush()
        return row.id


def write_jpeg(path: Path, size: tuple[int, int] = (64, 48), colour=(40, 40, 40)) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path, format="JPEG", quality=95)
    return path


async def add_alert(db_sessions, *, event_id, rule_id, channel, camera_id="porch",
                    status=AlertStatus.SENT, error=None, at=T0) -> int:  # fmt: skip
    async with db_sessions.begin() as session:
        (alert_id,) = await alert_store.add(session, [NewAlert(
            channel=channel, status=AlertStatus.PENDING, event_id=event_id, rule_id=rule_id,
            camera_id=camera_id, idempotency_key=f"event:{event_id}:{channel}",
        )], at)  # fmt: skip
    await alert_store.claim(db_sessions, alert_id)
    if status == AlertStatus.SENT:
        await alert_store.mark_sent(db_sessions, alert_id, at + dt.timedelta(seconds=2))
    else:
        await alert_store.mark_failed(db_sessions, alert_id, error or "", status, at)
    return alert_id


async def seed_filter_cases(db_sessions, settings) -> dict[str, int]:
    """Events that differ in one property each, named for it."""
    for camera in ("front_door", "garage"):
        await add_camera(db_sessions, settings, camera)
    person = await add_detection(db_sessions, camera_id="front_door", object_type="person")
    car = await add_detection(db_sessions, camera_id="garage", object_type="car")
    cat = await add_detection(db_sessions, camera_id="front_door", object_type="cat")
    hour = dt.timedelta(hours=1)
    return {
        "low_person": await add_event(
            db_sessions,
            batch_id="a",
            camera_id="front_door",
            started_at=T0,
            risk_score=10,
            risk_level="low",
            detection_ids=f"[{person}, {cat}]",
        ),
        "critical_fast": await add_event(
            db_sessions,
            batch_id="b",
            camera_id="front_door",
            started_at=T0 + hour,
            risk_score=95,
            risk_level="critical",
            detection_ids=f"[{person}]",
            is_fast_path=True,
        ),
        "medium_car_reviewed": await add_event(
            db_sessions,
            batch_id="c",
            camera_id="garage",
            started_at=T0 + 2 * hour,
            risk_score=45,
            risk_level="medium",
            detection_ids=f"[{car}]",
            reviewed=True,
        ),
        "unscored_no_ids": await add_event(
            db_sessions,
            batch_id="d",
            camera_id="garage",
            started_at=T0 + 3 * hour,
        ),
    }


async def seed_dashboard(db_sessions, settings) -> dict[str, int]:
    """Two cameras; events in three bands, one with two boxes on one frame."""
    ids: dict[str, int] = {}
    folders = {}
    for camera in ("front_door", "garage"):
        folders[camera] = await add_camera(db_sessions, settings, camera)
    frame = str(write_jpeg(folders["front_door"] / "f1.jpg", (640, 480), (70, 90, 110)))
    person = await add_detection(
        db_sessions, camera_id="front_door", file_path=frame, object_type="person",
        confidence=0.93, bbox_x=60, bbox_y=80, bbox_width=160, bbox_height=320, detected_at=NOW,
    )  # fmt: skip
    dog = await add_detection(
        db_sessions, camera_id="front_door", file_path=frame, object_type="dog",
        confidence=0.71, bbox_x=380, bbox_y=300, bbox_width=150, bbox_height=120, detected_at=NOW,
    )  # fmt: skip
    car_frame = str(write_jpeg(folders["garage"] / "g1.jpg", (640, 480), (120, 110, 90)))
    car = await add_detection(
        db_sessions, camera_id="garage", file_path=car_frame, object_type="car",
        confidence=0.88, bbox_x=100, bbox_y=200, bbox_width=400, bbox_height=200, detected_at=NOW,
    )  # fmt: skip
    ids["high"] = await add_event(
        db_sessions, batch_id="high", camera_id="front_door",
        started_at=NOW - dt.timedelta(minutes=5),
        risk_score=72, risk_level="high", summary="A person and a dog walk up to the front door.",
        reasoning="Someone not seen before, at night, close to the door.",
        detection_ids=f"[{person}, {dog}]",
    )  # fmt: skip
    ids["low"] = await add_event(
        db_sessions, batch_id="low", camera_id="garage", started_at=NOW - dt.timedelta(minutes=20),
        risk_score=12, risk_level="low", summary="A car parks in the drive.",
        detection_ids=f"[{car}]",
    )  # fmt: skip
    ids["critical"] = await add_event(
        db_sessions, batch_id="critical", camera_id="front_door",
        started_at=NOW - dt.timedelta(minutes=40), risk_score=91, risk_level="critical",
        summary="A person tries the door handle twice.", detection_ids=f"[{person}]",
        is_fast_path=True,
    )  # fmt: skip
    ids["frame_detection"] = person
    return ids
