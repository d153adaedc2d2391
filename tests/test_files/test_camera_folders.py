"""Whether a watcher can read its camera folder: real folders on disk."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from homesec.files.camera_folders import probe_folder
from homesec.policy.camera_health import FolderState


def test_probe_folder(tmp_path: Path) -> None:
    assert probe_folder(str(tmp_path)) == FolderState.OK
    assert probe_folder(str(tmp_path / "nope")) == FolderState.MISSING
    (tmp_path / "file").write_text("x")
    assert probe_folder(str(tmp_path / "file")) == FolderState.MISSING


@pytest.mark.skipif(os.geteuid() == 0, reason="root lists folders regardless of their mode")
def test_probe_unreadable_folder(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0)
    try:
        assert probe_folder(str(locked)) == FolderState.UNREADABLE
    finally:
        locked.chmod(0o755)
