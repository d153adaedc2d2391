"""FtpServerActor: the built-in FTP(S) server cameras upload to, as a supervised actor.

It runs on the node that holds the camera folders (the plan gives it the watchers' resource).
The server itself (:mod:`homesec.files.ftp_server`) runs pyftpdlib on its own thread; this
shell feeds it accounts and hands its uploads to the watchers:

- **Accounts**: every ``refresh_seconds`` the actor reads ``camera_accounts`` and swaps the
  server's in-memory table, so an account made by ``homesec camera add`` or the API is live
  within seconds, and a removed one is refused (its open sessions too, at their next command).
- **Hand-over**: the server calls back on its thread at the end of each ``STOR``; the callback
  posts the path to this actor's event loop, which calls the camera's watcher
  (``upload_finished``) through the Ray gateway. The watcher ingests it at once, without the
  settle wait. A watcher that is not there (yet) loses nothing: its folder watch and its scan
  find the file.
- **Listening**: a port that is taken is not fatal: the error shows in ``health()`` and the
  actor tries again every few seconds, while the rest of homesec runs.
- **Bans**: an address refused after ``FTP_BAN_ATTEMPTS`` failed logins is a problem in
  ``health()`` while its ban runs (the address, the accounts it tried, until when, and how to
  lift it); :meth:`bans` lists them and :meth:`unban` lifts one (for ``/api/ftp/bans`` and
  ``homesec camera unban``).
- **Floods**: connections refused or closed before their login within the last minute (the
  budget of ``FTP_MAX_UNAUTHENTICATED``) are a problem in ``health()`` while they go on, with
  the addresses they come from; the counters keep the totals.
"""

from __future__ import annotations

import asyncio
import time

from homesec.actors import ray_gateway
from homesec.actors.base import ServiceActor
from homesec.actors.named_actors import ActorNotFound, NamedActors
from homesec.contract import actor_names
from homesec.contract.reports import FtpBan, Problem
from homesec.files.ftp_server import AccountTable, FtpServer, FtpServerConfig
from homesec.files.ftp_tls import certificate_files
from homesec.policy.retry import backoff_delay
from homesec.settings import Settings
from homesec.store import camera_accounts

DEFAULT_REFRESH_SECONDS = 2.0
HAND_OVER_TIMEOUT_SECONDS = 30.0
# A quota refusal is shown in health this long after the last one.
QUOTA_PROBLEM_SECONDS = 600.0


class FtpServerActor(ServiceActor):
    kind = "ftp_server"

    def __init__(
        self,
        name: str,
        settings: Settings,
        database_url: str,
        redis_url: str,
        *,
        refresh_seconds: float = DEFAULT_REFRESH_SECONDS,
    ) -> None:
        super().__init__(name, settings, database_url, redis_url)
        self.refresh_seconds = refresh_seconds
        self.accounts = AccountTable()
        self.server: FtpServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._watchers = NamedActors()  # the cameras' watchers
        self._accounts_loaded = False
        self.counters.update(dict.fromkeys(("handed_over", "hand_over_missed"), 0))

    async def main(self) -> None:
        self._loop = asyncio.get_running_loop()
        attempt = 0
        next_listen = 0.0
        try:
            while not self.stopping:
                await self._attempt_refresh()
                due = time.monotonic() >= next_listen
                if self.server is None and self._accounts_loaded and due:
                    attempt += 1
                    if await self._listen():
                        attempt = 0
                    else:
                        next_listen = time.monotonic() + backoff_delay(attempt, 2.0, 30.0)
                if self.server is not None:
                    # The server's running totals replace the last report's (Counter.update
                    # would add them up again on every refresh).
                    for key, total in self.server.counters().items():
                        self.counters[key] = total
                await asyncio.sleep(self.refresh_seconds)
        finally:
            server, self.server = self.server, None
            if server is not None:
                await asyncio.to_thread(server.stop)

    async def refresh_accounts(self) -> int:
        """Read the camera accounts now (the front door calls it after adding, resetting or
        removing one), so a camera just added logs in at once rather than at the next refresh;
        the number of accounts in force."""
        await self._attempt_refresh()
        return len(self.accounts)

    async def _attempt_refresh(self) -> None:
        try:
            self.accounts.replace(await camera_accounts.ftp_accounts(self.sessions))
            self._accounts_loaded = True
        except Exception as exc:  # PostgreSQL away: the last table stays in force
            self.record_error(exc)
            self.log.warning("%s: cannot read the camera accounts: %s", self.name, exc)

    async def _listen(self) -> bool:
        settings = self.settings
        files = None
        try:
            if settings.ftp_tls:
                files = await asyncio.to_thread(certificate_files, settings)
        except (OSError, ValueError) as exc:  # a missing or unreadable certificate
            self.record_error(f"FTPS: {exc}")
            self.log.error("%s: %s", self.name, self.last_error)
            return False
        config = FtpServerConfig.from_settings(settings, *(files or (None, None)))
        server = FtpServer(config, self.accounts, self._upload_done)
        try:
            await asyncio.to_thread(server.start)
        except OSError as exc:
            self.record_error(
                f"cannot listen on {settings.ftp_host}:{settings.ftp_port} ({exc}); "
                "free the port or set FTP_PORT"
            )
            self.log.error("%s: %s", self.name, self.last_error)
            return False
        self.server = server
        return True

    # --- the hand-over ------------------------------------------------------------------
    def _upload_done(self, camera_id: str, path: str) -> None:
        """On the server's thread: post the hand-over to this actor's loop, never wait."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            asyncio.run_coroutine_threadsafe(self.hand_over(camera_id, path), loop)

    async def hand_over(self, camera_id: str, path: str) -> bool:
        """Tell the camera's watcher ``path`` is complete; False when no watcher took it."""
        try:
            await self._watchers.call(
                actor_names.watcher(camera_id),
                "upload_finished",
                path,
                timeout=HAND_OVER_TIMEOUT_SECONDS,
            )
        except ActorNotFound:
            pass  # no watcher yet: its folder watch finds the file when it starts
        except (ray_gateway.ActorGone, ray_gateway.ActorUnavailable) as exc:
            self.log.info("%s: watcher of %s: %s", self.name, camera_id, exc)
        except Exception as exc:  # timed out, or it failed: its folder watch has the file
            self.record_error(exc)
        else:
            self.counters["handed_over"] += 1
            return True
        self.counters["hand_over_missed"] += 1
        return False

    # --- bans -------------------------------------------------------------------------------
    async def bans(self) -> list[FtpBan]:
        """The addresses refused after failed logins, now (none while not listening)."""
        server = self.server
        return server.state.active_bans() if server is not None else []

    async def unban(self, address: str) -> bool:
        """Lift the ban of ``address`` at once; False when it was not banned."""
        server = self.server
        lifted = server is not None and server.state.unban(address)
        if lifted:
            self.log.warning("%s: the ban of %s was lifted by hand", self.name, address)
        return lifted

    def _ban_problems(self, server: FtpServer) -> list[Problem]:
        problems = []
        for ban in server.state.active_bans():
            tried = ", ".join(ban.accounts) or "no user name"
            until = time.strftime("%H:%M:%S", time.localtime(ban.until))
            problems.append(
                Problem(
                    component=self.name,
                    summary=(
                        f"FTP: {ban.address} is banned until {until} after "
                        f"{self.settings.ftp_ban_attempts} failed logins (tried: {tried}); "
                        "even the right password is refused from there meanwhile"
                    ),
                    remedy=(
                        "if it is one of your cameras, enter its right password in its FTP "
                        "settings (`homesec camera passwd CAMERA` makes a new one), then lift "
                        f"the ban: `homesec camera unban {ban.address}` or "
                        f"DELETE /api/ftp/bans/{ban.address}; if not, find the machine and "
                        "keep it off the cameras' network (the ban ends by itself, "
                        "FTP_BAN_SECONDS)"
                    ),
                    since=ban.since,
                )
            )
        return problems

    def health_detail(self) -> dict[str, str]:
        server, settings = self.server, self.settings
        detail = {
            "listening": str(server is not None and server.running).lower(),
            "address": f"{settings.ftp_host}:{settings.ftp_port}",
            "tls": str(settings.ftp_tls).lower(),
            "accounts": str(len(self.accounts)),
        }
        if server is not None:
            now = time.time()
            detail["sessions"] = str(server.state.active_sessions())
            detail["waiting_for_login"] = str(server.state.waiting_for_login())
            detail["banned_addresses"] = str(len(server.state.active_bans()))
            pressure = server.state.unauthenticated_pressure(now)
            if pressure is not None:
                detail["turned_away_before_login_last_minute"] = str(
                    pressure.refused + pressure.evicted
                )
        return detail

    def health_problems(self) -> list[Problem]:
        problems = super().health_problems()
        server = self.server
        if server is not None:
            problems.extend(self._quota_problems(server, time.time()))
            problems.extend(self._ban_problems(server))
        pressure = server.state.unauthenticated_pressure(time.time()) if server else None
        if pressure is not None:
            problems.append(
                Problem(
                    component=self.name,
                    summary=(
                        f"FTP flood: {pressure.refused} connections refused and "
                        f"{pressure.evicted} closed before their login in the last minute, "
                        f"from {', '.join(pressure.addresses)}"
                    ),
                    remedy=(
                        "find the machine at those addresses and stop it, or keep it off the "
                        "cameras' network; logged-in cameras keep uploading meanwhile "
                        "(FTP_MAX_UNAUTHENTICATED, FTP_MAX_UNAUTHENTICATED_PER_ADDRESS)"
                    ),
                    since=pressure.since,
                )
            )
        return problems

    def _quota_problems(self, server: FtpServer, now: float) -> list[Problem]:
        """A camera whose uploads were refused for its quota in the last ten minutes."""
        quota_gib = self.settings.ftp_camera_quota_bytes / 1024**3
        return [
            Problem(
                component=self.name,
                summary=(
                    f"camera {camera_id} is at its upload quota ({quota_gib:g} GiB): its FTP "
                    "uploads are refused (552)"
                ),
                remedy=(
                    "raise FTP_CAMERA_QUOTA_BYTES (0: no quota), or let the daily cleanup "
                    "delete old images (DELETE_IMAGES=true); uploads are taken again at once"
                ),
                since=refused_at,
            )
            for camera_id, refused_at in sorted(dict(server.state.over_quota).items())
            if now - refused_at < QUOTA_PROBLEM_SECONDS
        ]
