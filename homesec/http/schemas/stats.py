"""``GET /api/stats``: the house's own false-alarm rate, per camera and month, from the owner's
feedback and reviews (the rules: :mod:`homesec.policy.alert_stats`)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from msgspec import Meta


def _count(description: str):
    return Annotated[int, Meta(ge=0, description=description)]


AlertsSent = _count(
    "visits with a delivered alert (or update), once however many channels and messages "
    "carried it; test messages, camera-problem alerts and undelivered alerts do not count"
)
WithFeedback = _count("sent alerts the owner gave feedback on")
Rated = _count("sent alerts with feedback or marked reviewed (reviewed, no feedback: right)")
FalseAlarms = _count("rated alerts whose latest feedback is false_alarm")
WrongSeverity = _count("rated alerts whose latest feedback is wrong_severity")
FalseAlarmRate = Annotated[
    float | None,
    Meta(description="false_alarms / rated, 0 to 1; null: too little feedback to say"),
]
EnoughFeedback = Annotated[bool, Meta(description="rated >= min_rated: the rate can be said")]
Verdict = Annotated[
    str,
    Meta(description='"3 of 8 rated alerts were false alarms (38%)", or "too little feedback '
         'to say (2 rated alerts, 5 needed)"'),
]  # fmt: skip
Month = Annotated[str, Meta(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM in the house's zone")]


class Tally(msgspec.Struct, kw_only=True):
    """What the owner said of some sent alerts, and the false-alarm rate with its sample size
    (``rated``)."""

    alerts_sent: AlertsSent = 0
    with_feedback: WithFeedback = 0
    rated: Rated = 0
    false_alarms: FalseAlarms = 0
    wrong_severity: WrongSeverity = 0
    false_alarm_rate: FalseAlarmRate = None
    enough_feedback: EnoughFeedback = False
    verdict: Verdict = ""


class MonthTally(Tally, kw_only=True):
    """One camera's month."""

    month: Month


class CalibrationTrend(msgspec.Struct, kw_only=True):
    """The rate before and after the camera's calibration first had enough feedback (its
    ``min_feedback``-th visit with feedback), over the months shown."""

    learnt_at: Annotated[
        dt.datetime | None,
        Meta(description="when the calibration first had enough feedback; null: not yet, "
             "and every alert is before"),
    ]  # fmt: skip
    before: Tally
    after: Tally
    verdict: Annotated[
        str, Meta(description='"false alarms fell from 80% to 33% once the calibration had '
                  'enough feedback", or why it cannot be compared')
    ]  # fmt: skip


class CameraStats(msgspec.Struct, kw_only=True):
    camera_id: str
    camera_name: str
    months: Annotated[list[MonthTally], Meta(description="oldest first, every month of the report")]
    total: Tally
    calibration: CalibrationTrend


class StatsReport(msgspec.Struct, kw_only=True):
    """Per camera and month (in ``timezone``): alerts sent, what the owner said of them, the
    false-alarm rate, and how it changed as the calibration learnt."""

    timezone: Annotated[str, Meta(description="the house's zone the months are cut in")]
    months: Annotated[list[Month], Meta(description="oldest first, this month last")]
    since: Annotated[dt.datetime, Meta(description="the first month's first midnight")]
    min_rated: Annotated[
        int, Meta(description="fewer rated alerts than this: too little feedback to say")
    ]
    min_feedback: Annotated[
        int, Meta(description="visits with feedback before a camera's calibration acts")
    ]
    cameras: list[CameraStats]
