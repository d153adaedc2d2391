"""The front door's view of the running pipeline, through Ray: the supervisor's report, the FTP
server's bans and the janitor's cleanup. Lookups happen per call, so a re-created actor is found
again."""

from __future__ import annotations

import logging

from homesec.actors import ray_gateway
from homesec.contract import actor_names
from homesec.contract.errors import PipelineNotRunning
from homesec.contract.reports import CleanupStats, FtpBan, SupervisorReport

log = logging.getLogger(__name__)

REPORT_TIMEOUT_SECONDS = 3.0
CLEANUP_TIMEOUT_SECONDS = 600.0
FTP_TIMEOUT_SECONDS = 5.0


class RayActorDirectory:
    """:class:`homesec.http.actors.ActorDirectory` backed by the named supervisor actor."""

    async def supervisor_report(self) -> SupervisorReport | None:
        handle = await ray_gateway.lookup_async(actor_names.SUPERVISOR)
        if handle is None:
            return None
        try:
            return await ray_gateway.call(
                handle, "report", timeout=REPORT_TIMEOUT_SECONDS, health_group=True
            )
        except Exception as exc:  # dead, restarting or slow: the pipeline is not answering
            log.debug("no supervisor report: %s", exc)
            return None

    async def ftp_bans(self) -> list[FtpBan]:
        return await _call_ftp_server("bans")

    async def ftp_unban(self, address: str) -> bool:
        return await _call_ftp_server("unban", address)


async def _call_ftp_server(method: str, *args: object):
    handle = await ray_gateway.lookup_async(actor_names.FTP_SERVER)
    if handle is None:
        raise PipelineNotRunning(
            "homesec's FTP server is not running (FTP_ENABLED, and is `homesec up` running?)"
        )
    try:
        return await ray_gateway.call(handle, method, *args, timeout=FTP_TIMEOUT_SECONDS)
    except Exception as exc:  # dead, restarting or slow
        raise PipelineNotRunning(f"homesec's FTP server did not answer: {exc}") from None


async def run_cleanup(dry_run: bool) -> CleanupStats:
    """Run the janitor's retention cleanup (or count it, with ``dry_run``)."""
    handle = await ray_gateway.lookup_async(actor_names.JANITOR)
    if handle is None:
        raise PipelineNotRunning("the janitor is not running; is `homesec up` running?")
    return await ray_gateway.call(
        handle, "run_cleanup", dry_run=dry_run, timeout=CLEANUP_TIMEOUT_SECONDS
    )
