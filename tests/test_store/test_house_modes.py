"""``house_mode_changes``: the mode in force now and at a moment, a change logged once, and the
history newest first."""

from __future__ import annotations

import asyncio
import datetime as dt

from homesec.store import house_modes

T0 = dt.datetime(2026, 6, 3, 9, 0, tzinfo=dt.UTC)


async def test_with_no_change_the_house_is_home(db_sessions):
    change = await house_modes.current(db_sessions)
    assert (change.mode, change.changed_at, change.changed_by) == ("home", None, None)
    async with db_sessions() as session:
        assert await house_modes.mode_at(session, T0) == "home"


async def test_the_mode_at_a_moment_is_the_latest_change_at_or_before_it(db_sessions):
    await house_modes.set_mode(db_sessions, "away", "key phone", at=T0)
    await house_modes.set_mode(db_sessions, "night", "schedule", at=T0 + dt.timedelta(hours=14))
    async with db_sessions() as session:
        assert await house_modes.mode_at(session, T0 - dt.timedelta(seconds=1)) == "home"
        assert await house_modes.mode_at(session, T0) == "away"
        assert await house_modes.mode_at(session, T0 + dt.timedelta(hours=13)) == "away"
        assert await house_modes.mode_at(session, T0 + dt.timedelta(hours=15)) == "night"
    latest = await house_modes.current(db_sessions)
    assert (latest.mode, latest.changed_by) == ("night", "schedule")
    assert [c.mode for c in await house_modes.history(db_sessions)] == ["night", "away"]
    assert len(await house_modes.history(db_sessions, limit=1)) == 1


async def test_the_mode_in_force_is_not_logged_again_even_by_two_setters_at_once(db_sessions):
    results = await asyncio.gather(
        *(house_modes.set_mode(db_sessions, "away", f"setter {n}") for n in range(4))
    )
    assert sum(changed for _, changed in results) == 1
    assert len(await house_modes.history(db_sessions)) == 1
    change, changed = await house_modes.set_mode(db_sessions, "away", "later")
    assert not changed and change.changed_by.startswith("setter")


async def test_a_long_name_is_cut_to_the_column(db_sessions):
    change, _ = await house_modes.set_mode(db_sessions, "night", "k" * 300)
    assert len(change.changed_by) == 100
