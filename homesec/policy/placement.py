"""Whether any Ray node could ever hold an actor: the Supervisor's word on one that Ray has not
placed (a pure function of the actor's demand and the live nodes' total resources).

An actor that does not answer may be busy, restarting, or waiting for a place: Ray keeps an
actor it cannot place pending (``PENDING_CREATION``, or ``RESTARTING`` after its node died) and
places it by itself once a node with room joins. Only the last is something the owner must act
on, and only when no live node has the resources at all (a node merely full is Ray's to sort
out): then the report says what is missing, instead of "not answering".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# Ray's actor states in which the actor runs on no node.
UNPLACED_RAY_STATES = frozenset({"PENDING_CREATION", "RESTARTING", "DEPENDENCIES_UNREADY"})


def demand_of(num_cpus: float, num_gpus: float, resources: Mapping[str, float]) -> dict[str, float]:
    """An actor's demand as Ray's resource names (nothing asked: left out)."""
    demand = {"CPU": num_cpus, "GPU": num_gpus, **resources}
    return {name: amount for name, amount in demand.items() if amount > 0}


def _fits(demand: Mapping[str, float], node: Mapping[str, float]) -> bool:
    return all(node.get(name, 0.0) >= amount for name, amount in demand.items())


def no_node_for(demand: Mapping[str, float], nodes: Iterable[Mapping[str, float]]) -> str | None:
    """Why no live node can hold ``demand`` (each node's *total* resources), or None when one
    can. The reason names what the closest node lacks, the way an owner fixes it."""
    nodes = list(nodes)
    if any(_fits(demand, node) for node in nodes):
        return None
    wanted = ", ".join(f"{name} {amount:g}" for name, amount in sorted(demand.items()))
    if not nodes:
        return f"waiting for a Ray node with {wanted}: no node is alive"
    shortfalls = [
        sorted(name for name, amount in demand.items() if node.get(name, 0.0) < amount)
        for node in nodes
    ]
    closest = min(shortfalls, key=len)  # the node that lacks the fewest
    absent = [name for name in closest if not any(node.get(name, 0.0) > 0 for node in nodes)]
    detail = (
        f"no live node has {' or '.join(absent)}"
        if absent
        else f"no live node has enough of {' and '.join(closest)}"
    )
    return f"waiting for a Ray node with {wanted}: {detail}"
