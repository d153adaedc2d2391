"""Which actors should run: a pure function of the settings, the cameras and the cluster.

The supervisor compares this plan with what runs and starts or stops the difference; keeping the
plan pure keeps the placement rules (who gets a GPU, where watchers go) testable without Ray.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from homesec.contract import actor_names
from homesec.contract.actor_names import CAMERA_FOLDERS_RESOURCE
from homesec.contract.reports import ActorSpec
from homesec.policy.process_env import DETECTOR_PROCESS_ENV
from homesec.settings import Settings

# A sliver of the custom resource: any number of watchers fit on the node that has it.
_FOLDER_RESOURCE_SHARE = 0.001


class ClusterFacts(msgspec.Struct, frozen=True, kw_only=True):
    gpus: float = 0.0
    has_camera_folders_resource: bool = False
    gpu_node_ids: tuple[str, ...] = ()  # alive Ray nodes with a GPU


class Endpoints(msgspec.Struct, frozen=True):
    database_url: str
    redis_url: str


def plan_actors(
    settings: Settings,
    endpoints: Endpoints,
    camera_ids: Iterable[tuple[str, str]],
    cluster: ClusterFacts,
    *,
    llm_engine: str,
) -> list[ActorSpec]:
    """Every actor that should run. ``camera_ids``: (camera id, folder path) pairs.

    ``llm_engine`` is the engine the analyst will use (``choose_llm_engine``): only vLLM runs
    inside the analyst and needs its GPU share.
    """
    common = {
        "settings": settings,
        "database_url": endpoints.database_url,
        "redis_url": endpoints.redis_url,
    }
    specs: list[ActorSpec] = []
    watcher_resources = _beside_the_folders(cluster)
    for camera_id, folder_path in sorted(camera_ids):
        specs.append(
            ActorSpec(
                name=actor_names.watcher(camera_id),
                kind="watcher",
                **common,
                camera_id=camera_id,
                folder_path=folder_path,
                resources=watcher_resources,
            )
        )
        specs.append(
            ActorSpec(
                name=actor_names.batcher(camera_id),
                kind="batcher",
                **common,
                camera_id=camera_id,
            )
        )
    detector_gpu = settings.detector_gpu_fraction if cluster.gpus > 0 else 0.0
    for replica in range(settings.detector_replicas):
        specs.append(
            ActorSpec(
                name=actor_names.detector(replica),
                kind="detector",
                **common,
                num_cpus=1,
                num_gpus=detector_gpu,
                env_vars=DETECTOR_PROCESS_ENV,
            )
        )
    analyst_gpu = settings.llm_gpu_fraction if llm_engine == "vllm" and cluster.gpus > 0 else 0.0
    specs.append(
        ActorSpec(
            name=actor_names.analyst(0),
            kind="analyst",
            **common,
            num_gpus=analyst_gpu,
        )
    )
    # One GPU monitor per GPU node, pinned there (NVML sees the node's GPUs). Without any, one
    # monitor anywhere says "no GPU" once, so the health report tells why there are no stats.
    for node_id in cluster.gpu_node_ids or (None,):
        name = actor_names.gpu_monitor(node_id[:12] if node_id else "local")
        specs.append(
            ActorSpec(
                name=name,
                kind="gpu_monitor",
                **common,
                node_id=node_id,
            )
        )
    # The janitor deletes thumbnails and images: it runs where the data dir and folders are.
    specs.append(
        ActorSpec(
            name=actor_names.JANITOR,
            kind="janitor",
            **common,
            resources=watcher_resources,
        )
    )
    # The Notifier decides and delivers alerts; it only waits on I/O (num_cpus 0, the default).
    specs.append(
        ActorSpec(
            name=actor_names.NOTIFIER,
            kind="notifier",
            **common,
        )
    )
    # The FTP server writes into the camera folders and hands uploads to the watchers: it runs
    # where they do.
    if settings.ftp_enabled:
        specs.append(
            ActorSpec(
                name=actor_names.FTP_SERVER,
                kind="ftp_server",
                **common,
                resources=watcher_resources,
            )
        )
    return specs


def plan_supervisor(settings: Settings, endpoints: Endpoints, cluster: ClusterFacts) -> ActorSpec:
    """The Supervisor, which `homesec up` starts and which starts every actor above.

    It finds the cameras by listing the folders under ``FOSCAM_BASE_PATH`` on its own node, so
    it runs where they are: beside the watchers on the node marked with the camera folders'
    resource. Left to Ray, it would land on any node (on the three-host test cluster it went to
    the GPU worker), where the folders may not exist, and no camera would be found.
    """
    return ActorSpec(
        name=actor_names.SUPERVISOR,
        kind="supervisor",
        settings=settings,
        database_url=endpoints.database_url,
        redis_url=endpoints.redis_url,
        resources=_beside_the_folders(cluster),
    )


def _beside_the_folders(cluster: ClusterFacts) -> dict[str, float]:
    """What an actor asks for to run on the node with the camera folders (nothing when the
    cluster marks none: one machine, or a cluster with the folders mounted everywhere)."""
    if not cluster.has_camera_folders_resource:
        return {}
    return {CAMERA_FOLDERS_RESOURCE: _FOLDER_RESOURCE_SHARE}


class Reconciliation(msgspec.Struct, frozen=True):
    to_start: list[ActorSpec]
    to_stop: list[str]


def reconcile(desired: list[ActorSpec], running: Iterable[str]) -> Reconciliation:
    """What to start (desired, not running) and stop (running, no longer desired)."""
    running_names = set(running)
    desired_names = {spec.name for spec in desired}
    return Reconciliation(
        to_start=[spec for spec in desired if spec.name not in running_names],
        to_stop=sorted(running_names - desired_names),
    )
