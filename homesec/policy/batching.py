"""Batching policy: the pure core of a camera's Batcher.

A camera's detections gather in one open batch that closes when the first of these happens:

- ``window``: ``window_seconds`` (90) have passed since it opened;
- ``idle``: ``idle_seconds`` (30) have passed since its last detection;
- ``full``: it holds ``max_detections``; the rest of the arrivals go into a new batch.

A closed batch becomes an :class:`AnalysisJob` for the ``analysis_queue``.

**Fast path.** A detection of a ``fast_path_object_types`` class at or above
``fast_path_confidence`` is analysed at once as its own event (``is_fast_path``), unless the
camera's fast path fired less than ``fast_path_cooldown_seconds`` ago, so a person standing in
view does not flood the LLM. Unlike the reference implementation, where a fast-path detection
skips the batch, here it *also joins the normal batch*: the fast event is the immediate alert,
the batch's event the full account of the scene, and the batch's LLM call would otherwise miss
the very detection that mattered most (and during cooldown it must land somewhere anyway).

**Idempotency.** Batch ids are deterministic: a batch's id is a UUID derived from its camera
and first detection id, a fast-path job's id is ``fast-{detection_id}``. A shell that crashes
between enqueuing a job and saving the new state, or a redelivered detection, produces the same
batch id again, and the Analyst (``events.batch_id`` unique) makes no second event. Closing is
idempotent for the same reason: the same state always closes into the same job. The price:
after Redis lost its data a rebuilt batch can start with a detection an older batch started
with, and take that batch's id while holding later detections too; the Analyst gives those
their own event under :func:`continuation_batch_id`, so none is left out.

Times are float epoch seconds (``time.time()``), as stored in the contract's ``batch:*`` keys.
Shell recipe: load the state (:meth:`BatchState.from_redis_values`), call
:func:`on_detections` or, on its timer (:func:`next_deadline`), :func:`on_tick`; enqueue the
jobs, then save ``decision.state`` (or delete the keys when it is None).
"""

from __future__ import annotations

import enum
import json
import uuid
from collections.abc import Sequence

import msgspec

from homesec.contract import keys
from homesec.contract.jobs import AnalysisJob
from homesec.settings import Settings

# Fixed namespace for batch ids: uuid5(namespace, "camera:first_detection_id") is stable across
# processes and restarts, and still the UUID the contract expects in events.batch_id.
BATCH_ID_NAMESPACE = uuid.UUID("0f1b6d1e-6a53-4c52-9a38-5b1f0b7c2e11")


class BatchPolicy(msgspec.Struct, frozen=True, kw_only=True):
    window_seconds: float = 90.0
    idle_seconds: float = 30.0
    max_detections: int = 500
    fast_path_confidence: float = 0.9
    fast_path_object_types: frozenset[str] = frozenset({"person"})
    fast_path_cooldown_seconds: float = 60.0

    @classmethod
    def from_settings(cls, settings: Settings) -> BatchPolicy:
        return cls(
            window_seconds=settings.batch_window_seconds,
            idle_seconds=settings.batch_idle_timeout_seconds,
            max_detections=settings.batch_max_detections,
            fast_path_confidence=settings.fast_path_confidence_threshold,
            fast_path_object_types=frozenset(t.lower() for t in settings.fast_path_object_types),
            fast_path_cooldown_seconds=settings.fast_path_cooldown_seconds,
        )


class StoredDetection(msgspec.Struct, frozen=True):
    """What the Detector hands the Batcher for each detection it has written."""

    detection_id: int
    object_type: str
    confidence: float


class CloseReason(enum.StrEnum):
    FULL = "full"
    WINDOW = "window"
    IDLE = "idle"


class BatchState(msgspec.Struct, frozen=True, kw_only=True):
    """A camera's open batch: the contract's ``batch:*`` keys as one value."""

    batch_id: str
    camera_id: str
    detection_ids: tuple[int, ...]
    started_at: float
    last_activity: float

    def to_job(self) -> AnalysisJob:
        return AnalysisJob(
            batch_id=self.batch_id,
            camera_id=self.camera_id,
            detection_ids=list(self.detection_ids),
            started_at=self.started_at,
            ended_at=self.last_activity,
        )

    def redis_values(self) -> dict[str, str]:
        """Key -> value for every ``batch:*`` key of this batch (``current`` pointer included),
        in the contract's encoding; the shell writes them with ``keys.BATCH_KEY_TTL_SECONDS``."""
        return {
            keys.batch_current(self.camera_id): self.batch_id,
            keys.batch_camera(self.batch_id): self.camera_id,
            keys.batch_detections(self.batch_id): json.dumps(list(self.detection_ids)),
            keys.batch_started_at(self.batch_id): repr(self.started_at),
            keys.batch_last_activity(self.batch_id): repr(self.last_activity),
        }

    @classmethod
    def from_redis_values(
        cls,
        batch_id: str | bytes,
        camera_id: str | bytes | None,
        detections: str | bytes | None,
        started_at: str | bytes | None,
        last_activity: str | bytes | None,
    ) -> BatchState | None:
        """Rebuild a state from the values of :func:`homesec.contract.keys.batch_keys`, in order.

        None when a key is missing (expired) or garbled: there is no usable open batch.
        """
        values = (camera_id, detections, started_at, last_activity)
        if any(value is None for value in values):
            return None
        try:
            camera, ids, started, last = (_text(value) for value in values)
            detection_ids = tuple(int(item) for item in json.loads(ids))
            return cls(
                batch_id=_text(batch_id),
                camera_id=camera,
                detection_ids=detection_ids,
                started_at=float(started),
                last_activity=float(last),
            )
        except (ValueError, TypeError):  # UnicodeDecodeError and JSONDecodeError included
            return None


def _text(value: str | bytes | None) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class ClosedBatch(msgspec.Struct, frozen=True):
    job: AnalysisJob
    reason: CloseReason


class BatchUpdate(msgspec.Struct, frozen=True):
    """The open batch after an event (None: no open batch) and the batches it closed."""

    state: BatchState | None
    closed: tuple[ClosedBatch, ...] = ()


class BatcherDecision(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the shell has to do after one call: enqueue ``jobs`` in order, save ``state``,
    remember ``fast_path_fired_at`` (the camera's cooldown clock)."""

    state: BatchState | None
    jobs: tuple[AnalysisJob, ...]
    closed: tuple[ClosedBatch, ...] = ()
    fast_path_fired_at: float | None = None


def batch_id_for(camera_id: str, first_detection_id: int) -> str:
    return str(uuid.uuid5(BATCH_ID_NAMESPACE, f"{camera_id}:{first_detection_id}"))


def continuation_batch_id(batch_id: str, first_detection_id: int) -> str:
    """The id under which a batch's detections that an older event of the same id lacks are
    analysed. A batch rebuilt after Redis lost its data can be opened by a detection an event
    already started with, so it gets that event's id while it holds later detections too; this
    id is as deterministic as the first, so a redelivery finds the continuation's event."""
    return str(uuid.uuid5(BATCH_ID_NAMESPACE, f"{batch_id}+{first_detection_id}"))


def fast_path_batch_id(detection_id: int) -> str:
    return f"fast-{detection_id}"


def should_close(state: BatchState | None, now: float, policy: BatchPolicy) -> CloseReason | None:
    """Why ``state`` must close at ``now``, or None. Each limit closes at its exact boundary."""
    if state is None:
        return None
    if len(state.detection_ids) >= policy.max_detections:
        return CloseReason.FULL
    if now - state.started_at >= policy.window_seconds:
        return CloseReason.WINDOW
    if now - state.last_activity >= policy.idle_seconds:
        return CloseReason.IDLE
    return None


def next_deadline(state: BatchState | None, policy: BatchPolicy) -> float | None:
    """When ``state`` closes if nothing else arrives: the time the shell's timer should fire."""
    if state is None:
        return None
    return min(state.started_at + policy.window_seconds, state.last_activity + policy.idle_seconds)


def on_tick(state: BatchState | None, now: float, policy: BatchPolicy) -> BatchUpdate:
    """Close ``state`` if it is due; calling it again with the result does nothing more."""
    reason = should_close(state, now, policy)
    if state is None or reason is None:
        return BatchUpdate(state)
    return BatchUpdate(None, (ClosedBatch(state.to_job(), reason),))


def add(
    state: BatchState | None,
    camera_id: str,
    detection_ids: Sequence[int],
    now: float,
    policy: BatchPolicy,
) -> BatchUpdate:
    """Add detections to the camera's open batch, opening and closing batches as needed.

    A batch already due at ``now`` closes first (a late timer must not stretch it); ids already
    in the open batch are skipped (a redelivery); a batch that reaches ``max_detections``
    closes at once and the remaining ids open the next one.
    """
    if state is not None and state.camera_id != camera_id:
        raise ValueError(f"batch {state.batch_id} belongs to {state.camera_id}, not {camera_id}")
    closed: list[ClosedBatch] = []
    due = on_tick(state, now, policy)
    state = due.state
    closed.extend(due.closed)
    seen = set(state.detection_ids) if state is not None else set()
    for detection_id in detection_ids:
        if detection_id in seen:
            continue
        seen.add(detection_id)
        if state is None:
            state = BatchState(
                batch_id=batch_id_for(camera_id, detection_id),
                camera_id=camera_id,
                detection_ids=(detection_id,),
                started_at=now,
                last_activity=now,
            )
        else:
            state = msgspec.structs.replace(
                state, detection_ids=(*state.detection_ids, detection_id), last_activity=now
            )
        if len(state.detection_ids) >= policy.max_detections:
            closed.append(ClosedBatch(state.to_job(), CloseReason.FULL))
            state = None
    return BatchUpdate(state, tuple(closed))


def fast_path_candidate(
    detections: Sequence[StoredDetection], policy: BatchPolicy
) -> StoredDetection | None:
    """The detection worth an immediate event: the most confident eligible one (lowest id on a
    tie, so the choice is stable), or None."""
    eligible = [
        detection
        for detection in detections
        if detection.object_type.lower() in policy.fast_path_object_types
        and detection.confidence >= policy.fast_path_confidence
    ]
    if not eligible:
        return None
    return min(eligible, key=lambda d: (-d.confidence, d.detection_id))


def fast_path_cooling_down(last_fired_at: float | None, now: float, policy: BatchPolicy) -> bool:
    if last_fired_at is None or now < last_fired_at:
        # Never fired, or a clock that went backwards: a stale record must not silence alerts.
        return False
    return now - last_fired_at < policy.fast_path_cooldown_seconds


def fast_path_job(camera_id: str, detection: StoredDetection, now: float) -> AnalysisJob:
    return AnalysisJob(
        batch_id=fast_path_batch_id(detection.detection_id),
        camera_id=camera_id,
        detection_ids=[detection.detection_id],
        is_fast_path=True,
        started_at=now,
        ended_at=now,
    )


def on_detections(
    state: BatchState | None,
    camera_id: str,
    detections: Sequence[StoredDetection],
    now: float,
    policy: BatchPolicy,
    fast_path_last_fired_at: float | None,
) -> BatcherDecision:
    """The Batcher's whole decision for newly stored detections of one camera.

    Jobs come in enqueue order: the fast-path job first (it is the urgent one), then any batches
    closed. ``fast_path_fired_at`` is ``now`` when the fast path fired, else the input unchanged.
    """
    jobs: list[AnalysisJob] = []
    fired_at = fast_path_last_fired_at
    candidate = fast_path_candidate(detections, policy)
    if candidate is not None and not fast_path_cooling_down(fast_path_last_fired_at, now, policy):
        jobs.append(fast_path_job(camera_id, candidate, now))
        fired_at = now
    update = add(state, camera_id, [d.detection_id for d in detections], now, policy)
    jobs.extend(closed.job for closed in update.closed)
    return BatcherDecision(
        state=update.state, jobs=tuple(jobs), closed=update.closed, fast_path_fired_at=fired_at
    )
