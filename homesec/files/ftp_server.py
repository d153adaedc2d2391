"""homesec's FTP(S) server for cameras: pyftpdlib on its own thread, one account per camera.

The rules (what an account may do, bans, caps) are :mod:`homesec.pipeline.ftp_policy`'s; the
session's enforcement is :mod:`homesec.files.ftp_session`, with its logins in
:mod:`homesec.files.ftp_authorizer` and its folder in :mod:`homesec.files.ftp_filesystem`.
This module holds what the sessions share (:class:`ServerState`: the account table, the bans,
the counters) and runs the server.

**Accounts** come from an in-memory :class:`AccountTable` that the owner refreshes (the FTP
actor reads PostgreSQL every few seconds). Why not query PostgreSQL at login: pyftpdlib runs
every session on one thread and one select loop, and a blocking query there would stall every
transfer in flight; the table is a dict swap, and a new account is live within one refresh.

**Threads**: everything of pyftpdlib happens on the server's own thread. The upload callback
(``on_upload(camera_id, path)``) is called there and must only hand over (the actor posts it to
its event loop); :meth:`FtpServer.counters` may be read from any thread.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path

import msgspec
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import FTPServer

from homesec.pipeline.camera_accounts import FtpAccount, verify_password
from homesec.pipeline.ftp_policy import BanPolicy, LoginBans
from homesec.settings import Settings

log = logging.getLogger("homesec.ftp")

COUNTERS = (
    "connections", "logins", "failed_logins", "bans", "refused_banned", "refused_commands",
    "refused_paths", "refused_busy", "uploads", "uploads_too_large", "uploads_incomplete",
)  # fmt: skip
# Idle control connections are dropped after this long; a camera logs in per upload.
IDLE_TIMEOUT_SECONDS = 120
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
    max_connections_per_account: int = 4
    ban: BanPolicy = BanPolicy()
    auth_failed_delay: float = AUTH_FAILED_DELAY_SECONDS

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
            max_connections_per_account=settings.ftp_max_connections_per_account,
            ban=BanPolicy.from_settings(settings),
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
        self.counters: dict[str, int] = dict.fromkeys(COUNTERS, 0)
        self.sessions: dict[str, set[int]] = {}  # user name -> ids of its logged-in sessions
        # Passwords verified before, as keyed digests (never the password): a camera logs in
        # for every snapshot, and scrypt's 50 ms would stall the one server thread each time.
        self._memo_key = secrets.token_bytes(32)
        self._verified: dict[tuple[str, str], bytes] = {}

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
        server.max_cons = 256
        server.max_cons_per_ip = 32
        self._server = server
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, name="homesec-ftp", daemon=True)
        self._thread.start()
        log.info("FTP%s server listening on %s:%d", "S" if config.tls else "", *self.address)

    def _serve(self) -> None:
        server = self._server
        assert server is not None
        try:
            while not self._stop.is_set():
                server.ioloop.loop(timeout=0.2, blocking=False)
        finally:
            server.close_all()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def counters(self) -> dict[str, int]:
        return dict(self.state.counters)
