"""One way to reach a named actor: look it up, keep its handle, and when a call finds the actor
gone (killed and re-created under the same name, or its node lost), look the name up once more
and call again. Every call has a timeout.

The Detector reaching a camera's Batcher, the FTP server reaching a camera's watcher, the GPU
monitor asking the detectors, and the front door asking the supervisor, the FTP server and the
janitor all go through :class:`NamedActors`; each maps the gateway's errors to its own meaning.
"""

from __future__ import annotations

from typing import Any

from homesec.actors import ray_gateway
from homesec.contract.actor_names import NAMESPACE


class ActorNotFound(ray_gateway.ActorGone):
    """No live actor has that name (not started yet, or stopped for good)."""


class NamedActors:
    """Handles of named actors in one namespace, looked up on first use and after a loss."""

    def __init__(self, namespace: str = NAMESPACE) -> None:
        self.namespace = namespace
        self._handles: dict[str, Any] = {}

    async def call(
        self,
        name: str,
        method: str,
        *args: Any,
        timeout: float,
        health_group: bool = False,
        **kwargs: Any,
    ) -> Any:
        """``name.method(*args, **kwargs)``. Raises :class:`ActorNotFound` when no actor has the
        name, and the gateway's :class:`~homesec.actors.ray_gateway.ActorGone`,
        :class:`~homesec.actors.ray_gateway.ActorUnavailable` or
        :class:`~homesec.actors.ray_gateway.CallTimedOut` when the actor found does not answer;
        the method's own errors pass through."""
        cached = self._handles.get(name)
        if cached is not None:
            try:
                return await ray_gateway.call(
                    cached, method, *args, timeout=timeout, health_group=health_group, **kwargs
                )
            except (ray_gateway.ActorGone, ray_gateway.ActorUnavailable):
                # Re-created since (a new handle under the old name), or going: once more.
                self._handles.pop(name, None)
        handle = await self._lookup(name)
        return await ray_gateway.call(
            handle, method, *args, timeout=timeout, health_group=health_group, **kwargs
        )

    async def _lookup(self, name: str) -> Any:
        handle = await ray_gateway.lookup_async(name, self.namespace)
        if handle is None:
            raise ActorNotFound(f"no actor named {name!r}")
        self._handles[name] = handle
        return handle

    def forget(self, name: str) -> None:
        """Drop the kept handle: the next call looks the name up again."""
        self._handles.pop(name, None)
