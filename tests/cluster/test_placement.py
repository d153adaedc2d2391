"""homesec on three hosts: `homesec up` on the head joins the cluster, and Ray's state API shows
each actor where the placement rules say: watchers, the Janitor, the FTP server and the
Supervisor on the host with the camera folders, two detectors sharing the one declared GPU (half
each) and the GPU monitor on the GPU host, and on the head only actors that asked for nothing the
head alone has. An upload then goes through all three hosts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from homesec.contract.actor_names import CAMERA_FOLDERS_RESOURCE
from tests.support.images import RED, jpeg_bytes
from tests.support.netns_cluster import NetnsCluster

# Three Ray nodes, homesec up and the teardown: 2-3 minutes on 2 shared cores, more when busy.
pytestmark = [pytest.mark.cluster, pytest.mark.slow, pytest.mark.timeout(600)]

READY = "Press Ctrl-C"  # the line `homesec up` prints once everything runs
CAMERA = "porch"


def homesec_env(cluster: NetnsCluster, **settings: str) -> dict[str, str]:
    """`homesec up` on the head, joining the cluster with its token, its servers on the head's
    address; the scripted detector and the rules engine (no model, no LLM)."""
    return cluster.ray_env(
        {
            "RAY_ADDRESS": cluster.ray_address,
            "DATABASE_URL": cluster.database_url,
            "REDIS_URL": cluster.redis_url,
            "HOMESEC_DATA_DIR": str(cluster.directory / "data"),
            "FOSCAM_BASE_PATH": str(cluster.directory / "cameras"),
            "HOMESEC_HOST": "127.0.0.1",
            "FTP_HOST": "127.0.0.1",  # the cameras host's own loopback
            "DETECTOR_MODEL": "scripted",
            "LLM_ENGINE": "rules",
            "MIN_IMAGE_BYTES": "100",
            "BATCH_IDLE_TIMEOUT_SECONDS": "1",
            "BATCH_WINDOW_SECONDS": "3",
            **settings,
        }
    )


def start_homesec(cluster: NetnsCluster, env: dict[str, str], timeout: float = 300):
    head = cluster.hosts["head"]
    process = cluster.start(
        head, [sys.executable, "-m", "homesec.ops.cli", "up"], env=env, log_name="homesec-up.log"
    )
    deadline = time.monotonic() + timeout
    while READY not in cluster.log("homesec-up.log"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"homesec up did not come up:\n{cluster.log('homesec-up.log')}")
        time.sleep(0.5)
    return process


def stop_homesec(process: subprocess.Popen) -> None:
    process.terminate()  # SIGTERM: homesec stops its actors, then itself
    try:
        process.wait(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def placement(cluster: NetnsCluster) -> dict:
    """Ray's own view, asked from the head host (tests/cluster/probe.py)."""
    answer = cluster.run(
        cluster.hosts["head"],
        [sys.executable, "-m", "tests.cluster.probe", cluster.ray_address],
        timeout=120,
    )
    assert answer.returncode == 0, answer.stdout + answer.stderr
    return json.loads(answer.stdout.strip().splitlines()[-1])


def wait_for_placement(cluster: NetnsCluster, names: set[str], timeout: float = 180) -> dict:
    """The state once every actor of ``names`` is alive (the supervisor starts them in turn)."""
    deadline = time.monotonic() + timeout
    while True:
        state = placement(cluster)
        alive = {actor["name"] for actor in state["actors"]}
        if names <= alive:
            return state
        if time.monotonic() > deadline:
            raise AssertionError(f"never alive: {sorted(names - alive)}; alive: {sorted(alive)}")
        time.sleep(2)


def upload_status(cluster: NetnsCluster) -> list[str]:
    script = (
        "import asyncio, sys, asyncpg\n"
        "async def main():\n"
        "    connection = await asyncpg.connect(sys.argv[1])\n"
        "    rows = await connection.fetch('SELECT status FROM uploads')\n"
        "    print(' '.join(row[0] for row in rows))\n"
        "asyncio.run(main())\n"
    )
    answer = cluster.run(
        cluster.hosts["head"], [sys.executable, "-c", script, cluster.database_url]
    )
    assert answer.returncode == 0, answer.stderr
    return answer.stdout.split()


def test_each_actor_runs_on_the_host_the_placement_rules_name(three_hosts: NetnsCluster):
    cluster = three_hosts
    started = time.monotonic()
    (cluster.directory / "cameras" / CAMERA).mkdir(parents=True)
    # Two detectors on the one declared GPU, half of it each (DETECTOR_REPLICAS,
    # DETECTOR_GPU_FRACTION); each also asks for one CPU, and the gpu host has two.
    up = start_homesec(
        cluster, homesec_env(cluster, DETECTOR_REPLICAS="2", DETECTOR_GPU_FRACTION="0.5")
    )
    try:
        up_seconds = time.monotonic() - started
        state = wait_for_placement(
            cluster,
            {f"watcher:{CAMERA}", f"batcher:{CAMERA}", "detector:0", "detector:1", "analyst:0",
             "janitor", "notifier", "ftp_server", "supervisor"},
        )  # fmt: skip
        address = {name: host.address for name, host in cluster.hosts.items()}
        where = {actor["name"]: actor["address"] for actor in state["actors"]}
        print(json.dumps(where, indent=1, sort_keys=True))

        # The dashboard's state API shows each node with its resources, as the owner sees it.
        shown = state["dashboard_nodes"]
        assert shown[address["gpu"]].get("GPU") == 1.0, shown
        assert shown[address["cameras"]].get(CAMERA_FOLDERS_RESOURCE) == 1.0, shown
        assert "GPU" not in shown[address["head"]], shown

        # The supervisor lists the camera folders to find the cameras: it goes where they are.
        for name in (f"watcher:{CAMERA}", "janitor", "ftp_server", "supervisor"):
            assert where[name] == address["cameras"], (name, where)
        detectors = [actor for actor in state["actors"] if actor["name"].startswith("detector:")]
        assert len(detectors) == 2, detectors
        for detector in detectors:
            assert detector["address"] == address["gpu"], where
            assert detector["required_resources"] == {"CPU": 1.0, "GPU": 0.5}, detector
        monitors = [name for name in where if name.startswith("gpu_monitor:")]
        assert monitors and all(where[name] == address["gpu"] for name in monitors), where
        # Whatever runs on the head is there by Ray's choice, not by a request only the head
        # meets (its node resource, a GPU, the camera folders).
        head_only = {f"node:{address['head']}", "node:__internal_head__", "GPU",
                     CAMERA_FOLDERS_RESOURCE}  # fmt: skip
        for actor in state["actors"]:
            if actor["address"] == address["head"]:
                asked = set(actor["required_resources"] or {})
                assert not asked & head_only, actor

        # One upload crosses all three hosts: the watcher (cameras) queues it in Redis (head),
        # the detector (gpu) reads the file by path and stores its detections in PostgreSQL.
        image = cluster.directory / "cameras" / CAMERA / "snap1.jpg"
        image.write_bytes(jpeg_bytes(RED, size=(320, 240), seed=1))
        deadline = time.monotonic() + 120
        while upload_status(cluster) != ["done"]:
            assert time.monotonic() < deadline, (
                upload_status(cluster),
                cluster.log("homesec-up.log"),
            )
            time.sleep(1)
        print(f"homesec up on the cluster: {up_seconds:.1f} s; "
              f"placed and one upload done: {time.monotonic() - started:.1f} s")  # fmt: skip

        # `homesec up` stops what it started on every host: no actor of homesec is left.
        stopping = time.monotonic()
        stop_homesec(up)
        assert up.returncode == 0, cluster.log("homesec-up.log")
        assert placement(cluster)["actors"] == []
        print(f"homesec stopped on every host: {time.monotonic() - stopping:.1f} s")
    finally:
        if up.poll() is None:
            stop_homesec(up)


def homesec_status(cluster: NetnsCluster, env: dict[str, str]) -> dict:
    """`homesec status --json` on the head: the supervisor's report, the queues."""
    answer = cluster.run(
        cluster.hosts["head"],
        [sys.executable, "-m", "homesec.ops.cli", "status", "--json"],
        env=env,
        timeout=120,
    )
    assert answer.returncode == 0, answer.stdout + answer.stderr
    return json.loads(answer.stdout)


def upload_images(cluster: NetnsCluster, first: int, count: int) -> None:
    for number in range(first, first + count):
        image = cluster.directory / "cameras" / CAMERA / f"snap{number}.jpg"
        image.write_bytes(jpeg_bytes(RED, size=(320, 240), seed=number))


def test_a_gpu_node_that_dies_holds_the_uploads_until_it_returns(three_hosts: NetnsCluster):
    """The gpu host's power goes while uploads flow: the report names the detectors as waiting
    for a node with a GPU, the uploads wait in their queue (none failed, none dead-lettered),
    and once the node is back Ray places the detectors there and the backlog drains."""
    cluster = three_hosts
    gpu, head = cluster.hosts["gpu"], cluster.hosts["head"]
    (cluster.directory / "cameras" / CAMERA).mkdir(parents=True, exist_ok=True)
    env = homesec_env(cluster, DETECTOR_REPLICAS="2", DETECTOR_GPU_FRACTION="0.5")
    up = start_homesec(cluster, env)
    try:
        before = len(upload_status(cluster))  # the first test's upload, when it ran
        wait_for_placement(cluster, {"detector:0", "detector:1", f"watcher:{CAMERA}"})
        upload_images(cluster, 100, 3)
        deadline = time.monotonic() + 120
        while upload_status(cluster).count("done") < before + 3:
            assert time.monotonic() < deadline, upload_status(cluster)
            time.sleep(1)

        assert cluster.kill_host(gpu) > 0
        killed = time.monotonic()
        upload_images(cluster, 200, 6)
        deadline = time.monotonic() + 180
        while True:
            report = homesec_status(cluster, env)
            detectors = [a for a in report["actors"] if a["kind"] == "detector"]
            if detectors and all(a["state"] == "UNPLACED" for a in detectors):
                break
            assert time.monotonic() < deadline, json.dumps(report, indent=1)
            time.sleep(2)
        noticed = time.monotonic() - killed
        for detector in detectors:
            assert "GPU" in detector["last_error"], detector
        statuses = upload_status(cluster)
        assert statuses.count("done") < before + 9 and "failed" not in statuses, statuses
        assert all(q["dead_letters"] == 0 for q in report["queues"].values()), report["queues"]

        cluster.start_ray(gpu, head=head, port=cluster.ray_port, num_gpus=cluster.gpu_count)
        back = time.monotonic()
        deadline = back + 240
        while upload_status(cluster).count("done") < before + 9:
            assert time.monotonic() < deadline, (
                upload_status(cluster),
                homesec_status(cluster, env),
            )
            time.sleep(1)
        drained = time.monotonic() - back
        report = homesec_status(cluster, env)
        assert all(q["dead_letters"] == 0 for q in report["queues"].values()), report["queues"]
        assert "failed" not in upload_status(cluster)
        print(f"\nthe gpu node killed: detectors reported unplaced after {noticed:.1f} s; "
              f"from the node's return to the backlog drained: {drained:.1f} s")  # fmt: skip
        stop_homesec(up)
        assert up.returncode == 0, cluster.log("homesec-up.log")
    finally:
        if up.poll() is None:
            stop_homesec(up)


def test_the_cameras_node_that_dies_comes_back_with_its_watchers_which_rescan(
    three_hosts: NetnsCluster,
):
    """The host with the camera folders loses power (its watchers, the FTP server, the Janitor
    and the Supervisor with it); pictures land in the folders meanwhile (the share outlives the
    Ray node). When the node is back, Ray brings its actors back there, the watchers scan their
    folders again and every picture is done: none lost, none failed, nothing dead-lettered."""
    cluster = three_hosts
    cameras, head = cluster.hosts["cameras"], cluster.hosts["head"]
    (cluster.directory / "cameras" / CAMERA).mkdir(parents=True, exist_ok=True)
    env = homesec_env(cluster)
    up = start_homesec(cluster, env)
    try:
        wait_for_placement(cluster, {"detector:0", f"watcher:{CAMERA}", "supervisor"})
        before = len(upload_status(cluster))
        upload_images(cluster, 400, 2)
        deadline = time.monotonic() + 120
        while upload_status(cluster).count("done") < before + 2:
            assert time.monotonic() < deadline, upload_status(cluster)
            time.sleep(1)

        assert cluster.kill_host(cameras) > 0
        upload_images(cluster, 500, 4)  # written to the share while its node is down
        time.sleep(5)
        cluster.start_ray(
            cameras, head=head, port=cluster.ray_port, resources=cluster.camera_resources
        )
        back = time.monotonic()
        deadline = back + 240
        while upload_status(cluster).count("done") < before + 6:
            assert time.monotonic() < deadline, (
                upload_status(cluster),
                cluster.log("homesec-up.log"),
            )
            time.sleep(1)
        drained = time.monotonic() - back
        state = wait_for_placement(cluster, {f"watcher:{CAMERA}", "supervisor"})
        where = {actor["name"]: actor["address"] for actor in state["actors"]}
        assert where[f"watcher:{CAMERA}"] == where["supervisor"] == cameras.address, where
        assert "failed" not in upload_status(cluster)
        report = homesec_status(cluster, env)
        assert all(q["dead_letters"] == 0 for q in report["queues"].values()), report["queues"]
        print(f"\nthe cameras node back: its pictures done after {drained:.1f} s")
        stop_homesec(up)
        assert up.returncode == 0, cluster.log("homesec-up.log")
    finally:
        if up.poll() is None:
            stop_homesec(up)


def test_a_backfill_submitted_from_a_laptop_outside_the_cluster_runs_and_reports_progress(
    three_hosts: NetnsCluster,
):
    """The owner's laptop, a fourth host with only Ray's client and the cluster's token, submits
    a backfill to the job server (on the head's 127.0.0.1, reached through an SSH-like tunnel)
    and follows it to its end: progress, a summary, the images computed again."""
    cluster = three_hosts
    laptop = cluster.hosts.get("laptop") or cluster.add_host("laptop")
    head = cluster.hosts["head"]
    (cluster.directory / "cameras" / CAMERA).mkdir(parents=True, exist_ok=True)
    env = homesec_env(cluster)
    up = start_homesec(cluster, env)
    try:
        wait_for_placement(cluster, {"detector:0", f"watcher:{CAMERA}", f"batcher:{CAMERA}"})
        upload_images(cluster, 300, 3)
        folder = cluster.directory / "cameras" / CAMERA
        images = sorted(folder.glob("*.jpg"))
        deadline = time.monotonic() + 120
        while upload_status(cluster).count("done") < len(images):
            assert time.monotonic() < deadline, upload_status(cluster)
            time.sleep(1)
        # The backfill leaves images of the last minute to the watcher: these are older.
        an_hour_ago = time.time() - 3600
        for image in images:
            os.utime(image, (an_hour_ago, an_hour_ago))

        cluster.forward(head, 8266, 8265)  # the owner's `ssh -L 8266:127.0.0.1:8265 head`
        since = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 2 * 86400))
        runtime_env = json.dumps({"env_vars": {"HOMESEC_DATA_DIR": env["HOMESEC_DATA_DIR"]}})
        started = time.monotonic()
        job = cluster.run(
            laptop,
            ["ray", "job", "submit", "--address", f"http://{head.address}:8266",
             "--runtime-env-json", runtime_env, "--",
             "python", "-m", "homesec.ops.backfill", "--reprocess", "--since", since],
            env=cluster.ray_env(),
            timeout=300,
        )  # fmt: skip
        output = job.stdout + job.stderr
        assert job.returncode == 0, output
        assert f"backfill: {len(images)} images in the window" in output, output
        assert "backfill finished" in output and "succeeded" in output, output
        assert "failed" not in output.split("backfill finished", 1)[1], output
        print(f"\na backfill of {len(images)} images submitted from the laptop host: "
              f"{time.monotonic() - started:.1f} s")  # fmt: skip
        stop_homesec(up)
        assert up.returncode == 0, cluster.log("homesec-up.log")
    finally:
        if up.poll() is None:
            stop_homesec(up)
