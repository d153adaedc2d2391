"""Camera identity: a camera's id is its upload folder's name, normalised, stable over restarts."""

from __future__ import annotations

import re

import msgspec

_NOT_ALLOWED = re.compile(r"[^a-z0-9_-]+")


class InvalidCameraId(ValueError):
    """A folder name that normalises to nothing usable as a camera id."""


def normalize_camera_id(folder_name: str) -> str:
    """``"Front Door"`` -> ``"front_door"``: lower case; letters, digits, ``_`` and ``-`` only.

    Runs of other characters become one ``_``; leading and trailing ``_`` are dropped. The same
    folder always yields the same id, so a restart finds the camera it registered before.
    """
    candidate = _NOT_ALLOWED.sub("_", folder_name.strip().lower()).strip("_")
    if not any(char.isalnum() for char in candidate):
        raise InvalidCameraId(
            f"folder name {folder_name!r} has no letters or digits to name a camera"
        )
    return candidate[:100]


class CameraFolder(msgspec.Struct, frozen=True):
    """A camera as its folder names it: registered from a folder, or read back from PostgreSQL."""

    camera_id: str
    name: str  # the folder's own name, shown to people
    folder_path: str
