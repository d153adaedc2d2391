"""Ray names of homesec's actors, all in the ``homesec`` namespace (ops.ray_runtime.NAMESPACE)."""

from __future__ import annotations

SUPERVISOR = "supervisor"
JANITOR = "janitor"


def watcher(camera_id: str) -> str:
    return f"watcher:{camera_id}"


def batcher(camera_id: str) -> str:
    return f"batcher:{camera_id}"


def detector(replica: int) -> str:
    return f"detector:{replica}"


def analyst(replica: int) -> str:
    return f"analyst:{replica}"


def gpu_monitor(node_id: str) -> str:
    return f"gpu_monitor:{node_id}"
