"""The actor plan: which actors run where, as a pure function of settings, cameras, cluster."""

from __future__ import annotations

from homesec.contract.actor_names import CAMERA_FOLDERS_RESOURCE
from homesec.contract.reports import ActorSpec
from homesec.policy.actor_plan import ClusterFacts, plan_actors, plan_supervisor, reconcile
from tests.support.actor_plan import ENDPOINTS
from tests.support.settings import make_settings


def by_name(specs: list[ActorSpec]) -> dict[str, ActorSpec]:
    return {spec.name: spec for spec in specs}


def test_one_watcher_and_batcher_per_camera_plus_the_shared_stages():
    specs = by_name(
        plan_actors(
            make_settings(),
            ENDPOINTS,
            [("front_door", "/c/Front Door"), ("garage", "/c/garage")],
            ClusterFacts(),
            llm_engine="rules",
        )
    )
    assert set(specs) == {
        "watcher:front_door",
        "batcher:front_door",
        "watcher:garage",
        "batcher:garage",
        "detector:0",
        "analyst:0",
        "janitor",
        "gpu_monitor:local",
        "ftp_server",
        "notifier",
    }
    watcher = specs["watcher:front_door"]
    assert (watcher.kind, watcher.camera_id, watcher.folder_path) == (
        "watcher",
        "front_door",
        "/c/Front Door",
    )
    assert (watcher.database_url, watcher.redis_url) == (
        ENDPOINTS.database_url,
        ENDPOINTS.redis_url,
    )
    # I/O actors ask for no CPU: on a 2-core machine anything else deadlocks.
    for name in ("watcher:garage", "batcher:garage", "analyst:0", "janitor", "gpu_monitor:local",
                 "ftp_server", "notifier"):  # fmt: skip
        assert specs[name].num_cpus == 0 and specs[name].num_gpus == 0
    assert specs["detector:0"].num_cpus == 1


def test_gpu_shares_only_where_a_gpu_exists_and_vllm_runs_in_the_analyst():
    config = make_settings(
        env={"DETECTOR_GPU_FRACTION": "0.25", "LLM_GPU_FRACTION": "0.6", "DETECTOR_REPLICAS": "2"}
    )
    no_gpu = by_name(plan_actors(config, ENDPOINTS, [], ClusterFacts(), llm_engine="vllm"))
    assert no_gpu["detector:1"].num_gpus == 0 and no_gpu["analyst:0"].num_gpus == 0
    gpu = by_name(plan_actors(config, ENDPOINTS, [], ClusterFacts(gpus=1), llm_engine="vllm"))
    assert gpu["detector:0"].num_gpus == 0.25 and gpu["detector:1"].num_gpus == 0.25
    assert gpu["analyst:0"].num_gpus == 0.6
    openai = by_name(plan_actors(config, ENDPOINTS, [], ClusterFacts(gpus=1), llm_engine="openai"))
    assert openai["analyst:0"].num_gpus == 0


def test_watchers_go_to_the_node_holding_the_folders_when_the_cluster_marks_one():
    plain = plan_actors(
        make_settings(), ENDPOINTS, [("a", "/c/a")], ClusterFacts(), llm_engine="rules"
    )
    assert by_name(plain)["watcher:a"].resources == {}
    marked = by_name(
        plan_actors(
            make_settings(),
            ENDPOINTS,
            [("a", "/c/a")],
            ClusterFacts(has_camera_folders_resource=True),
            llm_engine="rules",
        )
    )
    assert CAMERA_FOLDERS_RESOURCE in marked["watcher:a"].resources
    assert CAMERA_FOLDERS_RESOURCE in marked["janitor"].resources
    assert marked["batcher:a"].resources == {}


def test_reconcile_starts_the_missing_and_stops_the_unwanted():
    specs = plan_actors(
        make_settings(), ENDPOINTS, [("a", "/c/a")], ClusterFacts(), llm_engine="rules"
    )
    result = reconcile(specs, ["watcher:a", "watcher:gone", "batcher:gone"])
    assert {spec.name for spec in result.to_start} == {
        "batcher:a",
        "detector:0",
        "analyst:0",
        "janitor",
        "gpu_monitor:local",
        "ftp_server",
        "notifier",
    }
    assert result.to_stop == ["batcher:gone", "watcher:gone"]
    assert reconcile(specs, [spec.name for spec in specs]).to_start == []


def test_the_ftp_server_runs_where_the_camera_folders_are_unless_disabled():
    marked = ClusterFacts(has_camera_folders_resource=True)
    ftp = by_name(plan_actors(make_settings(), ENDPOINTS, [], marked, llm_engine="rules"))[
        "ftp_server"
    ]
    assert ftp.kind == "ftp_server"
    assert CAMERA_FOLDERS_RESOURCE in ftp.resources and ftp.num_cpus == 0
    off = plan_actors(
        make_settings(env={"FTP_ENABLED": "false"}), ENDPOINTS, [], marked, llm_engine="rules"
    )
    assert "ftp_server" not in by_name(off)


def test_the_supervisor_runs_beside_the_camera_folders_it_lists():
    """It discovers cameras by listing FOSCAM_BASE_PATH on its own node: on a cluster that marks
    the folders' node it goes there (the three-host test cluster once put it on the GPU worker),
    and asks for nothing anywhere else."""
    marked = plan_supervisor(
        make_settings(), ENDPOINTS, ClusterFacts(has_camera_folders_resource=True, gpus=1)
    )
    watcher = by_name(
        plan_actors(
            make_settings(),
            ENDPOINTS,
            [("a", "/c/a")],
            ClusterFacts(has_camera_folders_resource=True, gpus=1),
            llm_engine="rules",
        )
    )["watcher:a"]
    assert marked.name == "supervisor" and marked.kind == "supervisor"
    assert marked.resources == watcher.resources == {CAMERA_FOLDERS_RESOURCE: 0.001}
    assert marked.num_cpus == 0 and marked.num_gpus == 0 and marked.node_id is None
    assert (marked.database_url, marked.redis_url) == (ENDPOINTS.database_url, ENDPOINTS.redis_url)
    plain = plan_supervisor(make_settings(), ENDPOINTS, ClusterFacts(gpus=1))
    assert plain.resources == {} and plain.num_gpus == 0
