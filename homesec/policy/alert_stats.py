"""The house's own false-alarm rate, pure: which months a report covers, when a rate can be
said at all, when a camera's calibration first had enough feedback, and the words for it.

What counts (the SQL is :mod:`homesec.http.queries.stats`):

- An **alert sent** is a visit (a fast-path event and the batch event that supersedes it are
  one visit) with at least one delivered message (``alerts.kind`` ``alert``, or ``update``
  when the first message failed; ``status = 'sent'``), counted once however many channels
  and messages carried it, in the month (in the house's zone) of its first delivery. Test
  messages and camera-problem alerts are not alerts of an event and never count; nor do
  suppressed, failed or pending rows.
- A sent alert is **rated** when the owner gave feedback on the visit or marked it reviewed:
  the latest word on a visit wins (as in :mod:`homesec.policy.calibration`), and a visit
  reviewed with no feedback was looked at and found right.
- The **false-alarm rate** is false alarms over rated alerts; below :data:`MIN_RATED` rated
  alerts there is too little feedback to say, and no rate is given.
- A camera's calibration **learnt** when the owner's word on its :data:`MIN_FEEDBACK`-th visit
  came in: the least feedback :mod:`homesec.policy.calibration` moves a score on. (It weighs
  each kind of object apart and reads only the last 60 days; this is the first moment it could
  act at all.)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from homesec.policy.calibration import MIN_FEEDBACK

# Fewer rated alerts than this and a rate would be one or two clicks: "too little to say".
MIN_RATED = 5
DEFAULT_MONTHS = 6
MAX_MONTHS = 24

__all__ = [
    "DEFAULT_MONTHS",
    "MAX_MONTHS",
    "MIN_FEEDBACK",
    "MIN_RATED",
    "Counts",
    "Rate",
    "change_in_words",
    "false_alarm_rate",
    "month_label",
    "months_back",
    "window_start",
]


@dataclass(frozen=True)
class Counts:
    """What the owner said of one camera's sent alerts over some time."""

    alerts_sent: int = 0
    with_feedback: int = 0
    rated: int = 0  # with feedback, or reviewed
    false_alarms: int = 0
    wrong_severity: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            alerts_sent=self.alerts_sent + other.alerts_sent,
            with_feedback=self.with_feedback + other.with_feedback,
            rated=self.rated + other.rated,
            false_alarms=self.false_alarms + other.false_alarms,
            wrong_severity=self.wrong_severity + other.wrong_severity,
        )


@dataclass(frozen=True)
class Rate:
    """The false-alarm rate of some rated alerts, or why there is none."""

    rated: int
    false_alarms: int
    rate: float | None  # 0..1; None: too little feedback to say
    words: str

    @property
    def enough_feedback(self) -> bool:
        return self.rate is not None


def percent(rate: float) -> str:
    return f"{round(rate * 100)}%"


def false_alarm_rate(false_alarms: int, rated: int, min_rated: int = MIN_RATED) -> Rate:
    """``3 of 8 rated alerts were false alarms (38%)``, or, below ``min_rated`` rated alerts,
    no rate: ``too little feedback to say (2 rated alerts, 5 needed)``."""
    if false_alarms < 0 or rated < false_alarms:
        raise ValueError(f"{false_alarms} false alarms of {rated} rated alerts")
    if rated < min_rated:
        rated_words = "no rated alerts" if rated == 0 else _alerts(rated, "rated")
        return Rate(
            rated=rated,
            false_alarms=false_alarms,
            rate=None,
            words=f"too little feedback to say ({rated_words}, {min_rated} needed)",
        )
    rate = false_alarms / rated
    verb = "was a false alarm" if false_alarms == 1 else "were false alarms"
    return Rate(
        rated=rated,
        false_alarms=false_alarms,
        rate=rate,
        words=f"{false_alarms} of {rated} rated alerts {verb} ({percent(rate)})",
    )


def _alerts(count: int, adjective: str) -> str:
    return f"{count} {adjective} alert" + ("" if count == 1 else "s")


def change_in_words(learnt_at: dt.datetime | None, before: Rate, after: Rate) -> str:
    """How the rate moved once the camera's calibration had enough feedback."""
    if learnt_at is None:
        return f"calibration has not learnt yet: it acts after {MIN_FEEDBACK} visits with feedback"
    if before.rate is None or after.rate is None:
        return "too little feedback on both sides of the calibration's start to compare"
    if after.rate < before.rate:
        moved = f"fell from {percent(before.rate)} to {percent(after.rate)}"
    elif after.rate > before.rate:
        moved = f"rose from {percent(before.rate)} to {percent(after.rate)}"
    else:
        moved = f"stayed at {percent(after.rate)}"
    return f"false alarms {moved} once the calibration had enough feedback"


def _first_of_month(year: int, month: int) -> dt.date:
    return dt.date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def months_back(now: dt.datetime, zone: dt.tzinfo | None, months: int) -> list[dt.date]:
    """The first days of the last ``months`` months in the house's zone, oldest first, the
    month of ``now`` last. ``zone`` None: this machine's zone."""
    if not 1 <= months <= MAX_MONTHS:
        raise ValueError(f"months must be 1 to {MAX_MONTHS}, not {months}")
    local = now.astimezone(zone)
    return [_first_of_month(local.year, local.month - back) for back in range(months - 1, -1, -1)]


def window_start(first_day: dt.date, zone: dt.tzinfo | None) -> dt.datetime:
    """Midnight at the start of ``first_day`` in the house's zone, in UTC."""
    midnight = dt.datetime.combine(first_day, dt.time())
    local = midnight.replace(tzinfo=zone) if zone is not None else midnight.astimezone()
    return local.astimezone(dt.UTC)


def month_label(first_day: dt.date) -> str:
    """``2025-11``."""
    return f"{first_day:%Y-%m}"
