"""What the embedded PostgreSQL and Redis share: a data-dir lock, remembered credentials and
port, log tails for error messages, and the sweep that leaves no server process behind."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import time
from pathlib import Path

import msgspec
import psutil

from homesec.ops.errors import EmbeddedServerError
from homesec.ops.file_lock import FileLock
from homesec.ops.ports import free_port

LOOPBACK = "127.0.0.1"
# A log past this size is set aside at start, so a server that runs for years keeps one old log.
LOG_ROTATE_BYTES = 10 * 1024 * 1024


class ServerState(msgspec.Struct):
    """What an embedded server must find again after a restart: its port and its password."""

    port: int
    password: str


def load_state(path: Path) -> ServerState | None:
    try:
        return msgspec.json.decode(path.read_bytes(), type=ServerState)
    except FileNotFoundError:
        return None
    except msgspec.DecodeError as exc:
        raise EmbeddedServerError(
            f"{path} is damaged ({exc}); restore it from a backup or remove it"
        ) from None


def save_state(path: Path, state: ServerState) -> None:
    write_private(path, msgspec.json.encode(state))


def write_private(path: Path, content: bytes) -> None:
    """Written 0600 and swapped in whole: it holds a password, and a crash must not halve it."""
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(content)
    temporary.replace(path)


def new_password() -> str:
    # Hex: safe in a URL and in a config file without quoting.
    return secrets.token_hex(16)


def port_is_free(port: int) -> bool:
    # SO_REUSEADDR as the servers set it: connections of the last run lingering in TIME_WAIT
    # must not make us give up the port the user's tools were pointed at.
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return False
        return True


def choose_port(requested: int | None, remembered: int | None) -> int:
    """The requested port, else the remembered one while it is free, else a new free one."""
    if requested is not None:
        return requested
    if remembered is not None and port_is_free(remembered):
        return remembered
    return free_port()


def log_tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    tail = text.splitlines()[-lines:]
    return f"last lines of {path}:\n" + "\n".join(f"  {line}" for line in tail)


def rotate_log(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        if path.stat().st_size > LOG_ROTATE_BYTES:
            path.replace(path.with_name(path.name + ".1"))


def data_dir_lock(path: Path, server: str) -> FileLock:
    """The lock on a server's directory, held for as long as this process runs the server.

    Holding it proves that no other homesec uses the directory, so a server process found there
    is a leftover of a crashed run and may be stopped.
    """
    return FileLock(
        path,
        lambda: EmbeddedServerError(
            f"the embedded {server} in {path.parent} is in use by another homesec process; "
            "stop that one first, or give this one another HOMESEC_DATA_DIR"
        ),
    )


def processes_with_argument(argument: str) -> list[psutil.Process]:
    """Processes with ``argument`` as one exact word of their command line, with children."""
    found: dict[int, psutil.Process] = {}
    for process in psutil.process_iter(["cmdline"]):
        try:
            if argument in (process.info["cmdline"] or ()):
                found[process.pid] = process
                found.update((child.pid, child) for child in process.children(recursive=True))
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    found.pop(os.getpid(), None)
    return list(found.values())


def end_processes(processes: list[psutil.Process], *, grace: float = 10.0) -> None:
    """SIGTERM, then SIGKILL what is still there after ``grace`` seconds."""
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.terminate()
    for process in wait_ended(processes, grace):
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    wait_ended(processes, 5)


def wait_ended(processes: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Wait until the processes have exited; returns those that have not by ``timeout``.

    A zombie has exited: only its parent, often init for a server, has yet to reap it."""
    deadline = time.monotonic() + timeout
    while True:
        alive = [process for process in processes if is_alive(process)]
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.02)


def is_alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


class EmbeddedServer:
    """The lifecycle both embedded servers share: a data-dir lock, an idempotent start that
    leaves nothing half-started, and a stop that only touches a server this process owns.
    Subclasses give ``_start`` (returns the URL) and ``_stop_server``."""

    server_name = "server"

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = data_dir.expanduser().absolute()
        self._requested_port = port
        self._lock = data_dir_lock(self.data_dir / "lock", self.server_name)
        self._url: str | None = None

    @property
    def url(self) -> str | None:
        """The server's URL while it runs, else ``None``."""
        return self._url

    def start(self) -> str:
        """Start the server (on the data of its last run) and return its URL."""
        if self._url is None:
            try:
                self._url = self._start()
            except BaseException:  # Ctrl-C included: leave no half-started server behind
                self.stop()
                raise
        return self._url

    def stop(self) -> None:
        """Stop the server and every process of it; nothing happens when none runs."""
        try:
            # Without the lock, a server in data_dir is another homesec's: not ours to stop.
            if self._lock.held and self._has_server():
                self._stop_server()
        finally:
            self._url = None
            self._lock.release()

    def _has_server(self) -> bool:
        """Whether there is anything to stop (subclasses may know better)."""
        return True

    def _start(self) -> str:
        raise NotImplementedError

    def _stop_server(self) -> None:
        raise NotImplementedError
