"""What actors report across an actor call: health, the supervisor's view, a cleanup's counts, and
what the supervisor needs to (re-)create an actor."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from homesec.settings import Settings


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """Something that keeps a stage from doing its work, said so a person can act on it."""

    component: str  # the actor (or service) that has it: "detector:0", "PostgreSQL"
    summary: str  # what is wrong: "no detector model at /models/rtdetr"
    remedy: str = ""  # what to do about it
    since: float | None = None  # epoch seconds


class FtpBan(msgspec.Struct, frozen=True, kw_only=True):
    """An address the FTP server refuses after failed logins (FTP_BAN_ATTEMPTS within
    FTP_BAN_WINDOW_SECONDS), until ``until``; even the right password is refused meanwhile."""

    address: str
    accounts: list[str]  # the user names it tried, the last one last
    since: float  # epoch seconds: when the ban started
    until: float  # epoch seconds: when it ends by itself


class ActorHealth(msgspec.Struct, frozen=True, kw_only=True):
    """An actor's answer to ``health()``."""

    name: str
    kind: str
    state: str  # idle | running | stopped | failed
    started_at: float
    last_error: str | None = None
    last_error_at: float | None = None
    counters: dict[str, int] = {}
    detail: dict[str, str] = {}
    problems: list[Problem] = []


class ActorSpec(msgspec.Struct, frozen=True, kw_only=True):
    """What the supervisor needs to create (or re-create) one actor: its kind (which class,
    :mod:`homesec.actors.registry` says), what it is given, and what Ray reserves for it."""

    name: str
    kind: str  # watcher | detector | batcher | analyst | gpu_monitor | janitor | ftp_server
    # | notifier | supervisor
    settings: Settings
    database_url: str
    redis_url: str
    camera_id: str | None = None  # a watcher's or batcher's camera
    folder_path: str | None = None  # a watcher's folder
    # Keyword arguments of the actor's constructor beyond the above: tests make loops faster
    # with them; nothing in production sets any.
    tuning: dict[str, Any] = {}
    num_cpus: float = 0
    num_gpus: float = 0
    resources: dict[str, float] = {}
    node_id: str | None = None  # pin to this Ray node (one GPU monitor per GPU node)
    # Set in the actor's worker process before it starts (allocator settings are read then).
    env_vars: dict[str, str] = {}


class CleanupStats(msgspec.Struct, frozen=True, kw_only=True):
    """What one retention cleanup removed, or would remove in a dry run (the contract's shape)."""

    events_deleted: int
    detections_deleted: int
    gpu_stats_deleted: int
    logs_deleted: int
    thumbnails_deleted: int
    images_deleted: int
    space_reclaimed: int  # bytes, estimated from the files' sizes
    retention_days: int
    dry_run: bool
    timestamp: dt.datetime
    # homesec's addition: camera problems cleared before the cutoff (their alerts go with them).
    camera_problems_deleted: int = 0


class ActorStatus(msgspec.Struct, frozen=True, kw_only=True):
    """One supervised actor as the Supervisor last saw it; ``state`` is Ray's (``ALIVE`` ...)."""

    name: str
    kind: str
    state: str
    restarts: int = 0
    node: str | None = None
    last_error: str | None = None
    problems: list[Problem] = []  # what its last health report said keeps it from its work
    last_error_at: float | None = None  # epoch seconds, when known


class SupervisorReport(msgspec.Struct, frozen=True, kw_only=True):
    """The Supervisor's view of every actor it owns, for ``/api/system/health``."""

    actors: list[ActorStatus]
    checked_at: dt.datetime
