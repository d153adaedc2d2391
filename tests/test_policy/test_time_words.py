"""Time words in a search, read with fixed clocks in fixed zones (DST edges included)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from homesec.policy.time_words import TimeRange, read_time_words

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
# Wednesday 9 December 2026, 14:30 in London (GMT, UTC+0).
WEDNESDAY = dt.datetime(2026, 12, 9, 14, 30, tzinfo=LONDON)


def _local(year: int, month: int, day: int, hour: int = 0, zone=LONDON) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=zone)


def test_words_without_time_words_are_kept_as_written() -> None:
    found = read_time_words("Courier  left a PARCEL", WEDNESDAY, LONDON)
    assert found.words == "Courier left a PARCEL"
    assert found.time_range is None
    assert found.time_phrases == ()


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("today", _local(2026, 12, 9), _local(2026, 12, 10)),
        ("yesterday", _local(2026, 12, 8), _local(2026, 12, 9)),
        ("last night", _local(2026, 12, 8, 18), _local(2026, 12, 9, 6)),
        ("tonight", _local(2026, 12, 9, 18), _local(2026, 12, 10, 6)),
        ("this morning", _local(2026, 12, 9, 5), _local(2026, 12, 9, 12)),
        ("this afternoon", _local(2026, 12, 9, 12), _local(2026, 12, 9, 18)),
        ("this evening", _local(2026, 12, 9, 18), _local(2026, 12, 10)),
        ("this week", _local(2026, 12, 7), _local(2026, 12, 14)),
        ("last week", _local(2026, 11, 30), _local(2026, 12, 7)),
        ("wednesday", _local(2026, 12, 9), _local(2026, 12, 10)),  # today is a Wednesday
        ("monday", _local(2026, 12, 7), _local(2026, 12, 8)),
        ("thursday", _local(2026, 12, 3), _local(2026, 12, 4)),  # the latest, last week's
        ("sun", _local(2026, 12, 6), _local(2026, 12, 7)),
        ("last wednesday", _local(2026, 12, 2), _local(2026, 12, 3)),
        ("last monday", _local(2026, 12, 7), _local(2026, 12, 8)),
    ],
)
def test_each_phrase_names_its_range(text: str, start: dt.datetime, end: dt.datetime) -> None:
    found = read_time_words(f"person {text} door", WEDNESDAY, LONDON)
    assert found.words == "person door"
    assert found.time_range == TimeRange(start, end)
    assert found.time_phrases == (text,)


def test_case_and_punctuation_do_not_hide_a_time_word() -> None:
    found = read_time_words("Person, Last Night.", WEDNESDAY, LONDON)
    assert found.words == "Person,"
    assert found.time_range == TimeRange(_local(2026, 12, 8, 18), _local(2026, 12, 9, 6))
    assert found.time_phrases == ("Last Night.",)


def test_last_night_asked_before_dawn_is_the_night_under_way() -> None:
    three_am = _local(2026, 12, 9, 3)
    found = read_time_words("last night", three_am, LONDON)
    assert found.time_range == TimeRange(_local(2026, 12, 8, 18), _local(2026, 12, 9, 6))


def test_the_day_is_the_houses_not_utcs() -> None:
    # 02:00 UTC on Thursday is still Wednesday evening in New York.
    now = dt.datetime(2026, 12, 10, 2, tzinfo=dt.UTC)
    found = read_time_words("today", now, NEW_YORK)
    assert found.time_range == TimeRange(
        _local(2026, 12, 9, zone=NEW_YORK), _local(2026, 12, 10, zone=NEW_YORK)
    )
    assert found.time_range.start == dt.datetime(2026, 12, 9, 5, tzinfo=dt.UTC)


def test_a_day_across_spring_forward_is_23_hours() -> None:
    # Clocks in London went forward at 01:00 UTC on Sunday 29 March 2026.
    monday = _local(2026, 3, 30, 9)
    yesterday = read_time_words("yesterday", monday, LONDON).time_range
    assert yesterday.end - yesterday.start == dt.timedelta(hours=23)
    assert yesterday.start == dt.datetime(2026, 3, 29, 0, tzinfo=dt.UTC)
    assert yesterday.end == dt.datetime(2026, 3, 29, 23, tzinfo=dt.UTC)  # 00:00 BST


def test_the_night_the_clocks_go_back_is_13_hours() -> None:
    # Clocks in London went back at 01:00 UTC on Sunday 25 October 2026.
    sunday = _local(2026, 10, 25, 10)
    night = read_time_words("last night", sunday, LONDON).time_range
    assert night.start == dt.datetime(2026, 10, 24, 17, tzinfo=dt.UTC)  # 18:00 BST
    assert night.end == dt.datetime(2026, 10, 25, 6, tzinfo=dt.UTC)  # 06:00 GMT
    assert night.end - night.start == dt.timedelta(hours=13)


def test_this_week_across_a_dst_change_is_167_hours() -> None:
    found = read_time_words("this week", _local(2026, 3, 26, 12), LONDON).time_range
    assert found.end - found.start == dt.timedelta(hours=167)


def test_two_phrases_narrow_each_other() -> None:
    found = read_time_words("yesterday this week dog", WEDNESDAY, LONDON)
    assert found.words == "dog"
    assert found.time_range == TimeRange(_local(2026, 12, 8), _local(2026, 12, 9))
    assert found.time_phrases == ("yesterday", "this week")


def test_phrases_that_never_overlap_leave_an_empty_range() -> None:
    found = read_time_words("today yesterday", WEDNESDAY, LONDON).time_range
    assert found.start == found.end


def test_words_that_only_look_like_time_words_stay() -> None:
    found = read_time_words("last car this door night week", WEDNESDAY, LONDON)
    assert found.words == "last car this door night week"
    assert found.time_range is None


def test_without_a_zone_the_machines_zone_is_used() -> None:
    now = dt.datetime(2026, 12, 9, 12, tzinfo=dt.UTC)
    found = read_time_words("today", now, None).time_range
    local_today = now.astimezone().date()
    assert found.start == dt.datetime.combine(local_today, dt.time()).astimezone()
    assert found.start.tzinfo is not None
