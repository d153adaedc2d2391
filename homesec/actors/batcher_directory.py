"""How the Detector reaches a camera's Batcher: a Ray backend and an in-process one of the
detection workflow's :class:`~homesec.workflows.detection.BatcherDirectory`.

Every Ray call of the hand-over lives in :class:`RayBatcherDirectory`; tests and single-process
tools use :class:`LocalBatcherDirectory` with plain :class:`~homesec.actors.batcher.Batcher`
objects. Either raises :class:`~homesec.contract.errors.BatcherUnavailable` when the Batcher
cannot be reached (the Detector holds the hand-over), any other error when the Batcher failed
the call (the Detector retries the job).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from homesec.actors import ray_gateway
from homesec.actors.named_actors import ActorNotFound, NamedActors
from homesec.contract import actor_names
from homesec.contract.errors import BatcherUnavailable
from homesec.contract.jobs import StoredDetection

if TYPE_CHECKING:
    from homesec.actors.batcher import Batcher

# A hand-over is a few Redis round trips; one this late is a Batcher not answering (the call is
# idempotent, so one that still lands after the timeout does no harm).
ADD_TIMEOUT_SECONDS = 60.0


class LocalBatcherDirectory:
    """Batchers in this process, by camera id."""

    def __init__(self, batchers: Mapping[str, Batcher]) -> None:
        self._batchers = batchers

    async def add(self, camera_id: str, detections: list[StoredDetection]) -> None:
        batcher = self._batchers.get(camera_id)
        if batcher is None:
            raise BatcherUnavailable(f"no batcher for camera {camera_id!r}")
        await batcher.add(detections)


class RayBatcherDirectory:
    """The named Batcher actors (``batcher:{camera_id}``), reached through
    :class:`~homesec.actors.named_actors.NamedActors`; any way of not reaching one is
    :class:`BatcherUnavailable`."""

    def __init__(self) -> None:
        self._actors = NamedActors()

    async def add(self, camera_id: str, detections: list[StoredDetection]) -> None:
        try:
            await self._actors.call(
                actor_names.batcher(camera_id), "add", detections, timeout=ADD_TIMEOUT_SECONDS
            )
        except ActorNotFound as exc:
            raise BatcherUnavailable(f"no batcher for camera {camera_id!r}") from exc
        except ray_gateway.NO_ANSWER as exc:
            raise BatcherUnavailable(f"batcher of {camera_id!r}: {exc}") from exc
