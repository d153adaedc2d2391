"""What the Analyst reads and writes for one analysis job, across the tables: one read, one write.

- :func:`read_analysis`, in one session: the batch's event if it has one (a redelivery: nothing
  is scored again), else the camera and the batch's detections that remain
  (:mod:`homesec.store.detections`, :mod:`homesec.store.cameras`, :mod:`homesec.store.events`),
  the camera's habits at the batch's local hour (:mod:`homesec.store.baselines`) and the
  owner's feedback (:mod:`homesec.store.event_feedback`) and the house's mode
  (:mod:`homesec.store.house_modes`), all as of when its first picture was taken.
  Also the incident it would join as things stand (:mod:`homesec.store.incidents`): other
  cameras' visits just before it, for the engine to score the whole story.
- :func:`record_event`, in one transaction: the event (``INSERT ... ON CONFLICT (batch_id) DO
  NOTHING``, linked to the visit's other verdict), its incident (joined or started, decided
  again under the incidents' lock) and, when this call wrote it and it is a visit, the visit
  counted in the camera's baselines; all happen or none.
"""

from __future__ import annotations

import datetime as dt

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.contract.analysis import (
    CameraBaseline,
    CameraCalibration,
    IncidentVisit,
    RiskAssessment,
    ScoredBy,
    StationaryThing,
)
from homesec.contract.jobs import AnalysisJob
from homesec.policy.analysis_context import local_start
from homesec.policy.backfill_plan import is_reanalysis_batch
from homesec.policy.batching import continuation_batch_id
from homesec.policy.scene import kind_of
from homesec.settings import RiskBands
from homesec.store import (
    baselines,
    detections,
    event_feedback,
    events,
    house_modes,
    incidents,
    stationary,
)
from homesec.store.detections import StoredBatch
from homesec.store.events import StoredEvent


class ToAnalyse(msgspec.Struct, frozen=True, kw_only=True):
    """A batch with no event yet, and what its scoring needs to know."""

    job: AnalysisJob  # the entry's job, or its continuation (see read_analysis)
    batch: StoredBatch
    local_start: dt.datetime  # its first picture, in the house's zone
    baseline: CameraBaseline
    calibration: CameraCalibration | None
    house_mode: str = "home"  # in force when its first picture was taken
    # What stayed put in the batch's frames (a parked car): context for the LLM, not a reason.
    stationary: tuple[StationaryThing, ...] = ()
    earlier: tuple[StoredEvent, ...] = ()  # events of the entry's batch id before `job`'s
    # The incident it would join as read: other cameras' visits just before it, oldest first.
    incident_so_far: tuple[IncidentVisit, ...] = ()


class IncidentRules(msgspec.Struct, frozen=True, kw_only=True):
    """How the Analyst's write places a new event in an incident: the window
    (INCIDENT_WINDOW_SECONDS; 0: incidents off), the house's zone (the story's times) and the
    risk bands (the incident's band)."""

    window_seconds: float = 0
    zone: dt.tzinfo | None = None
    bands: RiskBands = RiskBands()


class AlreadyWritten(msgspec.Struct, frozen=True, kw_only=True):
    """The batch has its event (a redelivery): publish it if need be, score nothing."""

    event: StoredEvent
    earlier: tuple[StoredEvent, ...] = ()  # the chain's events before it, to publish as well


class NothingLeft(msgspec.Struct, frozen=True, kw_only=True):
    """None of the batch's detections remain (retention, the camera deleted, every one already
    in another event): no event."""

    earlier: tuple[StoredEvent, ...] = ()


AnalysisRead = ToAnalyse | AlreadyWritten | NothingLeft


async def read_analysis(
    sessions: async_sessionmaker[AsyncSession],
    job: AnalysisJob,
    zone: dt.tzinfo | None,
    half_life_days: float,
    incident_window_seconds: float = 0,
) -> AnalysisRead:
    """Everything the job's analysis reads, in one session.

    A batch whose id has an event is a redelivery, unless it holds detections that event does
    not: a batch rebuilt after Redis lost its data took an older batch's id (its first
    detection is that batch's first). Those detections are analysed as the job's continuation
    (:func:`~homesec.policy.batching.continuation_batch_id`), whose own event a redelivery
    finds in turn; the events met on the way come back in ``earlier``, to be published.
    """
    earlier: list[StoredEvent] = []
    async with sessions() as session:
        while (event := await events.event_of_batch(session, job.batch_id)) is not None:
            if job.is_fast_path or is_reanalysis_batch(job.batch_id):
                return AlreadyWritten(event=event)
            held = set(await events.held_by_batch_in(session, job.batch_id))
            rest = [detection_id for detection_id in job.detection_ids if detection_id not in held]
            if not rest:
                return AlreadyWritten(event=event, earlier=tuple(earlier))
            earlier.append(event)
            job = msgspec.structs.replace(
                job, batch_id=continuation_batch_id(job.batch_id, rest[0]), detection_ids=rest
            )
        batch = await detections.batch_in(session, job)
        if batch is None:
            return NothingLeft(earlier=tuple(earlier))
        started = local_start(batch.detections, zone)
        baseline = await baselines.baseline_in(session, job.camera_id, started, half_life_days)
        calibration = await event_feedback.calibration_in(session, job.camera_id, started)
        mode = await house_modes.mode_at(session, started)
        parked = await stationary.stationary_in_frames_in(
            session, job.camera_id, {d.image for d in batch.detections if d.image}
        )
        story: list[IncidentVisit] = []
        if incident_window_seconds > 0 and not is_reanalysis_batch(job.batch_id):
            times = [d.happened_at for d in batch.detections]
            story = await incidents.story_before_in(
                session, job.camera_id, min(times), max(times), incident_window_seconds
            )
    return ToAnalyse(
        job=job,
        batch=batch,
        local_start=started,
        baseline=baseline,
        calibration=calibration,
        house_mode=mode,
        stationary=tuple(parked),
        earlier=tuple(earlier),
        incident_so_far=tuple(story),
    )


async def record_event(
    sessions: async_sessionmaker[AsyncSession],
    job: AnalysisJob,
    read: ToAnalyse,
    assessment: RiskAssessment,
    risk_level: str,
    scored_by: ScoredBy,
    half_life_days: float,
    incident_rules: IncidentRules | None = None,
) -> tuple[StoredEvent, bool]:
    """Write the batch's event, place it in its incident and count its visit, in one
    transaction; returns the event and whether this call wrote it (False: another analyst was
    first, and did all of it)."""
    joins = incident_rules is not None and incident_rules.window_seconds > 0
    async with sessions.begin() as session:
        if joins:
            await incidents.lock_joins_in(session)  # before any event row is locked
        event, inserted = await events.insert_event_in(
            session, job, read.batch, assessment, risk_level, scored_by=scored_by
        )
        if inserted and incident_rules is not None:
            joined = await incidents.join_in(
                session,
                event.id,
                window_seconds=incident_rules.window_seconds,
                zone=incident_rules.zone,
                bands=incident_rules.bands,
            )
            if joined is not None:
                event = msgspec.structs.replace(event, incident_id=joined.incident_id)
        # A continuation is the rest of a visit its first event counted already.
        visit = baselines.counts_as_visit(job.batch_id, job.is_fast_path) and not read.earlier
        if inserted and visit:
            kinds = {kind_of(d.object_type) for d in read.batch.detections}
            await baselines.record_visit(
                session, job.camera_id, read.local_start, kinds, half_life_days
            )
    return event, inserted
