"""This machine's address on the network, as a camera sees it."""

from __future__ import annotations

import contextlib
import socket


def lan_address() -> str:
    """This machine's address on the network a camera reaches it by (the default route's
    interface; no packet is sent), else its host name."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed, only chooses the interface
        return probe.getsockname()[0]
    return socket.gethostname()
