"""ray_cluster.yaml: a config Ray's cluster launcher accepts, with `ray start` options Ray knows,
naming the same GCS port and camera-folder resource as homesec's code. No cluster is launched."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
import yaml
from ray.autoscaler._private.util import prepare_config, validate_config
from ray.scripts.scripts import start as ray_start

from homesec.contract.actor_names import CAMERA_FOLDERS_RESOURCE
from homesec.settings import load_settings

CONFIG = Path(__file__).resolve().parents[2] / "ray_cluster.yaml"


@pytest.fixture(scope="module")
def config() -> dict:
    return yaml.safe_load(CONFIG.read_text())


def _ray_start_options(command: str) -> dict:
    """The options of the `ray start` in a shell command, as Ray's own CLI parses them."""
    words = shlex.split(command.split(";")[-1])
    at = words.index("ray")
    assert words[at + 1] == "start", command
    context = ray_start.make_context("start", words[at + 2 :])
    return context.params


def test_the_launcher_accepts_it(config):
    prepared = prepare_config(config)
    validate_config(prepared)
    assert config["provider"]["type"] == "local"
    assert prepared["available_node_types"]["local.cluster.node"]["max_workers"] == len(
        config["provider"]["worker_ips"]
    )


def test_head_and_workers_use_homesecs_port_resource_and_token_auth(config):
    port = load_settings({"HOMESEC_DATA_DIR": "/tmp/x"}).ray_port
    head = _ray_start_options(config["head_start_ray_commands"][-1])
    assert head["head"] and head["port"] == port != 6379
    assert json.loads(head["resources"]) == {CAMERA_FOLDERS_RESOURCE: 1}
    assert head["dashboard_host"] == "127.0.0.1"
    worker = _ray_start_options(config["worker_start_ray_commands"][-1])
    assert worker["address"] == f"$RAY_HEAD_IP:{port}"
    assert worker["num_gpus"] == 1
    for command in (config["head_start_ray_commands"][-1], config["worker_start_ray_commands"][-1]):
        assert "RAY_AUTH_MODE=token" in command
    assert "~/.ray/auth_token" in config["file_mounts"]


def test_gcs_fault_tolerance_is_explained():
    text = CONFIG.read_text()
    for needed in ("RAY_REDIS_ADDRESS=", "--redis-password", "RAY_external_storage_namespace"):
        assert needed in text
