"""The front door's view of the running pipeline, through Ray: the supervisor's report and the
janitor's cleanup. Lookups happen per call, so a re-created actor is found again."""

from __future__ import annotations

import asyncio
import logging

from homesec.actors import names
from homesec.actors.factory import HEALTH_GROUP
from homesec.ops.errors import PipelineNotRunning
from homesec.ops.ray_runtime import NAMESPACE
from homesec.pipeline.structs import CleanupStats, SupervisorReport

log = logging.getLogger(__name__)

REPORT_TIMEOUT_SECONDS = 3.0
CLEANUP_TIMEOUT_SECONDS = 600.0


def _lookup(name: str):
    import ray

    try:
        return ray.get_actor(name, namespace=NAMESPACE)
    except ValueError:  # no actor of that name (yet, or any more)
        return None


class RayActorDirectory:
    """:class:`homesec.http.actors.ActorDirectory` backed by the named supervisor actor."""

    async def supervisor_report(self) -> SupervisorReport | None:
        handle = _lookup(names.SUPERVISOR)
        if handle is None:
            return None
        try:
            call = handle.report.options(concurrency_group=HEALTH_GROUP).remote()
            return await asyncio.wait_for(call, REPORT_TIMEOUT_SECONDS)
        except Exception as exc:  # dead, restarting or slow: the pipeline is not answering
            log.debug("no supervisor report: %s", exc)
            return None


async def run_cleanup(dry_run: bool) -> CleanupStats:
    """Run the janitor's retention cleanup (or count it, with ``dry_run``)."""
    handle = _lookup(names.JANITOR)
    if handle is None:
        raise PipelineNotRunning("the janitor is not running; is `homesec up` running?")
    return await asyncio.wait_for(
        handle.run_cleanup.remote(dry_run=dry_run), CLEANUP_TIMEOUT_SECONDS
    )
