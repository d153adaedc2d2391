"""The house's mode: home, away or night, since when and who set it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from msgspec import Meta

from homesec.contract.house_mode import HOUSE_MODES
from homesec.http.schemas.common import NO_NUL

ModeText = Annotated[
    str,
    Meta(max_length=32, pattern=NO_NUL, description=f"one of {', '.join(HOUSE_MODES)}"),
]


class HouseModeSet(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``{"mode": "away"}``; an unknown mode is a 400 that names the modes."""

    mode: ModeText


class HouseMode(msgspec.Struct, kw_only=True):
    """The mode in force. ``since`` and ``changed_by`` are null while it was never changed
    (the default, home)."""

    mode: str
    since: dt.datetime | None
    changed_by: str | None
    modes: list[str]  # every mode there is, for a client's picker


class HouseModeChange(msgspec.Struct, kw_only=True):
    mode: str
    changed_at: dt.datetime
    changed_by: str


class HouseModeHistory(msgspec.Struct, kw_only=True):
    """Newest first."""

    items: list[HouseModeChange]
    count: int
