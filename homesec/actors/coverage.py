"""Which detections a batch event already covers: the rule that keeps each detection in at most
one batch event, even after Redis lost the batch state and batches were rebuilt from PostgreSQL.

Fast-path events are left out on purpose: a fast-path detection also joins its normal batch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import JSON, Integer, cast, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from homesec.models import Detection, Event

# An event starts at its first detection; a batch spans at most BATCH_WINDOW_SECONDS (and a
# rebuilt batch at most the 1 h state TTL), so events older than this cannot hold a detection.
LOOKBACK = dt.timedelta(hours=2)


def covered_ids(camera_id: str, since: dt.datetime, *, except_batch: str | None = None) -> Select:
    """Detection ids in this camera's batch events that started after ``since - LOOKBACK``."""
    # A function in FROM may read the rows before it (implicitly LATERAL in PostgreSQL).
    element = func.json_array_elements_text(cast(Event.detection_ids, JSON)).table_valued("value")
    query = (
        select(cast(element.c.value, Integer))
        .select_from(Event)
        .join(element, true())
        .where(
            Event.camera_id == camera_id,
            Event.is_fast_path.is_(False),
            Event.started_at >= since - LOOKBACK,
        )
    )
    if except_batch is not None:
        query = query.where(Event.batch_id != except_batch)
    return query


async def already_covered(
    session: AsyncSession,
    camera_id: str,
    detection_ids: Sequence[int],
    since: dt.datetime,
    *,
    except_batch: str,
) -> set[int]:
    """Those of ``detection_ids`` that another batch event of the camera already holds."""
    if not detection_ids:
        return set()
    covered = covered_ids(camera_id, since, except_batch=except_batch).subquery()
    rows = await session.scalars(select(covered.c[0]).where(covered.c[0].in_(list(detection_ids))))
    return set(rows.all())


async def uncovered_detections(
    session: AsyncSession, camera_id: str, since: dt.datetime
) -> list[Detection]:
    """The camera's detections since ``since`` that no batch event holds, oldest first."""
    covered = covered_ids(camera_id, since).subquery()
    rows = await session.scalars(
        select(Detection)
        .where(
            Detection.camera_id == camera_id,
            Detection.detected_at >= since,
            Detection.id.not_in(select(covered.c[0])),
        )
        .order_by(Detection.detected_at, Detection.id)
    )
    return list(rows.all())
