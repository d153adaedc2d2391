"""The timeline's layout (issue 24): where each visit's mark sits in its camera's lane. Pure.

A lane spans a window of real time, ``start`` to ``end`` (a local day is local midnight to the
next local midnight: 23 or 25 hours on the days the clocks change, so a mark's place is its
share of the real seconds, never of a nominal 24 hours). Marks closer than ``min_gap`` percent
take the next free slot beside each other instead of covering one another.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import msgspec

UNSCORED = "unscored"
# Marks closer than this share of the lane go side by side (a tap target is ~3% of a phone lane).
MIN_GAP_PERCENT = 2.5
MAX_SLOTS = 3  # beyond three side by side, a mark overlaps the earliest slot again
# How often the time axis is labelled, by the window's length.
TICK_STEPS = (
    (dt.timedelta(hours=12), dt.timedelta(hours=1)),
    (dt.timedelta(hours=36), dt.timedelta(hours=3)),
    (dt.timedelta(days=4), dt.timedelta(hours=12)),
)
LONGEST_TICK = dt.timedelta(days=1)
QUARTER_HOUR = dt.timedelta(minutes=15)


class TimelineVisit(msgspec.Struct, frozen=True, kw_only=True):
    """One visit as the timeline draws it: the visit's latest verdict (its batch event, or the
    fast-path event while no batch event supersedes it)."""

    event_id: int
    camera_id: str
    started_at: dt.datetime  # aware
    risk_level: str | None
    risk_score: int | None
    summary: str | None = None


class Mark(msgspec.Struct, frozen=True, kw_only=True):
    event_id: int
    at_percent: float  # from the lane's start, 0..100
    slot: int  # 0: on the lane's line; 1, 2: beside earlier marks it would cover
    band: str  # low, medium, high, critical, unscored
    time_label: str  # local HH:MM
    title: str  # what a hover or a screen reader says


class Lane(msgspec.Struct, frozen=True, kw_only=True):
    camera_id: str
    camera_name: str
    marks: list[Mark]
    counts: dict[str, int]  # band -> visits in the window


class Tick(msgspec.Struct, frozen=True, kw_only=True):
    at_percent: float
    label: str


def day_window(day: dt.date, zone: dt.tzinfo | None) -> tuple[dt.datetime, dt.datetime]:
    """Local midnight of ``day`` to the next, as aware instants (``zone`` None: this machine's
    zone)."""
    return _local_midnight(day, zone), _local_midnight(day + dt.timedelta(days=1), zone)


def _local_midnight(day: dt.date, zone: dt.tzinfo | None) -> dt.datetime:
    naive = dt.datetime.combine(day, dt.time())
    local = naive.replace(tzinfo=zone) if zone is not None else naive.astimezone()
    return local.astimezone(dt.UTC)


def position(moment: dt.datetime, start: dt.datetime, end: dt.datetime) -> float:
    """``moment``'s place in the window in percent of its real seconds, clamped to 0..100."""
    span = (end - start).total_seconds()
    if span <= 0:
        return 0.0
    share = (moment - start).total_seconds() / span * 100
    return round(min(100.0, max(0.0, share)), 3)


def band_of(risk_level: str | None) -> str:
    return risk_level or UNSCORED


def stack_slots(
    percents: Sequence[float], min_gap: float = MIN_GAP_PERCENT, max_slots: int = MAX_SLOTS
) -> list[int]:
    """A slot per mark (``percents`` in ascending order): the lowest slot whose last mark is at
    least ``min_gap`` behind; when every slot is taken, the one whose last mark is furthest
    behind."""
    last: list[float] = []
    slots = []
    for at in percents:
        free = next((slot for slot, before in enumerate(last) if at - before >= min_gap), None)
        if free is None and len(last) < max_slots:
            free = len(last)
            last.append(at)
        elif free is None:
            free = min(range(len(last)), key=lambda slot: last[slot])
        last[free] = at
        slots.append(free)
    return slots


def _title(visit: TimelineVisit, camera_name: str, local: dt.datetime) -> str:
    score = f" {visit.risk_score}" if visit.risk_score is not None else ""
    words = f"{camera_name} {local:%a %H:%M}: {band_of(visit.risk_level)}{score}"
    return f"{words}. {visit.summary}" if visit.summary else words


def lay_out(
    cameras: Sequence[tuple[str, str]],
    visits: Iterable[TimelineVisit],
    start: dt.datetime,
    end: dt.datetime,
    zone: dt.tzinfo | None,
) -> list[Lane]:
    """One lane per camera (``(id, name)``, in the order given; a camera that only its visits
    name gets a lane after them), each visit in the window a mark on its camera's lane."""
    names = dict(cameras)
    by_camera: dict[str, list[TimelineVisit]] = {camera_id: [] for camera_id, _ in cameras}
    for visit in sorted(visits, key=lambda v: (v.started_at, v.event_id)):
        if start <= visit.started_at < end:
            by_camera.setdefault(visit.camera_id, []).append(visit)
    lanes = []
    for camera_id, found in by_camera.items():
        name = names.get(camera_id, camera_id)
        percents = [position(visit.started_at, start, end) for visit in found]
        counts: dict[str, int] = {}
        marks = []
        for visit, at, slot in zip(found, percents, stack_slots(percents), strict=True):
            band = band_of(visit.risk_level)
            counts[band] = counts.get(band, 0) + 1
            local = visit.started_at.astimezone(zone)
            marks.append(
                Mark(
                    event_id=visit.event_id,
                    at_percent=at,
                    slot=slot,
                    band=band,
                    time_label=f"{local:%H:%M}",
                    title=_title(visit, name, local),
                )
            )
        lanes.append(Lane(camera_id=camera_id, camera_name=name, marks=marks, counts=counts))
    return lanes


def tick_step(start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    span = end - start
    return next((step for longest, step in TICK_STEPS if span <= longest), LONGEST_TICK)


def ticks(start: dt.datetime, end: dt.datetime, zone: dt.tzinfo | None) -> list[Tick]:
    """Labels on the time axis: each local time on a whole multiple of the step (hours of the
    local clock, so the day the clocks go back shows 01:00 twice and the day they go forward
    skips 02:00). Daily and longer steps say the date."""
    step = tick_step(start, end)
    hours = int(step.total_seconds() // 3600)
    found = []
    # Quarter hours of real time: a zone's offset may be a half or three quarters of an hour.
    first = start.astimezone(dt.UTC)
    moment = first.replace(minute=first.minute - first.minute % 15, second=0, microsecond=0)
    while moment <= end:
        local = moment.astimezone(zone)
        on_step = local.minute == 0 and (
            local.hour == 0 if hours >= 24 else local.hour % hours == 0
        )
        if moment >= start and on_step:
            label = f"{local:%a %d}" if hours >= 24 else f"{local:%H}:00"
            found.append(Tick(at_percent=position(moment, start, end), label=label))
        moment += QUARTER_HOUR
    return found
