"""What a backfill does, decided from plain facts: which files to ingest or recompute, which
events to analyse again, and how far along it is. The I/O lives in ``homesec.ops.backfill``.

Files are selected by their modification time (when the camera uploaded them), in local time:
``--since`` is inclusive, ``--until`` exclusive, and a bare date as ``--until`` means the end of
that day. Each file in the window gets one :class:`FileAction` or a :class:`SkipReason`:

- not in the ledger and no detections stored for it: ingested like the watcher would;
- ``rejected`` but its size changed since: ingested again (the watcher's rule for rewrites);
- ``done``, ``failed``, or unknown to the ledger yet with detections (stored by the reference
  implementation, which keeps no ledger): recomputed with ``--reprocess``, else skipped;
- ``queued``/``processing`` (the detector has it), ``duplicate`` and unchanged ``rejected``
  files: skipped; so are files younger than :data:`RECENT_SECONDS`, which the watcher may be
  settling right now.

Reanalysis never changes an event: risk analysis is immutable (the data-model contract). It
makes a new event of the same detections under the batch id ``reanalysis-<batch>-<run id>``, so
each original event is analysed at most once per run id, whoever runs it how often.
"""

from __future__ import annotations

import collections
import datetime as dt
import enum
import re
from collections.abc import Iterable, Sequence

import msgspec

from homesec.contract.enums import UploadStatus
from homesec.contract.jobs import AnalysisJob
from homesec.policy.cameras import CameraFolder, InvalidCameraId, normalize_camera_id

# A file modified this recently may be an upload the watcher is still settling: leave it to it.
RECENT_SECONDS = 60.0
REANALYSIS_PREFIX = "reanalysis-"
DEFAULT_RUN_ID = "1"
# Letters, digits, '_' and '.': no '-', so the run id is what follows the batch id's last '-'.
_RUN_ID = re.compile(r"[A-Za-z0-9_.]{1,32}")


class BackfillInputError(ValueError):
    """A backfill argument homesec cannot use; the message says which and why."""


# --- the time window ------------------------------------------------------------------------


class TimeWindow(msgspec.Struct, frozen=True):
    """``since <= t < until`` in epoch seconds; None leaves that side open."""

    since: float | None = None
    until: float | None = None

    def contains(self, epoch_seconds: float) -> bool:
        if self.since is not None and epoch_seconds < self.since:
            return False
        return self.until is None or epoch_seconds < self.until

    def bounds(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """The bounds as aware UTC datetimes, for queries."""
        return tuple(  # type: ignore[return-value]
            None if edge is None else dt.datetime.fromtimestamp(edge, dt.UTC)
            for edge in (self.since, self.until)
        )


def parse_local_time(text: str, zone: dt.tzinfo | None, *, end_of_day: bool = False) -> float:
    """``2025-12-23``, ``2025-12-23T08:30`` or ``2025-12-23 08:30:15`` (an explicit offset wins)
    in ``zone`` (None: this machine's zone) -> epoch seconds. A bare date is its midnight, or
    with ``end_of_day`` the next midnight, so ``--until 2025-12-23`` includes that day."""
    value = text.strip()
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise BackfillInputError(
            f"{text!r} is not a date or time: use 2025-12-23 or 2025-12-23T08:30"
        ) from None
    is_bare_date = len(value) == len("2025-12-23")
    if is_bare_date and end_of_day:
        moment += dt.timedelta(days=1)
    if moment.tzinfo is None:
        # astimezone(None) reads a naive time as this machine's local time.
        moment = moment.replace(tzinfo=zone) if zone is not None else moment.astimezone()
    return moment.timestamp()


def time_window(since: str | None, until: str | None, zone: dt.tzinfo | None) -> TimeWindow:
    window = TimeWindow(
        since=parse_local_time(since, zone) if since else None,
        until=parse_local_time(until, zone, end_of_day=True) if until else None,
    )
    if window.since is not None and window.until is not None and window.since >= window.until:
        raise BackfillInputError(f"--since {since} is not before --until {until}")
    return window


def check_run_id(run_id: str) -> str:
    if not _RUN_ID.fullmatch(run_id):
        raise BackfillInputError(
            f"--run-id {run_id!r}: use 1 to 32 letters, digits, '_' or '.' (no '-')"
        )
    return run_id


# --- files ----------------------------------------------------------------------------------


class FileFacts(msgspec.Struct, frozen=True, kw_only=True):
    """One file in a camera folder, with what PostgreSQL knows of it."""

    camera_id: str
    path: str
    size: int
    mtime: float
    status: str | None = None  # its uploads row's, None: no row
    ledger_size: int | None = None
    has_detections: bool = False


class FileAction(enum.StrEnum):
    INGEST = "ingest"  # validate, deduplicate, record, enqueue: the watcher's way
    REPROCESS = "reprocess"  # replace its detections: delete them, enqueue it again


class SkipReason(enum.StrEnum):
    RECENT = "modified in the last minute: left to the watcher"
    IN_PROGRESS = "queued or processing: the detector has it"
    DONE = "done (--reprocess recomputes it)"
    FAILED = "failed (--reprocess tries it again)"
    DETECTED_WITHOUT_LEDGER = "has detections but no ledger row (--reprocess recomputes it)"
    DUPLICATE = "duplicate of another upload"
    REJECTED = "rejected, unchanged since"


def decide_file(
    facts: FileFacts, *, reprocess: bool, recent_after: float
) -> FileAction | SkipReason:
    """What the backfill does with one file of its window."""
    if facts.mtime >= recent_after:
        return SkipReason.RECENT
    status = facts.status
    if status is None:
        if not facts.has_detections:
            return FileAction.INGEST
        return FileAction.REPROCESS if reprocess else SkipReason.DETECTED_WITHOUT_LEDGER
    if status == UploadStatus.REJECTED:
        return FileAction.INGEST if facts.size != facts.ledger_size else SkipReason.REJECTED
    if status in (UploadStatus.QUEUED, UploadStatus.PROCESSING):
        return SkipReason.IN_PROGRESS
    if status == UploadStatus.DUPLICATE:
        return SkipReason.DUPLICATE
    if status == UploadStatus.DONE:
        return FileAction.REPROCESS if reprocess else SkipReason.DONE
    return FileAction.REPROCESS if reprocess else SkipReason.FAILED


class FileWork(msgspec.Struct, frozen=True):
    action: FileAction
    camera_id: str
    path: str


class FilePlan(msgspec.Struct, frozen=True):
    work: list[FileWork]  # oldest first
    skipped: dict[str, int]  # SkipReason value -> files


def plan_files(
    files: Iterable[FileFacts], window: TimeWindow, *, reprocess: bool, now: float
) -> FilePlan:
    """The work for every file of ``window``, oldest upload first, and the skipped counted."""
    work: list[tuple[float, FileWork]] = []
    skipped: collections.Counter[str] = collections.Counter()
    for facts in files:
        if not window.contains(facts.mtime):
            continue
        decision = decide_file(facts, reprocess=reprocess, recent_after=now - RECENT_SECONDS)
        if isinstance(decision, SkipReason):
            skipped[decision.value] += 1
        else:
            work.append((facts.mtime, FileWork(decision, facts.camera_id, facts.path)))
    work.sort(key=lambda item: (item[0], item[1].path))
    return FilePlan(work=[item for _, item in work], skipped=dict(skipped))


# --- events ---------------------------------------------------------------------------------


def reanalysis_batch_id(original_batch_id: str, run_id: str) -> str:
    return f"{REANALYSIS_PREFIX}{original_batch_id}-{run_id}"


def is_reanalysis_batch(batch_id: str) -> bool:
    """True for an event a backfill made; such events are never analysed again themselves."""
    return batch_id.startswith(REANALYSIS_PREFIX)


class OriginalEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An original event, as much of it as a reanalysis needs."""

    batch_id: str
    camera_id: str
    is_fast_path: bool
    detection_ids: list[int]  # as the event recorded them
    started_at: float
    ended_at: float | None = None


class ReanalysisSkip(enum.StrEnum):
    ALREADY = "already reanalysed under this run id"
    NO_DETECTIONS = "none of its detections remain (retention, or --reprocess replaced them)"


class ReanalysisPlan(msgspec.Struct, frozen=True):
    jobs: list[AnalysisJob]
    skipped: dict[str, int]


def plan_reanalysis(
    events: Iterable[OriginalEvent],
    remaining_detection_ids: set[int],
    existing_batch_ids: set[str],
    run_id: str,
) -> ReanalysisPlan:
    """One analysis job per original event that has no reanalysis under ``run_id`` yet and
    still has detections; the job carries those of its detections that remain."""
    jobs: list[AnalysisJob] = []
    skipped: collections.Counter[str] = collections.Counter()
    for event in sorted(events, key=lambda e: (e.started_at, e.batch_id)):
        if is_reanalysis_batch(event.batch_id):
            continue
        batch_id = reanalysis_batch_id(event.batch_id, run_id)
        if batch_id in existing_batch_ids:
            skipped[ReanalysisSkip.ALREADY.value] += 1
            continue
        remaining = [d for d in event.detection_ids if d in remaining_detection_ids]
        if not remaining:
            skipped[ReanalysisSkip.NO_DETECTIONS.value] += 1
            continue
        jobs.append(
            AnalysisJob(
                batch_id=batch_id,
                camera_id=event.camera_id,
                detection_ids=remaining,
                is_fast_path=event.is_fast_path,
                started_at=event.started_at,
                ended_at=event.ended_at,
            )
        )
    return ReanalysisPlan(jobs=jobs, skipped=dict(skipped))


# --- progress -------------------------------------------------------------------------------


def format_duration(seconds: float) -> str:
    """``45 s``, ``3 min 05 s``, ``2 h 10 min``."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


class ProgressMeter:
    """Counts finished items against a total; the rate comes from the last ``window_seconds``
    (a backfill slows down whenever live uploads come first), the time left from that rate."""

    def __init__(self, total: int, started_at: float, window_seconds: float = 60.0) -> None:
        self.total = total
        self.started_at = started_at
        self.window_seconds = window_seconds
        self.done = 0
        self._samples: collections.deque[tuple[float, int]] = collections.deque([(started_at, 0)])

    def update(self, done: int, now: float) -> None:
        self.done = min(done, self.total)
        self._samples.append((now, self.done))
        # Keep one sample at or before the window's start, so the rate spans the whole window.
        while len(self._samples) > 2 and self._samples[1][0] <= now - self.window_seconds:
            self._samples.popleft()

    @property
    def finished(self) -> bool:
        return self.done >= self.total

    def rate(self) -> float | None:
        """Items per second over the window; None before the first item finished."""
        if self.done == 0:
            return None
        (first_at, first_done), (last_at, last_done) = self._samples[0], self._samples[-1]
        if last_at <= first_at:
            return None
        return (last_done - first_done) / (last_at - first_at)

    def seconds_left(self) -> float | None:
        """None while the rate is unknown or nothing finished lately."""
        if self.finished:
            return 0.0
        rate = self.rate()
        return (self.total - self.done) / rate if rate else None

    def line(self, label: str, now: float) -> str:
        percent = 100 * self.done / self.total if self.total else 100.0
        parts = [f"{label}: {self.done}/{self.total} done ({percent:.0f}%)"]
        rate = self.rate()
        parts.append("rate not known yet" if rate is None else f"{rate:.2f}/s")
        if not self.finished:
            left = self.seconds_left()
            parts.append(
                "time left unknown" if left is None else f"about {format_duration(left)} left"
            )
        parts.append(f"{format_duration(now - self.started_at)} elapsed")
        return ", ".join(parts)


def select_cameras(cameras: Iterable[CameraFolder], wanted: Sequence[str]) -> list[CameraFolder]:
    """The cameras named in ``wanted`` (folder names or ids), or all of them, by id."""
    cameras = sorted(cameras, key=lambda camera: camera.camera_id)
    if not wanted:
        return cameras
    by_id = {camera.camera_id: camera for camera in cameras}
    chosen: dict[str, CameraFolder] = {}
    for name in wanted:
        try:
            camera_id = normalize_camera_id(name)
        except InvalidCameraId:
            camera_id = name
        if camera_id not in by_id:
            known = ", ".join(by_id) or "none yet"
            raise BackfillInputError(f"--camera {name}: no such camera (known: {known})")
        chosen[camera_id] = by_id[camera_id]
    return list(chosen.values())
