"""The Ray gateway: every call homesec makes to Ray's API goes through this module.

Connecting and disconnecting, creating, finding and killing actors, calling their methods with a
timeout, the cluster's resources and nodes, where this process runs, and the metric classes. Ray's
own errors stop here too: a dead actor becomes :class:`ActorGone`, a restarting one
:class:`ActorUnavailable` and a slow one :class:`CallTimedOut`, so callers decide without importing
Ray, and the decisions themselves (:mod:`homesec.policy.supervision`,
:mod:`homesec.policy.actor_plan`) stay pure. (Submitting a backfill as a Ray job is
:mod:`homesec.ops.backfill_job`'s.)

Every actor is detached, named, in namespace ``homesec``, restarted forever, and has a ``health``
concurrency group so a busy actor still answers its supervisor. Resources follow the actor table
in ``docs/architecture.md``; I/O actors ask for no CPU, or a 2-core machine deadlocks.

Ray is imported inside the functions: a process that never talks to Ray (the tests of plain actor
objects, the CLI's quick commands) never pays for the import.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import sys
from collections.abc import Sequence
from typing import Any

from homesec.actors.registry import constructor
from homesec.contract.actor_names import CAMERA_FOLDERS_RESOURCE, HEALTH_GROUP, NAMESPACE
from homesec.contract.errors import ServiceUnreachable
from homesec.contract.reports import ActorHealth, ActorSpec
from homesec.policy.actor_plan import ClusterFacts
from homesec.policy.placement import UNPLACED_RAY_STATES, demand_of, no_node_for

Handle = Any  # a Ray actor handle
MainLoop = Any  # the ObjectRef of an actor's `run` call


class ActorGone(RuntimeError):
    """The actor is dead for good (killed without restart, or its node is gone), or was never
    there; a new one must be made."""


class CallTimedOut(TimeoutError):
    """The actor did not answer within the call's timeout (busy, or restarting)."""


class ActorUnavailable(RuntimeError):
    """The actor cannot take the call right now: Ray is restarting it, or its node does not
    answer. Not dead: it may answer the next call."""


# Every way a call can fail without the method itself failing: the actor did not answer.
NO_ANSWER: tuple[type[Exception], ...] = (ActorGone, ActorUnavailable, CallTimedOut)


# --- the connection -----------------------------------------------------------------------------
def connect(address: str | None) -> None:
    """Connect this process to the cluster at ``address`` in homesec's namespace."""
    # Ray 2.60 clusters use token auth by default; a client only sends its token when told to,
    # and reads that at import. Which token: homesec.ops.ray_credentials sets it beforehand.
    os.environ.setdefault("RAY_AUTH_MODE", "token")
    import ray

    if ray.is_initialized():
        return
    try:
        ray.init(
            address=address or "auto",
            namespace=NAMESPACE,
            logging_level=logging.WARNING,
            log_to_driver=False,
        )
    except (ray.exceptions.AuthenticationError, ConnectionError, RuntimeError) as exc:
        raise ServiceUnreachable(_why_not_connected(address, exc)) from None


def _why_not_connected(address: str | None, error: BaseException) -> str:
    """One line for a failed ``ray.init``. Ray 2.60 answers a wrong token with the same
    ConnectionError as a cluster that is not there; a GCS port that accepts connections tells
    the two apart. (Ray's own AuthenticationError text is advice about ``~/.ray``, which homesec
    does not use.)"""
    import ray

    token = os.environ.get("RAY_AUTH_TOKEN_PATH") or (
        "RAY_AUTH_TOKEN" if os.environ.get("RAY_AUTH_TOKEN") else "none"
    )
    refused = isinstance(error, ray.exceptions.AuthenticationError) or (
        address is not None and _port_answers(address)
    )
    if refused:
        return (
            f"Ray at {address} answers but refused homesec's token ({token}): for a cluster "
            "homesec did not start, set RAY_AUTH_TOKEN_PATH to a copy of that cluster's token "
            "file (on its head: `ray get-auth-token`)"
        )
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return f"Ray at {address or 'auto'} is unreachable ({first_line}); check RAY_ADDRESS"


def _port_answers(address: str) -> bool:
    host, _, port = address.rpartition(":")
    if not port.isdigit():
        return False
    try:
        with socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=2):
            return True
    except OSError:
        return False


def disconnect() -> None:
    import ray

    if ray.is_initialized():
        ray.shutdown()


def under_ray() -> bool:
    """This process is connected to Ray. Never imports Ray just to ask: a process that did not
    import it is no Ray worker."""
    ray = sys.modules.get("ray")
    return ray is not None and ray.is_initialized()


# --- where this process runs ----------------------------------------------------------------------
def current_node_id() -> str | None:
    """The Ray node this process runs on; None outside Ray."""
    if not under_ray():
        return None
    import ray

    return ray.get_runtime_context().get_node_id()


def inside_actor() -> bool:
    """This process is a Ray actor's worker (not a driver, not a plain test process)."""
    if not under_ray():
        return False
    import ray

    return ray.get_runtime_context().get_actor_id() is not None


def gpu_ids() -> list[object]:
    """The GPUs Ray assigned to this process; none outside Ray (tests, tools)."""
    if not under_ray():
        return []
    import ray

    return list(ray.get_gpu_ids())


def cluster_facts() -> ClusterFacts:
    """What the actor plan needs to know of the cluster: its GPUs, the camera folders' node."""
    import ray

    resources = ray.cluster_resources()
    return ClusterFacts(
        gpus=resources.get("GPU", 0.0),
        has_camera_folders_resource=CAMERA_FOLDERS_RESOURCE in resources,
        gpu_node_ids=tuple(
            sorted(
                node["NodeID"]
                for node in ray.nodes()
                if node.get("Alive") and node.get("Resources", {}).get("GPU", 0) > 0
            )
        ),
    )


# --- actors -------------------------------------------------------------------------------------
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


def spawn(spec: ActorSpec) -> tuple[Handle, MainLoop]:
    """Create the actor (or return the live one of that name) and start its main loop; the
    loop's call comes back with the handle, for :func:`retire` to wait on."""
    import ray

    made = constructor(spec)
    # Concurrency groups can only be declared when the class is made remote, not in .options().
    remote_class = ray.remote(concurrency_groups={HEALTH_GROUP: 1})(made.cls)
    handle = remote_class.options(get_if_exists=True, **actor_options(spec)).remote(
        *made.args, **made.kwargs
    )
    return handle, start_main_loop(handle)


def create_actor(spec: ActorSpec) -> Handle:
    """:func:`spawn` for a caller that never retires the actor itself."""
    return spawn(spec)[0]


def start_main_loop(handle: Handle) -> MainLoop:
    """Start ``run()``; Ray resubmits it after each restart of the actor (it is idempotent)."""
    return handle.run.options(max_task_retries=-1).remote()


async def retire(
    handle: Handle, main_loops: Sequence[MainLoop], stop_timeout: float, loop_timeout: float
) -> None:
    """Stop the actor cleanly (it closes its connections), wait until this process holds the
    answer of each of its ``run`` calls, then kill it for good.

    The wait is what makes the stop clean in Ray's eyes: the actor's ``run`` returns during its
    ``stop``, but that answer travels apart from ``stop``'s, and a kill that overtakes it leaves
    the call pending here, which Ray then reports as "Task ... failed ... killed by ray.kill"
    (seen once in a full test run, on a loaded 2-core machine)."""
    with contextlib.suppress(*NO_ANSWER):
        await call(handle, "stop", timeout=stop_timeout)
    if main_loops:
        # Whatever each loop answered (an error too) is fine; only its arrival counts.
        await asyncio.wait(
            [asyncio.ensure_future(_settled(loop)) for loop in main_loops], timeout=loop_timeout
        )
    kill(handle)


async def _settled(main_loop: MainLoop) -> None:
    with contextlib.suppress(Exception):
        await main_loop


def retire_blocking(
    handle: Handle, main_loops: Sequence[MainLoop], stop_timeout: float, loop_timeout: float
) -> None:
    """:func:`retire` for a process without an event loop (`homesec up`'s main thread)."""
    import ray

    with contextlib.suppress(ActorGone, CallTimedOut):
        call_blocking(handle, "stop", timeout=stop_timeout)
    if main_loops:
        ray.wait(list(main_loops), num_returns=len(main_loops), timeout=loop_timeout)
    kill(handle)


def lookup(name: str, namespace: str = NAMESPACE) -> Handle | None:
    """The live actor of that name in homesec's namespace; None when there is none. A blocking
    GCS round trip: from an event loop, use :func:`lookup_async`."""
    import ray

    try:
        return ray.get_actor(name, namespace=namespace)
    except ValueError:  # no actor of that name (yet, or any more)
        return None


async def lookup_async(name: str, namespace: str = NAMESPACE) -> Handle | None:
    return await asyncio.to_thread(lookup, name, namespace)


def kill(handle: Handle) -> None:
    """Kill the actor for good (no restart)."""
    import ray

    ray.kill(handle, no_restart=True)


def _method(handle: Handle, method: str, health_group: bool):
    bound = getattr(handle, method)
    return bound.options(concurrency_group=HEALTH_GROUP) if health_group else bound


async def call(
    handle: Handle,
    method: str,
    *args: Any,
    timeout: float | None = None,
    health_group: bool = False,
    **kwargs: Any,
) -> Any:
    """``handle.method(*args, **kwargs)`` awaited, at most ``timeout`` seconds; with
    ``health_group`` on the actor's health concurrency group (answers while the actor is busy).
    Raises :class:`ActorGone`, :class:`ActorUnavailable` or :class:`CallTimedOut`; the method's
    own errors pass through."""
    from ray.exceptions import ActorUnavailableError, GetTimeoutError, RayActorError

    try:
        reply = _method(handle, method, health_group).remote(*args, **kwargs)
        return await asyncio.wait_for(reply, timeout) if timeout is not None else await reply
    except ActorUnavailableError as exc:
        raise ActorUnavailable(f"{method}(): {exc}".splitlines()[0][:500]) from exc
    except RayActorError as exc:
        raise ActorGone(f"actor died: {exc}".splitlines()[0][:500]) from exc
    except (TimeoutError, GetTimeoutError) as exc:
        raise CallTimedOut(f"no answer to {method}() within {timeout} s") from exc


def call_blocking(
    handle: Handle,
    method: str,
    *args: Any,
    timeout: float | None = None,
    health_group: bool = False,
    **kwargs: Any,
) -> Any:
    """:func:`call` for a process without an event loop (the CLI, `homesec up`'s main thread)."""
    import ray
    from ray.exceptions import GetTimeoutError, RayActorError

    try:
        return ray.get(
            _method(handle, method, health_group).remote(*args, **kwargs), timeout=timeout
        )
    except RayActorError as exc:
        raise ActorGone(f"actor died: {exc}".splitlines()[0][:500]) from exc
    except GetTimeoutError as exc:
        raise CallTimedOut(f"no answer to {method}() within {timeout} s") from exc


async def health(handle: Handle, timeout: float) -> ActorHealth:
    """The actor's ``health()``, on its own concurrency group."""
    return await call(handle, "health", timeout=timeout, health_group=True)


def placement_problem(handle: Handle, spec: ActorSpec) -> str | None:
    """What the actor waits for when Ray holds it unplaced and no live node has the resources
    it asks for (its node died, say); None when it runs, or merely waits for room Ray will find.
    Blocking (asks the GCS): call it off the event loop."""
    import ray
    from ray._private import state as ray_state  # the GCS's actor table: any node may ask

    found = ray_state.actors(handle._actor_id.hex())
    if (found or {}).get("State") not in UNPLACED_RAY_STATES:
        return None
    demand = demand_of(spec.num_cpus, spec.num_gpus, dict(spec.resources))
    nodes = [node.get("Resources", {}) for node in ray.nodes() if node.get("Alive")]
    return no_node_for(demand, nodes)


# --- metrics --------------------------------------------------------------------------------------
def new_metric(
    kind: str,
    name: str,
    *,
    description: str,
    tag_keys: Sequence[str],
    boundaries: Sequence[float] | None = None,
) -> Any:
    """A ``ray.util.metrics`` Counter, Gauge or Histogram (``kind``); exported by the node's
    metrics agent for Prometheus."""
    from ray.util import metrics as ray_metrics

    metric_class = getattr(ray_metrics, kind)
    if boundaries is not None:
        return metric_class(
            name, description=description, boundaries=list(boundaries), tag_keys=tuple(tag_keys)
        )
    return metric_class(name, description=description, tag_keys=tuple(tag_keys))
