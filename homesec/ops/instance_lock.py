"""One `homesec up` per data dir: a lock held for as long as it runs, naming who holds it.

A second `homesec up` on the same data dir would otherwise get as far as the embedded
PostgreSQL and fail there with a message about a directory in use; the lock lets it say at once
which homesec runs, and since when. The kernel drops the lock when the holder dies, so a crashed
run never blocks the next one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path

from homesec.contract.errors import HomesecError


class AlreadyRunning(HomesecError):
    """Another `homesec up` holds this data dir."""


def _holder(path: Path) -> str:
    try:
        facts = json.loads(path.read_text())
        since = dt.datetime.fromtimestamp(float(facts["started_at"])).astimezone()
        return f"pid {int(facts['pid'])}, since {since:%Y-%m-%d %H:%M:%S}"
    except (OSError, ValueError, KeyError, TypeError):
        return "its pid is unknown"


@contextlib.contextmanager
def single_instance(data_dir: Path) -> Iterator[None]:
    """Hold ``<data dir>/run/up.lock``; raise :class:`AlreadyRunning` when another process does."""
    path = data_dir / "run" / "up.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AlreadyRunning(
                f"homesec is already running with the data dir {data_dir} ({_holder(path)}): "
                "`homesec status` shows it, `homesec down` stops it; or give this one another "
                "HOMESEC_DATA_DIR"
            ) from None
        os.ftruncate(fd, 0)
        os.write(
            fd,
            json.dumps({"pid": os.getpid(), "started_at": dt.datetime.now().timestamp()}).encode(),
        )
        yield
    finally:
        os.close(fd)  # releases the lock
