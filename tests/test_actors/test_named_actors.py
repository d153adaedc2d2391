"""NamedActors on a real Ray cluster: one lookup kept, a re-created actor found again, a
missing one named, a slow one timed out."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from homesec.actors import named_actors, ray_gateway
from homesec.actors.named_actors import ActorNotFound, NamedActors

pytestmark = pytest.mark.ray


class Echo:
    def __init__(self, tag: str) -> None:
        self.tag = tag

    async def whoami(self) -> str:
        return self.tag

    async def slow(self) -> str:
        await asyncio.sleep(30)
        return "late"


async def _start(name: str, namespace: str, tag: str):
    import ray

    for _ in range(100):  # a killed actor's name is free again a moment after the kill
        try:
            return (
                ray.remote(Echo)
                .options(name=name, namespace=namespace, num_cpus=0, max_concurrency=4)
                .remote(tag)
            )
        except ValueError:
            await asyncio.sleep(0.1)
    raise AssertionError(f"the name {name} was never free again")


async def test_a_named_actor_is_kept_then_found_again_once_re_created(ray_cluster, monkeypatch):
    import ray

    namespace = f"homesec_test_named_{secrets.token_hex(3)}"
    lookups: list[str] = []
    lookup = ray_gateway.lookup_async

    async def counting(name, namespace=namespace):
        lookups.append(name)
        return await lookup(name, namespace)

    monkeypatch.setattr(named_actors.ray_gateway, "lookup_async", counting)
    first = await _start("echo", namespace, "one")
    actors = NamedActors(namespace)
    assert await actors.call("echo", "whoami", timeout=30) == "one"
    assert await actors.call("echo", "whoami", timeout=30) == "one"
    assert lookups == ["echo"]  # the handle is kept

    ray.kill(first, no_restart=True)
    second = await _start("echo", namespace, "two")
    try:
        # The kept handle is dead: the name is looked up once more, and the new one answers.
        assert await actors.call("echo", "whoami", timeout=30) == "two"
        assert lookups == ["echo", "echo"]
        with pytest.raises(ray_gateway.CallTimedOut):
            await actors.call("echo", "slow", timeout=0.5)
    finally:
        ray.kill(second, no_restart=True)

    with pytest.raises(ActorNotFound, match="no actor named 'nobody'"):
        await actors.call("nobody", "whoami", timeout=5)
