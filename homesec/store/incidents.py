"""The ``incidents`` table and ``events.incident_id``: visits on different cameras close in time
as one incident (issue 23). Which visit joins which incident is
:func:`homesec.policy.incidents.joining`; this module reads what it needs and writes the
outcome.

- :func:`story_before_in`: the incident a batch would join as things stand, its visits oldest
  first (read before scoring, so the engine scores the whole story).
- :func:`join_in`: in the Analyst's write transaction, the new event joins (or starts) its
  incident. Concurrent analysts are serialised by a transaction-scoped advisory lock: two
  visits written at once on two cameras must make one incident, not two, and a row lock cannot
  guard an incident that does not exist yet. The Analyst takes it first in its write
  (:func:`lock_joins_in`), so event writes are serialised for the few statements of one
  event's transaction.
- :func:`review_incident`: the owner's review of an incident reviews its visits.

A *visit* is an event nothing supersedes (see :mod:`homesec.store.events`, ``link_visit``);
reanalysis events of a backfill stand apart. A fast-path event joins like any visit, so the
second camera's immediate alert already belongs to the incident; its batch event joins too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import msgspec
from sqlalchemy import ColumnElement, and_, exists, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from homesec.contract.analysis import IncidentVisit
from homesec.models import Camera, Detection, Event, Incident
from homesec.policy.backfill_plan import REANALYSIS_PREFIX
from homesec.policy.incidents import (
    VisitSpan,
    cameras_in_order,
    incident_score,
    joining,
    story_line,
    told_before,
    told_kinds,
)
from homesec.policy.risk import risk_level
from homesec.settings import RiskBands
from homesec.store import events as event_rows
from homesec.store.events import decode_detection_ids

# pg_advisory_xact_lock's key for "who joins which incident" ("INCD").
JOIN_LOCK_KEY = 0x494E4344


class JoinedIncident(msgspec.Struct, frozen=True, kw_only=True):
    """What :func:`join_in` made of a new event: its incident, and the incident's cameras
    before and after (``grew``: a camera it had not reached)."""

    incident_id: int
    cameras_before: tuple[str, ...]
    cameras: tuple[str, ...]


def _is_visit():
    """An event that counts as a visit: not superseded, not a reanalysis."""
    later = aliased(Event)
    return (
        ~exists(select(literal(1)).where(later.supersedes_event_id == Event.id)),
        Event.batch_id.not_like(f"{REANALYSIS_PREFIX}%"),
    )


async def _near_in(
    session: AsyncSession, started_at: dt.datetime, ended_at: dt.datetime, window_seconds: float
) -> list[VisitSpan]:
    """Visits whose pictures lie within the window of this span, any camera."""
    window = dt.timedelta(seconds=window_seconds)
    ended = func.coalesce(Event.ended_at, Event.started_at)
    rows = await session.execute(
        select(Event.id, Event.camera_id, Event.started_at, ended.label("ended"), Event.incident_id)
        .where(
            ended >= started_at - window,
            # A visit spans at most LOOKBACK: a lower bound the started_at index can use.
            Event.started_at >= started_at - window - event_rows.LOOKBACK,
            Event.started_at <= ended_at + window,
            *_is_visit(),
        )
        .order_by(Event.started_at, Event.id)
    )
    return [
        VisitSpan(
            event_id=row.id,
            camera_id=row.camera_id,
            started_at=row.started_at,
            ended_at=row.ended,
            incident_id=row.incident_id,
        )
        for row in rows
    ]


async def visits_in(session: AsyncSession, event_ids: Sequence[int]) -> list[IncidentVisit]:
    """These events as an incident tells them, oldest first (an event gone is left out)."""
    if not event_ids:
        return []
    rows = (
        await session.execute(
            select(Event, Camera.name, Camera.role)
            .join(Camera, Camera.id == Event.camera_id)
            .where(Event.id.in_(list(event_ids)))
            .order_by(Event.started_at, Event.id)
        )
    ).all()
    ids = {event.id: decode_detection_ids(event.detection_ids) for event, _, _ in rows}
    wanted = [i for listed in ids.values() for i in listed]
    types = dict(
        (await session.execute(select(Detection.id, Detection.object_type).where(
            Detection.id.in_(wanted)))).all()
    ) if wanted else {}  # fmt: skip
    return [
        IncidentVisit(
            event_id=event.id,
            camera_id=event.camera_id,
            camera_name=name,
            camera_role=role,
            started_at=event.started_at,
            ended_at=event.ended_at or event.started_at,
            kinds=told_kinds([types.get(i) or "" for i in ids[event.id]]),
            risk_score=event.risk_score,
        )
        for event, name, role in rows
    ]


async def _member_ids_in(session: AsyncSession, incident_id: int) -> list[int]:
    """The incident's visits (its events nothing supersedes)."""
    rows = await session.scalars(
        select(Event.id).where(Event.incident_id == incident_id, *_is_visit())
    )
    return list(rows.all())


async def story_before_in(
    session: AsyncSession,
    camera_id: str,
    started_at: dt.datetime,
    ended_at: dt.datetime,
    window_seconds: float,
) -> list[IncidentVisit]:
    """The incident a batch of ``camera_id`` with this span would join as things stand, its
    visits oldest first; empty: it would stand alone."""
    near = await _near_in(session, started_at, ended_at, window_seconds)
    probe = VisitSpan(event_id=0, camera_id=camera_id, started_at=started_at, ended_at=ended_at)
    joined = joining(probe, near, window_seconds)
    if joined is None:
        return []
    ids = set(joined.loose)
    if joined.incident_id is not None:
        ids |= set(await _member_ids_in(session, joined.incident_id))
    spans = await _spans_in(session, sorted(ids))
    return await visits_in(session, [span.event_id for span in told_before(probe, spans)])


async def _spans_in(session: AsyncSession, event_ids: Sequence[int]) -> list[VisitSpan]:
    if not event_ids:
        return []
    rows = await session.execute(
        select(Event.id, Event.camera_id, Event.started_at, Event.ended_at).where(
            Event.id.in_(list(event_ids))
        )
    )
    return [
        VisitSpan(
            event_id=row.id,
            camera_id=row.camera_id,
            started_at=row.started_at,
            ended_at=row.ended_at or row.started_at,
        )
        for row in rows
    ]


async def lock_joins_in(session: AsyncSession) -> None:
    """Take the incidents' lock for the rest of the caller's transaction. The Analyst takes it
    before it writes its event: a writer that locked event rows (its visit's fast-path verdicts)
    and then waited for this lock could deadlock with the holder updating those rows' incident;
    taking it first orders them. Re-entrant within a transaction."""
    await session.execute(select(func.pg_advisory_xact_lock(JOIN_LOCK_KEY)))


async def join_in(
    session: AsyncSession,
    event_id: int,
    *,
    window_seconds: float,
    zone: dt.tzinfo | None,
    bands: RiskBands,
) -> JoinedIncident | None:
    """The new event joins its incident (or starts one with the visits near it); None: it
    stands alone. Joins the caller's transaction (the Analyst's write)."""
    if window_seconds <= 0:
        return None
    await lock_joins_in(session)
    row = await session.get(Event, event_id)
    if row is None or row.batch_id.startswith(REANALYSIS_PREFIX):
        return None
    visit = VisitSpan(
        event_id=row.id,
        camera_id=row.camera_id,
        started_at=row.started_at,
        ended_at=row.ended_at or row.started_at,
    )
    near = await _near_in(session, visit.started_at, visit.ended_at, window_seconds)
    joined = joining(visit, near, window_seconds)
    if joined is None:
        return None
    before: list[str] = []
    if joined.incident_id is None:
        incident = Incident(started_at=visit.started_at, ended_at=visit.ended_at, camera_ids=[])
        session.add(incident)
        await session.flush()
        incident_id = incident.id
    else:
        incident_id = joined.incident_id
        before = list(
            await session.scalar(select(Incident.camera_ids).where(Incident.id == incident_id))
            or []
        )
    await session.execute(
        update(Event).where(Event.id.in_([event_id, *joined.loose])).values(incident_id=incident_id)
    )
    # The superseded verdicts of those visits (a fast-path event before its batch) come along.
    await session.execute(
        update(Event)
        .where(Event.id.in_(await _superseded_by_in(session, [event_id, *joined.loose])))
        .values(incident_id=incident_id)
    )
    visits = await visits_in(session, await _member_ids_in(session, incident_id))
    cameras = cameras_in_order(visits)
    score = incident_score([v.risk_score for v in visits])
    await session.execute(
        update(Incident)
        .where(Incident.id == incident_id)
        .values(
            started_at=min(v.started_at for v in visits),
            ended_at=max(v.ended_at for v in visits),
            camera_ids=cameras,
            risk_score=score,
            risk_level=risk_level(score, bands) if score is not None else None,
            summary=story_line(visits, zone),
            # The newest visit's assessment saw the story before it.
            reasoning=row.reasoning,
        )
    )
    return JoinedIncident(
        incident_id=incident_id, cameras_before=tuple(before), cameras=tuple(cameras)
    )


async def _superseded_by_in(session: AsyncSession, event_ids: Sequence[int]) -> list[int]:
    """The earlier verdicts of these events' visits (a short chain at most)."""
    found: set[int] = set()
    frontier = set(event_ids)
    for _ in range(event_rows.MAX_VISIT_DEPTH):
        rows = await session.scalars(
            select(Event.supersedes_event_id).where(
                Event.id.in_(frontier), Event.supersedes_event_id.is_not(None)
            )
        )
        frontier = {i for i in rows.all() if i is not None} - found
        if not frontier:
            break
        found |= frontier
    return sorted(found)


# --- retention -----------------------------------------------------------------------------------
def expired(cutoff: dt.datetime) -> ColumnElement[bool]:
    """Ended before the cutoff with none of its events staying (retention deletes them in the
    same transaction, just before)."""
    staying = exists(
        select(literal(1)).where(Event.incident_id == Incident.id, ~event_rows.expired(cutoff))
    )
    return and_(Incident.ended_at < cutoff, ~staying)


# --- the owner's review --------------------------------------------------------------------------
async def review_incident(
    sessions: async_sessionmaker[AsyncSession], incident_id: int, *, reviewed: bool
) -> bool:
    """Mark the incident and every verdict of its visits reviewed (or not); False when there
    is no such incident."""
    async with sessions.begin() as session:
        found = await session.scalar(
            update(Incident)
            .where(Incident.id == incident_id)
            .values(reviewed=reviewed)
            .returning(Incident.id)
        )
        if found is None:
            return False
        await session.execute(
            update(Event).where(Event.incident_id == incident_id).values(reviewed=reviewed)
        )
    return True
