"""An exclusive lock on a file under the data dir, held for as long as this process needs it.

Two things in homesec must be done by one process at a time, and both lock this way: `homesec
up` on a data dir (:mod:`homesec.ops.instance_lock`) and each embedded server's directory
(:class:`homesec.ops.embedded_common.EmbeddedServer`). Each says in its own words who is in the
way, through the ``refusal`` it gives. ``flock`` because the kernel drops it when the holder
dies, so a crashed run never blocks the next one; the descriptor is not inherited by the
processes we spawn (``os.open`` makes it close-on-exec).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from pathlib import Path
from types import TracebackType


class FileLock:
    """``flock(LOCK_EX | LOCK_NB)`` on ``path``; when another process holds it, :meth:`acquire`
    raises what ``refusal()`` makes (called then, so it may read what the holder wrote)."""

    def __init__(self, path: Path, refusal: Callable[[], Exception]) -> None:
        self.path = path
        self._refusal = refusal
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        if self._fd is not None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise self._refusal() from None
        self._fd = fd

    def note(self, text: str) -> None:
        """Replace the lock file's contents (who holds it), for a refused process to read."""
        if self._fd is None:
            raise RuntimeError(f"{self.path} is not held")
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, text.encode(), 0)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
