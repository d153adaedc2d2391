"""The house's mode as data: one change of it, and who can make one.

The mode in force at a moment is the latest change at or before it; with no change at all the
house is ``home`` (:data:`DEFAULT_MODE`), so an upgrade scores and alerts as before.
"""

from __future__ import annotations

import datetime as dt

import msgspec

from homesec.contract.enums import HouseMode

DEFAULT_MODE = HouseMode.HOME
HOUSE_MODES: tuple[str, ...] = tuple(mode.value for mode in HouseMode)

# Who changed the mode, besides a signed-in user or an API key (recorded by its name).
BY_MQTT = "mqtt"
BY_SCHEDULE = "schedule"
MAX_CHANGED_BY_CHARS = 100


class ModeChange(msgspec.Struct, frozen=True, kw_only=True):
    """One row of ``house_mode_changes``; ``changed_at`` None: the default, never changed."""

    mode: str
    changed_at: dt.datetime | None = None
    changed_by: str | None = None
