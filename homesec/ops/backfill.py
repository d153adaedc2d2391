"""Backfills: ``python -m homesec.ops.backfill`` runs one, as a Ray job or by hand.

Without options it finds the camera images the ledger does not hold yet and ingests them like
the watcher would; ``--reprocess`` also recomputes the detections of images already processed;
``--reanalyze`` makes new events from stored detections instead; ``--rebuild-baselines`` learns
the cameras' habits again from every stored visit (it needs no running pipeline). The selection
rules live in :mod:`homesec.policy.backfill_plan`, the work in
:mod:`homesec.ops.backfill_run`. The running service does the detecting and analysing: the
backfill only queues work for it, a little at a time, so live uploads never wait behind a
backfill.

``homesec backfill`` (the CLI) submits this module as a Ray job to the running service's job
server (:mod:`homesec.ops.backfill_job`) or, with ``--local``, runs it in the CLI's process.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import msgspec

from homesec.contract.errors import HomesecError
from homesec.policy.backfill_plan import (
    DEFAULT_RUN_ID,
    BackfillInputError,
    check_run_id,
    time_window,
)
from homesec.settings import Settings, SettingsError, load_settings, local_zone

DEFAULT_MAX_BACKLOG = 16
EXIT_FAILURE = 1
EXIT_USAGE = 2


class BackfillOptions(msgspec.Struct, frozen=True, kw_only=True):
    cameras: tuple[str, ...] = ()  # empty: every camera
    since: str | None = None
    until: str | None = None
    reprocess: bool = False
    reanalyze: bool = False
    rebuild_baselines: bool = False
    run_id: str = DEFAULT_RUN_ID
    dry_run: bool = False
    max_backlog: int = DEFAULT_MAX_BACKLOG


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The backfill's options; shared by this module and `homesec backfill`."""
    parser.add_argument(
        "--camera",
        action="append",
        default=[],
        dest="cameras",
        metavar="CAMERA",
        help="only this camera (repeatable; default: all)",
    )
    parser.add_argument(
        "--since",
        metavar="WHEN",
        help="from this local date or time (2025-12-23, 2025-12-23T08:00)",
    )
    parser.add_argument(
        "--until", metavar="WHEN", help="before this local time; a bare date includes that day"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--reprocess",
        action="store_true",
        help="also recompute images already processed: their detections are replaced",
    )
    mode.add_argument(
        "--reanalyze",
        action="store_true",
        help="make new events from the stored detections of existing events (kept as they are)",
    )
    mode.add_argument(
        "--rebuild-baselines",
        action="store_true",
        help="forget the cameras' habits (baselines) and learn them again from every stored "
        "visit; --since and --until do not apply",
    )
    parser.add_argument(
        "--run-id",
        default=DEFAULT_RUN_ID,
        help="with --reanalyze: each event is reanalysed once per run id (default: %(default)s)",
    )
    parser.add_argument("--dry-run", action="store_true", help="print what it would do")
    parser.add_argument(
        "--max-backlog",
        type=_positive,
        default=DEFAULT_MAX_BACKLOG,
        help="queue at most this many jobs ahead of the pipeline (default: %(default)s)",
    )


def options_from(args: argparse.Namespace) -> BackfillOptions:
    return BackfillOptions(
        cameras=tuple(args.cameras),
        since=args.since,
        until=args.until,
        reprocess=args.reprocess,
        reanalyze=args.reanalyze,
        rebuild_baselines=args.rebuild_baselines,
        run_id=check_run_id(args.run_id),
        dry_run=args.dry_run,
        max_backlog=args.max_backlog,
    )


def to_argv(options: BackfillOptions) -> list[str]:
    """The command-line arguments that give these options again (for a job's entrypoint)."""
    argv: list[str] = []
    for camera in options.cameras:
        argv += ["--camera", camera]
    for flag, value in (("--since", options.since), ("--until", options.until)):
        if value:
            argv += [flag, value]
    argv += ["--reprocess"] if options.reprocess else []
    argv += ["--reanalyze"] if options.reanalyze else []
    argv += ["--rebuild-baselines"] if options.rebuild_baselines else []
    if options.run_id != DEFAULT_RUN_ID:
        argv += ["--run-id", options.run_id]
    argv += ["--dry-run"] if options.dry_run else []
    if options.max_backlog != DEFAULT_MAX_BACKLOG:
        argv += ["--max-backlog", str(options.max_backlog)]
    return argv


def service_urls(settings: Settings) -> tuple[str, str]:
    """PostgreSQL's and Redis's URLs: the configured ones, else the running service's (its run
    file names the embedded servers `homesec up` started)."""
    from homesec.ops.status import read_run_state

    run = read_run_state(settings)
    database_url = settings.database_url or (run.database_url if run else None)
    redis_url = settings.redis_url or (run.redis_url if run else None)
    if database_url is None or redis_url is None:
        missing = "DATABASE_URL" if database_url is None else "REDIS_URL"
        raise HomesecError(
            f"{missing} is not set and no running homesec names its server: start homesec "
            f"(`homesec up`) with this data dir ({settings.data_dir}), or set {missing}"
        )
    return database_url, redis_url


def ray_address(settings: Settings) -> str:
    """Inside a Ray job RAY_ADDRESS says where (and the job's environment holds the token);
    else the setting, with that cluster's token; else the running service's cluster and token."""
    from homesec.ops import ray_credentials
    from homesec.ops.status import read_run_state

    if os.environ.get("RAY_ADDRESS"):
        return os.environ["RAY_ADDRESS"]
    if settings.ray_address:
        ray_credentials.use_joined_cluster_token(settings.data_dir, settings.ray_address)
        return settings.ray_address
    run = read_run_state(settings)
    if run is None:
        raise HomesecError("homesec is not running: start it with `homesec up` first")
    ray_credentials.use_token_file(Path(run.ray_token_file) if run.ray_token_file else None)
    return run.ray_address


def run_here(
    settings: Settings, options: BackfillOptions, *, say: Callable[[str], None] = print
) -> int:
    """Run the backfill in this process against the running service; its exit code."""
    from homesec.actors import ray_gateway
    from homesec.ops.backfill_run import run_backfill

    # A bad date is the user's to fix first, before anything is looked up.
    time_window(options.since, options.until, local_zone(settings))
    database_url, redis_url = service_urls(settings)

    def backfill() -> int:
        return asyncio.run(
            run_backfill(options, settings, database_url, redis_url, say=say)
        ).exit_code

    # A dry run reads PostgreSQL only, a rebuild of the baselines PostgreSQL alone; the real one
    # needs the service's actors to do the work.
    if options.dry_run or options.rebuild_baselines:
        return backfill()
    ray_gateway.connect(ray_address(settings))
    try:
        return backfill()
    finally:
        ray_gateway.disconnect()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m homesec.ops.backfill",
        description="Queue camera images (or events) the running homesec has not processed.",
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        options = options_from(args)
        settings = load_settings()
    except (BackfillInputError, SettingsError) as exc:
        print(f"backfill: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from homesec.ops.cli import configure_logging

    configure_logging(settings.log_level)
    try:
        return run_here(settings, options, say=lambda line: print(line, flush=True))
    except BackfillInputError as exc:
        print(f"backfill: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except HomesecError as exc:
        print(f"backfill: {exc}", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
