"""The house's mode outside the API: commands heard over MQTT, and the schedule's edges. Each
is judged by :mod:`homesec.policy.house_mode` and logged by :mod:`homesec.store.house_modes`
with who made it (``mqtt``, ``schedule``). The Notifier, which holds the MQTT connection and
wakes every few seconds, runs both in its cycle.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.contract.house_mode import BY_MQTT, BY_SCHEDULE, ModeChange
from homesec.policy.house_mode import mqtt_command_mode, scheduled_mode
from homesec.store import house_modes

log = logging.getLogger("homesec.house_mode")


async def apply_mqtt_commands(
    sessions: async_sessionmaker[AsyncSession], payloads: Iterable[bytes]
) -> list[ModeChange]:
    """Set the mode each command names, in order, logged as ``mqtt``; a payload that names no
    mode is logged here and ignored. The changes made (a command for the mode in force makes
    none)."""
    changes = []
    for payload in payloads:
        mode = mqtt_command_mode(payload)
        if mode is None:
            log.warning("ignored an MQTT mode command that names no mode: %r", payload[:64])
            continue
        change, changed = await house_modes.set_mode(sessions, mode.value, BY_MQTT)
        if changed:
            log.info("house mode set to %s over MQTT", change.mode)
            changes.append(change)
    return changes


async def apply_schedule(
    sessions: async_sessionmaker[AsyncSession],
    night_hours: tuple[dt.time, dt.time],
    now: dt.datetime,
    zone: dt.tzinfo | None,
) -> ModeChange | None:
    """The schedule's change at ``now``, logged as ``schedule``; None: nothing to do."""
    in_force = await house_modes.current(sessions)
    mode = scheduled_mode(night_hours, in_force, now.astimezone(zone))
    if mode is None:
        return None
    change, changed = await house_modes.set_mode(sessions, mode.value, BY_SCHEDULE)
    if not changed:
        return None
    log.info("house mode set to %s by the schedule", change.mode)
    return change
