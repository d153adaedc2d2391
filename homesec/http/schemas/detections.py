"""Detections: objects found in uploaded images."""

from __future__ import annotations

import datetime as dt

import msgspec


class Detection(msgspec.Struct, kw_only=True):
    id: int
    camera_id: str
    file_path: str
    file_type: str | None
    detected_at: dt.datetime
    object_type: str | None
    confidence: float | None
    bbox_x: int | None
    bbox_y: int | None
    bbox_width: int | None
    bbox_height: int | None
    thumbnail_path: str | None
    # When the picture was taken (EXIF, else the upload's time); ``detected_at`` is when it was
    # processed. None for detections stored before capture times were kept.
    captured_at: dt.datetime | None = None
    # The names of the camera's zones that held where it stood (issue 23); [] in none; None
    # for detections stored before zones.
    zones: list[str] | None = None
    # It sat, same kind, where one sat in the camera's last frames (a parked car, issue 23):
    # stored, but it opened no visit. ``stationary_since``: when its spot was first seen.
    stationary: bool = False
    stationary_since: dt.datetime | None = None


class DetectionPage(msgspec.Struct, kw_only=True):
    """Newest first. ``next_cursor`` fetches the following page; None on the last one."""

    items: list[Detection]
    next_cursor: str | None


class DetectionList(msgspec.Struct, kw_only=True):
    items: list[Detection]
    count: int
