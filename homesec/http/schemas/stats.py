"""``GET /api/stats``: the house's own false-alarm rate, per camera and month, from the owner's
feedback and reviews (the rules: :mod:`homesec.policy.alert_stats`)."""

from __future__ import annotations

import datetime as dt

import msgspec


class Tally(msgspec.Struct, kw_only=True):
    """What the owner said of some sent alerts. ``false_alarm_rate`` is null, and
    ``enough_feedback`` false, below ``min_rated`` rated alerts: too little feedback to say."""

    alerts_sent: int = 0  # visits with a delivered first alert
    with_feedback: int = 0
    rated: int = 0  # with feedback, or marked reviewed
    false_alarms: int = 0
    wrong_severity: int = 0
    false_alarm_rate: float | None = None
    enough_feedback: bool = False
    verdict: str = ""  # "3 of 8 rated alerts were false alarms (38%)", or too little to say


class MonthTally(Tally, kw_only=True):
    month: str  # 2025-11, in the house's zone


class CalibrationTrend(msgspec.Struct, kw_only=True):
    """The rate before and after the camera's calibration first had enough feedback (its
    ``min_feedback``-th visit with feedback), over the months shown. ``learnt_at`` null: not
    yet; everything is "before"."""

    learnt_at: dt.datetime | None
    before: Tally
    after: Tally
    verdict: str


class CameraStats(msgspec.Struct, kw_only=True):
    camera_id: str
    camera_name: str
    months: list[MonthTally]  # oldest first, every month of the report, empty ones too
    total: Tally
    calibration: CalibrationTrend


class StatsReport(msgspec.Struct, kw_only=True):
    """Per camera and month (in ``timezone``): alerts sent, what the owner said of them, the
    false-alarm rate, and how it changed as the calibration learnt. Test messages, camera
    problem alerts, updates and undelivered alerts are not counted."""

    timezone: str
    months: list[str]  # oldest first
    since: dt.datetime  # the first month's first midnight, in UTC
    min_rated: int  # fewer rated alerts than this: too little feedback to say
    min_feedback: int  # visits with feedback before a camera's calibration acts
    cameras: list[CameraStats]
