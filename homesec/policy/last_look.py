""" "Since I last looked" (issue 24): when the owner last looked at the timeline. Pure.

A look is a run of timeline views no more than ``LOOK_GAP`` apart. Each view continues the
current look or, after a longer pause, starts a new one; the page "since I last looked" shows
what came after the look before the current one. So a reload, or coming back from an event the
owner tapped, keeps showing the same visits instead of an empty page.
"""

from __future__ import annotations

import datetime as dt

import msgspec

LOOK_GAP = dt.timedelta(minutes=30)
# With no earlier look (a first visit), "since I last looked" goes back this far.
FIRST_LOOK_SPAN = dt.timedelta(hours=24)
# After a long absence the page goes back this far at most (a week of lanes is still readable).
LONGEST_SPAN = dt.timedelta(days=7)


class Look(msgspec.Struct, frozen=True, kw_only=True):
    looked_at: dt.datetime  # the latest view
    previous_at: dt.datetime | None  # the last view of the look before this one


def after_view(look: Look | None, now: dt.datetime, gap: dt.timedelta = LOOK_GAP) -> Look:
    """The look once a view at ``now`` is counted."""
    if look is None:
        return Look(looked_at=now, previous_at=None)
    if now - look.looked_at > gap:
        return Look(looked_at=now, previous_at=look.looked_at)
    return Look(looked_at=max(now, look.looked_at), previous_at=look.previous_at)


def since(look: Look, now: dt.datetime) -> dt.datetime:
    """Where "since I last looked" starts, given the look that counts the current view."""
    if look.previous_at is None:
        return now - FIRST_LOOK_SPAN
    return max(look.previous_at, now - LONGEST_SPAN)
