"""A camera's status (``online``, ``offline``, ``error``) from what its watcher knows.

- ``error``: its upload folder is missing or cannot be read, whatever else is true;
- ``offline``: no upload for ``camera_offline_seconds`` (or none ever);
- ``online``: an upload within that time.

Times are float epoch seconds (``time.time()``); the shell converts ``cameras.last_seen_at``.
Whether the folder can be read is :func:`homesec.files.camera_folders.probe_folder`'s to say.
"""

from __future__ import annotations

import enum

import msgspec

from homesec.contract.enums import CameraStatus


class FolderState(enum.StrEnum):
    OK = "ok"
    MISSING = "missing"
    UNREADABLE = "unreadable"


class StatusUpdate(msgspec.Struct, frozen=True):
    status: CameraStatus
    changed: bool
    reason: str  # why, for the log line and the health report


def camera_status(
    current: str | None,
    *,
    now: float,
    last_seen_at: float | None,
    folder: FolderState,
    offline_after_seconds: float,
) -> StatusUpdate:
    """The camera's status at ``now`` and whether it differs from ``current``."""
    if folder is not FolderState.OK:
        status, reason = CameraStatus.ERROR, f"upload folder is {folder.value}"
    elif last_seen_at is None:
        status, reason = CameraStatus.OFFLINE, "no upload yet"
    else:
        silent_for = now - last_seen_at
        if silent_for >= offline_after_seconds:
            status = CameraStatus.OFFLINE
            reason = f"no upload for {silent_for:.0f} s"
        else:
            status = CameraStatus.ONLINE
            reason = f"last upload {max(0.0, silent_for):.0f} s ago"
    return StatusUpdate(status=status, changed=status != current, reason=reason)
