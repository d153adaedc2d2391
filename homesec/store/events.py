"""The ``events`` table: the analyst's event (written once per batch), which detections the batch
events already hold, and what the backfill reads of past events.

An event is written with ``INSERT ... ON CONFLICT (batch_id) DO NOTHING`` (``batch_id`` is
unique), so a redelivered batch never makes a second event; whoever loses a race reads the
winner's row.

``detection_ids`` is the contract's soft link: a JSON array of detection ids in a text column.
:func:`encode_detection_ids` writes it and :func:`decode_detection_ids` reads it everywhere
(the API's queries included), so they cannot disagree on what a stored value means.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

import msgspec
from sqlalchemy import (
    JSON,
    ColumnElement,
    Integer,
    and_,
    cast,
    exists,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql import Select

from homesec.contract.analysis import RiskAssessment, ScoredBy
from homesec.contract.jobs import AnalysisJob
from homesec.models import Event, Incident
from homesec.models.base import MAX_INTEGER
from homesec.policy.backfill_plan import REANALYSIS_PREFIX, OriginalEvent, TimeWindow
from homesec.policy.batching import fast_path_batch_id
from homesec.policy.capture_time import MAX_UPLOAD_DELAY
from homesec.store import event_holds
from homesec.store.uploads import chunks

if TYPE_CHECKING:
    from homesec.store.detections import StoredBatch

# An event starts when its first picture was taken; a batch spans at most BATCH_WINDOW_SECONDS
# (and a rebuilt batch at most the 1 h state TTL), and a believed capture time lies at most
# MAX_UPLOAD_DELAY before its upload, so events older than this cannot hold a detection (short
# of a detector backlog of hours: then a batch may gather pictures taken that far apart).
LOOKBACK = dt.timedelta(hours=2) + MAX_UPLOAD_DELAY


def encode_detection_ids(ids: Sequence[int]) -> str:
    return json.dumps(list(ids))


def decode_detection_ids(text: str | None) -> list[int]:
    """The ids a stored ``detection_ids`` names: the integers of its JSON array that can be row
    ids (1 .. 2**31-1); unreadable text names none."""
    if not text:
        return []
    try:
        values = json.loads(text)
    except ValueError:  # the soft link is text; a bad value must not break a reader
        return []
    if not isinstance(values, list):
        return []
    return [
        value
        for value in values
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_INTEGER
    ]


class StoredEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An ``events`` row's identity and verdict: what its live message carries and what the
    Alerts page shows of an alert's event. Made here (the Analyst's write, reads by batch or
    id); read by the Analyst, by ``store/event_channel.py`` (``event_message``, the one
    converter to the ``security_events`` message) and by the Alerts page's queries."""

    id: int
    batch_id: str
    camera_id: str
    risk_score: int | None
    risk_level: str | None
    summary: str | None
    started_at: dt.datetime
    is_fast_path: bool
    supersedes_event_id: int | None = None
    incident_id: int | None = None  # the incident its visit belongs to (store/incidents.py)


def _stored(row: Event) -> StoredEvent:
    return StoredEvent(
        id=row.id,
        batch_id=row.batch_id,
        camera_id=row.camera_id,
        risk_score=row.risk_score,
        risk_level=row.risk_level,
        summary=row.summary,
        started_at=row.started_at,
        is_fast_path=row.is_fast_path,
        supersedes_event_id=row.supersedes_event_id,
        incident_id=row.incident_id,
    )


async def find_event(
    sessions: async_sessionmaker[AsyncSession], batch_id: str
) -> StoredEvent | None:
    async with sessions() as session:
        return await event_of_batch(session, batch_id)


async def event_of_batch(session: AsyncSession, batch_id: str) -> StoredEvent | None:
    """The batch's event, if it has one; joins the caller's transaction."""
    row = await session.scalar(select(Event).where(Event.batch_id == batch_id))
    return _stored(row) if row is not None else None


async def held_by_batch_in(session: AsyncSession, batch_id: str) -> list[int]:
    """The detection ids the batch's event holds (none when it has no event); joins the
    caller's transaction."""
    held = await session.scalar(select(Event.detection_ids).where(Event.batch_id == batch_id))
    return decode_detection_ids(held)


async def stored_events(session: AsyncSession, event_ids: Sequence[int]) -> dict[int, StoredEvent]:
    """The events with these ids, by id (an event gone is left out); joins the caller's
    session."""
    if not event_ids:
        return {}
    rows = await session.scalars(select(Event).where(Event.id.in_(list(event_ids))))
    return {row.id: _stored(row) for row in rows}


async def insert_event_in(
    session: AsyncSession,
    job: AnalysisJob,
    batch: StoredBatch,
    assessment: RiskAssessment,
    risk_level: str,
    *,
    scored_by: ScoredBy | None = None,
) -> tuple[StoredEvent, bool]:
    """Write the batch's event unless it exists, linked to the visit's other verdicts (see
    :func:`link_visit`); returns the event and whether this call wrote it (False: another
    analyst holding a redelivery of the batch was first). Joins the caller's transaction: the
    Analyst's is :func:`homesec.store.analysis.record_event`'s."""
    # The event's time is when its pictures were taken (their capture times, the processing
    # time for rows stored before those were kept), not when the detector got to them.
    times = [detection.happened_at for detection in batch.detections]
    started_at, ended_at = min(times), max(times)
    values = {
        "batch_id": job.batch_id,
        "camera_id": job.camera_id,
        "started_at": started_at,
        "ended_at": ended_at,
        "risk_score": assessment.risk_score,
        "risk_level": risk_level,
        "summary": assessment.summary,
        "reasoning": assessment.reasoning,
        "detection_ids": encode_detection_ids([d.detection_id for d in batch.detections]),
        "is_fast_path": job.is_fast_path,
    }
    if scored_by is not None:
        values |= {
            "scored_by_engine": scored_by.engine,
            "scored_by_model": scored_by.model,
            "prompt_version": scored_by.prompt_version,
        }
    statement = (
        insert(Event)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[Event.batch_id])
        .returning(Event.id)
    )
    event_id = await session.scalar(statement)
    if event_id is None:
        # Read committed: this statement sees the row whose insert made ours a no-op.
        existing = await session.scalar(select(Event).where(Event.batch_id == job.batch_id))
        return _stored(existing), False
    supersedes = await link_visit(session, job, event_id, batch, started_at)
    return (
        StoredEvent(
            id=event_id,
            batch_id=job.batch_id,
            camera_id=job.camera_id,
            risk_score=assessment.risk_score,
            risk_level=risk_level,
            summary=assessment.summary,
            started_at=started_at,
            is_fast_path=job.is_fast_path,
            supersedes_event_id=supersedes,
        ),
        True,
    )


# --- one visit, one verdict ----------------------------------------------------------------------
async def link_visit(
    session: AsyncSession,
    job: AnalysisJob,
    event_id: int,
    batch: StoredBatch,
    started_at: dt.datetime,
) -> int | None:
    """Link a new event to the verdicts of the same visit; returns what it supersedes.

    A fast-path event is the preliminary verdict on one detection; the batch event holding that
    detection is the final one and supersedes it. A batch may hold two fast-path detections
    (the cooldown is shorter than the batch window): they chain, each superseding the one
    before, and the batch event the last. Either may be written first (an LLM retry can delay
    the fast path), so both sides look for the other. Reanalysis events stand apart.
    """
    if job.batch_id.startswith(REANALYSIS_PREFIX):
        return None
    if job.is_fast_path:
        # The batch event was written first: it supersedes this one, unless it names another.
        candidates = await session.execute(
            select(Event.id, Event.detection_ids).where(
                Event.camera_id == job.camera_id,
                Event.is_fast_path.is_(False),
                Event.supersedes_event_id.is_(None),
                Event.batch_id.not_like(f"{REANALYSIS_PREFIX}%"),
                Event.started_at.between(started_at - LOOKBACK, started_at + LOOKBACK),
            )
        )
        for batch_event, held in candidates.all():
            if set(decode_detection_ids(held)) & set(job.detection_ids):
                await session.execute(
                    update(Event)
                    .where(Event.id == batch_event)
                    .values(supersedes_event_id=event_id)
                )
                break
        return None
    fast_ids = [fast_path_batch_id(d.detection_id) for d in batch.detections]
    fast_events = (
        await session.execute(
            select(Event.id, Event.supersedes_event_id)
            .where(Event.camera_id == job.camera_id, Event.batch_id.in_(fast_ids))
            .order_by(Event.started_at, Event.id)
        )
    ).all()
    previous: int | None = None
    for fast_id, already in fast_events:
        if previous is not None and already is None:
            await session.execute(
                update(Event).where(Event.id == fast_id).values(supersedes_event_id=previous)
            )
        previous = fast_id
    if previous is not None:
        await session.execute(
            update(Event).where(Event.id == event_id).values(supersedes_event_id=previous)
        )
    return previous


# --- coverage: each detection in at most one batch event -----------------------------------------
def covered_ids(camera_id: str, since: dt.datetime, *, except_batch: str | None = None) -> Select:
    """Detection ids in this camera's batch events that started after ``since - LOOKBACK``.

    The rule that keeps each detection in at most one batch event, even after Redis lost the
    batch state and batches were rebuilt from PostgreSQL. Fast-path events are left out on
    purpose: a fast-path detection also joins its normal batch.
    """
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


async def held_by_batch_events(
    sessions: async_sessionmaker[AsyncSession],
    camera_id: str,
    detection_ids: Sequence[int],
    since: dt.datetime,
) -> set[int]:
    """Those of ``detection_ids`` that a batch event of the camera holds."""
    if not detection_ids:
        return set()
    covered = covered_ids(camera_id, since).subquery()
    async with sessions() as session:
        rows = await session.scalars(
            select(covered.c[0]).where(covered.c[0].in_(list(detection_ids)))
        )
        return set(rows.all())


# --- the backfill --------------------------------------------------------------------------------
async def original_events(
    sessions: async_sessionmaker[AsyncSession], camera_ids: Sequence[str], window: TimeWindow
) -> list[OriginalEvent]:
    """The cameras' events that started in ``window``, except those a reanalysis made."""
    since, until = window.bounds()
    query = select(
        Event.batch_id,
        Event.camera_id,
        Event.is_fast_path,
        Event.detection_ids,
        Event.started_at,
        Event.ended_at,
    ).where(Event.camera_id.in_(list(camera_ids)), Event.batch_id.not_like(f"{REANALYSIS_PREFIX}%"))
    if since is not None:
        query = query.where(Event.started_at >= since)
    if until is not None:
        query = query.where(Event.started_at < until)
    async with sessions() as session:
        rows = (await session.execute(query.order_by(Event.started_at, Event.id))).all()
    return [
        OriginalEvent(
            batch_id=row.batch_id,
            camera_id=row.camera_id,
            is_fast_path=row.is_fast_path,
            detection_ids=decode_detection_ids(row.detection_ids),
            started_at=row.started_at.timestamp(),
            ended_at=row.ended_at.timestamp() if row.ended_at is not None else None,
        )
        for row in rows
    ]


async def existing_batch_ids(
    sessions: async_sessionmaker[AsyncSession], batch_ids: Sequence[str]
) -> set[str]:
    found: set[str] = set()
    async with sessions() as session:
        for chunk in chunks(list(batch_ids)):
            rows = await session.scalars(select(Event.batch_id).where(Event.batch_id.in_(chunk)))
            found.update(rows.all())
    return found


# --- retention -----------------------------------------------------------------------------------
def expired(cutoff: dt.datetime) -> ColumnElement[bool]:
    """Older than the cutoff and not on hold (a held event stays whatever its age)."""
    return and_(Event.started_at < cutoff, ~event_holds.is_held())


# --- the owner's review --------------------------------------------------------------------------
# A visit holds a few verdicts at most (a fast-path event or two, then the batch's).
MAX_VISIT_DEPTH = 4


async def visit_ids(session: AsyncSession, event_id: int) -> set[int]:
    """The ids of every verdict of the event's visit: those it supersedes and those that
    supersede it."""
    ids = {event_id}
    frontier = {event_id}
    for _ in range(2 * MAX_VISIT_DEPTH):
        rows = (
            await session.execute(
                select(Event.id, Event.supersedes_event_id).where(
                    or_(Event.id.in_(frontier), Event.supersedes_event_id.in_(frontier))
                )
            )
        ).all()
        linked = {row.id for row in rows} | {
            row.supersedes_event_id for row in rows if row.supersedes_event_id is not None
        }
        frontier = linked - ids
        if not frontier:
            break
        ids |= frontier
    return ids


async def review_event(
    sessions: async_sessionmaker[AsyncSession],
    event_id: int,
    *,
    reviewed: bool | msgspec.UnsetType = msgspec.UNSET,
    notes: str | msgspec.UnsetType | None = msgspec.UNSET,
) -> bool:
    """Mark the event's visit reviewed (its preliminary and final verdicts together) and set
    the notes of this event; what is UNSET stays. False when there is no such event."""
    async with sessions.begin() as session:
        row = await session.get(Event, event_id)
        if row is None:
            return False
        if reviewed is not msgspec.UNSET:
            await session.execute(
                update(Event)
                .where(Event.id.in_(await visit_ids(session, event_id)))
                .values(reviewed=reviewed)
            )
            if row.incident_id is not None:  # an incident is reviewed once all its visits are
                unreviewed = exists(
                    select(Event.id).where(
                        Event.incident_id == row.incident_id, Event.reviewed.is_(False)
                    )
                )
                await session.execute(
                    update(Incident)
                    .where(Incident.id == row.incident_id)
                    .values(reviewed=~unreviewed)
                )
        if notes is not msgspec.UNSET:
            await session.execute(update(Event).where(Event.id == event_id).values(notes=notes))
    return True


# --- the owner's hold ("keep", issue 24) ---------------------------------------------------------
class EventHold(msgspec.Struct, frozen=True, kw_only=True):
    held_at: dt.datetime | None
    note: str | None


async def set_hold(
    sessions: async_sessionmaker[AsyncSession],
    event_id: int,
    *,
    at: dt.datetime,
    note: str | None,
) -> EventHold | None:
    """Put the event on hold (retention keeps it and its files) with the owner's note; holding
    a held event again keeps its first ``held_at`` and takes the new note. None when there is no
    such event."""
    async with sessions.begin() as session:
        row = await session.get(Event, event_id, with_for_update=True)
        if row is None:
            return None
        row.held_at = row.held_at or at
        row.hold_note = note
        return EventHold(held_at=row.held_at, note=row.hold_note)


async def release_hold(
    sessions: async_sessionmaker[AsyncSession], event_id: int
) -> EventHold | None:
    """Take the event off hold: retention treats it by its age again. None when there is no
    such event."""
    async with sessions.begin() as session:
        row = await session.get(Event, event_id, with_for_update=True)
        if row is None:
            return None
        row.held_at = None
        row.hold_note = None
        return EventHold(held_at=None, note=None)
