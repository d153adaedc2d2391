"""How the HTTP front door learns about the pipeline's actors, without importing Ray.

The API only needs the Supervisor's report. The Ray-backed :class:`ActorDirectory` lives with the
actors (it calls the named ``supervisor`` actor); the front door takes any object with this one
method, so it runs, and is tested, with no cluster at all.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from homesec.contract.reports import ActorStatus, SupervisorReport

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


class NoActors:
    """The directory of an API running without a pipeline: there is never a report."""

    async def supervisor_report(self) -> SupervisorReport | None:
        return None


def is_healthy(actor: ActorStatus) -> bool:
    return actor.state.upper() == ALIVE
