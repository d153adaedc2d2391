""" "Since I last looked", pure: views close together are one look; after a pause the look before
is where the page starts."""

from __future__ import annotations

import datetime as dt

from homesec.policy.last_look import (
    FIRST_LOOK_SPAN,
    LONGEST_SPAN,
    LOOK_GAP,
    Look,
    after_view,
    since,
)

T0 = dt.datetime(2026, 12, 8, 8, tzinfo=dt.UTC)


def test_a_first_view_goes_back_a_day():
    look = after_view(None, T0)
    assert look == Look(looked_at=T0, previous_at=None)
    assert since(look, T0) == T0 - FIRST_LOOK_SPAN


def test_views_close_together_are_one_look_and_a_pause_starts_the_next():
    look = after_view(Look(looked_at=T0, previous_at=None), T0 + dt.timedelta(minutes=10))
    look = after_view(look, T0 + dt.timedelta(minutes=35))  # a reload, back from an event
    assert look.previous_at is None and look.looked_at == T0 + dt.timedelta(minutes=35)
    evening = T0 + dt.timedelta(hours=10)
    look = after_view(look, evening)
    assert look == Look(looked_at=evening, previous_at=T0 + dt.timedelta(minutes=35))
    assert since(look, evening) == T0 + dt.timedelta(minutes=35)
    # Coming back from an event page keeps the same start.
    again = after_view(look, evening + LOOK_GAP)
    assert since(again, evening + LOOK_GAP) == T0 + dt.timedelta(minutes=35)


def test_a_clock_that_went_back_never_moves_the_look_backwards():
    look = after_view(Look(looked_at=T0, previous_at=None), T0 - dt.timedelta(minutes=1))
    assert look.looked_at == T0


def test_after_a_long_absence_the_page_goes_back_a_week():
    months_ago = T0 - dt.timedelta(days=90)
    look = after_view(Look(looked_at=months_ago, previous_at=None), T0)
    assert look.previous_at == months_ago
    assert since(look, T0) == T0 - LONGEST_SPAN
