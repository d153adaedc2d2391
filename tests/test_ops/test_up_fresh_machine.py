"""The README's first command on a machine that has never run homesec or Ray: a brand-new HOME
and data dir, no server configured (embedded PostgreSQL and Redis, a local Ray head with the
token homesec makes), the environment a stranger's shell has. It comes up, the API and the
camera FTP server both accept connections once it says so, and Ctrl-C stops it cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.homesec_process import READY, server_port, with_ftp_ports

pytestmark = pytest.mark.slow


def stranger_env(home: Path, data_dir: Path) -> dict[str, str]:
    """What a new user's shell has: no variable of this test session (its Ray token, its
    servers), only PATH, a locale and the new HOME; free ports so tests can run side by side."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": str(home),
        "HOMESEC_DATA_DIR": str(data_dir),
        "HOMESEC_PORT": str(server_port()),
        "HOMESEC_RAY_PORT": str(server_port()),
        "HOMESEC_RAY_DASHBOARD_PORT": str(server_port()),
    }
    return with_ftp_ports(env)


def homesec_command() -> list[str]:
    """The console script pip installed beside this interpreter (the README's
    `.venv/bin/homesec`), else the module."""
    script = Path(sys.executable).with_name("homesec")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "homesec.ops.cli"]


def test_homesec_up_comes_up_first_time_in_a_new_home_and_stops_on_ctrl_c(service_data_dir):
    # service_data_dir: every user can reach it, as the embedded PostgreSQL's unprivileged user
    # must when we are root (pytest's tmp_path is private to root: homesec would move its
    # cluster to /var/lib/homesec).
    home = service_data_dir / "home"
    home.mkdir()
    data_dir = service_data_dir / "data"
    env = stranger_env(home, data_dir)
    process = subprocess.Popen(
        [*homesec_command(), "up"],
        env=env,
        cwd=home,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and not any(READY in line for line in lines):
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
        output = "".join(lines)
        assert READY in output, f"homesec up did not come up:\n{output}"

        # Up means both doors accept connections now, not seconds later.
        api = f"http://127.0.0.1:{env['HOMESEC_PORT']}"
        assert httpx.get(f"{api}/health", timeout=5).status_code == 200
        with socket.create_connection(("127.0.0.1", int(env["FTP_PORT"])), timeout=5) as ftp:
            assert ftp.recv(200).startswith(b"220 ")
        assert "Camera FTP is not accepting" not in output

        # Settled, as a new user finds it: no detector model yet, and homesec says so.
        while time.monotonic() < deadline and "problem: no detector engine" not in output:
            line = process.stdout.readline()
            if not line:
                break
            output += line
        assert "problem: no detector engine" in output, output
        assert "homesec models pull" in output  # and what to do about it

        process.send_signal(signal.SIGINT)
        try:
            rest, _ = process.communicate(timeout=180)
        except subprocess.TimeoutExpired:
            # Say what it printed and what its Ray head logged: a stop that hangs must be
            # diagnosable from the test's report.
            process.kill()
            rest, _ = process.communicate(timeout=30)
            head_log = data_dir / "logs" / "ray-head.log"
            tail = head_log.read_text(errors="replace")[-3000:] if head_log.is_file() else ""
            raise AssertionError(
                f"homesec up did not stop within 180 s of Ctrl-C:\n{output}{rest}\n"
                f"--- ray-head.log (tail) ---\n{tail}"
            ) from None
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)
    output += rest
    assert process.returncode == 0, output
    assert "homesec: stopped" in output
    assert "Traceback" not in output
    # A clean stop is clean in Ray's eyes too: no task of an actor killed mid-call.
    assert "killed by `ray.kill`" not in output and "(raylet)" not in output, output
    # homesec owns its Ray credentials: made under the data dir, nothing in ~/.ray.
    assert (data_dir / "ray" / "auth_token").is_file()
    assert not (home / ".ray").exists()
