"""`homesec status` and `homesec down`: what the running `homesec up` is doing, and stopping it.

Both start from the run file `homesec up` writes (``<data dir>/run/homesec.json``). A file whose
process is gone, or whose pid now belongs to a process started after the file was written (the
pid was reused after a crash), means "not running": `down` must never signal a stranger.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import msgspec
import psutil
from redis.exceptions import RedisError

from homesec.actors import ray_gateway
from homesec.contract import actor_names
from homesec.contract.errors import HomesecError
from homesec.contract.reports import ActorStatus
from homesec.ops import ray_credentials
from homesec.ops.runner import RunState, run_state_path
from homesec.policy.health import actor_problems
from homesec.settings import Settings, mask_url
from homesec.store.redis_client import create_redis
from homesec.store.streams import QueueCounts, queue_counts

EXIT_NOT_RUNNING = 3
DOWN_TIMEOUT_SECONDS = 120.0
DOWN_PROGRESS_SECONDS = 5.0
SUPERVISOR_TIMEOUT_SECONDS = 10.0
NOT_RUNNING = "homesec is not running"
# A file written a little after its process started; allow for clocks' coarse resolution.
_START_SLACK_SECONDS = 1.0


class ServiceStatusError(HomesecError):
    """homesec runs, but its pipeline does not answer."""


def _alive(pid: int) -> psutil.Process | None:
    """The process, unless it is gone or a zombie (exited, its parent not yet told)."""
    try:
        process = psutil.Process(pid)
        return None if process.status() == psutil.STATUS_ZOMBIE else process
    except psutil.NoSuchProcess:
        return None


def read_run_state(settings: Settings) -> RunState | None:
    """The running `homesec up`'s run file, or None when homesec is not running."""
    path = run_state_path(settings)
    try:
        written_at = path.stat().st_mtime
        state = msgspec.json.decode(path.read_bytes(), type=RunState)
    except (OSError, msgspec.DecodeError):
        return None
    process = _alive(state.pid)
    if process is None:
        return None
    try:
        started_before_file = process.create_time() <= written_at + _START_SLACK_SECONDS
    except psutil.Error:
        return None
    return state if started_before_file else None


# --- status ---------------------------------------------------------------------------------


class ServiceStatus(msgspec.Struct, frozen=True, kw_only=True):
    pid: int
    ray_address: str
    ray_dashboard: str | None
    api_url: str | None
    checked_at: dt.datetime | None  # when the supervisor last checked its actors
    actors: list[ActorStatus]
    counters: dict[str, dict[str, int]]
    queues: dict[str, QueueCounts] | None  # None: Redis unknown or unreachable
    queues_note: str | None = None


async def queue_depths(redis_url: str) -> dict[str, QueueCounts]:
    """Each queue's stream length, pending entries and dead letters."""
    client = create_redis(redis_url, socket_connect_timeout=5, socket_timeout=5)
    try:
        return await queue_counts(client)
    finally:
        await client.aclose()


def supervisor_view() -> tuple[dt.datetime, list[ActorStatus], dict[str, dict[str, int]]]:
    """The supervisor's report and each actor's counters (connected to Ray already)."""
    supervisor = ray_gateway.lookup(actor_names.SUPERVISOR)
    if supervisor is None:
        raise ServiceStatusError(
            "homesec runs, but its supervisor is not on the Ray cluster (still starting, or "
            "stopping?); try again shortly"
        )
    try:
        report = ray_gateway.call_blocking(
            supervisor, "report", timeout=SUPERVISOR_TIMEOUT_SECONDS, health_group=True
        )
        health = ray_gateway.call_blocking(
            supervisor, "actor_health", timeout=SUPERVISOR_TIMEOUT_SECONDS, health_group=True
        )
    except Exception as exc:  # a timeout or a dead actor: either way, no report
        raise ServiceStatusError(f"the supervisor did not answer: {exc}".splitlines()[0]) from None
    counters = {name: dict(item.get("counters") or {}) for name, item in health.items()}
    return report.checked_at, sorted(report.actors, key=lambda a: a.name), counters


def connect_to_running(run: RunState) -> None:
    """Connect to the Ray cluster of the running homesec, with the token it uses."""
    ray_credentials.use_token_file(Path(run.ray_token_file) if run.ray_token_file else None)
    ray_gateway.connect(run.ray_address)


def collect_status(settings: Settings, run: RunState) -> ServiceStatus:
    connect_to_running(run)
    try:
        checked_at, actors, counters = supervisor_view()
    finally:
        ray_gateway.disconnect()
    redis_url = settings.redis_url or run.redis_url
    queues, note = None, None
    if redis_url is None:
        note = "Redis unknown: set REDIS_URL"
    else:
        try:
            queues = asyncio.run(queue_depths(redis_url))
        except (RedisError, OSError) as exc:
            note = f"Redis at {mask_url(redis_url)} does not answer: {exc}"
    return ServiceStatus(
        pid=run.pid,
        ray_address=run.ray_address,
        ray_dashboard=run.ray_dashboard,
        api_url=run.api_url,
        checked_at=checked_at,
        actors=actors,
        counters=counters,
        queues=queues,
        queues_note=note,
    )


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return [
        "  "
        + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]


def _short(text: str | None, limit: int = 70) -> str:
    if not text:
        return "-"
    line = text.splitlines()[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"


def render_status(status: ServiceStatus) -> list[str]:
    lines = [f"homesec is running (pid {status.pid})"]
    dashboard = f" (Ray dashboard {status.ray_dashboard})" if status.ray_dashboard else ""
    lines.append(f"  Ray: {status.ray_address}{dashboard}")
    if status.api_url:
        lines.append(f"  API: {status.api_url}")
    checked = status.checked_at.astimezone().strftime("%H:%M:%S") if status.checked_at else "-"
    lines.append(f"Actors (supervisor checked at {checked}):")
    rows = [
        [
            actor.name,
            actor.kind,
            actor.state,
            str(actor.restarts),
            (actor.node or "-")[:8],
            _short(actor.last_error),
        ]
        for actor in status.actors
    ]
    header = ["NAME", "KIND", "STATE", "RESTARTS", "NODE", "LAST ERROR"]
    lines += _table(header, rows) if rows else ["  none yet"]
    busy = {name: counts for name, counts in status.counters.items() if counts}
    if busy:
        lines.append("Counters:")
        for name, counts in sorted(busy.items()):
            lines.append(f"  {name}: " + " ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    problems = actor_problems(status.actors)
    if problems:
        lines.append("Problems:")
        for problem in problems:
            lines.append(f"  {problem.summary}")
            if problem.remedy:
                lines.append(f"    what to do: {problem.remedy}")
    lines.append("Queues:")
    if status.queues is None:
        lines.append(f"  {status.queues_note}")
    else:
        rows = [
            [queue, str(depth.length), str(depth.pending), str(depth.dead_letters)]
            for queue, depth in status.queues.items()
        ]
        lines += _table(["QUEUE", "LENGTH", "PENDING", "DEAD LETTERS"], rows)
    return lines


def show_status(settings: Settings, *, as_json: bool, say: Callable[[str], None] = print) -> int:
    run = read_run_state(settings)
    if run is None:
        say(json.dumps({"running": False}) if as_json else NOT_RUNNING)
        return EXIT_NOT_RUNNING
    status = collect_status(settings, run)
    if as_json:
        say(json.dumps({"running": True, **msgspec.to_builtins(status)}, indent=2))
    else:
        for line in render_status(status):
            say(line)
    return 0


# --- down -----------------------------------------------------------------------------------


def stop_service(
    settings: Settings,
    *,
    timeout: float = DOWN_TIMEOUT_SECONDS,
    say: Callable[[str], None] = print,
) -> int:
    """SIGTERM the running `homesec up` and wait until it has stopped everything it started."""
    run = read_run_state(settings)
    if run is None:
        say(NOT_RUNNING)
        return EXIT_NOT_RUNNING
    try:
        os.kill(run.pid, signal.SIGTERM)
    except ProcessLookupError:
        say("homesec stopped")
        return 0
    say(f"homesec (pid {run.pid}) is stopping: its actors, Ray head and servers ...")
    started = time.monotonic()
    next_line = started + DOWN_PROGRESS_SECONDS
    while _alive(run.pid) is not None:
        now = time.monotonic()
        if now - started > timeout:
            say(
                f"homesec (pid {run.pid}) did not stop within {timeout:.0f} s. Its log may say "
                f"why ({settings.data_dir / 'logs'}); run `homesec down` again to wait longer, "
                f"or `kill -KILL {run.pid}` as a last resort, which leaves its Ray head and "
                "embedded servers running for you to stop"
            )
            return 1
        if now >= next_line:
            say(f"  still stopping ({now - started:.0f} s) ...")
            next_line = now + DOWN_PROGRESS_SECONDS
        time.sleep(0.2)
    say("homesec stopped")
    return 0
