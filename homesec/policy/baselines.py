"""A camera's habits, learnt from the house's own history, with exponential decay. Pure.

Two baselines per camera, kept in PostgreSQL by :mod:`homesec.store.baselines` and updated as
each visit's (batch) event is stored:

- **kinds by hour** (``class_baselines``): for each kind of object (person, vehicle, animal ...)
  and local hour, on how many days it was seen then. A day counts once, however many visits it
  had; older days weigh less: each day's weight halves every ``BASELINE_HALF_LIFE_DAYS``.
- **visits by weekday and hour** (``activity_baselines``): how many visits the camera has at
  this weekday and hour, decayed the same way, read back as visits per week.

Read back, a kind's days are set against the camera's history (from its first recorded visit,
decayed alike), so "seen on 21 of the last 30 days" is a share that recent days dominate.
"Around 17:45" means the hour itself or its nearer neighbour (17 or 18), whichever saw it more.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from homesec.contract.analysis import CameraBaseline, KindHabit

DAYS_PER_WEEK = 7


def daily_decay(half_life_days: float) -> float:
    return 0.5 ** (1.0 / half_life_days)


def decayed(value: float, last: dt.date, today: dt.date, half_life_days: float) -> float:
    """``value`` as it weighs ``today``, last counted on ``last`` (a later ``last`` counts as
    today: clocks and late batches must not inflate a weight)."""
    days = max(0, (today - last).days)
    return value * daily_decay(half_life_days) ** days


def history_days(since: dt.date, today: dt.date, half_life_days: float) -> float:
    """The decayed number of days from ``since`` up to and including ``today``."""
    days = max(0, (today - since).days) + 1
    decay = daily_decay(half_life_days)
    return (1 - decay**days) / (1 - decay)


def history_weeks(since: dt.date, today: dt.date, half_life_days: float) -> float:
    """The decayed number of weeks from ``since`` to ``today`` (one slot a week)."""
    weeks = max(0, (today - since).days) // DAYS_PER_WEEK + 1
    decay = daily_decay(half_life_days) ** DAYS_PER_WEEK
    return (1 - decay**weeks) / (1 - decay)


def nearer_hour(local_time: dt.datetime) -> int:
    """The neighbouring hour nearer to ``local_time``: 18 for 17:45, 16 for 17:10."""
    return (local_time.hour + (1 if local_time.minute >= 30 else -1)) % 24


@dataclass(frozen=True)
class KindRow:
    """One ``class_baselines`` row as read."""

    kind: str
    hour: int
    days_seen: float
    last_seen_on: dt.date


@dataclass(frozen=True)
class ActivityRow:
    """One ``activity_baselines`` row as read."""

    day_of_week: int  # Monday 0
    hour: int
    visits: float
    last_visit_on: dt.date


def camera_baseline(
    kinds: list[KindRow],
    activity: ActivityRow | None,
    since: dt.date | None,
    local_time: dt.datetime,
    half_life_days: float,
) -> CameraBaseline:
    """What the rows say about ``local_time``; ``since`` is the camera's first recorded visit
    (None: no history, so the role rules decide)."""
    today = local_time.date()
    if since is None:
        return CameraBaseline(history_days=0.0, hour=local_time.hour)
    hours = (local_time.hour, nearer_hour(local_time))
    seen: dict[str, float] = {}
    for row in kinds:
        if row.hour in hours:
            weight = decayed(row.days_seen, row.last_seen_on, today, half_life_days)
            seen[row.kind] = max(seen.get(row.kind, 0.0), weight)
    habits = [KindHabit(kind=kind, days_seen=round(days, 2)) for kind, days in sorted(seen.items())]
    visits = None
    if activity is not None:
        weekly = decayed(activity.visits, activity.last_visit_on, today, half_life_days)
        visits = round(weekly / history_weeks(since, today, half_life_days), 2)
    return CameraBaseline(
        history_days=round(history_days(since, today, half_life_days), 2),
        calendar_days=max(0, (today - since).days) + 1,
        hour=local_time.hour,
        habits=habits,
        weekday_hour_visits=visits if visits is not None else 0.0,
    )
