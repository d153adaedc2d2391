"""`homesec status` and `homesec down`: the run file's rules, the rendering, the queue depths,
and the whole story as a user lives it: `up`, `status`, a backfill, `down`."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import msgspec
import psutil
import pytest

from homesec.contract import keys
from homesec.contract.reports import ActorStatus
from homesec.ops.runner import RunState, run_state_path
from homesec.ops.status import (
    EXIT_NOT_RUNNING,
    ServiceStatus,
    queue_depths,
    read_run_state,
    render_status,
    stop_service,
)
from homesec.settings import load_settings
from homesec.store.streams import QueueCounts
from tests.support.homesec_process import homesec, server_port, start_up
from tests.support.images import RED, jpeg_bytes
from tests.support.waiting import eventually_blocking

# The port every Ray node's dashboard agent takes unless told otherwise; the job server needs
# the agent of the head that `homesec up` starts.


def _write_run_file(settings, pid: int, written_at: float | None = None) -> Path:
    path = run_state_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = RunState(pid=pid, ray_address="127.0.0.1:1", ray_dashboard=None, api_url=None)
    path.write_bytes(msgspec.json.encode(state))
    if written_at is not None:
        os.utime(path, (written_at, written_at))
    return path


def test_the_run_file_counts_only_while_its_process_lives(tmp_path):
    settings = load_settings({"HOMESEC_DATA_DIR": str(tmp_path)})
    assert read_run_state(settings) is None
    _write_run_file(settings, os.getpid())
    assert read_run_state(settings).pid == os.getpid()

    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    _write_run_file(settings, finished.pid)
    assert read_run_state(settings) is None, "a pid that is gone"

    exited = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        eventually_blocking(
            lambda: psutil.Process(exited.pid).status() == psutil.STATUS_ZOMBIE,
            timeout=10,
            what="its exit",
            interval=1,
        )
        _write_run_file(settings, exited.pid)
        assert read_run_state(settings) is None, "a zombie: exited, not yet reaped"
    finally:
        exited.wait()

    newer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        _write_run_file(settings, newer.pid, written_at=time.time() - 3600)
        assert read_run_state(settings) is None, "a reused pid: started after the file"
    finally:
        newer.kill()
        newer.wait()

    run_state_path(settings).write_text("{half a")
    assert read_run_state(settings) is None


def test_down_without_a_running_homesec_says_so(tmp_path):
    settings = load_settings({"HOMESEC_DATA_DIR": str(tmp_path)})
    lines: list[str] = []
    assert stop_service(settings, say=lines.append) == EXIT_NOT_RUNNING
    assert lines == ["homesec is not running"]


def test_status_renders_actors_counters_and_queues():
    status = ServiceStatus(
        pid=42,
        ray_address="127.0.0.1:6390",
        ray_dashboard="http://127.0.0.1:8265",
        api_url="http://127.0.0.1:8000",
        checked_at=dt.datetime(2025, 12, 23, 8, 30, tzinfo=dt.UTC),
        actors=[
            ActorStatus(name="analyst:0", kind="analyst", state="ALIVE", node="0123456789abcdef"),
            ActorStatus(
                name="detector:0",
                kind="detector",
                state="DEAD",
                restarts=2,
                last_error="actor died: " + "x" * 200 + "\nsecond line",
            ),
        ],
        counters={"detector:0": {"images": 3, "batches": 1}, "analyst:0": {}},
        queues={
            keys.DETECTION_QUEUE: QueueCounts(5, 2, 1),
            keys.ANALYSIS_QUEUE: QueueCounts(0, 0, 0),
        },
    )
    lines = render_status(status)
    assert lines[0] == "homesec is running (pid 42)"
    assert "  Ray: 127.0.0.1:6390 (Ray dashboard http://127.0.0.1:8265)" in lines
    header = next(line for line in lines if line.strip().startswith("NAME"))
    assert header.split() == ["NAME", "KIND", "STATE", "RESTARTS", "NODE", "LAST", "ERROR"]
    analyst = next(line for line in lines if line.strip().startswith("analyst:0"))
    assert analyst.split()[:5] == ["analyst:0", "analyst", "ALIVE", "0", "01234567"]
    detector = next(line for line in lines if line.strip().startswith("detector:0 "))
    assert "DEAD" in detector and detector.endswith("…") and "second line" not in detector
    assert "  detector:0: batches=1 images=3" in lines
    assert not any(line.startswith("  analyst:0:") for line in lines), "no empty counters"
    assert lines[-2].split() == ["detection_queue", "5", "2", "1"]
    problems = lines[lines.index("Problems:") + 1 :]
    assert problems[0].startswith("  detector:0 is DEAD: actor died: xxx")
    assert "second line" not in problems[0]
    assert problems[1].startswith("    what to do: ")

    unknown = msgspec.structs.replace(status, queues=None, queues_note="Redis unknown")
    assert render_status(unknown)[-1] == "  Redis unknown"


async def test_queue_depths_count_backlog_pending_and_dead_letters(redis_url, redis_client):
    assert await queue_depths(redis_url) == {
        keys.DETECTION_QUEUE: QueueCounts(0, 0, 0),
        keys.ANALYSIS_QUEUE: QueueCounts(0, 0, 0),
    }
    for _ in range(3):
        await redis_client.xadd(keys.DETECTION_QUEUE, {keys.STREAM_FIELD: "{}"})
    await redis_client.xgroup_create(keys.DETECTION_QUEUE, keys.DETECTOR_GROUP, id="0")
    await redis_client.xreadgroup(keys.DETECTOR_GROUP, "d0", {keys.DETECTION_QUEUE: ">"}, count=2)
    await redis_client.rpush(keys.dlq(keys.ANALYSIS_QUEUE), "{}")
    assert await queue_depths(redis_url) == {
        keys.DETECTION_QUEUE: QueueCounts(3, 2, 0),
        keys.ANALYSIS_QUEUE: QueueCounts(0, 0, 1),
    }


# --- the whole story: a real `homesec up` -----------------------------------------------------


class Service(msgspec.Struct):
    env: dict[str, str]
    process: subprocess.Popen
    output: list[str]


@pytest.fixture(scope="module")
def service() -> Iterator[Service]:
    """The module's `homesec up`, shared by the tests that only look at it."""
    with running_service() as running:
        yield running


@pytest.fixture
def own_service() -> Iterator[Service]:
    """A `homesec up` of the test's own, for a test that stops it: the module's shared one
    must outlive every test that looks at it, in any order."""
    with running_service() as running:
        yield running


@contextlib.contextmanager
def running_service() -> Iterator[Service]:
    """`homesec up` with nothing configured but a data dir, the scripted detector and the rules
    engine, one camera holding one image uploaded an hour ago."""
    root = Path(tempfile.mkdtemp(prefix="homesec-status-"))
    root.chmod(0o755)  # the embedded PostgreSQL's unprivileged user must reach it (as root)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "RAY_ADDRESS", "HOMESEC_CONFIG")
    }
    env |= {
        "HOMESEC_DATA_DIR": str(root / "data"),
        "HOMESEC_RAY_PORT": str(server_port()),
        "HOMESEC_RAY_DASHBOARD_PORT": str(server_port()),
        "HOMESEC_PORT": str(server_port()),
        "DETECTOR_MODEL": "scripted",
        "LLM_ENGINE": "rules",
        "MIN_IMAGE_BYTES": "100",
    }
    image = root / "data" / "cameras" / "porch" / "snap_001.jpg"
    image.parent.mkdir(parents=True)
    image.write_bytes(jpeg_bytes(RED, size=(320, 240), seed=7))
    an_hour_ago = time.time() - 3600
    os.utime(image, (an_hour_ago, an_hour_ago))
    process, printed = start_up(env, timeout=120)
    output = printed.splitlines(keepends=True)
    try:
        yield Service(env, process, output)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
        process.stdout.close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.slow
def test_status_lists_the_pipeline_actors_and_queues(service):
    def detector_and_analyst_alive():
        result = homesec("status", "--json", env=service.env)
        assert result.returncode == 0, result.stdout + result.stderr
        shown = json.loads(result.stdout)
        states = {actor["name"]: actor["state"] for actor in shown["actors"]}
        alive = states.get("detector:0") == "ALIVE" and states.get("analyst:0") == "ALIVE"
        return shown if alive else None

    shown = eventually_blocking(
        detector_and_analyst_alive,
        timeout=60,
        what="detector:0 and analyst:0 to be ALIVE",
        interval=1,
    )
    assert shown["running"] is True and shown["pid"] == service.process.pid
    assert {"watcher:porch", "batcher:porch"} <= {actor["name"] for actor in shown["actors"]}
    assert set(shown["queues"]) == {keys.DETECTION_QUEUE, keys.ANALYSIS_QUEUE}

    table = homesec("status", env=service.env)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0] == f"homesec is running (pid {service.process.pid})"
    rows = {line.split()[0]: line.split() for line in lines if line.startswith("  ")}
    assert rows["detector:0"][1:3] == ["detector", "ALIVE"]
    assert rows["analyst:0"][1:3] == ["analyst", "ALIVE"]
    assert rows["detection_queue"] and rows["analysis_queue"]


def _reprocess_dry_run(*extra: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return homesec("backfill", "--dry-run", "--reprocess", *extra, env=env)


@pytest.mark.slow
def test_a_dry_run_backfill_in_process_lists_the_processed_image(service):
    def image_done():
        result = _reprocess_dry_run("--local", env=service.env)
        assert result.returncode == 0, result.stdout + result.stderr
        return result if "1 to reprocess" in result.stdout else None

    result = eventually_blocking(
        image_done, timeout=60, what="the watcher and detector to process the image", interval=1
    )
    assert "would reprocess " in result.stdout and "snap_001.jpg" in result.stdout
    assert result.stdout.rstrip().endswith("backfill: dry run, nothing changed")


@pytest.mark.slow
def test_a_dry_run_backfill_as_a_ray_job(service):
    eventually_blocking(
        lambda: "1 to reprocess" in _reprocess_dry_run("--local", env=service.env).stdout,
        timeout=60,
        what="the image to be processed",
        interval=1,
    )
    result = _reprocess_dry_run(env=service.env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "backfill job homesec-backfill-" in result.stdout
    assert "would reprocess " in result.stdout
    assert result.stdout.rstrip().endswith(": SUCCEEDED")


@pytest.mark.slow
def test_down_stops_homesec_and_leaves_nothing_behind(own_service):
    service = own_service
    env = service.env
    result = homesec("down", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "homesec stopped"
    rest, _ = service.process.communicate(timeout=30)
    assert service.process.returncode == 0, "".join(service.output) + rest
    assert "homesec: stopped" in rest
    marks = (
        env["HOMESEC_DATA_DIR"],
        f"gcs_server_port={env['HOMESEC_RAY_PORT']}",
        f"--port={env['HOMESEC_RAY_DASHBOARD_PORT']}",
    )

    def leftovers() -> list[psutil.Process]:
        found = []
        for process in psutil.process_iter(["cmdline"]):
            try:
                cmdline = " ".join(process.info["cmdline"] or ())
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            if process.pid != os.getpid() and any(mark in cmdline for mark in marks):
                found.append(process)
        return found

    eventually_blocking(lambda: not leftovers(), 10, "every process of the run gone", interval=0.2)
    assert leftovers() == []
    assert not run_state_path(load_settings(env)).exists()
    for command in (["status"], ["down"]):
        after = homesec(*command, env=env)
        assert after.returncode == EXIT_NOT_RUNNING
        assert after.stdout.strip() == "homesec is not running"
