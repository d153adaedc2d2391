"""The `homesec` command as a user runs it: a real process, real servers."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import httpx
import psutil
import pytest
from PIL import Image

from tests.support.homesec_process import homesec, server_port, start_up
from tests.support.tiny_rtdetr import build_tiny_rtdetr
from tests.support.waiting import eventually_blocking


@pytest.fixture
def base_env(service_data_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "RAY_ADDRESS", "HOMESEC_CONFIG")
    }
    env["HOMESEC_DATA_DIR"] = str(service_data_dir / "data")
    # Free ports: another test session may run its own `homesec up` beside this one.
    env["HOMESEC_RAY_PORT"] = str(server_port())
    env["HOMESEC_RAY_DASHBOARD_PORT"] = str(server_port())
    env["HOMESEC_PORT"] = str(server_port())
    return env


def test_config_prints_settings_with_secrets_masked(base_env):
    env = {**base_env, "DATABASE_URL": "postgresql://me:hunter2@db/h", "API_KEYS": "k1,k2"}
    result = homesec("config", "--json", env=env)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["DATABASE_URL"] == "postgresql+asyncpg://me:****@db/h"
    assert shown["API_KEYS"] == ["****", "****"]
    assert "hunter2" not in result.stdout and "k1" not in result.stdout
    table = homesec("config", env=env)
    assert table.returncode == 0
    assert any(line.split()[:2] == ["RETENTION_DAYS", "30"] for line in table.stdout.splitlines())


def test_bad_setting_stops_with_one_line_naming_it(base_env):
    result = homesec("up", env={**base_env, "RETENTION_DAYS": "forever"})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("homesec: RETENTION_DAYS='forever' is not valid")


def test_unreachable_database_is_one_clear_line(base_env):
    env = {**base_env, "DATABASE_URL": "postgresql://nobody:pw@127.0.0.1:1/none"}
    result = homesec("db", "upgrade", env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert "PostgreSQL at 127.0.0.1:1/none is unreachable" in result.stderr
    assert "DATABASE_URL" in result.stderr and "pw" not in result.stderr


def test_db_upgrade_downgrade_upgrade(base_env, fresh_database_url):
    env = {**base_env, "DATABASE_URL": fresh_database_url}
    up = homesec("db", "upgrade", env=env)
    assert up.returncode == 0, up.stderr
    assert "database at revision" in up.stdout and "base (empty)" not in up.stdout
    down = homesec("db", "downgrade", "base", env=env)
    assert down.returncode == 0, down.stderr
    assert "base (empty)" in down.stdout
    again = homesec("db", "upgrade", env=env)
    assert again.returncode == 0 and again.stdout == up.stdout


def _processes_mentioning(text: str) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        try:
            if any(text in part for part in process.info["cmdline"] or ()):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_rtdetr(tmp_path_factory.mktemp("model") / "rtdetr")


@pytest.mark.slow
def test_up_with_nothing_configured_turns_an_upload_into_an_event_and_stops_clean(
    base_env, tiny_model
):
    env = {
        **base_env,
        # A real RT-DETRv2 (random weights, from a local directory) and the rules engine.
        "DETECTOR_MODEL": str(tiny_model),
        "DETECTION_CONFIDENCE_THRESHOLD": "0.0",
        "LLM_ENGINE": "rules",
        "UPLOAD_SETTLE_SECONDS": "0.5",
        "BATCH_IDLE_TIMEOUT_SECONDS": "1",
        "BATCH_WINDOW_SECONDS": "3",
    }
    process, output = start_up(env)
    try:
        assert "PostgreSQL: embedded" in output and "Redis: embedded" in output
        data_dir = env["HOMESEC_DATA_DIR"]
        assert _processes_mentioning(data_dir), "the embedded servers should be running"
        assert _processes_mentioning(f"gcs_server_port={env['HOMESEC_RAY_PORT']}"), "Ray head"
        assert "Ray: 127.0.0.1:" in output
        api = f"http://127.0.0.1:{env['HOMESEC_PORT']}"
        assert f"Dashboard: {api}/" in output
        assert httpx.get(f"{api}/health", timeout=10).status_code == 200

        # A camera folder appears and an upload lands in it: the pipeline does the rest.
        folder = Path(data_dir) / "cameras" / "Front Door"
        folder.mkdir(parents=True)
        Image.effect_noise((640, 480), 60).convert("RGB").save(folder / "snap.jpg", "JPEG")
        events = eventually_blocking(
            lambda: httpx.get(f"{api}/api/events", timeout=10).json()["items"],
            120,
            "an event of the upload",
            interval=1,
        )
        assert events[0]["camera_id"] == "front_door"
        assert 0 <= events[0]["risk_score"] <= 100
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output + rest
    assert "homesec: stopped" in rest
    # Nothing left: no embedded server (they name the data dir), no Ray process of our head.
    marks = (
        data_dir,
        f"gcs_server_port={env['HOMESEC_RAY_PORT']}",
        f"--port={env['HOMESEC_RAY_DASHBOARD_PORT']}",
    )

    def leftovers() -> list[psutil.Process]:
        return [process for mark in marks for process in _processes_mentioning(mark)]

    eventually_blocking(lambda: not leftovers(), 10, "every process of the run gone", interval=0.2)
    assert leftovers() == []
