"""Cameras: one per upload folder under ``FOSCAM_BASE_PATH``."""

from __future__ import annotations

import datetime as dt

import msgspec

from homesec.http.schemas.common import text
from homesec.models.enums import CameraStatus

CameraName = text(255, min_length=1)
CameraIdText = text(100, min_length=1, description="letters, digits, _ and - in lower case")


class Camera(msgspec.Struct, kw_only=True):
    id: str
    name: str
    folder_path: str
    status: CameraStatus
    created_at: dt.datetime
    last_seen_at: dt.datetime | None


class CameraList(msgspec.Struct, kw_only=True):
    items: list[Camera]
    count: int


class CameraCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A new camera; its folder ``<FOSCAM_BASE_PATH>/<id>`` is created if missing.

    ``id`` defaults to the name normalised (``"Front Door"`` -> ``front_door``).
    """

    name: CameraName
    id: CameraIdText | None = None
    status: CameraStatus = CameraStatus.ONLINE


class CameraUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Fields to change; the id and folder are the camera's identity and never change."""

    name: CameraName | msgspec.UnsetType = msgspec.UNSET
    status: CameraStatus | msgspec.UnsetType = msgspec.UNSET
