"""The one place where Ray options meet homesec's actor classes.

Every actor is detached, named, in namespace ``homesec``, restarted forever, and has a ``health``
concurrency group so a busy actor still answers its supervisor. Resources follow DESIGN.md's
actor table; I/O actors ask for no CPU, or a 2-core machine deadlocks.
"""

from __future__ import annotations

import os
from typing import Any

import msgspec

from homesec.ops.ray_runtime import NAMESPACE

HEALTH_GROUP = "health"
# Label on the node that holds the camera folders (ray_cluster.yaml); watchers go there.
CAMERA_FOLDERS_RESOURCE = "homesec_camera_folders"


class ActorSpec(msgspec.Struct, frozen=True, kw_only=True):
    """What the supervisor needs to create (or re-create) one actor."""

    name: str
    kind: str  # watcher | detector | batcher | analyst | gpu_monitor | janitor
    class_path: str  # "homesec.actors.batcher:Batcher"
    args: tuple = ()
    num_cpus: float = 0
    num_gpus: float = 0
    resources: dict[str, float] = {}
    camera_id: str | None = None
    node_id: str | None = None  # pin to this Ray node (one GPU monitor per GPU node)
    # Set in the actor's worker process before it starts (allocator settings are read then).
    env_vars: dict[str, str] = {}


def actor_options(spec: ActorSpec) -> dict[str, Any]:
    options: dict[str, Any] = {
        "name": spec.name,
        "namespace": NAMESPACE,
        "lifetime": "detached",
        "max_restarts": -1,
        # Only `run` (the idempotent main loop) is retried after a restart: per-call options.
        "max_task_retries": 0,
        "num_cpus": spec.num_cpus,
    }
    if spec.num_gpus:
        options["num_gpus"] = spec.num_gpus
    if spec.resources:
        options["resources"] = dict(spec.resources)
    # A variable the operator set for homesec themselves wins: workers inherit it.
    env_vars = {key: value for key, value in spec.env_vars.items() if key not in os.environ}
    if env_vars:
        options["runtime_env"] = {"env_vars": env_vars}
    if spec.node_id:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        options["scheduling_strategy"] = NodeAffinitySchedulingStrategy(spec.node_id, soft=False)
    return options


def load_class(class_path: str) -> type:
    module_name, _, class_name = class_path.partition(":")
    module = __import__(module_name, fromlist=[class_name])
    return getattr(module, class_name)


def create_actor(spec: ActorSpec):
    """Create the actor (or return the live one of that name) and start its main loop."""
    import ray

    # Concurrency groups can only be declared when the class is made remote, not in .options().
    remote_class = ray.remote(concurrency_groups={HEALTH_GROUP: 1})(load_class(spec.class_path))
    handle = remote_class.options(get_if_exists=True, **actor_options(spec)).remote(*spec.args)
    start_main_loop(handle)
    return handle


def start_main_loop(handle):
    """Start ``run()``; Ray resubmits it after each restart of the actor (it is idempotent)."""
    return handle.run.options(max_task_retries=-1).remote()


def health_call(handle):
    return handle.health.options(concurrency_group=HEALTH_GROUP).remote()
