"""The false-alarm rate's rules: too little feedback to say below MIN_RATED rated alerts, the
words, the months of a report in the house's zone, and how the rate moved with calibration."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from homesec.policy import alert_stats
from homesec.policy.alert_stats import (
    MIN_RATED,
    Counts,
    change_in_words,
    false_alarm_rate,
    months_back,
    window_start,
)

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def test_below_min_rated_there_is_no_rate() -> None:
    rate = false_alarm_rate(2, MIN_RATED - 1)
    assert rate.rate is None
    assert not rate.enough_feedback
    assert rate.words == f"too little feedback to say ({MIN_RATED - 1} rated alerts, 5 needed)"
    assert false_alarm_rate(0, 0).words == "too little feedback to say (no rated alerts, 5 needed)"
    assert false_alarm_rate(1, 1).words == "too little feedback to say (1 rated alert, 5 needed)"


def test_at_min_rated_the_rate_is_said_with_its_sample() -> None:
    rate = false_alarm_rate(3, MIN_RATED)
    assert rate.rate == pytest.approx(0.6)
    assert rate.enough_feedback
    assert rate.words == "3 of 5 rated alerts were false alarms (60%)"
    assert false_alarm_rate(1, 8).words == "1 of 8 rated alerts was a false alarm (12%)"
    assert false_alarm_rate(0, 6).rate == 0.0
    assert false_alarm_rate(2, 3, min_rated=3).rate == pytest.approx(2 / 3)


def test_impossible_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        false_alarm_rate(4, 3)
    with pytest.raises(ValueError):
        false_alarm_rate(-1, 3)


def test_counts_add_up() -> None:
    one = Counts(alerts_sent=2, with_feedback=1, rated=2, false_alarms=1, wrong_severity=0)
    two = Counts(alerts_sent=3, with_feedback=2, rated=2, false_alarms=0, wrong_severity=2)
    assert one + two == Counts(
        alerts_sent=5, with_feedback=3, rated=4, false_alarms=1, wrong_severity=2
    )


def test_the_change_with_calibration_in_words() -> None:
    learnt = dt.datetime(2025, 10, 15, tzinfo=dt.UTC)
    before, after = false_alarm_rate(4, 5), false_alarm_rate(2, 6)
    assert change_in_words(learnt, before, after) == (
        "false alarms fell from 80% to 33% once the calibration had enough feedback"
    )
    assert change_in_words(learnt, after, before).startswith("false alarms rose from 33% to 80%")
    assert change_in_words(learnt, before, before).startswith("false alarms stayed at 80%")
    assert change_in_words(learnt, false_alarm_rate(1, 2), after) == (
        "too little feedback on both sides of the calibration's start to compare"
    )
    assert change_in_words(None, before, after) == (
        f"calibration has not learnt yet: it acts after {alert_stats.MIN_FEEDBACK} visits "
        "with feedback"
    )


def test_months_back_are_the_house_months() -> None:
    # 03:00 UTC on 1 March is still February in New York.
    now = dt.datetime(2026, 3, 1, 3, 0, tzinfo=dt.UTC)
    assert months_back(now, NEW_YORK, 3) == [
        dt.date(2025, 12, 1),
        dt.date(2026, 1, 1),
        dt.date(2026, 2, 1),
    ]
    assert months_back(now, dt.UTC, 1) == [dt.date(2026, 3, 1)]
    assert alert_stats.month_label(dt.date(2025, 12, 1)) == "2025-12"
    for months in (0, alert_stats.MAX_MONTHS + 1):
        with pytest.raises(ValueError):
            months_back(now, NEW_YORK, months)


def test_the_window_starts_at_the_house_midnight() -> None:
    assert window_start(dt.date(2025, 12, 1), NEW_YORK) == dt.datetime(
        2025, 12, 1, 5, 0, tzinfo=dt.UTC
    )
    # Summer time: UTC-4.
    assert window_start(dt.date(2025, 7, 1), NEW_YORK) == dt.datetime(
        2025, 7, 1, 4, 0, tzinfo=dt.UTC
    )
