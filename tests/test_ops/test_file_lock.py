"""The one lock class of `homesec up` and the embedded servers: exclusive, says who is in the
way, released with the process, never inherited by a child."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from homesec.ops.file_lock import FileLock


class Busy(Exception):
    pass


def test_a_second_holder_gets_the_refusal_which_may_read_the_holders_note(tmp_path: Path):
    path = tmp_path / "x.lock"
    with FileLock(path, lambda: Busy("unused")) as first:
        assert first.held
        first.note("pid 1")
        first.note("pid 42")  # replaced, not appended
        second = FileLock(path, lambda: Busy(f"held by {path.read_text()}"))
        with pytest.raises(Busy, match=r"^held by pid 42$"):
            second.acquire()
        assert not second.held
    assert not first.held
    with FileLock(path, lambda: Busy("still held")):  # released on exit
        pass


def test_a_child_process_does_not_keep_the_lock(tmp_path: Path):
    path = tmp_path / "x.lock"
    lock = FileLock(path, lambda: Busy("held"))
    lock.acquire()
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock.release()
        with FileLock(path, lambda: Busy("the child inherited the lock")):
            pass
    finally:
        child.kill()
        child.wait(timeout=10)


def test_note_needs_the_lock(tmp_path: Path):
    with pytest.raises(RuntimeError, match="not held"):
        FileLock(tmp_path / "x.lock", lambda: Busy("")).note("pid 1")
