"""homesec's FTP(S) server for cameras: pyftpdlib on its own thread, one account per camera.

The rules (what an account may do, bans, caps) are :mod:`homesec.policy.ftp_policy`'s; the
session's enforcement is :mod:`homesec.files.ftp_session`, with its logins in
:mod:`homesec.files.ftp_authorizer` and its folder in :mod:`homesec.files.ftp_filesystem`.
This module holds what the sessions share (:class:`ServerState`: the account table, the bans,
the counters) and runs the server.

**Accounts** come from an in-memory :class:`AccountTable` that the owner refreshes (the FTP
actor reads PostgreSQL every few seconds). Why not query PostgreSQL at login: pyftpdlib runs
every session on one thread and one select loop, and a blocking query there would stall every
transfer in flight; the table is a dict swap, and a new account is live within one refresh.

**Connections** come in two budgets (issue 21). Those that have not logged in are few, per
address and in all, and must log in within ``FTP_LOGIN_TIMEOUT_SECONDS`` of connecting
(:class:`homesec.policy.ftp_policy.UnauthenticatedConnections` decides; a full budget makes
room by closing the oldest of the busiest address). Logged-in sessions are bounded per account
only. pyftpdlib's own caps (256 in all, 32 per address, counted before any login) are off: they
let 255 idle sockets lock every camera out.

**Folder usage** for the per-camera quota (``FTP_CAMERA_QUOTA_BYTES``): :class:`FolderUsage`
measures each camera's folder on first use and then every ``usage_refresh_seconds`` on a thread
of its own (a walk of a big folder must not stall the transfers), and adds what this server
stored since.

**Threads**: everything of pyftpdlib happens on the server's own thread. The upload callback
(``on_upload(camera_id, path)``) is called there and must only hand over (the actor posts it to
its event loop); :meth:`FtpServer.counters` and
:meth:`ServerState.unauthenticated_pressure` may be read from any thread.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path

import msgspec
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import FTPServer

from homesec.contract.reports import FtpBan
from homesec.policy.camera_accounts import FtpAccount, verify_password
from homesec.policy.ftp_policy import (
    DEFAULT_LOGIN_TIMEOUT_SECONDS,
    DEFAULT_MAX_UNAUTHENTICATED,
    DEFAULT_MAX_UNAUTHENTICATED_PER_ADDRESS,
    Admission,
    BanPolicy,
    LoginBans,
    Pressure,
    UnauthenticatedConnections,
    UnauthenticatedPolicy,
)
from homesec.policy.validation import ImageLimits
from homesec.settings import Settings

log = logging.getLogger("homesec.ftp")

COUNTERS = (
    "connections", "logins", "failed_logins", "bans", "refused_banned", "refused_commands",
    "refused_paths", "refused_busy", "uploads", "uploads_too_large", "uploads_incomplete",
    "refused_unauthenticated", "evicted_unauthenticated", "login_timeouts", "refused_names",
    "refused_quota", "uploads_rejected",
)  # fmt: skip
# Idle logged-in control connections are dropped after this long; a camera logs in per upload.
# Before the login, FTP_LOGIN_TIMEOUT_SECONDS holds.
IDLE_TIMEOUT_SECONDS = 120
# How often a camera folder's size is measured again for its quota.
USAGE_REFRESH_SECONDS = 60.0
# The delay before a wrong password is answered: slows guessing without holding the thread.
AUTH_FAILED_DELAY_SECONDS = 1.0

OnUpload = Callable[[str, str], None]  # (camera id, absolute path), on the server's thread


class FtpServerConfig(msgspec.Struct, frozen=True, kw_only=True):
    host: str
    port: int
    passive_ports: tuple[int, int] | None = None  # None: the kernel's choice (tests)
    masquerade_address: str | None = None
    certfile: str | None = None  # set: FTPS only (explicit AUTH TLS on control and data)
    keyfile: str | None = None
    max_upload_bytes: int = 20 * 1024 * 1024
    # The watcher's size rules, for the answer at the end of a transfer (550 for no image).
    image_limits: ImageLimits = ImageLimits()
    max_connections_per_account: int = 4
    ban: BanPolicy = BanPolicy()
    auth_failed_delay: float = AUTH_FAILED_DELAY_SECONDS
    login_timeout: float = DEFAULT_LOGIN_TIMEOUT_SECONDS
    max_unauthenticated: int = DEFAULT_MAX_UNAUTHENTICATED
    max_unauthenticated_per_address: int = DEFAULT_MAX_UNAUTHENTICATED_PER_ADDRESS
    camera_quota_bytes: int = 10 * 1024**3  # 0: none
    usage_refresh_seconds: float = USAGE_REFRESH_SECONDS

    @property
    def unauthenticated(self) -> UnauthenticatedPolicy:
        return UnauthenticatedPolicy(
            self.login_timeout, self.max_unauthenticated, self.max_unauthenticated_per_address
        )

    @property
    def tls(self) -> bool:
        return self.certfile is not None

    @classmethod
    def from_settings(
        cls, settings: Settings, certfile: Path | None = None, keyfile: Path | None = None
    ) -> FtpServerConfig:
        return cls(
            host=settings.ftp_host,
            port=settings.ftp_port,
            passive_ports=settings.ftp_passive_ports,
            masquerade_address=settings.ftp_masquerade_address,
            certfile=str(certfile) if certfile else None,
            keyfile=str(keyfile) if keyfile else None,
            max_upload_bytes=settings.max_upload_bytes,
            image_limits=ImageLimits.from_settings(settings),
            max_connections_per_account=settings.ftp_max_connections_per_account,
            ban=BanPolicy.from_settings(settings),
            login_timeout=settings.ftp_login_timeout_seconds,
            max_unauthenticated=settings.ftp_max_unauthenticated,
            max_unauthenticated_per_address=settings.ftp_max_unauthenticated_per_address,
            camera_quota_bytes=settings.ftp_camera_quota_bytes,
        )


class AccountTable:
    """The accounts by user name; replaced whole by its owner, read by the server thread."""

    def __init__(self, accounts: list[FtpAccount] | None = None) -> None:
        self._by_name: dict[str, FtpAccount] = {}
        self.replace(accounts or [])

    def replace(self, accounts: list[FtpAccount]) -> None:
        self._by_name = {account.username: account for account in accounts}  # one atomic swap

    def get(self, username: str) -> FtpAccount | None:
        return self._by_name.get(username)

    def __len__(self) -> int:
        return len(self._by_name)

    def all(self) -> list[FtpAccount]:
        return list(self._by_name.values())


def folder_bytes(folder: str) -> int:
    """What the files below ``folder`` hold, in bytes; symlinks are neither followed nor
    counted, unreadable parts are skipped."""
    total = 0
    pending = [folder]
    while pending:
        try:
            with os.scandir(pending.pop()) as entries:
                for entry in entries:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            pending.append(entry.path)
                        elif entry.is_file(follow_symlinks=False):
                            total += entry.stat(follow_symlinks=False).st_size
                    except OSError:  # gone between the listing and the stat
                        continue
        except OSError:
            continue
    return total


class FolderUsage:
    """Each camera folder's bytes: the last measurement plus what this server stored since.

    Measured on a camera's first upload (on the server thread, once) and then by
    :meth:`refresh` on the usage thread; the server thread adds what it stores. A measurement
    replaces the count, so a file stored during a walk may be counted twice or missed until the
    next one: the quota is exact to within one refresh's uploads.
    """

    def __init__(self) -> None:
        self._measured: dict[str, int] = {}  # folder -> bytes at the last measurement
        self._added: dict[str, int] = {}  # folder -> bytes stored since

    def used(self, folder: str) -> int:
        if folder not in self._measured:
            self._set(folder, folder_bytes(folder))
        return self._measured[folder] + self._added.get(folder, 0)

    def add(self, folder: str, size: int) -> None:
        self._added[folder] = self._added.get(folder, 0) + size

    def refresh(self, folders: list[str]) -> None:
        for folder in folders:
            self._set(folder, folder_bytes(folder))

    def _set(self, folder: str, size: int) -> None:
        self._measured[folder] = size
        self._added[folder] = 0


class ServerState:
    """What every session of one server shares. Touched on the server thread only, but for
    :attr:`counters`, which other threads read (its keys never change)."""

    def __init__(
        self,
        config: FtpServerConfig,
        accounts: AccountTable,
        on_upload: OnUpload,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.accounts = accounts
        self.on_upload = on_upload
        self.clock = clock
        self.bans = LoginBans(config.ban)
        self._bans_lock = threading.Lock()  # listed and lifted from the actor's thread
        self.unauthenticated = UnauthenticatedConnections(config.unauthenticated)
        self._unauthenticated_lock = threading.Lock()  # health reads it from another thread
        self.usage = FolderUsage()
        self.counters: dict[str, int] = dict.fromkeys(COUNTERS, 0)
        self.sessions: dict[str, set[int]] = {}  # user name -> ids of its logged-in sessions
        # camera id -> when an upload of it was last refused for its quota (read by the actor's
        # health on another thread: whole-value writes only).
        self.over_quota: dict[str, float] = {}
        self.waiting: dict[int, object] = {}  # id -> session, of those waiting for a login
        # Passwords verified before, as keyed digests (never the password): a camera logs in
        # for every snapshot, and scrypt's 50 ms would stall the one server thread each time.
        self._memo_key = secrets.token_bytes(32)
        self._verified: dict[tuple[str, str], bytes] = {}

    # --- bans: the server thread records failures, the actor lists and lifts them ---------
    def login_failed(self, address: str, account: str) -> float:
        """Record a failed login; the seconds of the ban it started, else 0."""
        with self._bans_lock:
            return self.bans.failed(address, self.clock(), account)

    def banned_for(self, address: str) -> float:
        with self._bans_lock:
            return self.bans.banned_for(address, self.clock())

    def active_bans(self) -> list[FtpBan]:
        with self._bans_lock:
            return self.bans.active_bans(self.clock())

    def unban(self, address: str) -> bool:
        """Lift a ban at once (its failures are forgotten too); False when none was running."""
        with self._bans_lock:
            return self.bans.unban(address, self.clock())

    def count(self, counter: str) -> None:
        self.counters[counter] += 1

    def check_password(self, account: FtpAccount, password: str) -> bool:
        digest = hmac.new(self._memo_key, password.encode("utf-8"), hashlib.sha256).digest()
        key = (account.username, account.password_hash)
        known = self._verified.get(key)
        if known is not None:
            return hmac.compare_digest(known, digest)
        if not verify_password(password, account.password_hash):
            return False
        if len(self._verified) > 1000:
            self._verified.clear()
        self._verified[key] = digest
        return True

    def active_sessions(self) -> int:
        return sum(len(ids) for ids in self.sessions.values())

    def admit_unauthenticated(self, key: int, address: str) -> Admission:
        with self._unauthenticated_lock:
            return self.unauthenticated.admit(key, address, self.clock())

    def settle_unauthenticated(self, key: int) -> None:
        with self._unauthenticated_lock:
            self.unauthenticated.settled(key)

    def waiting_for_login(self) -> int:
        return len(self.unauthenticated)

    def unauthenticated_pressure(self, now: float) -> Pressure | None:
        """Connections refused or evicted before their login in the last minute: a flood."""
        with self._unauthenticated_lock:
            return self.unauthenticated.pressure(now)


def _quiet_pyftpdlib() -> None:
    """pyftpdlib logs every command at INFO, and configures logging itself (a stderr handler,
    and process-wide logging switches) unless its logger has a handler: give it one that
    drops records, and pass only its warnings on. homesec logs what matters itself."""
    pyftpdlib_log = logging.getLogger("pyftpdlib")
    if not pyftpdlib_log.handlers:
        pyftpdlib_log.addHandler(logging.NullHandler())
    pyftpdlib_log.setLevel(logging.WARNING)


class FtpServer:
    """The server on its own thread: :meth:`start` binds (raising ``OSError`` when the port is
    taken) and serves until :meth:`stop`."""

    def __init__(
        self,
        config: FtpServerConfig,
        accounts: AccountTable,
        on_upload: OnUpload,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.state = ServerState(config, accounts, on_upload, clock)
        self._server: FTPServer | None = None
        self._thread: threading.Thread | None = None
        self._usage_thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def address(self) -> tuple[str, int]:
        assert self._server is not None, "not started"
        host, port = self._server.address[:2]
        return host, port

    def start(self) -> None:
        from homesec.files.ftp_session import handler_class

        _quiet_pyftpdlib()
        config = self.state.config
        server = FTPServer((config.host, config.port), handler_class(self.state), ioloop=IOLoop())
        # Off: the sessions' own budgets bound the connections (see the module's docstring).
        server.max_cons = 0
        server.max_cons_per_ip = 0
        self._server = server
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, name="homesec-ftp", daemon=True)
        self._thread.start()
        if config.camera_quota_bytes > 0:
            self._usage_thread = threading.Thread(
                target=self._measure, name="homesec-ftp-usage", daemon=True
            )
            self._usage_thread.start()
        log.info("FTP%s server listening on %s:%d", "S" if config.tls else "", *self.address)

    def _serve(self) -> None:
        server = self._server
        assert server is not None
        try:
            while not self._stop.is_set():
                server.ioloop.loop(timeout=0.2, blocking=False)
        finally:
            server.close_all()

    def _measure(self) -> None:
        while not self._stop.wait(self.state.config.usage_refresh_seconds):
            try:
                folders = [account.folder_path for account in self.state.accounts.all()]
                self.state.usage.refresh(folders)
            except Exception:  # never let the thread die: the quota would go stale
                log.exception("FTP: measuring the camera folders failed")

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        for thread in (self._thread, self._usage_thread):
            if thread is not None:
                thread.join(timeout)
        self._thread = self._usage_thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def counters(self) -> dict[str, int]:
        return dict(self.state.counters)
