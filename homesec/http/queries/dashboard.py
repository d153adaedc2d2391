"""What the dashboard's pages read beyond the REST API's own queries (which they also use):
counts per band under the page's filters, each event's best detection, an event's neighbours.
"""

from __future__ import annotations

from collections import Counter

import msgspec
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from homesec.http.pagination import Cursor, after
from homesec.http.queries.events import EventFilters, _filtered
from homesec.http.schemas.events import Event as EventOut
from homesec.models import Detection, Event, RiskLevel, Upload, UploadStatus

# ``_filtered`` is the events list's own WHERE clause: the counts, neighbours and live rows
# here match /api/events exactly.
UNSCORED = "unscored"
BANDS = (*(level.value for level in RiskLevel), UNSCORED)


class EventCard(msgspec.Struct, kw_only=True):
    """What one line of the events list shows besides the event itself."""

    best_detection_id: int | None  # the most confident detection still stored
    has_thumbnail: bool
    objects: list[tuple[str, int]]  # object type and how many, most first


async def band_counts(session: AsyncSession, filters: EventFilters) -> dict[str, int]:
    """Events per band under every filter but the band itself."""
    unbanded = msgspec.structs.replace(filters, risk_level=None)
    level = case((Event.risk_level.is_(None), UNSCORED), else_=Event.risk_level)
    counts = dict.fromkeys(BANDS, 0)
    statement = _filtered(select(level, func.count()), unbanded).group_by(level)
    for name, count in await session.execute(statement):
        counts[name] = count
    return counts


async def event_cards(session: AsyncSession, events: list[EventOut]) -> dict[int, EventCard]:
    ids = {detection_id for event in events for detection_id in event.detection_ids}
    rows = {}
    if ids:
        statement = select(
            Detection.id, Detection.object_type, Detection.confidence, Detection.thumbnail_path
        ).where(Detection.id.in_(ids))
        rows = {row.id: row for row in await session.execute(statement)}
    cards = {}
    for event in events:
        found = [rows[i] for i in event.detection_ids if i in rows]
        best = max(found, key=lambda row: row.confidence or 0.0, default=None)
        objects = Counter(row.object_type or "object" for row in found).most_common()
        cards[event.id] = EventCard(
            best_detection_id=best.id if best else None,
            has_thumbnail=bool(best and best.thumbnail_path),
            objects=objects,
        )
    return cards


async def neighbours(
    session: AsyncSession, event: EventOut, filters: EventFilters
) -> tuple[int | None, int | None]:
    """The ids of the next newer and the next older event under ``filters`` (list order)."""
    position = Cursor(event.started_at, event.id)
    older = await session.scalar(
        _filtered(select(Event.id), filters)
        .where(after(Event.started_at, Event.id, position))
        .order_by(Event.started_at.desc(), Event.id.desc())
        .limit(1)
    )
    newer = await session.scalar(
        _filtered(select(Event.id), filters)
        .where(
            Event.started_at >= position.at,
            or_(
                Event.started_at > position.at,
                and_(Event.started_at == position.at, Event.id > position.id),
            ),
        )
        .order_by(Event.started_at.asc(), Event.id.asc())
        .limit(1)
    )
    return newer, older


async def event_matches(session: AsyncSession, event_id: int, filters: EventFilters) -> bool:
    """Whether the event is one the list under ``filters`` shows (for live additions)."""
    found = await session.scalar(_filtered(select(Event.id), filters).where(Event.id == event_id))
    return found is not None


async def uploads_waiting(session: AsyncSession) -> int:
    """Uploads taken in and not yet through the detector (``queued``)."""
    return (
        await session.scalar(
            select(func.count()).select_from(Upload).where(Upload.status == UploadStatus.QUEUED)
        )
        or 0
    )
