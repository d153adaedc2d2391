"""One `homesec up` per data dir, and a second one says who runs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from homesec.ops.instance_lock import AlreadyRunning, single_instance
from tests.support.homesec_process import homesec

HOLD = """
import sys, time
from pathlib import Path
from homesec.ops.instance_lock import single_instance
with single_instance(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(120)
"""


def test_a_second_holder_is_refused_with_the_first_ones_pid(tmp_path: Path):
    refused = pytest.raises(AlreadyRunning, match=rf"pid {os.getpid()}, since ")
    with single_instance(tmp_path), refused, single_instance(tmp_path):
        pass
    with single_instance(tmp_path):  # released on exit: the next run may start
        pass


def test_a_second_homesec_up_says_homesec_is_already_running(service_data_dir: Path):
    data_dir = service_data_dir / "data"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(data_dir)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("DATABASE_URL", "REDIS_URL", "RAY_ADDRESS", "HOMESEC_CONFIG")
        }
        started = time.monotonic()
        result = homesec("up", env={**env, "HOMESEC_DATA_DIR": str(data_dir)}, timeout=60)
        output = result.stdout + result.stderr
        assert result.returncode == 1, output
        assert (
            f"homesec is already running with the data dir {data_dir} (pid {holder.pid}" in output
        )
        assert "homesec down" in output
        assert time.monotonic() - started < 30  # at once, not after starting servers
    finally:
        holder.kill()
        holder.wait(timeout=10)
