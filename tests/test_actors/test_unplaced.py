"""An actor Ray cannot place anywhere, on a real Ray cluster: the gateway says what it waits
for; one that runs waits for nothing."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from homesec.actors import ray_gateway
from homesec.contract.reports import ActorSpec
from tests.support.settings import make_settings
from tests.support.waiting import eventually

pytestmark = pytest.mark.ray


def _spec(name: str, **resources: float) -> ActorSpec:
    # Never constructed while it waits: the URLs are never used.
    return ActorSpec(
        name=name,
        kind="janitor",
        settings=make_settings(),
        database_url="postgresql://nowhere/none",
        redis_url="redis://nowhere/0",
        resources=resources,
    )


async def test_an_actor_no_node_can_hold_says_what_it_waits_for(ray_cluster, tmp_path):
    spec = _spec(f"unplaced-{secrets.token_hex(3)}", gpu_node_of_another_house=1)
    handle, _loop = ray_gateway.spawn(spec)
    try:
        with pytest.raises((ray_gateway.CallTimedOut, ray_gateway.ActorUnavailable)):
            await ray_gateway.health(handle, 1.0)

        async def waits_for() -> str | None:
            return await asyncio.to_thread(ray_gateway.placement_problem, handle, spec)

        why = await eventually(waits_for, 30, what="the actor reported unplaced")
        assert why == (
            "waiting for a Ray node with gpu_node_of_another_house 1: "
            "no live node has gpu_node_of_another_house"
        )
    finally:
        ray_gateway.kill(handle)


async def test_an_actor_a_node_can_hold_waits_for_nothing(ray_cluster, tmp_path):
    """Wherever Ray has it (starting, or restarting after a failed start against the made-up
    database), a node has what it asks for: nothing for the owner to fix."""
    spec = _spec(f"placeable-{secrets.token_hex(3)}")
    handle, _loop = ray_gateway.spawn(spec)
    try:
        for _ in range(3):
            assert await asyncio.to_thread(ray_gateway.placement_problem, handle, spec) is None
            await asyncio.sleep(0.5)
    finally:
        ray_gateway.kill(handle)
