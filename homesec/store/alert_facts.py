"""What alert decisions and alert messages read of ``events``, ``detections`` and ``cameras``.

Read-only and joined to the caller's transaction; the tables' own modules write them. Kept
apart from :mod:`homesec.store.events` because these reads serve one consumer, the Notifier.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from homesec.contract.alerts import AnnouncedEvent, JudgedEvent
from homesec.models import Camera, Detection, Event, Incident
from homesec.policy.backfill_plan import REANALYSIS_PREFIX
from homesec.store import house_modes
from homesec.store.events import LOOKBACK, decode_detection_ids


class DecidableEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An event the Notifier decides next: what its rules judge, and what finds the visit's
    earlier alerts. Made by :func:`events_after`; read by ``workflows/alert_decisions.py``."""

    facts: JudgedEvent
    detection_ids: list[int]
    # A backfill's reanalysis of past uploads: decided (the cursor passes it), never alerted.
    is_reanalysis: bool = False


async def _confidences(
    session: AsyncSession, ids: Sequence[int]
) -> dict[int, tuple[str, float, list[str]]]:
    """Each detection's class, confidence and zones; a thing that stayed put (a parked car,
    in a backfill's reanalysis of old batches) is left out: it is no event's reason, so no
    rule matches on it."""
    if not ids:
        return {}
    rows = await session.execute(
        select(Detection.id, Detection.object_type, Detection.confidence, Detection.zones).where(
            Detection.id.in_(list(ids)), Detection.stationary.is_(False)
        )
    )
    return {
        row.id: (row.object_type or "", row.confidence or 0.0, list(row.zones or []))
        for row in rows
    }


async def events_after(session: AsyncSession, after_id: int, limit: int) -> list[DecidableEvent]:
    """The events after ``after_id``, oldest first, with their classes' best confidences."""
    rows = (
        await session.scalars(
            select(Event).where(Event.id > after_id).order_by(Event.id).limit(limit)
        )
    ).all()
    ids = {row.id: decode_detection_ids(row.detection_ids) for row in rows}
    found = await _confidences(session, [i for listed in ids.values() for i in listed])
    verdicts = await incident_verdicts(session, [row.incident_id for row in rows])
    events = []
    for row in rows:
        best: dict[str, float] = {}
        zones: dict[str, None] = {}  # in the order first seen
        for detection_id in ids[row.id]:
            if detection_id in found:
                kind, confidence, stood_in = found[detection_id]
                best[kind] = max(best.get(kind, 0.0), confidence)
                zones.update(dict.fromkeys(stood_in))
        events.append(
            DecidableEvent(
                facts=JudgedEvent(
                    event_id=row.id,
                    camera_id=row.camera_id,
                    risk_score=row.risk_score,
                    risk_level=row.risk_level,
                    is_fast_path=row.is_fast_path,
                    started_at=row.started_at,
                    confidences=best,
                    house_mode=await house_modes.mode_at(session, row.started_at),
                    zones=tuple(zones),
                    incident_id=row.incident_id,
                    incident_risk_score=verdicts.get(row.incident_id, (None, None))[0],
                    incident_risk_level=verdicts.get(row.incident_id, (None, None))[1],
                ),
                detection_ids=ids[row.id],
                is_reanalysis=row.batch_id.startswith(REANALYSIS_PREFIX),
            )
        )
    return events


async def incident_verdicts(
    session: AsyncSession, incident_ids: Sequence[int | None]
) -> dict[int, tuple[int | None, str | None]]:
    """Each incident's score and band on the whole story, by id."""
    wanted = [i for i in set(incident_ids) if i is not None]
    if not wanted:
        return {}
    rows = await session.execute(
        select(Incident.id, Incident.risk_score, Incident.risk_level).where(Incident.id.in_(wanted))
    )
    return {row.id: (row.risk_score, row.risk_level) for row in rows}


class IncidentSoFar(msgspec.Struct, frozen=True, kw_only=True):
    """What an incident's alert decision reads: its other events and their cameras."""

    other_event_ids: list[int]
    other_cameras: frozenset[str]


async def incident_so_far(session: AsyncSession, incident_id: int, event_id: int) -> IncidentSoFar:
    """The incident's events other than ``event_id`` (every verdict of its visits), and the
    cameras they were on."""
    rows = (
        await session.execute(
            select(Event.id, Event.camera_id).where(
                Event.incident_id == incident_id, Event.id != event_id
            )
        )
    ).all()
    return IncidentSoFar(
        other_event_ids=[row.id for row in rows],
        other_cameras=frozenset(row.camera_id for row in rows),
    )


async def fast_path_events_of_same_visit(
    session: AsyncSession, camera_id: str, batch_detection_ids: Sequence[int], since: dt.datetime
) -> list[int]:
    """The fast-path events that the batch event with ``batch_detection_ids`` supersedes: the
    same camera's fast-path events whose detection the batch holds (a fast-path detection also
    joins its camera's normal batch). The one place that knows how a batch event finds its
    fast-path event; when events get a column linking them, only this function changes."""
    if not batch_detection_ids:
        return []
    held = set(batch_detection_ids)
    rows = await session.execute(
        select(Event.id, Event.detection_ids).where(
            Event.camera_id == camera_id,
            Event.is_fast_path.is_(True),
            Event.started_at >= since - LOOKBACK,
            Event.started_at <= since + LOOKBACK,
        )
    )
    return [
        row.id
        for row in rows
        if (ids := decode_detection_ids(row.detection_ids)) and set(ids) <= held
    ]


async def announced_event(session: AsyncSession, event_id: int) -> AnnouncedEvent | None:
    """The event as its alerts and its MQTT state tell it; None when it is gone."""
    row = (
        await session.execute(
            select(Event, Camera.name)
            .join(Camera, Camera.id == Event.camera_id)
            .where(Event.id == event_id)
        )
    ).first()
    if row is None:
        return None
    event, camera_name = row
    ids = decode_detection_ids(event.detection_ids)
    detections = (
        (
            await session.execute(
                select(
                    Detection.object_type,
                    Detection.confidence,
                    Detection.thumbnail_path,
                    Detection.file_path,
                )
                .where(Detection.id.in_(ids))
                .order_by(Detection.confidence.desc().nulls_last(), Detection.id)
            )
        ).all()
        if ids
        else []
    )
    kinds = tuple(dict.fromkeys(d.object_type for d in detections if d.object_type))
    thumbnail = next((d.thumbnail_path for d in detections if d.thumbnail_path), None)
    incident = (
        await session.get(Incident, event.incident_id) if event.incident_id is not None else None
    )
    return AnnouncedEvent(
        event_id=event.id,
        camera_id=event.camera_id,
        camera_name=camera_name,
        started_at=event.started_at,
        risk_level=event.risk_level,
        risk_score=event.risk_score,
        summary=event.summary,
        object_types=kinds,
        thumbnail_path=thumbnail,
        image_path=detections[0].file_path if detections else None,
        incident_id=incident.id if incident is not None else None,
        story=incident.summary if incident is not None else None,
        incident_risk_level=incident.risk_level if incident is not None else None,
        incident_risk_score=incident.risk_score if incident is not None else None,
    )


async def camera_names(session: AsyncSession) -> dict[str, str]:
    """Every camera's id and name (for Home Assistant's devices)."""
    rows = await session.execute(select(Camera.id, Camera.name).order_by(Camera.id))
    return {row.id: row.name for row in rows}


async def recent_events(session: AsyncSession, limit: int) -> list[JudgedEvent]:
    """The newest ``limit`` events, oldest first (what a rule's test replays)."""
    newest = (await session.scalars(select(Event.id).order_by(Event.id.desc()).limit(limit))).all()
    if not newest:
        return []
    decidable = await events_after(session, min(newest) - 1, limit)
    return [event.facts for event in decidable]
