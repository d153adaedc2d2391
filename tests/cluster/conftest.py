"""The multi-host tests' cluster: three namespace hosts (tests/support/netns_cluster.py) with
PostgreSQL, Redis and the Ray head on "head", the camera folders on "cameras" and a declared GPU
on "gpu". They run only when asked for (``pytest -m cluster``): they need root, and starting
three Ray nodes takes a minute of a small machine."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from homesec.contract.actor_names import CAMERA_FOLDERS_RESOURCE
from homesec.settings import load_settings
from tests.support.netns_cluster import NetnsCluster, can_run

# The GCS port homesec's own head uses (HOMESEC_RAY_PORT's default, ray_cluster.yaml's --port).
GCS_PORT = load_settings({"HOMESEC_DATA_DIR": "/nonexistent"}).ray_port


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The cluster tests run only when asked for: ``pytest -m cluster``."""
    if "cluster" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="the multi-host cluster tests run alone: pytest -m cluster")
    for item in items:
        if item.get_closest_marker("cluster") is not None:
            item.add_marker(skip)


@pytest.fixture(scope="module")
def three_hosts() -> Iterator[NetnsCluster]:
    """head (PostgreSQL, Redis, the Ray head), cameras (the camera-folders resource) and gpu
    (``--num-gpus=1`` without a device), each a namespace host with a Ray node; removed after,
    also when starting fails halfway."""
    why_not = can_run()
    if why_not:
        pytest.skip(f"no namespace hosts here: {why_not}")
    started = time.monotonic()
    cluster = NetnsCluster()
    try:
        head = cluster.add_host("head")
        cameras = cluster.add_host("cameras")
        gpu = cluster.add_host("gpu")
        cluster.database_url = cluster.start_postgres(head)
        cluster.redis_url = cluster.start_redis(head)
        # The head offers no camera folders here: they are on their own host, which says so
        # with the resource (ray_cluster.yaml's head holds them when it is that host).
        cluster.start_ray(head, port=GCS_PORT)
        cluster.start_ray(cameras, head=head, port=GCS_PORT, resources={CAMERA_FOLDERS_RESOURCE: 1})
        cluster.start_ray(gpu, head=head, port=GCS_PORT, num_gpus=1)
        cluster.ray_address = f"{head.address}:{GCS_PORT}"
        print(f"\nthree hosts with PostgreSQL, Redis and Ray: {time.monotonic() - started:.1f} s")
        yield cluster
    finally:
        closing = time.monotonic()
        cluster.close()
        print(f"\nthe hosts removed: {time.monotonic() - closing:.1f} s")
