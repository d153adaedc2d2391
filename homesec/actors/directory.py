"""The front door's view of the running pipeline, through Ray: the supervisor's report, the FTP
server's bans and the janitor's cleanup, through :class:`NamedActors` (a re-created actor is
found again)."""

from __future__ import annotations

import logging

from homesec.actors import ray_gateway
from homesec.actors.named_actors import ActorNotFound, NamedActors
from homesec.contract import actor_names
from homesec.contract.errors import PipelineNotRunning
from homesec.contract.reports import CleanupStats, FtpBan, SupervisorReport

log = logging.getLogger(__name__)

REPORT_TIMEOUT_SECONDS = 3.0
CLEANUP_TIMEOUT_SECONDS = 600.0
FTP_TIMEOUT_SECONDS = 5.0


class RayActorDirectory:
    """:class:`homesec.http.actors.ActorDirectory` backed by the named supervisor actor."""

    def __init__(self) -> None:
        self._actors = NamedActors()

    async def supervisor_report(self) -> SupervisorReport | None:
        try:
            return await self._actors.call(
                actor_names.SUPERVISOR,
                "report",
                timeout=REPORT_TIMEOUT_SECONDS,
                health_group=True,
            )
        except Exception as exc:  # none, dead, restarting or slow: the pipeline is not answering
            log.debug("no supervisor report: %s", exc)
            return None

    async def ftp_bans(self) -> list[FtpBan]:
        return await self._call_ftp_server("bans")

    async def ftp_unban(self, address: str) -> bool:
        return await self._call_ftp_server("unban", address)

    async def ftp_accounts_changed(self) -> None:
        try:
            await self._call_ftp_server("refresh_accounts")
        except PipelineNotRunning as exc:  # no FTP server: it reads them when it starts
            log.debug("accounts changed, FTP server not told: %s", exc)

    async def _call_ftp_server(self, method: str, *args: object):
        try:
            return await self._actors.call(
                actor_names.FTP_SERVER, method, *args, timeout=FTP_TIMEOUT_SECONDS
            )
        except ActorNotFound:
            raise PipelineNotRunning(
                "homesec's FTP server is not running (FTP_ENABLED, and is `homesec up` running?)"
            ) from None
        except ray_gateway.NO_ANSWER as exc:
            raise PipelineNotRunning(f"homesec's FTP server did not answer: {exc}") from None


_janitor = NamedActors()


async def run_cleanup(dry_run: bool) -> CleanupStats:
    """Run the janitor's retention cleanup (or count it, with ``dry_run``)."""
    try:
        return await _janitor.call(
            actor_names.JANITOR, "run_cleanup", dry_run=dry_run, timeout=CLEANUP_TIMEOUT_SECONDS
        )
    except ActorNotFound:
        raise PipelineNotRunning("the janitor is not running; is `homesec up` running?") from None
