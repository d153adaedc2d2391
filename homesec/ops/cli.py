"""The `homesec` command: parse arguments, load the settings once, run one command.

Every expected failure (a bad setting, an unreachable server, a failed embedded start) ends with
one line on stderr naming what to fix and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence

from homesec.contract.errors import HomesecError
from homesec.policy.backfill_plan import BackfillInputError
from homesec.policy.log_repeats import collapse_repeats
from homesec.settings import Settings, SettingsError, load_settings

log = logging.getLogger("homesec.cli")

EXIT_USAGE = 2
EXIT_FAILURE = 1


def _cmd_up(settings: Settings, _args: argparse.Namespace) -> int:
    from homesec.ops.runner import run_up

    return run_up(settings)


def _cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    from homesec.ops.status import show_status

    return show_status(settings, as_json=args.json)


def _cmd_down(settings: Settings, args: argparse.Namespace) -> int:
    from homesec.ops.status import stop_service

    return stop_service(settings, timeout=args.timeout, say=lambda line: print(line, flush=True))


def _cmd_backfill(settings: Settings, args: argparse.Namespace) -> int:
    from homesec.ops import backfill

    options = backfill.options_from(args)
    if args.local:
        return backfill.run_here(settings, options, say=lambda line: print(line, flush=True))
    from homesec.ops.backfill_job import submit_and_follow

    return submit_and_follow(settings, options, say=lambda line: print(line, flush=True))


def _cmd_camera(settings: Settings, args: argparse.Namespace) -> int:
    from homesec.ops import cameras

    return cameras.run(settings, args, say=lambda line: print(line, flush=True))


def _cmd_evidence(settings: Settings, args: argparse.Namespace) -> int:
    from homesec.ops import evidence

    return evidence.run(settings, args, say=lambda line: print(line, flush=True))


def _cmd_config(settings: Settings, args: argparse.Namespace) -> int:
    values = settings.masked()
    if args.json:
        print(json.dumps(values, indent=2, default=str))
        return 0
    width = max(len(name) for name in values)
    for name, value in values.items():
        if isinstance(value, dict):  # RISK_BANDS
            value = list(value.values())
        shown = ",".join(map(str, value)) if isinstance(value, list | tuple) else value
        print(f"{name:<{width}}  {'' if shown is None else shown}")
    return 0


def _cmd_db(settings: Settings, args: argparse.Namespace) -> int:
    from homesec.ops import migrate
    from homesec.ops.services import local_services

    with local_services(settings, need_redis=False) as endpoints:
        if args.db_command == "upgrade":
            migrate.upgrade(endpoints.database_url, args.revision)
        elif args.db_command == "downgrade":
            migrate.downgrade(endpoints.database_url, args.revision)
        print(f"database at revision {migrate.current(endpoints.database_url) or 'base (empty)'}")
    return 0


def _cmd_models(settings: Settings, args: argparse.Namespace) -> int:
    from homesec.ops import models

    return models.run(settings, args, say=lambda line: print(line, flush=True))


# Chatty libraries: their INFO lines bury homesec's own below LOG_LEVEL=DEBUG.
_QUIET_LOGGERS = ("alembic", "ray", "asyncio", "httpx", "filelock")


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        collapse_repeats(handler)  # a repeated warning is a count, not a flood
    if level != "DEBUG":
        for name in _QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="homesec",
        description="Local, private AI security for home cameras.",
        epilog="Settings come from environment variables; `homesec config` shows them.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = commands.add_parser("up", help="start homesec and stay up until Ctrl-C")
    up.set_defaults(handler=_cmd_up)

    status = commands.add_parser("status", help="the running homesec's actors and queues")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(handler=_cmd_status)

    down = commands.add_parser("down", help="stop the running homesec and wait until it has")
    down.add_argument(
        "--timeout", type=float, default=120.0, help="seconds to wait (default: %(default)s)"
    )
    down.set_defaults(handler=_cmd_down)

    backfill = commands.add_parser(
        "backfill",
        help="process stored images (or events) again, as a Ray job of the running homesec",
    )
    from homesec.ops.backfill import add_arguments as add_backfill_arguments

    add_backfill_arguments(backfill)
    backfill.add_argument(
        "--local", action="store_true", help="run it in this process instead of as a Ray job"
    )
    backfill.set_defaults(handler=_cmd_backfill)

    camera = commands.add_parser("camera", help="cameras and their FTP accounts")
    from homesec.ops.cameras import add_arguments as add_camera_arguments

    add_camera_arguments(camera)
    camera.set_defaults(handler=_cmd_camera)

    evidence = commands.add_parser(
        "evidence", help="an event as one signed archive: export it, verify one"
    )
    from homesec.ops.evidence import add_arguments as add_evidence_arguments

    add_evidence_arguments(evidence)
    evidence.set_defaults(handler=_cmd_evidence)

    config = commands.add_parser("config", help="print the effective settings, secrets masked")
    config.add_argument("--json", action="store_true", help="print JSON")
    config.set_defaults(handler=_cmd_config)

    db = commands.add_parser("db", help="database migrations")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_up = db_commands.add_parser("upgrade", help="migrate to a newer revision (default: head)")
    db_up.add_argument("revision", nargs="?", default="head")
    db_down = db_commands.add_parser("downgrade", help="revert to an older revision")
    db_down.add_argument(
        "revision", nargs="?", default="-1", help="target revision (default: one step back)"
    )
    db_commands.add_parser("current", help="print the current revision")
    db.set_defaults(handler=_cmd_db)

    models = commands.add_parser("models", help="detector models: pull, import, check")
    from homesec.ops.models import add_arguments as add_model_arguments

    add_model_arguments(models)
    models.set_defaults(handler=_cmd_models)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"homesec: {exc}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(settings.log_level)
    handler: Callable[[Settings, argparse.Namespace], int] = args.handler
    try:
        return handler(settings, args)
    except BackfillInputError as exc:
        print(f"homesec: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (HomesecError, SettingsError) as exc:
        print(f"homesec: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `homesec config | head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
