"""Camera problems as data (issue 23): what a camera's status says when it went blind or
silent, and the facts a camera alert is judged on and worded from."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import msgspec


class CameraProblemKind(StrEnum):
    """``camera_problems.problem``: the words the camera's status and its alert use."""

    LENS_COVERED = "lens covered"  # a nearly uniform frame: covered, sprayed, black
    VIEW_MOVED = "view moved"  # the scene no longer matches the camera's usual one
    BLURRED = "blurred"  # far less sharp than the camera's usual
    OFFLINE = "offline"  # a regular uploader silent far longer than its usual gap


class CameraProblemFacts(msgspec.Struct, frozen=True, kw_only=True):
    """One problem as a rule judges it and a channel words it."""

    problem_id: int
    camera_id: str
    camera_name: str
    problem: str  # CameraProblemKind
    detail: str | None
    image_path: str | None
    started_at: dt.datetime
