"""The Detector's decisions, of plain data: which entries are jobs, which boxes a house keeps, what
a failure leads to, which jobs of a batch need the model, and what goes to each camera's Batcher.

:mod:`homesec.workflows.detection` does the I/O around them; the Detector's shell
(:mod:`homesec.actors.detector`) runs that workflow under Ray.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Collection, Mapping, Sequence
from typing import Protocol, TypeVar

import msgspec

from homesec.contract.analysis import Detection
from homesec.contract.jobs import DetectionJob, StoredDetection
from homesec.policy.cameras import InvalidCameraId, normalize_camera_id
from homesec.policy.scene import kept_by_house


class MalformedJob(ValueError):
    """A queue entry that is not a detection job."""


def parse_job(entry_id: str, payload: str) -> DetectionJob:
    """The detection job in an entry's payload; :class:`MalformedJob` when it is not one, or when
    its camera id is not a normalised one (the id names the thumbnails' folder)."""
    try:
        job = msgspec.json.decode(payload, type=DetectionJob)
    except msgspec.DecodeError as exc:  # ValidationError included
        raise MalformedJob(f"entry {entry_id} is not a detection job: {exc}") from exc
    try:
        valid_camera = normalize_camera_id(job.camera_id) == job.camera_id
    except InvalidCameraId:
        valid_camera = False
    if not valid_camera:
        raise MalformedJob(f"entry {entry_id} names no valid camera: {job.camera_id!r}")
    return job


def choose_device(ray_gpu_ids: Sequence[object], configured: str) -> str:
    """``cuda`` when Ray gave this actor a GPU (it points ``CUDA_VISIBLE_DEVICES`` there), else
    the configured ``DETECTOR_DEVICE``, whose ``auto`` the engine resolves: cuda if torch sees a
    GPU, else cpu."""
    return "cuda" if ray_gpu_ids else configured


def kept_detections(
    found: Sequence[Sequence[Detection]], threshold: float, classes: tuple[str, ...]
) -> list[list[Detection]]:
    """Each image's boxes a house keeps: confident enough (``DETECTION_CONFIDENCE_THRESHOLD``;
    engines filter by it already, a test engine or a future one may not) and of a class it cares
    about (``DETECTION_OBJECT_TYPES``). Only these are stored and batched."""
    return [
        [d for d in per_image if kept_by_house(d.object_type, d.confidence, threshold, classes)]
        for per_image in found
    ]


# --- failures ------------------------------------------------------------------------------------
class Step(enum.Enum):
    """What a job's failure leads to."""

    HOLD = "hold"  # a dependency is away: the whole batch waits for it, no attempt is counted
    DEAD_LETTER = "dead letter"  # retrying cannot help: to the dead-letter queue at once
    RETRY = "retry"  # its own failure: retried with backoff, dead-lettered past MAX_RETRIES


def after_failure(error: BaseException, *, outage: bool) -> Step:
    """``outage``: the error is PostgreSQL or Redis being away (``store.outages`` tells).
    Permanent: a payload that is not a job, an upload whose file is gone (a camera never sends
    the same file again; a person can requeue it from the DLQ once it is back), and a row the
    database refuses (the upload's camera deleted meanwhile)."""
    if outage:
        return Step.HOLD
    if isinstance(error, MalformedJob | FileNotFoundError) or refused_by_database(error):
        return Step.DEAD_LETTER
    return Step.RETRY


def refused_by_database(error: BaseException) -> bool:
    """An integrity violation (a foreign key, a constraint): SQLAlchemy's ``IntegrityError`` or
    a subclass of it, told by name since this floor does not import SQLAlchemy."""
    return any(
        cls.__name__ == "IntegrityError" and cls.__module__.startswith("sqlalchemy.")
        for cls in type(error).__mro__
    )


def one_by_one_after(batch_size: int) -> bool:
    """Whether a batch the engine (or the batch's transaction) failed is tried image by image:
    so one image that cannot be taken fails alone rather than spending its batch-mates'
    attempts with its own. A batch of one has nothing to split: its job failed."""
    return batch_size > 1


# --- the batch at hand ---------------------------------------------------------------------------
def read_more(*, holding: bool, held_for_batchers: bool) -> bool:
    """Whether the next round reads new entries. Entries held across an outage are done again
    alone; entries held only for a Batcher that is away let new work join them, so one camera's
    Batcher stalls no other camera."""
    return not holding or held_for_batchers


class Queued(Protocol):
    """One job of the batch at hand, as the workflow carries it (with its queue entry)."""

    @property
    def job(self) -> DetectionJob: ...


Q = TypeVar("Q", bound=Queued)


def to_detect(work: Sequence[Q], stored: Collection[str]) -> list[Q]:
    """The jobs that need the model: those whose file has no stored detections (a redelivered
    job whose detections are stored only has its hand-over left), each file once. After Redis
    lost its data the watchers enqueue the ledger's queued uploads again, so one batch can hold
    two entries of one file."""
    fresh: dict[str, Q] = {}
    for item in work:
        if item.job.file_path not in stored:
            fresh.setdefault(item.job.file_path, item)
    return list(fresh.values())


def hand_over_plan(
    work: Sequence[Q], stored: Mapping[str, list[StoredDetection]]
) -> dict[str, list[tuple[Q, list[StoredDetection]]]]:
    """The jobs whose detections are stored, by camera, each with what it hands over: its
    file's detections, given once (a second entry of the same file rides along with none),
    less the stationary ones (a parked car: stored, but it opens no visit and fires no fast
    path). Jobs not stored (they failed) are left out."""
    by_camera: dict[str, list[tuple[Q, list[StoredDetection]]]] = {}
    handed: set[str] = set()
    for item in work:
        detections = stored.get(item.job.file_path)
        if detections is None:
            continue
        first = item.job.file_path not in handed
        handed.add(item.job.file_path)
        moving = [detection for detection in detections if not detection.stationary]
        by_camera.setdefault(item.job.camera_id, []).append((item, moving if first else []))
    return by_camera


def latency_samples(accepted: Sequence[str], now: dt.datetime) -> list[float]:
    """Seconds from each upload's acceptance (its job's ISO ``timestamp``, UTC when naive) to
    ``now``, never negative. A timestamp that is not ISO raises ``ValueError``."""
    samples = []
    for timestamp in accepted:
        at = dt.datetime.fromisoformat(timestamp)
        if at.tzinfo is None:
            at = at.replace(tzinfo=dt.UTC)
        samples.append(max(0.0, (now - at).total_seconds()))
    return samples


class BatchersAway(msgspec.Struct, frozen=True):
    """Cameras whose Batcher could not be reached, and why the first could not: their jobs'
    detections are stored and their hand-over is held (neither acknowledged nor counted as a
    failed attempt)."""

    cameras: list[str]
    reason: str

    @classmethod
    def of(cls, errors: Mapping[str, object]) -> BatchersAway:
        """From each camera's error, in the order they were met."""
        return cls(cameras=sorted(errors), reason=str(next(iter(errors.values()))))

    def __str__(self) -> str:
        return f"the batcher of {', '.join(self.cameras)} cannot be reached: {self.reason}"
