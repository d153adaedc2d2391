"""The gateway's Ray options for the planned actors (no cluster needed to build them)."""

from __future__ import annotations

from homesec.actors.ray_gateway import actor_options
from homesec.policy.actor_plan import ClusterFacts, plan_actors
from tests.support.actor_plan import ENDPOINTS
from tests.support.settings import make_settings


def test_actor_options_are_detached_named_restarted_forever_in_the_namespace():
    spec = plan_actors(make_settings(), ENDPOINTS, [], ClusterFacts(gpus=1), llm_engine="rules")[0]
    options = actor_options(spec)
    assert options["name"] == "detector:0"
    assert options["namespace"] == "homesec"
    assert options["lifetime"] == "detached"
    assert options["max_restarts"] == -1
    assert options["max_task_retries"] == 0  # only run() is retried, per call
    assert options["num_cpus"] == 1 and options["num_gpus"] == 0.25


def test_the_detector_process_keeps_freed_memory_unless_the_operator_says_otherwise(monkeypatch):
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    specs = plan_actors(
        make_settings(), ENDPOINTS, [("front", "/c/front")], ClusterFacts(), llm_engine="rules"
    )
    by_kind = {spec.kind: spec for spec in specs}
    env_vars = actor_options(by_kind["detector"])["runtime_env"]["env_vars"]
    assert int(env_vars["MALLOC_MMAP_THRESHOLD_"]) >= 2**30
    assert int(env_vars["MALLOC_TRIM_THRESHOLD_"]) >= 2**30
    assert env_vars["MALLOC_ARENA_MAX"] == "1"
    assert "runtime_env" not in actor_options(by_kind["watcher"])
    # Set for homesec by the operator: workers inherit theirs, homesec adds only the others.
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
    assert (
        "MALLOC_MMAP_THRESHOLD_"
        not in (actor_options(by_kind["detector"])["runtime_env"]["env_vars"])
    )


def test_one_gpu_monitor_pinned_to_each_gpu_node():
    cluster = ClusterFacts(gpus=2, gpu_node_ids=("a" * 56, "b" * 56))
    specs = plan_actors(make_settings(), ENDPOINTS, [], cluster, llm_engine="rules")
    monitors = [spec for spec in specs if spec.kind == "gpu_monitor"]
    assert [(m.name, m.node_id) for m in monitors] == [
        ("gpu_monitor:" + "a" * 12, "a" * 56),
        ("gpu_monitor:" + "b" * 12, "b" * 56),
    ]
    strategy = actor_options(monitors[0])["scheduling_strategy"]
    assert strategy.node_id == "a" * 56 and strategy.soft is False
    assert all(m.num_cpus == 0 and m.num_gpus == 0 for m in monitors)
