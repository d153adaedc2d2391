"""Running the `homesec` command as a user would, for process tests."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from homesec.ops.ports import free_port

__all__ = [
    "free_port",
    "homesec",
    "server_port",
    "start_up",
    "stop_up",
    "up_env",
    "with_ftp_ports",
]

READY = "Press Ctrl-C"  # the line `homesec up` prints once everything runs


# Ports for the servers a `homesec up` under test opens after Ray has started: above Ray's
# worker ports (10002-19999) and below the kernel's ephemeral range (32768 and up on Linux). A
# port the kernel handed out (bind to port 0) and the probe let go can be handed out again to
# the next process binding port 0: Ray, starting meanwhile, once took the FTP port that way and
# answered the test's FTP connection with gRPC. The kernel never hands out a port from here.
SERVER_PORTS = range(20000, 32768)


def server_port() -> int:
    """A free port for a server of the test's `homesec up`, out of everyone's random picks."""
    chooser = random.SystemRandom()
    for _ in range(200):
        port = chooser.choice(SERVER_PORTS)
        with socket.socket() as probe:
            try:
                probe.bind(("0.0.0.0", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {SERVER_PORTS}")


def with_ftp_ports(env: dict[str, str]) -> dict[str, str]:
    """``env`` with the FTP server of `homesec up` on 127.0.0.1 and free ports (unless the test
    chose its own): tests run side by side, and a user may run homesec on 2121 meanwhile."""
    ftp = {"FTP_HOST": "127.0.0.1", "FTP_PORT": str(server_port())}
    passive = server_port()
    ftp["FTP_PASSIVE_PORTS"] = f"{passive}-{min(passive + 9, 65535)}"  # busy ones are skipped
    return {**ftp, **env}


def up_env(data_dir: Path, database_url: str, redis_url: str, **settings: str) -> dict[str, str]:
    """The environment of a `homesec up` under test: this process's, less the servers it may
    name, plus the test's data dir, database and Redis, free ports for Ray and the API, the
    scripted detector (a red marker is a person) and the rules engine; ``settings`` on top."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "RAY_ADDRESS", "HOMESEC_CONFIG")
    }
    env.update(
        {
            "HOMESEC_DATA_DIR": str(data_dir),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "HOMESEC_RAY_PORT": str(server_port()),
            "HOMESEC_RAY_DASHBOARD_PORT": str(server_port()),
            "HOMESEC_PORT": str(server_port()),
            "DETECTOR_MODEL": "scripted",
            "LLM_ENGINE": "rules",
            "MIN_IMAGE_BYTES": "100",
            "BATCH_IDLE_TIMEOUT_SECONDS": "1",
            "BATCH_WINDOW_SECONDS": "3",
        }
    )
    env.update(settings)
    return env


def homesec(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    """``homesec ARGS`` in a subprocess with ``env``; its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "homesec.ops.cli", *args],
        env=with_ftp_ports(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_up(env: dict[str, str], timeout: float = 180) -> tuple[subprocess.Popen, str]:
    """Start ``homesec up`` and read its output until it says it is up; returns the process
    (still running) and what it printed. Fails with that output when it never gets there."""
    process = subprocess.Popen(
        [sys.executable, "-m", "homesec.ops.cli", "up"],
        env=with_ftp_ports(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not any(READY in line for line in lines):
        line = process.stdout.readline()
        if not line:  # it exited
            break
        lines.append(line)
    output = "".join(lines)
    if READY not in output:
        process.kill()
        process.wait(timeout=30)
        raise AssertionError(f"homesec up did not come up:\n{output}")
    return process, output


def stop_up(process: subprocess.Popen) -> str:
    """Ctrl-C a `homesec up` that :func:`start_up` started and wait until it stopped (killed
    when it takes over 90 s); what it printed meanwhile."""
    process.send_signal(signal.SIGINT)
    try:
        rest, _ = process.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        process.kill()
        rest, _ = process.communicate(timeout=30)
    return rest
