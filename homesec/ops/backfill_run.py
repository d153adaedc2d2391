"""One backfill run: plan from PostgreSQL and the camera folders, queue the work a little at a
time, follow it to the end with a progress line every few seconds, and sum it up.

Throttle: before each job the backfill waits while its queue holds ``--max-backlog`` entries
or more. The detectors delete what they acknowledge, so the stream's length is the backlog
itself, live uploads' entries included: a live upload never waits behind more than that many
backfill jobs.

Idempotent: what a run queued is recorded where the next run's plan looks (the ledger, the
events' batch ids), and the pipeline's handlers are idempotent themselves. An interrupted run
leaves its queued jobs to the service; running it again picks up the rest.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import TypeVar

import msgspec
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.actors import ray_gateway
from homesec.contract import actor_names, keys
from homesec.contract.enums import UploadStatus
from homesec.contract.errors import HomesecError
from homesec.contract.jobs import AnalysisJob, DetectionJob
from homesec.files.uploads import list_files
from homesec.ops.backfill import BackfillOptions
from homesec.policy.backfill_plan import (
    FileAction,
    FileFacts,
    FilePlan,
    FileWork,
    ProgressMeter,
    ReanalysisPlan,
    TimeWindow,
    format_duration,
    plan_files,
    plan_reanalysis,
    reanalysis_batch_id,
    select_cameras,
    time_window,
)
from homesec.policy.cameras import CameraFolder
from homesec.policy.retry import utc_iso
from homesec.policy.uploads import FileSeen, ledger_path
from homesec.settings import Settings, local_zone
from homesec.store import baselines, streams
from homesec.store import cameras as store_cameras
from homesec.store import detections as store_detections
from homesec.store import events as store_events
from homesec.store import uploads as store_uploads
from homesec.store.database import create_engine, session_factory
from homesec.store.redis_client import create_redis
from homesec.workflows.ingest import Outcome, UploadIngest

REPORT_SECONDS = 5.0
POLL_SECONDS = 0.5
# No job finished for this long: the pipeline is not working; stop waiting (the jobs stay).
STALL_SECONDS = 600.0
# A dry run lists this many of its jobs, then how many more.
DRY_RUN_LISTED = 20
FINISHED_STATUSES = (UploadStatus.DONE, UploadStatus.FAILED)

Say = Callable[[str], None]
T = TypeVar("T")


class BackfillResult(msgspec.Struct, kw_only=True):
    planned: int = 0
    outcomes: dict[str, int] = {}  # what became of each planned job
    stalled: bool = False
    dry_run: bool = False

    @property
    def exit_code(self) -> int:
        failed = self.outcomes.get("failed", 0) + self.outcomes.get("no event", 0)
        return 1 if self.stalled or failed else 0


class ServiceMissing(HomesecError):
    """No homesec pipeline runs on the Ray cluster the backfill is connected to."""


async def pipeline_consumers(kind: str) -> list[str]:
    """The states of the pipeline's actors of ``kind`` (detector, analyst), from its
    supervisor; raises :class:`ServiceMissing` when there is none."""
    supervisor = await ray_gateway.lookup_async(actor_names.SUPERVISOR)
    if supervisor is None:
        raise ServiceMissing(
            "no homesec pipeline runs on this Ray cluster (no supervisor in namespace "
            f"{actor_names.NAMESPACE}): start it with `homesec up`"
        )
    report = await ray_gateway.call(supervisor, "report", health_group=True)
    return [actor.state for actor in report.actors if actor.kind == kind]


class Follower:
    """The progress of queued jobs: counts, a line every ``report_seconds``, stall detection."""

    def __init__(self, total: int, say: Say, label: str, report_seconds: float) -> None:
        self.meter = ProgressMeter(total, time.monotonic())
        self.say = say
        self.label = label
        self.report_seconds = report_seconds
        self.outcomes: collections.Counter[str] = collections.Counter()
        self._next_report = time.monotonic() + report_seconds
        self._next_poll = 0.0
        self._last_change = time.monotonic()

    def finished(self, outcome: str, count: int = 1) -> None:
        if count:
            self.outcomes[outcome] += count
            self._last_change = time.monotonic()

    def tick(self, waiting: str = "") -> None:
        now = time.monotonic()
        self.meter.update(sum(self.outcomes.values()), now)
        if now >= self._next_report:
            self.say(self.meter.line(self.label, now) + (f"; {waiting}" if waiting else ""))
            self._next_report = now + self.report_seconds

    def poll_due(self) -> bool:
        """True at most every ``POLL_SECONDS``: how often to ask what finished."""
        now = time.monotonic()
        if now < self._next_poll:
            return False
        self._next_poll = now + POLL_SECONDS
        return True

    def stalled(self, stall_seconds: float) -> bool:
        return time.monotonic() - self._last_change > stall_seconds


async def file_facts(
    sessions: async_sessionmaker[AsyncSession], camera_id: str, files: Sequence[FileSeen]
) -> list[FileFacts]:
    """Each file with its ledger row's status and size and whether detections name it."""
    paths = [ledger_path(seen.path) for seen in files]
    rows = await store_uploads.statuses_and_sizes(sessions, paths)
    detected = await store_detections.paths_with_detections(sessions, paths)
    facts = []
    for seen, path in zip(files, paths, strict=True):
        status, ledger_size = rows.get(path, (None, None))
        facts.append(
            FileFacts(
                camera_id=camera_id,
                path=seen.path,
                size=seen.size,
                mtime=seen.mtime,
                status=status,
                ledger_size=ledger_size,
                has_detections=path in detected,
            )
        )
    return facts


class _Stalled(Exception):
    """Nothing finished for ``stall_seconds``."""


@contextlib.asynccontextmanager
async def _connections(
    database_url: str, redis_url: str
) -> AsyncIterator[tuple[async_sessionmaker[AsyncSession], aioredis.Redis]]:
    engine = create_engine(database_url, pool_size=2)
    redis = create_redis(redis_url)
    try:
        yield session_factory(engine), redis
    finally:
        await redis.aclose()
        await engine.dispose()


async def run_backfill(
    options: BackfillOptions,
    settings: Settings,
    database_url: str,
    redis_url: str,
    *,
    say: Say = print,
    report_seconds: float = REPORT_SECONDS,
    stall_seconds: float = STALL_SECONDS,
) -> BackfillResult:
    """Plan, queue and follow one backfill (see the module's docstring)."""
    window = time_window(options.since, options.until, local_zone(settings))
    say(f"backfill: {_describe(options, window)}")
    async with _connections(database_url, redis_url) as (sessions, redis):
        cameras = select_cameras(await store_cameras.registered_cameras(sessions), options.cameras)
        if not cameras:
            say("backfill: no cameras registered yet; nothing to do")
            return BackfillResult(dry_run=options.dry_run)
        if options.rebuild_baselines:
            return await _rebuild_baselines(options, settings, sessions, cameras, say)
        run = _Run(options, settings, sessions, redis, say, report_seconds, stall_seconds)
        if options.reanalyze:
            return await run.reanalyze(cameras, window)
        return await run.files(cameras, window)


async def _rebuild_baselines(
    options: BackfillOptions,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    cameras: Sequence[CameraFolder],
    say: Say,
) -> BackfillResult:
    ids = [camera.camera_id for camera in cameras]
    if options.dry_run:
        say(f"backfill: would rebuild the baselines of {len(ids)} camera(s) from their visits")
        return BackfillResult(dry_run=True)
    counted = await baselines.rebuild_baselines(
        sessions, ids, local_zone(settings), settings.baseline_half_life_days
    )
    say(f"backfill: baselines of {', '.join(ids)} rebuilt from {_count(counted, 'visit')}")
    return BackfillResult(planned=counted, outcomes={"counted": counted})


def _describe(options: BackfillOptions, window: TimeWindow) -> str:
    since, until = (
        edge.astimezone().strftime("%Y-%m-%d %H:%M") if edge else None for edge in window.bounds()
    )
    mode = (
        f"reanalyse events (run id {options.run_id})"
        if options.reanalyze
        else "rebuild the cameras' baselines from every stored visit"
        if options.rebuild_baselines
        else "ingest new images" + (", recompute processed ones" if options.reprocess else "")
    )
    cameras = ", ".join(options.cameras) or "all cameras"
    span = f"from {since or 'the start'} until {until or 'now'}"
    return f"{mode}; {cameras}; {span}" + ("; dry run" if options.dry_run else "")


class _Run:
    def __init__(
        self,
        options: BackfillOptions,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        redis: aioredis.Redis,
        say: Say,
        report_seconds: float,
        stall_seconds: float,
    ) -> None:
        self.options = options
        self.settings = settings
        self.sessions = sessions
        self.redis = redis
        self.say = say
        self.report_seconds = report_seconds
        self.stall_seconds = stall_seconds

    # --- images -----------------------------------------------------------------------------
    async def files(self, cameras: Sequence[CameraFolder], window: TimeWindow) -> BackfillResult:
        facts = []
        for camera in cameras:
            found = await asyncio.to_thread(list_files, camera.folder_path)
            facts += await file_facts(self.sessions, camera.camera_id, found)
        plan = plan_files(facts, window, reprocess=self.options.reprocess, now=time.time())
        self._say_plan(plan, len([f for f in facts if window.contains(f.mtime)]))
        if self.options.dry_run or not plan.work:
            self._list_dry_run([f"would {item.action.value} {item.path}" for item in plan.work])
            return BackfillResult(planned=len(plan.work), dry_run=self.options.dry_run)
        await self._require_consumer("detector")
        follower = Follower(len(plan.work), self.say, "backfill", self.report_seconds)
        ingests = {
            camera.camera_id: UploadIngest(
                camera.camera_id, camera.folder_path, self.settings, time.time
            )
            for camera in cameras
        }
        queued: dict[str, str] = {}  # ledger path -> the action that queued it

        async def queue(item: FileWork) -> None:
            outcome = await self._queue_file(item, ingests[item.camera_id])
            if outcome is None:
                queued[ledger_path(item.path)] = item.action.value
            else:
                follower.finished(outcome)

        stalled = await self._drive(
            follower,
            keys.DETECTION_QUEUE,
            plan.work,
            queue,
            lambda: self._settle_files(queued, follower),
        )
        detections = await store_detections.count_for_paths(
            self.sessions, [ledger_path(item.path) for item in plan.work]
        )
        return self._summary(
            follower, stalled, f"{_count(detections, 'detection')} stored for them"
        )

    def _say_plan(self, plan: FilePlan, in_window: int) -> None:
        actions = collections.Counter(item.action.value for item in plan.work)
        todo = ", ".join(f"{count} to {action}" for action, count in sorted(actions.items()))
        self.say(f"backfill: {in_window} images in the window: {todo or 'nothing to do'}")
        for reason, count in sorted(plan.skipped.items()):
            self.say(f"  skipped {count}: {reason}")

    async def _queue_file(self, item: FileWork, ingest: UploadIngest) -> str | None:
        """Queue one image; None when it went on the detection queue, else what became of it
        at once (rejected, a duplicate, unchanged, gone, or taken by a detector meanwhile)."""
        if item.action is FileAction.INGEST:
            ingested = await ingest.ingest(item.path, self.sessions, self.redis)
            return None if ingested.outcome is Outcome.ENQUEUED else ingested.outcome.value
        reset = await store_detections.reset_for_reprocess(self.sessions, item.camera_id, item.path)
        if reset is None:
            return "left to the detector"
        await asyncio.to_thread(_remove_thumbnails, reset.thumbnails, self.settings.thumbnail_dir)
        job = DetectionJob(
            camera_id=item.camera_id,
            file_path=item.path,
            timestamp=utc_iso(time.time()),
            upload_id=reset.upload_id,
            sha256=reset.sha256,
        )
        await streams.enqueue(self.redis, keys.DETECTION_QUEUE, job)
        return None

    async def _settle_files(self, queued: dict[str, str], follower: Follower) -> None:
        """Count the queued images the detector finished (their ledger row done or failed)."""
        if not queued:
            return
        statuses = await store_uploads.upload_statuses(self.sessions, list(queued))
        for path, status in statuses.items():
            if status in FINISHED_STATUSES:
                action = queued.pop(path)
                follower.finished("failed" if status == UploadStatus.FAILED else f"{action}ed")

    # --- events -----------------------------------------------------------------------------
    async def reanalyze(
        self, cameras: Sequence[CameraFolder], window: TimeWindow
    ) -> BackfillResult:
        run_id = self.options.run_id
        events = await store_events.original_events(
            self.sessions, [camera.camera_id for camera in cameras], window
        )
        remaining = await store_detections.existing_ids(
            self.sessions, [d for event in events for d in event.detection_ids]
        )
        existing = await store_events.existing_batch_ids(
            self.sessions, [reanalysis_batch_id(event.batch_id, run_id) for event in events]
        )
        plan = plan_reanalysis(events, remaining, existing, run_id)
        self._say_reanalysis_plan(plan, len(events))
        if self.options.dry_run or not plan.jobs:
            self._list_dry_run(
                [
                    f"would reanalyse as {job.batch_id} "
                    f"({_count(len(job.detection_ids), 'detection')})"
                    for job in plan.jobs
                ]
            )
            return BackfillResult(planned=len(plan.jobs), dry_run=self.options.dry_run)
        await self._require_consumer("analyst")
        follower = Follower(len(plan.jobs), self.say, "reanalysis", self.report_seconds)
        queued: dict[str, str] = {}  # stream entry id -> batch id

        async def queue(job: AnalysisJob) -> None:
            queued[await streams.enqueue(self.redis, keys.ANALYSIS_QUEUE, job)] = job.batch_id

        stalled = await self._drive(
            follower,
            keys.ANALYSIS_QUEUE,
            plan.jobs,
            queue,
            lambda: self._settle_entries(queued, follower),
        )
        made = await store_events.existing_batch_ids(
            self.sessions, [job.batch_id for job in plan.jobs]
        )
        # The analyst acknowledges a batch without an event when none of its detections are
        # left to analyse by then; count what became of each.
        without_event = sum(follower.outcomes.values()) - len(made)
        follower.outcomes = collections.Counter({"event made": len(made)})
        if without_event > 0:
            follower.outcomes["no event"] = without_event
        return self._summary(follower, stalled, f"new events: batch ids reanalysis-…-{run_id}")

    def _say_reanalysis_plan(self, plan: ReanalysisPlan, selected: int) -> None:
        self.say(
            f"backfill: {selected} events in the window: {len(plan.jobs) or 'none'} to reanalyse"
        )
        for reason, count in sorted(plan.skipped.items()):
            self.say(f"  skipped {count}: {reason}")

    async def _settle_entries(self, queued: dict[str, str], follower: Follower) -> None:
        """Count the queued analysis jobs that left the stream: acknowledged (an analyst deletes
        what it acknowledges) or dead-lettered."""
        if not queued:
            return
        entry_ids = list(queued)
        present = await streams.entries_present(self.redis, keys.ANALYSIS_QUEUE, entry_ids)
        for entry_id, still_there in zip(entry_ids, present, strict=True):
            if not still_there:
                del queued[entry_id]
                follower.finished("handled")

    # --- shared -----------------------------------------------------------------------------
    async def _require_consumer(self, kind: str) -> None:
        states = await pipeline_consumers(kind)
        if "ALIVE" not in states:
            shown = ", ".join(states) or "none"
            self.say(f"backfill: no {kind} is alive yet ({shown}); the jobs wait for one")

    async def _drive(
        self,
        follower: Follower,
        stream: str,
        jobs: Sequence[T],
        queue: Callable[[T], Awaitable[None]],
        settle: Callable[[], Awaitable[None]],
    ) -> bool:
        """Queue each job once ``stream`` has room, then wait until all finished, reporting as
        it goes; True when nothing finished for ``stall_seconds`` (the jobs stay queued)."""

        async def progress(waiting: str = "") -> None:
            if follower.poll_due():
                await settle()
            follower.tick(waiting)
            if follower.stalled(self.stall_seconds):
                raise _Stalled

        try:
            for job in jobs:
                while await streams.stream_length(self.redis, stream) >= self.options.max_backlog:
                    await progress(f"waiting for room in {stream}")
                    await asyncio.sleep(POLL_SECONDS)
                await queue(job)
                await progress()
            while not follower.meter.finished:
                await asyncio.sleep(POLL_SECONDS)
                await progress()
        except _Stalled:
            self.say(
                f"backfill: no job finished for {format_duration(self.stall_seconds)}: is the "
                "pipeline working (`homesec status`)? What is queued stays queued; run the "
                "backfill again later to see what is left"
            )
            return True
        return False

    def _list_dry_run(self, lines: list[str]) -> None:
        if not self.options.dry_run:
            return
        for line in lines[:DRY_RUN_LISTED]:
            self.say(f"  {line}")
        if len(lines) > DRY_RUN_LISTED:
            self.say(f"  ... and {len(lines) - DRY_RUN_LISTED} more")
        self.say("backfill: dry run, nothing changed")

    def _summary(self, follower: Follower, stalled: bool, detail: str) -> BackfillResult:
        now = time.monotonic()
        counts = ", ".join(f"{n} {what}" for what, n in sorted(follower.outcomes.items()))
        self.say(follower.meter.line(follower.label, now))
        self.say(f"backfill finished: {counts or 'nothing'}; {detail}")
        return BackfillResult(
            planned=follower.meter.total, outcomes=dict(follower.outcomes), stalled=stalled
        )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _remove_thumbnails(paths: Sequence[str], thumbnail_dir: Path) -> None:
    """Delete the thumbnails of replaced detections; only files under the thumbnail folder."""
    root = thumbnail_dir.resolve()
    for path in paths:
        resolved = Path(path).resolve()
        if resolved.is_relative_to(root):
            with contextlib.suppress(FileNotFoundError):
                os.remove(resolved)
