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

from homesec.ops.errors import OpsError
from homesec.settings import Settings, SettingsError, load_settings

log = logging.getLogger("homesec.cli")

EXIT_USAGE = 2
EXIT_FAILURE = 1


def _cmd_up(settings: Settings, _args: argparse.Namespace) -> int:
    from homesec.ops.runner import run_up

    return run_up(settings)


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
    from homesec.ops.model_store import pull_model

    model_id = args.model or settings.detector_model
    path = pull_model(model_id, settings.data_dir / "models", progress=True)
    print(f"{model_id} is ready in {path}")
    return 0


# Chatty libraries: their INFO lines bury homesec's own below LOG_LEVEL=DEBUG.
_QUIET_LOGGERS = ("alembic", "ray", "asyncio", "httpx", "filelock")


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
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

    models = commands.add_parser("models", help="detector model weights")
    model_commands = models.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    pull = model_commands.add_parser("pull", help="download the detector model once")
    pull.add_argument("model", nargs="?", help="model id (default: DETECTOR_MODEL)")
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
    except (OpsError, SettingsError) as exc:
        print(f"homesec: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `homesec config | head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
