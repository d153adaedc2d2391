"""Everyday time words in a search: "person back door last night" is the words "person back
door" within last night, in the house's zone.

A pure function of the text, ``now`` and the zone. Each phrase is a half-open range of local
wall-clock times ``[start, end)`` made aware in the zone, so a day across a change of daylight
saving time is 23 or 25 hours long, as the house lived it:

- ``today``, ``yesterday``: the calendar day.
- ``last night``: 18:00 the day before to 06:00 today (the night that ended this morning, or
  the one still under way when asked before dawn); ``tonight``: 18:00 today to 06:00 tomorrow.
- ``this morning`` 05:00-12:00, ``this afternoon`` 12:00-18:00, ``this evening`` 18:00-24:00.
- ``this week``, ``last week``: weeks start on Monday.
- a weekday (``monday`` ... ``sunday``, or ``mon`` ... ``sun``): the latest such day, today
  included; ``last monday``: the latest one before today.

Several time phrases narrow each other (their ranges intersect). Every other word is kept, in
its order and spelling, for the text search.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

NIGHT_STARTS = dt.time(18)
NIGHT_ENDS = dt.time(6)
MORNING_STARTS = dt.time(5)
NOON = dt.time(12)
MIDNIGHT = dt.time(0)

WEEKDAYS = {
    name: number
    for number, names in enumerate(
        [
            ("monday", "mon"),
            ("tuesday", "tue", "tues"),
            ("wednesday", "wed"),
            ("thursday", "thu", "thur", "thurs"),
            ("friday", "fri"),
            ("saturday", "sat"),
            ("sunday", "sun"),
        ]
    )
    for name in names
}


class TimeRange(NamedTuple):
    """``[start, end)``, in UTC."""

    start: dt.datetime
    end: dt.datetime


class SearchWords(NamedTuple):
    words: str  # what is left for the text search, single-spaced; "" when nothing is
    time_range: TimeRange | None  # None: the text named no time
    time_phrases: tuple[str, ...]  # the phrases understood, as written, for the page to say


def _at(day: dt.date, time: dt.time, zone: dt.tzinfo | None) -> dt.datetime:
    """Local wall-clock ``time`` on ``day`` as a UTC instant. Without a zone the machine's
    (with its daylight saving rules, through ``astimezone``). In UTC because Python subtracts
    and compares two times of the same zone object by their wall clocks, which would make a
    day across a change of daylight saving time 24 hours long."""
    if zone is None:
        local = dt.datetime.combine(day, time).astimezone()
    else:
        local = dt.datetime.combine(day, time, tzinfo=zone)
    return local.astimezone(dt.UTC)


def _days(first: dt.date, count: int, zone: dt.tzinfo | None) -> TimeRange:
    return TimeRange(
        _at(first, MIDNIGHT, zone), _at(first + dt.timedelta(days=count), MIDNIGHT, zone)
    )


def _span(
    day: dt.date, start: dt.time, end: dt.time, zone: dt.tzinfo | None, *, overnight: bool = False
) -> TimeRange:
    end_day = day + dt.timedelta(days=1) if overnight else day
    return TimeRange(_at(day, start, zone), _at(end_day, end, zone))


def _phrase_range(
    words: list[str], today: dt.date, zone: dt.tzinfo | None
) -> tuple[int, TimeRange] | None:
    """The time phrase that starts ``words`` (lower-case): how many words it takes, its range."""
    first = words[0]
    second = words[1] if len(words) > 1 else ""
    yesterday = today - dt.timedelta(days=1)
    monday = today - dt.timedelta(days=today.weekday())
    pairs = {
        ("last", "night"): lambda: _span(yesterday, NIGHT_STARTS, NIGHT_ENDS, zone, overnight=True),
        ("this", "morning"): lambda: _span(today, MORNING_STARTS, NOON, zone),
        ("this", "afternoon"): lambda: _span(today, NOON, NIGHT_STARTS, zone),
        ("this", "evening"): lambda: _span(today, NIGHT_STARTS, MIDNIGHT, zone, overnight=True),
        ("this", "week"): lambda: _days(monday, 7, zone),
        ("last", "week"): lambda: _days(monday - dt.timedelta(days=7), 7, zone),
    }
    if (first, second) in pairs:
        return 2, pairs[(first, second)]()
    if first == "last" and second in WEEKDAYS:
        back = (today.weekday() - WEEKDAYS[second]) % 7 or 7
        return 2, _days(today - dt.timedelta(days=back), 1, zone)
    singles = {
        "today": lambda: _days(today, 1, zone),
        "yesterday": lambda: _days(yesterday, 1, zone),
        "tonight": lambda: _span(today, NIGHT_STARTS, NIGHT_ENDS, zone, overnight=True),
    }
    if first in singles:
        return 1, singles[first]()
    if first in WEEKDAYS:
        back = (today.weekday() - WEEKDAYS[first]) % 7
        return 1, _days(today - dt.timedelta(days=back), 1, zone)
    return None


def _intersect(a: TimeRange | None, b: TimeRange) -> TimeRange:
    if a is None:
        return b
    start, end = max(a.start, b.start), min(a.end, b.end)
    return TimeRange(start, max(start, end))  # no overlap: an empty range, nothing matches


def read_time_words(text: str, now: dt.datetime, zone: dt.tzinfo | None) -> SearchWords:
    """Split ``text`` into the words to search for and the time range its time words name,
    relative to ``now`` (aware) in ``zone`` (None: the machine's)."""
    today = now.astimezone(zone).date()
    tokens = text.split()
    lowered = [token.lower().strip(",.;:!?") for token in tokens]
    kept: list[str] = []
    phrases: list[str] = []
    found: TimeRange | None = None
    index = 0
    while index < len(tokens):
        match = _phrase_range(lowered[index:], today, zone)
        if match is None:
            kept.append(tokens[index])
            index += 1
            continue
        length, time_range = match
        phrases.append(" ".join(tokens[index : index + length]))
        found = _intersect(found, time_range)
        index += length
    return SearchWords(words=" ".join(kept), time_range=found, time_phrases=tuple(phrases))
