"""Local TCP ports: is one answering, and a free one to hand a server we start."""

from __future__ import annotations

import socket

LOOPBACK = "127.0.0.1"


def port_open(host: str, port: int) -> bool:
    """Something accepts connections on ``host:port`` (within half a second)."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def free_port(host: str = LOOPBACK) -> int:
    """A port nothing listens on right now (the kernel's choice)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]
