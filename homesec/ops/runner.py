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
import time
from collections.abc import Iterator

import msgspec

from homesec.actors import ray_gateway
from homesec.actors.supervisor_keeper import SupervisorKeeper
from homesec.contract import actor_names
from homesec.contract.errors import HomesecError
from homesec.ops import migrate, ray_credentials
from homesec.ops.embedded_common import write_private
from homesec.ops.instance_lock import single_instance
from homesec.ops.ray_head import RayHead
from homesec.ops.services import ServiceEndpoints, describe, local_services
from homesec.policy.actor_plan import Endpoints, plan_supervisor
from homesec.policy.health import actor_problems
from homesec.policy.problem_notices import ProblemNotices
from homesec.settings import Settings
from homesec.store.api_keys import sync_api_keys
from homesec.store.log_handler import install_db_log_handler

log = logging.getLogger("homesec.up")

# How often `homesec up` makes sure its supervisor is there.
KEEPER_SECONDS = 5.0
# How long `homesec up` waits for the camera FTP server to listen before it says it is up.
FTP_READY_SECONDS = 90.0


class HttpStartError(HomesecError):
    """The HTTP server did not start."""


class RunState(msgspec.Struct, frozen=True, kw_only=True):
    """What a running `homesec up` tells `homesec status` and `homesec down` (in the data dir)."""

    pid: int
    ray_address: str
    ray_dashboard: str | None
    api_url: str | None
    # Where the pipeline's PostgreSQL and Redis are, for `homesec status` and backfills (the
    # embedded servers' URLs exist nowhere else); they hold passwords: the file is 0600.
    database_url: str | None = None
    redis_url: str | None = None
    # The Ray token file this homesec uses (its own cluster's, under the data dir, or the joined
    # cluster's): `homesec status`, `down` and `backfill` connect with the same one.
    ray_token_file: str | None = None


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


class RayConnection(msgspec.Struct, frozen=True, kw_only=True):
    address: str
    dashboard: str | None
    token_file: str | None


@contextlib.contextmanager
def ray_cluster(settings: Settings) -> Iterator[RayConnection]:
    """Join ``RAY_ADDRESS`` with its token, or start a local head with homesec's own token."""
    head = None
    if settings.ray_address:
        token = ray_credentials.use_joined_cluster_token(settings.data_dir, settings.ray_address)
        address, dashboard = settings.ray_address, None
    else:
        # Before the head starts: it and every worker it spawns inherit the token's path.
        token = ray_credentials.use_own_cluster_token(settings.data_dir)
        head = RayHead(
            port=settings.ray_port,
            dashboard_port=settings.ray_dashboard_port,
            log_dir=settings.data_dir / "logs",
        )
        address, dashboard = head.start(), head.dashboard_url
    try:
        ray_gateway.connect(address)
        yield RayConnection(
            address=address, dashboard=dashboard, token_file=str(token) if token else None
        )
    finally:
        ray_gateway.disconnect()
        if head is not None:
            head.stop()


@contextlib.contextmanager
def supervised_pipeline(
    settings: Settings, endpoints: ServiceEndpoints
) -> Iterator[SupervisorKeeper]:
    """The supervisor, which starts every other actor, and its keeper (check it now and then);
    on exit it stops them, then itself."""
    # Where it runs is the plan's (it lists the camera folders, so it goes where they are).
    spec = plan_supervisor(
        settings,
        Endpoints(endpoints.database_url, endpoints.redis_url or ""),
        ray_gateway.cluster_facts(),
    )
    keeper = SupervisorKeeper(spec)
    try:
        yield keeper
    finally:
        try:
            stopped = ray_gateway.call_blocking(keeper.handle, "shutdown", timeout=120)
            log.info("stopped %d actors", len(stopped))
        except Exception as exc:  # stopping must go on: kill what we can
            log.warning("the supervisor did not stop its actors cleanly: %s", exc)
        keeper.retire()


def wait_until_ftp_listens(settings: Settings, timeout: float = FTP_READY_SECONDS) -> str | None:
    """Wait until the camera FTP server accepts connections: None then, else why not (after
    ``timeout``). `homesec up` says it is up only after this, so a camera's first upload is
    never refused by a server still starting."""
    if not settings.ftp_enabled:
        return None
    why = "the FTP server actor has not started yet"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        handle = ray_gateway.lookup(actor_names.FTP_SERVER)
        if handle is not None:
            try:
                health = ray_gateway.call_blocking(handle, "health", timeout=3, health_group=True)
            except Exception as exc:  # starting, or restarting: ask again
                why = str(exc).splitlines()[0]
            else:
                if health.detail.get("listening") == "true":
                    return None
                why = health.last_error or "it is not listening yet"
        time.sleep(0.2)
    return why


def tell_problems(notices: ProblemNotices, keeper: SupervisorKeeper) -> None:
    """Print each lasting problem of the pipeline once, with what to do, and when it is over."""
    report = ray_gateway.call_blocking(keeper.handle, "report", timeout=3, health_group=True)
    found = notices.update(actor_problems(report.actors), time.time())
    for problem in found.appeared:
        remedy = f"\n  what to do: {problem.remedy}" if problem.remedy else ""
        print(f"homesec: problem: {problem.summary}{remedy}", flush=True)
    for problem in found.resolved:
        print(f"homesec: resolved: {problem.summary}", flush=True)


@contextlib.contextmanager
def http_server(settings: Settings, endpoints: ServiceEndpoints) -> Iterator[str]:
    """The API and dashboard, served by uvicorn in a thread; yields the URL."""
    from homesec.actors.directory import RayActorDirectory, run_cleanup
    from homesec.http.app import create_app
    from homesec.http.server import build_server, check_bind_safety

    check_bind_safety(settings)
    app = create_app(
        settings,
        database_url=endpoints.database_url,
        redis_url=endpoints.redis_url,
        actors=RayActorDirectory(),
        cleanup=run_cleanup,
    )
    server = build_server(app, settings.host, settings.port, log_level="warning")
    thread = threading.Thread(target=server.run, name="homesec-http", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise HttpStartError(
                f"the API could not listen on {settings.host}:{settings.port} (in use?); "
                "set HOMESEC_PORT to a free port"
            )
        time.sleep(0.05)
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    try:
        yield f"http://{host}:{settings.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@contextlib.contextmanager
def _run_state(settings: Settings, state: RunState) -> Iterator[None]:
    path = run_state_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_private(path, msgspec.json.encode(state))
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def run_up(settings: Settings) -> int:
    prepare_directories(settings)
    with contextlib.ExitStack() as stack:
        stack.enter_context(single_instance(settings.data_dir))
        endpoints = stack.enter_context(local_services(settings))
        prepare_database(settings, endpoints)
        # This process's own records (start-up, the API) go to `logs` too; actors do their own.
        log_handler = install_db_log_handler(endpoints.database_url, settings.log_level)
        stack.callback(log_handler.close)
        ray = stack.enter_context(ray_cluster(settings))
        keeper = stack.enter_context(supervised_pipeline(settings, endpoints))
        api_url = stack.enter_context(http_server(settings, endpoints))
        stack.enter_context(
            _run_state(
                settings,
                RunState(
                    pid=os.getpid(),
                    ray_address=ray.address,
                    ray_dashboard=ray.dashboard,
                    ray_token_file=ray.token_file,
                    api_url=api_url,
                    database_url=endpoints.database_url,
                    redis_url=endpoints.redis_url,
                ),
            )
        )
        stop = stack.enter_context(_shutdown_signals())
        ftp_problem = wait_until_ftp_listens(settings)
        print("homesec is up:")
        for line in describe(endpoints):
            print(f"  {line}")
        print(f"  Dashboard: {api_url}/   API docs: {api_url}/schema")
        print(
            f"  Ray: {ray.address}" + (f" (Ray dashboard {ray.dashboard})" if ray.dashboard else "")
        )
        print(f"  Camera uploads: {settings.foscam_base_path}/<camera>/")
        print(
            f"  Camera FTP{'S' * settings.ftp_tls}: {settings.ftp_host}:{settings.ftp_port}"
            if settings.ftp_enabled
            else "  Camera FTP: off (FTP_ENABLED=false)"
        )
        if ftp_problem:
            print(f"  Camera FTP is not accepting uploads yet: {ftp_problem}")
        print("Press Ctrl-C to stop.", flush=True)
        notices = ProblemNotices()
        while not stop.wait(KEEPER_SECONDS):
            with contextlib.suppress(Exception):  # Ray busy: the next check will tell
                keeper.check()
                tell_problems(notices, keeper)
        print("homesec: stopping ...", flush=True)
    print("homesec: stopped", flush=True)
    return 0
