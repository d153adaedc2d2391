"""What the Analyst's tests (tests/test_actors/test_analyst.py) and the LLM-server tests share:
the Analyst's settings and the detections of a batch, stored as the Detector stores them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.models import Camera, Detection
from homesec.settings import Settings
from tests.support.settings import make_settings

# One seen object: (class, confidence, when, (x, y, width, height)).
Seen = tuple[str, float, dt.datetime, tuple[int, int, int, int]]


def analyst_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """The rules engine (no LLM unless a test brings one), retries within 20, 40, 80 ms, and
    UTC, so a batch's local time is the time it was seen."""
    fields: dict[str, Any] = {
        "foscam_base_path": tmp_path,
        "llm_engine": "rules",
        "retry_base_seconds": 0.02,
        "timezone": "UTC",
    }
    return make_settings(tmp_path, **(fields | overrides))


def image_of(camera_id: str, detected_at: dt.datetime) -> str:
    """Detections seen at one moment are the boxes of one picture, as the detector stores them."""
    return f"/cams/{camera_id}/{detected_at:%Y%m%d-%H%M%S-%f}.jpg"


async def seed_detections(
    db_sessions: async_sessionmaker[AsyncSession],
    seen: list[Seen],
    camera_id: str,
    camera_name: str,
) -> list[int]:
    """A camera (unless it exists) and its detections; their ids in the order given."""
    async with db_sessions.begin() as session:
        if await session.get(Camera, camera_id) is None:
            session.add(Camera(id=camera_id, name=camera_name, folder_path=f"/cams/{camera_id}"))
        rows = [
            Detection(
                camera_id=camera_id,
                file_path=image_of(camera_id, detected_at),
                detected_at=detected_at,
                object_type=object_type,
                confidence=confidence,
                bbox_x=box[0],
                bbox_y=box[1],
                bbox_width=box[2],
                bbox_height=box[3],
            )
            for object_type, confidence, detected_at, box in seen
        ]
        session.add_all(rows)
        await session.flush()
        return [row.id for row in rows]
