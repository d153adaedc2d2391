"""The multi-host tests' cluster: three namespace hosts (tests/support/netns_cluster.py) with
PostgreSQL, Redis and the Ray head on "head", the camera folders on "cameras" and a declared GPU
on "gpu". They run only when asked for (``pytest -m cluster``): they need root, and starting
three Ray nodes takes a minute of a small machine."""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from homesec.contract.actor_names import CAMERA_FOLDERS_RESOURCE
from homesec.settings import load_settings
from tests.support.netns_cluster import NetnsCluster, can_run

CONFIG = Path(__file__).resolve().parents[2] / "ray_cluster.yaml"


def ray_start_options(command: str) -> dict:
    """The options of the `ray start` in one of ray_cluster.yaml's shell commands, as Ray's own
    CLI parses them."""
    # Imported here, not at collection: importing Ray reads RAY_AUTH_MODE once, and the rest of
    # the session's tests set it (token) before their Ray starts; a Ray imported earlier kept
    # "disabled" and every local cluster of the session refused its own driver.
    from ray.scripts.scripts import start as ray_start

    words = shlex.split(command.split(";")[-1])
    at = words.index("ray")
    return ray_start.make_context("start", words[at + 2 :]).params


def cluster_file_options() -> tuple[dict, dict]:
    """ray_cluster.yaml's head and worker `ray start` options: the test cluster is started
    with the same port, resources and GPUs, so the file and the test describe one cluster."""
    config = yaml.safe_load(CONFIG.read_text())
    head = ray_start_options(config["head_start_ray_commands"][-1])
    worker = ray_start_options(config["worker_start_ray_commands"][-1])
    return head, worker


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
        head_options, worker_options = cluster_file_options()
        port = head_options["port"]
        assert port == load_settings({"HOMESEC_DATA_DIR": "/nonexistent"}).ray_port
        folders = json.loads(head_options["resources"])
        assert folders == {CAMERA_FOLDERS_RESOURCE: 1}
        # ray_cluster.yaml's head is the box the cameras upload to; here the cameras upload to a
        # host of their own, which declares the head's resource instead (the layout README's
        # "Growing to a cluster" 7 describes), and the head declares none.
        cluster.start_ray(head, port=port)
        cluster.start_ray(cameras, head=head, port=port, resources=folders)
        cluster.start_ray(gpu, head=head, port=port, num_gpus=worker_options["num_gpus"])
        cluster.ray_address = f"{head.address}:{port}"
        # How the gpu and cameras hosts' nodes are started again after a test killed them.
        cluster.ray_port, cluster.gpu_count = port, worker_options["num_gpus"]
        cluster.camera_resources = folders
        print(f"\nthree hosts with PostgreSQL, Redis and Ray: {time.monotonic() - started:.1f} s")
        yield cluster
    finally:
        closing = time.monotonic()
        cluster.close()
        print(f"\nthe hosts removed: {time.monotonic() - closing:.1f} s")
