"""How the Detector reaches a camera's Batcher: one interface, a Ray backend and an in-process one.

Every Ray call of the hand-over lives in :class:`RayBatcherDirectory`; tests and single-process
tools use :class:`LocalBatcherDirectory` with plain :class:`~homesec.actors.batcher.Batcher`
objects. Either raises when the hand-over did not happen, so the Detector retries the job.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from homesec.actors import ray_gateway
from homesec.actors.named_actors import ActorNotFound, NamedActors
from homesec.contract import actor_names
from homesec.contract.jobs import StoredDetection

if TYPE_CHECKING:
    from homesec.actors.batcher import Batcher

# A hand-over is a few Redis round trips; one this late is a Batcher not answering (the call is
# idempotent, so one that still lands after the timeout does no harm).
ADD_TIMEOUT_SECONDS = 60.0


class BatcherUnavailable(RuntimeError):
    """The camera's Batcher cannot be reached: none runs (yet; the supervisor starts one per
    camera), or it is dead, restarting or not answering. Not the job's fault: the Detector
    holds the hand-over until the Batcher answers."""


class BatcherDirectory(Protocol):
    async def add(self, camera_id: str, detections: list[StoredDetection]) -> None:
        """Give ``detections`` to the camera's Batcher; return once it has them."""
        ...


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
        except (
            ray_gateway.ActorGone,
            ray_gateway.ActorUnavailable,
            ray_gateway.CallTimedOut,
        ) as exc:
            raise BatcherUnavailable(f"batcher of {camera_id!r}: {exc}") from exc
