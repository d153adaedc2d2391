"""The Statistics page's bars, pure geometry: parts stacked bottom up to the month's alerts, one
scale for all, the calibration's line placed by the day in the house's zone."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from homesec.http.pages.stats import PLOT, SLOT, TOP, marker_x, month_bars
from homesec.http.schemas.stats import MonthTally

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def month(label: str, **counts) -> MonthTally:
    return MonthTally(month=label, **counts)


def test_a_bar_stacks_its_parts_to_what_was_sent() -> None:
    months = [
        month("2025-11", alerts_sent=6, rated=4, false_alarms=1, wrong_severity=1,
              false_alarm_rate=None, enough_feedback=False),
        month("2025-12", alerts_sent=3, rated=3, false_alarms=3, false_alarm_rate=1.0,
              enough_feedback=True),
        month("2026-01"),
    ]  # fmt: skip
    first, second, empty = month_bars(months, scale_max=6)
    assert [(s.part, s.count) for s in first.segments] == [
        ("false-alarm", 1),
        ("wrong-severity", 1),
        ("right", 2),
        ("unrated", 2),
    ]
    assert sum(s.height for s in first.segments) == pytest.approx(PLOT)
    assert first.segments[0].y + first.segments[0].height == pytest.approx(TOP + PLOT)
    assert first.segments[-1].y == pytest.approx(TOP)  # the tallest bar fills the plot
    assert sum(s.height for s in second.segments) == pytest.approx(PLOT / 2)
    assert (first.rate, second.rate, empty.rate) == ("\u2013", "100%", "\u2013")
    assert empty.segments == []
    # A report across the new year names the years.
    assert [bar.label for bar in (first, second, empty)] == ["Nov 25", "Dec 25", "Jan 26"]
    assert second.x - first.x == SLOT


def test_the_calibration_line_falls_on_its_day_in_the_house_zone() -> None:
    months = [month("2025-11"), month("2025-12")]
    # 03:00 UTC on 1 December is the evening of 30 November in New York: the end of November.
    late_november = dt.datetime(2025, 12, 1, 3, 0, tzinfo=dt.UTC)
    x = marker_x(months, late_november, NEW_YORK)
    assert SLOT * 0.95 < x < SLOT
    assert marker_x(months, dt.datetime(2025, 12, 16, 17, tzinfo=dt.UTC), NEW_YORK) == (
        pytest.approx(SLOT * 1.5)
    )
    assert marker_x(months, dt.datetime(2025, 10, 5, tzinfo=dt.UTC), NEW_YORK) is None
    assert marker_x(months, None, NEW_YORK) is None
