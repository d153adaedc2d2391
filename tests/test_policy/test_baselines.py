"""Baselines arithmetic: decay, history, the hour's neighbour, what a camera's rows say."""

from __future__ import annotations

import datetime as dt

import pytest

from homesec.policy.baselines import (
    ActivityRow,
    KindRow,
    camera_baseline,
    decayed,
    history_days,
    nearer_hour,
)

DAY = dt.date(2026, 3, 30)
ZONE = dt.UTC


def test_a_weight_halves_every_half_life_and_never_grows():
    assert decayed(8.0, DAY, DAY + dt.timedelta(days=30), 30) == pytest.approx(4.0)
    assert decayed(8.0, DAY, DAY, 30) == 8.0
    assert decayed(8.0, DAY + dt.timedelta(days=3), DAY, 30) == 8.0


def test_history_counts_days_decayed_alike():
    assert history_days(DAY, DAY, 30) == pytest.approx(1.0)
    # Thirty days, the oldest weighing about half: between 20 and 30.
    assert 20 < history_days(DAY - dt.timedelta(days=29), DAY, 30) < 30
    assert history_days(DAY - dt.timedelta(days=29), DAY, 10_000) == pytest.approx(30, rel=0.01)


@pytest.mark.parametrize(
    ("hh", "mm", "other"), [(17, 45, 18), (17, 10, 16), (23, 40, 0), (0, 5, 23)]
)
def test_the_nearer_neighbouring_hour(hh, mm, other):
    assert nearer_hour(dt.datetime(2026, 3, 30, hh, mm)) == other


def test_a_camera_seen_daily_at_this_hour_reads_as_usual():
    now = dt.datetime.combine(DAY, dt.time(17, 45), tzinfo=ZONE)
    since = DAY - dt.timedelta(days=29)
    # Seen every day of 30 at 18:00, so the stored weight is the decayed sum of 30 days.
    daily = sum(0.5 ** (k / 30) for k in range(30))
    rows = [
        KindRow("person", 18, daily, DAY),
        KindRow("person", 3, 5.0, DAY),  # another hour: ignored
        KindRow("vehicle", 17, 2.0, DAY - dt.timedelta(days=30)),  # decays to 1
    ]
    activity = ActivityRow(DAY.weekday(), 17, 4.0, DAY)
    baseline = camera_baseline(rows, activity, since, now, 30)
    assert baseline.hour == 17
    assert baseline.days_seen("person") == pytest.approx(baseline.history_days, rel=0.01)
    assert baseline.days_seen("vehicle") == pytest.approx(1.0, rel=0.01)
    assert baseline.days_seen("animal") == 0
    assert baseline.weekday_hour_visits is not None and 0 < baseline.weekday_hour_visits <= 4


def test_no_history_means_no_habits():
    now = dt.datetime.combine(DAY, dt.time(3), tzinfo=ZONE)
    baseline = camera_baseline([], None, None, now, 30)
    assert baseline.history_days == 0 and baseline.habits == []
