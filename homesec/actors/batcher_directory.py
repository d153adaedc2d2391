"""How the Detector reaches a camera's Batcher: one interface, a Ray backend and an in-process one.

Every Ray call of the hand-over lives in :class:`RayBatcherDirectory`; tests and single-process
tools use :class:`LocalBatcherDirectory` with plain :class:`~homesec.actors.batcher.Batcher`
objects. Either raises when the hand-over did not happen, so the Detector retries the job.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from homesec.actors import ray_gateway
from homesec.contract import actor_names
from homesec.contract.jobs import StoredDetection

if TYPE_CHECKING:
    from homesec.actors.batcher import Batcher


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
    """The named Batcher actors (``batcher:{camera_id}``), their handles cached.

    A cached handle whose actor died or was re-created fails with an actor error; then the name
    is looked up again once, and a second failure goes back to the caller.
    """

    def __init__(self) -> None:
        self._handles: dict[str, Any] = {}

    async def add(self, camera_id: str, detections: list[StoredDetection]) -> None:
        handle = self._handles.get(camera_id)
        if handle is not None:
            try:
                await ray_gateway.call(handle, "add", detections)
                return
            except ray_gateway.ActorGone:
                del self._handles[camera_id]
            except (ray_gateway.ActorUnavailable, ray_gateway.CallTimedOut) as exc:
                raise BatcherUnavailable(f"batcher of {camera_id!r}: {exc}") from exc
        handle = await self._lookup(camera_id)
        try:
            await ray_gateway.call(handle, "add", detections)
        except (
            ray_gateway.ActorGone,
            ray_gateway.ActorUnavailable,
            ray_gateway.CallTimedOut,
        ) as exc:
            self._handles.pop(camera_id, None)
            raise BatcherUnavailable(f"batcher of {camera_id!r}: {exc}") from exc

    async def _lookup(self, camera_id: str) -> Any:
        handle = await ray_gateway.lookup_async(actor_names.batcher(camera_id))
        if handle is None:
            raise BatcherUnavailable(f"no batcher for camera {camera_id!r}")
        self._handles[camera_id] = handle
        return handle
