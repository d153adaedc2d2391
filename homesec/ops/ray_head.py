"""The local Ray head that `homesec up` starts and stops (connecting to it is the gateway's:
:mod:`homesec.actors.ray_gateway`).

`homesec up` starts the head as ``ray start --head --block`` in its own process group rather than
through ``ray.init()``: that pins the GCS port (off 6379, where Redis usually is), keeps the job
server that backfill jobs are submitted to, and lets us stop exactly our cluster by signalling
that one process group (``ray stop`` would stop every Ray on the machine).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from homesec.contract.errors import HomesecError
from homesec.ops.ports import free_port, port_open

log = logging.getLogger(__name__)

DASHBOARD_PORT = 8265


class RayStartError(HomesecError):
    """The local Ray head did not come up."""


class RayHead:
    """A local Ray head node owned by this process."""

    def __init__(
        self,
        *,
        port: int,
        log_dir: Path,
        num_cpus: int | None = None,
        dashboard_port: int = DASHBOARD_PORT,
        resources: dict[str, float] | None = None,
    ) -> None:
        self.port = port
        self.dashboard_port = dashboard_port
        self._log_path = log_dir / "ray-head.log"
        self._num_cpus = num_cpus
        self._resources = resources or {}
        self._process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def dashboard_url(self) -> str:
        return f"http://127.0.0.1:{self.dashboard_port}"

    def start(self, timeout: float = 60.0) -> str:
        if port_open("127.0.0.1", self.port):
            raise RayStartError(
                f"port {self.port} is taken (another Ray or service?); "
                "set HOMESEC_RAY_PORT to a free port or RAY_ADDRESS to join that cluster"
            )
        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable, "-m", "ray.scripts.scripts", "start", "--head", "--block",
            f"--port={self.port}",
            "--node-ip-address=127.0.0.1",
            "--dashboard-host=127.0.0.1",
            f"--dashboard-port={self.dashboard_port}",
            # Free ports for what Ray would otherwise put on fixed defaults, taken by any other
            # Ray on the machine (the job agent's 52365 is what job submission needs).
            f"--dashboard-agent-listen-port={free_port()}",
            f"--metrics-export-port={free_port()}",
            f"--ray-client-server-port={free_port()}",
            "--disable-usage-stats",
        ]  # fmt: skip
        if self._num_cpus is not None:
            command.append(f"--num-cpus={self._num_cpus}")
        if self._resources:
            import json

            command.append(f"--resources={json.dumps(self._resources)}")
        log_file = self._log_path.open("ab")
        self._process = subprocess.Popen(
            command,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            # Own process group: Ctrl-C in the terminal reaches `homesec up` only, which then
            # stops the head in order, after the actors it hosts.
            start_new_session=True,
            env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"},
        )
        log_file.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RayStartError(f"the Ray head exited at start; see {self._log_path}")
            if port_open("127.0.0.1", self.port) and self._log_says("--block"):
                return self.address
            time.sleep(0.25)
        self.stop()
        raise RayStartError(
            f"the Ray head did not start within {timeout:.0f} s; see {self._log_path}"
        )

    def _log_says(self, text: str) -> bool:
        try:
            return text in self._log_path.read_text(errors="replace")
        except OSError:
            return False

    def stop(self, timeout: float = 45.0) -> None:
        """SIGTERM `ray start` (it drains the node, then stops its processes); then KILL the
        group. Only the leader gets SIGTERM: with the GCS gone first, the drain would wait."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        try:
            process.terminate()
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log.warning("the Ray head did not stop within %.0f s; killing it", timeout)
        except ProcessLookupError:
            return
        # Whatever is left in the group (workers mid-shutdown) goes now.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
