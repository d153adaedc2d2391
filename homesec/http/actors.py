"""How the HTTP front door learns about the pipeline's actors, without importing Ray.

The API needs the Supervisor's report, and the FTP server's bans (to list and lift them). The
Ray-backed :class:`ActorDirectory` lives with the actors (it calls the named ``supervisor`` and
``ftp_server`` actors); the front door takes any object with these methods, so it runs, and is
tested, with no cluster at all.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from homesec.contract.errors import PipelineNotRunning
from homesec.contract.reports import ActorStatus, FtpBan, SupervisorReport

__all__ = ["ActorDirectory", "ActorStatus", "NoActors", "SupervisorReport", "is_healthy"]

# Ray's state of an actor that is up and serving; any other (PENDING_CREATION, RESTARTING,
# DEPENDENCIES_UNREADY, DEAD) means the pipeline is not fully working.
ALIVE = "ALIVE"


@runtime_checkable
class ActorDirectory(Protocol):
    async def supervisor_report(self) -> SupervisorReport | None:
        """The Supervisor's latest report; None when the pipeline is not running or reachable.

        Must not raise for an unreachable pipeline, and should answer within a few seconds
        (the health route waits on it).
        """
        ...

    async def ftp_bans(self) -> list[FtpBan]:
        """The addresses the FTP server refuses after failed logins, now. Raises
        :class:`~homesec.contract.errors.PipelineNotRunning` when the FTP server is not there
        (or does not answer)."""
        ...

    async def ftp_unban(self, address: str) -> bool:
        """Lift the ban of ``address`` at once; False when it was not banned. Raises
        :class:`~homesec.contract.errors.PipelineNotRunning` as :meth:`ftp_bans` does."""
        ...

    async def ftp_accounts_changed(self) -> None:
        """Tell the FTP server the camera accounts changed, so it reads them now: a camera just
        added logs in at once. Best effort: never raises (a server that is not running reads
        them when it starts)."""
        ...


class NoActors:
    """The directory of an API running without a pipeline: there is never a report."""

    async def supervisor_report(self) -> SupervisorReport | None:
        return None

    async def ftp_bans(self) -> list[FtpBan]:
        raise PipelineNotRunning(NO_FTP_SERVER)

    async def ftp_unban(self, address: str) -> bool:
        raise PipelineNotRunning(NO_FTP_SERVER)

    async def ftp_accounts_changed(self) -> None:
        return None


NO_FTP_SERVER = "homesec's FTP server is not running with this API (is `homesec up` running?)"


def is_healthy(actor: ActorStatus) -> bool:
    return actor.state.upper() == ALIVE
