"""`homesec up`: bring every part up in order, stay up until Ctrl-C or SIGTERM, then stop all.

Each part is entered on one ExitStack, so whatever started is stopped in reverse order, also when
a later part fails to start or the user interrupts the start itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
from collections.abc import Iterator

import msgspec

from homesec.ops import migrate, ray_runtime
from homesec.ops.api_keys import sync_api_keys
from homesec.ops.services import ServiceEndpoints, describe, local_services
from homesec.settings import Settings

log = logging.getLogger("homesec.up")


class RunState(msgspec.Struct, frozen=True, kw_only=True):
    """What a running `homesec up` tells `homesec status` and `homesec down` (in the data dir)."""

    pid: int
    ray_address: str
    ray_dashboard: str | None
    api_url: str | None


def run_state_path(settings: Settings):
    return settings.data_dir / "run" / "homesec.json"


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


@contextlib.contextmanager
def ray_cluster(settings: Settings) -> Iterator[tuple[str, str | None]]:
    """Join ``RAY_ADDRESS``, or start a local head; yields (address, dashboard URL or None)."""
    head = None
    if settings.ray_address:
        address, dashboard = settings.ray_address, None
    else:
        head = ray_runtime.RayHead(
            port=settings.ray_port,
            dashboard_port=settings.ray_dashboard_port,
            log_dir=settings.data_dir / "logs",
        )
        address, dashboard = head.start(), head.dashboard_url
    try:
        ray_runtime.connect(address)
        yield address, dashboard
    finally:
        ray_runtime.disconnect()
        if head is not None:
            head.stop()


@contextlib.contextmanager
def supervised_pipeline(settings: Settings, endpoints: ServiceEndpoints) -> Iterator[object]:
    """The supervisor, which starts every other actor; on exit it stops them, then itself."""
    import ray

    from homesec.actors import names
    from homesec.actors.factory import ActorSpec, create_actor

    spec = ActorSpec(
        name=names.SUPERVISOR,
        kind="supervisor",
        class_path="homesec.actors.supervisor:Supervisor",
        args=(names.SUPERVISOR, settings, endpoints.database_url, endpoints.redis_url),
    )
    supervisor = create_actor(spec)
    try:
        yield supervisor
    finally:
        try:
            stopped = ray.get(supervisor.shutdown.remote(), timeout=120)
            log.info("stopped %d actors", len(stopped))
        except Exception as exc:  # stopping must go on: kill what we can
            log.warning("the supervisor did not stop its actors cleanly: %s", exc)
        ray.kill(supervisor, no_restart=True)


@contextlib.contextmanager
def _run_state(settings: Settings, state: RunState) -> Iterator[None]:
    path = run_state_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(msgspec.json.encode(state))
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def run_up(settings: Settings) -> int:
    prepare_directories(settings)
    with contextlib.ExitStack() as stack:
        endpoints = stack.enter_context(local_services(settings))
        prepare_database(settings, endpoints)
        ray_address, dashboard = stack.enter_context(ray_cluster(settings))
        stack.enter_context(supervised_pipeline(settings, endpoints))
        stack.enter_context(
            _run_state(
                settings,
                RunState(
                    pid=os.getpid(), ray_address=ray_address, ray_dashboard=dashboard, api_url=None
                ),
            )
        )
        stop = stack.enter_context(_shutdown_signals())
        print("homesec is up:")
        for line in describe(endpoints):
            print(f"  {line}")
        print(f"  Ray: {ray_address}" + (f" (dashboard {dashboard})" if dashboard else ""))
        print(f"  Camera uploads: {settings.foscam_base_path}/<camera>/")
        print("Press Ctrl-C to stop.", flush=True)
        stop.wait()
        print("homesec: stopping ...", flush=True)
    print("homesec: stopped", flush=True)
    return 0
