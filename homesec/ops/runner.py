"""`homesec up`: bring every part up in order, stay up until Ctrl-C or SIGTERM, then stop all.

Each part is entered on one ExitStack, so whatever started is stopped in reverse order, also when
a later part fails to start or the user interrupts the start itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Iterator

from homesec.ops import migrate
from homesec.ops.api_keys import sync_api_keys
from homesec.ops.services import ServiceEndpoints, describe, local_services
from homesec.settings import Settings

log = logging.getLogger("homesec.up")


@contextlib.contextmanager
def _shutdown_signals() -> Iterator[threading.Event]:
    """An event set by SIGINT or SIGTERM, with the previous handlers restored afterwards."""
    stop = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def prepare_directories(settings: Settings) -> None:
    for path in (settings.data_dir, settings.foscam_base_path, settings.thumbnail_dir):
        path.mkdir(parents=True, exist_ok=True)


def prepare_database(settings: Settings, endpoints: ServiceEndpoints) -> None:
    """Migrate to the newest revision and store the configured API keys, hashed."""
    migrate.upgrade(endpoints.database_url)
    stored = asyncio.run(sync_api_keys(endpoints.database_url, settings.api_keys))
    if settings.api_keys:
        log.info("API keys: %d configured, stored hashed", stored)


def run_up(settings: Settings) -> int:
    prepare_directories(settings)
    with contextlib.ExitStack() as stack:
        endpoints = stack.enter_context(local_services(settings))
        prepare_database(settings, endpoints)
        stop = stack.enter_context(_shutdown_signals())
        print("homesec is up:")
        for line in describe(endpoints):
            print(f"  {line}")
        print(f"  Camera uploads: {settings.foscam_base_path}/<camera>/")
        print("Press Ctrl-C to stop.", flush=True)
        stop.wait()
        print("homesec: stopping ...", flush=True)
    print("homesec: stopped", flush=True)
    return 0
