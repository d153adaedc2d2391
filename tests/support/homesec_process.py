"""Running the `homesec` command as a user would, for process tests."""

from __future__ import annotations

import subprocess
import sys

from homesec.ops.ray_runtime import free_port

__all__ = ["free_port", "homesec"]


def homesec(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    """``homesec ARGS`` in a subprocess with ``env``; its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "homesec.ops.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
