"""One `homesec up` per data dir: a lock held for as long as it runs, naming who holds it.

A second `homesec up` on the same data dir would otherwise get as far as the embedded
PostgreSQL and fail there with a message about a directory in use; the lock lets it say at once
which homesec runs, and since when. The kernel drops the lock when the holder dies, so a crashed
run never blocks the next one (:class:`homesec.ops.file_lock.FileLock`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path

from homesec.contract.errors import HomesecError
from homesec.ops.file_lock import FileLock


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

    def refusal() -> AlreadyRunning:
        return AlreadyRunning(
            f"homesec is already running with the data dir {data_dir} ({_holder(path)}): "
            "`homesec status` shows it, `homesec down` stops it; or give this one another "
            "HOMESEC_DATA_DIR"
        )

    with FileLock(path, refusal) as lock:
        lock.note(json.dumps({"pid": os.getpid(), "started_at": dt.datetime.now().timestamp()}))
        yield
