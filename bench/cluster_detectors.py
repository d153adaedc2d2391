"""Detector replicas on a real multi-host cluster: throughput of one detector against two, each
reserving half of the "gpu" host's declared GPU (``DETECTOR_REPLICAS``,
``DETECTOR_GPU_FRACTION=0.5``), sharing the detection stream through its consumer group. Prints
figures, asserts nothing. Needs root (network namespace hosts, as tests/cluster does).

The cluster is the tests' (tests/support/netns_cluster.py): head (PostgreSQL, Redis, the Ray
head, `homesec up`), "cameras" (the camera folders), "gpu" (a declared GPU, no device: the
engine on it is the CPU one). For each replica count it starts homesec, waits until every
detector has done a first upload (the model loaded, converted once and then from the cache),
writes ``--images`` uploads into the camera folder at once and times them until all are done.

The model: ``--model scripted`` (the test double: a detector with no compute, so the figure is
the pipeline's own work per upload) or ``r18``/``r50`` (RT-DETRv2 with random weights, on
OpenVINO f32: compute as a trained model's).

    sudo .venv/bin/python bench/cluster_detectors.py [--model scripted|r18|r50] [--images 60]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from tests.support.images import RED, jpeg_bytes  # noqa: E402
from tests.support.netns_cluster import NetnsCluster, can_run  # noqa: E402

CAMERA = "porch"
READY = "Press Ctrl-C"


def upload_statuses(cluster: NetnsCluster) -> list[str]:
    script = (
        "import asyncio, sys, asyncpg\n"
        "async def main():\n"
        "    c = await asyncpg.connect(sys.argv[1])\n"
        "    try:\n"
        "        rows = await c.fetch('SELECT status FROM uploads')\n"
        "    except asyncpg.UndefinedTableError:\n"
        "        rows = []\n"
        "    print(' '.join(r[0] for r in rows))\n"
        "asyncio.run(main())\n"
    )
    head = cluster.hosts["head"]
    answer = cluster.run(head, [sys.executable, "-c", script, cluster.database_url])
    return answer.stdout.split()


def wait_done(cluster: NetnsCluster, count: int, timeout: float) -> float:
    started = time.monotonic()
    while upload_statuses(cluster).count("done") < count:
        if time.monotonic() - started > timeout:
            raise SystemExit(f"only {upload_statuses(cluster).count('done')} of {count} done")
        time.sleep(0.2)
    return time.monotonic() - started


def homesec_env(cluster: NetnsCluster, model: str, replicas: int, data: Path) -> dict[str, str]:
    return cluster.ray_env(
        {
            "RAY_ADDRESS": cluster.ray_address,
            "DATABASE_URL": cluster.database_url,
            "REDIS_URL": cluster.redis_url,
            "HOMESEC_DATA_DIR": str(data),
            "FOSCAM_BASE_PATH": str(cluster.directory / "cameras"),
            "HOMESEC_HOST": "127.0.0.1",
            "FTP_HOST": "127.0.0.1",
            "DETECTOR_MODEL": model,
            "DETECTOR_ENGINE": "openvino",
            "DETECTOR_PRECISION": "f32",
            "DETECTOR_REPLICAS": str(replicas),
            "DETECTOR_GPU_FRACTION": "0.5",
            "LLM_ENGINE": "rules",
            "MIN_IMAGE_BYTES": "100",
            "UPLOAD_SETTLE_SECONDS": "0.3",
        }
    )


def one_run(cluster: NetnsCluster, model: str, replicas: int, images: int, first: int) -> dict:
    data = cluster.directory / "data"
    env = homesec_env(cluster, model, replicas, data)
    head = cluster.hosts["head"]
    log_name = f"homesec-up-{replicas}.log"
    process = cluster.start(
        head, [sys.executable, "-m", "homesec.ops.cli", "up"], env=env, log_name=log_name
    )
    try:
        deadline = time.monotonic() + 300
        while READY not in cluster.log(log_name):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"homesec up did not come up:\n{cluster.log(log_name)}")
            time.sleep(0.5)
        folder = cluster.directory / "cameras" / CAMERA
        done_before = upload_statuses(cluster).count("done")
        # Warm-up: one upload per detector, so each has its model loaded before the clock runs.
        for number in range(first, first + 2 * replicas):
            (folder / f"warm{number}.jpg").write_bytes(jpeg_bytes(RED, (1280, 720), seed=number))
        warm = wait_done(cluster, done_before + 2 * replicas, 600)
        done_before += 2 * replicas
        # Encoded before the clock starts: the cameras' work, not homesec's.
        pictures = [jpeg_bytes(RED, (1280, 720), seed=n) for n in range(first, first + images)]
        started = time.monotonic()
        for number, picture in enumerate(pictures, start=first):
            (folder / f"snap{number}.jpg").write_bytes(picture)
        wait_done(cluster, done_before + images, 900)
        total = time.monotonic() - started
        return {
            "replicas": replicas,
            "warm_up_s": round(warm, 1),
            "images": images,
            "seconds": round(total, 2),
            "images_per_s": round(images / total, 2),
        }
    finally:
        process.terminate()
        try:
            process.wait(timeout=120)
        except Exception:
            process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="scripted", choices=["scripted", "r18", "r50"])
    parser.add_argument("--images", type=int, default=60)
    args = parser.parse_args()
    why_not = can_run()
    if why_not:
        raise SystemExit(f"no namespace hosts here: {why_not}")
    lines = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in lines if "model name" in line), "?")
    cluster = NetnsCluster()
    try:
        head, cameras, gpu = (cluster.add_host(name) for name in ("head", "cameras", "gpu"))
        cluster.database_url = cluster.start_postgres(head)
        cluster.redis_url = cluster.start_redis(head)
        cluster.start_ray(head, port=6390)
        cluster.start_ray(cameras, head=head, port=6390, resources={"homesec_camera_folders": 1})
        cluster.start_ray(gpu, head=head, port=6390, num_gpus=1)
        cluster.ray_address = f"{head.address}:6390"
        (cluster.directory / "cameras" / CAMERA).mkdir(parents=True)
        model = args.model
        if model != "scripted":
            from detector import random_rtdetr

            model = str(random_rtdetr(cluster.directory / f"rtdetr-{model}", model, 640))
        runs = [one_run(cluster, model, n, args.images, 1000 * n) for n in (1, 2)]
    finally:
        cluster.close()
    print(f"CPU: {cpu}; model: {args.model}; {args.images} uploads of 1280x720 at once")
    for run in runs:
        print(json.dumps(run))
    one, two = runs
    print(f"two replicas / one: {two['images_per_s'] / one['images_per_s']:.2f}x")


if __name__ == "__main__":
    main()
