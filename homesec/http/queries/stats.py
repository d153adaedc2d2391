"""The house's own false-alarm rate as ``GET /api/stats`` and the Statistics page read it: sent
alerts, the owner's feedback and reviews, per camera and month in the house's zone, summed in
PostgreSQL. What counts, and the rate's rules, are in :mod:`homesec.policy.alert_stats`."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import zoneinfo
from collections import defaultdict
from pathlib import Path

from sqlalchemy import false, func, or_, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from homesec.contract.alerts import AlertKind, AlertStatus
from homesec.contract.enums import FeedbackKind
from homesec.http.errors import NotFound
from homesec.http.schemas import stats as schemas
from homesec.models import AlertRow, Camera, Event, EventFeedback
from homesec.policy import alert_stats
from homesec.policy.alert_stats import Counts
from homesec.settings import Settings

_LOCALTIME = Path("/etc/localtime")
_TIMEZONE_FILE = Path("/etc/timezone")


def machine_zone_name() -> str:
    """This machine's zone by its IANA name (PostgreSQL needs a name, not Python's local
    offset): ``TZ``, else where ``/etc/localtime`` points, else ``/etc/timezone``, else UTC."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    with contextlib.suppress(OSError):
        target = str(_LOCALTIME.resolve())
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    with contextlib.suppress(OSError):
        candidates.append(_TIMEZONE_FILE.read_text().strip())
    for name in candidates:
        if not name:
            continue
        try:
            zoneinfo.ZoneInfo(name)
        except (ValueError, zoneinfo.ZoneInfoNotFoundError):
            continue
        return name
    return "UTC"


def house_zone_name(settings: Settings) -> str:
    """``HOMESEC_TIMEZONE``, or this machine's zone when it is not set."""
    return settings.timezone or machine_zone_name()


def _visit():
    """A visit's id: the fast-path event a batch event supersedes, else the event itself."""
    return func.coalesce(Event.supersedes_event_id, Event.id)


def _month_rows(zone_name: str, since: dt.datetime, camera_id: str | None):
    """Per camera, month and side of the calibration's start: the counts of sent alerts."""
    visit = _visit()
    first_sent = func.min(AlertRow.sent_at)
    # One row per visit with a delivered alert or update (an update that got through when the
    # first message failed still told the owner), in the month of its first delivery.
    sent = (
        select(
            Event.camera_id.label("camera_id"),
            visit.label("visit_id"),
            first_sent.label("sent_at"),
            func.date_trunc("month", func.timezone(zone_name, first_sent)).label("month"),
        )
        .join(Event, Event.id == AlertRow.event_id)
        .where(
            AlertRow.kind.in_((AlertKind.ALERT.value, AlertKind.UPDATE.value)),
            AlertRow.status == AlertStatus.SENT.value,
            AlertRow.sent_at.is_not(None),
        )
        .group_by(Event.camera_id, visit)
        .having(first_sent >= since)
    )
    if camera_id is not None:
        sent = sent.where(Event.camera_id == camera_id)
    sent = sent.cte("sent")

    # The owner's latest word on each visit (people change their mind).
    latest = (
        select(visit.label("visit_id"), EventFeedback.feedback.label("feedback"))
        .join(Event, Event.id == EventFeedback.event_id)
        .where(visit.in_(select(sent.c.visit_id)))
        .ext(distinct_on(visit))
        .order_by(visit, EventFeedback.created_at.desc(), EventFeedback.id.desc())
        .cte("latest")
    )
    reviewed = (
        select(visit.label("visit_id"))
        .where(Event.reviewed, visit.in_(select(sent.c.visit_id)))
        .group_by(visit)
        .cte("reviewed")
    )

    learnt = _learnt(camera_id).cte("learnt")

    after = func.coalesce(sent.c.sent_at >= learnt.c.learnt_at, false()).label("after")
    said = latest.c.visit_id.is_not(None)
    return (
        select(
            sent.c.camera_id,
            sent.c.month,
            after,
            func.count().label("alerts_sent"),
            func.count().filter(said).label("with_feedback"),
            func.count().filter(or_(said, reviewed.c.visit_id.is_not(None))).label("rated"),
            func.count()
            .filter(latest.c.feedback == FeedbackKind.FALSE_ALARM.value)
            .label("false_alarms"),
            func.count()
            .filter(latest.c.feedback == FeedbackKind.WRONG_SEVERITY.value)
            .label("wrong_severity"),
        )
        .select_from(
            sent.outerjoin(latest, latest.c.visit_id == sent.c.visit_id)
            .outerjoin(reviewed, reviewed.c.visit_id == sent.c.visit_id)
            .outerjoin(learnt, learnt.c.camera_id == sent.c.camera_id)
        )
        .group_by(sent.c.camera_id, sent.c.month, after)
    )


def _learnt(camera_id: str | None):
    """When each camera's calibration first had enough feedback: the first word on its
    MIN_FEEDBACK-th visit with feedback (any of its visits, alerted or not, as the calibration
    reads them)."""
    visit = _visit()
    first_word = (
        select(
            Event.camera_id.label("camera_id"),
            visit.label("visit_id"),
            func.min(EventFeedback.created_at).label("at"),
        )
        .join(Event, Event.id == EventFeedback.event_id)
        .group_by(Event.camera_id, visit)
    )
    if camera_id is not None:
        first_word = first_word.where(Event.camera_id == camera_id)
    first_word = first_word.subquery("first_word")
    ranked = select(
        first_word.c.camera_id,
        first_word.c.at,
        func.row_number()
        .over(
            partition_by=first_word.c.camera_id,
            order_by=(first_word.c.at, first_word.c.visit_id),
        )
        .label("n"),
    ).subquery("ranked")
    return select(ranked.c.camera_id, ranked.c.at.label("learnt_at")).where(
        ranked.c.n == alert_stats.MIN_FEEDBACK
    )


async def camera_names(session: AsyncSession) -> list[tuple[str, str]]:
    """(id, name) of every camera, by id: the page's camera filter."""
    rows = await session.execute(select(Camera.id, Camera.name).order_by(Camera.id))
    return [(camera, name) for camera, name in rows.all()]


def _tally(counts: Counts) -> dict:
    rate = alert_stats.false_alarm_rate(counts.false_alarms, counts.rated)
    return {
        "alerts_sent": counts.alerts_sent,
        "with_feedback": counts.with_feedback,
        "rated": counts.rated,
        "false_alarms": counts.false_alarms,
        "wrong_severity": counts.wrong_severity,
        "false_alarm_rate": rate.rate,
        "enough_feedback": rate.enough_feedback,
        "verdict": rate.words,
    }


async def stats_report(
    session: AsyncSession,
    settings: Settings,
    months: int,
    camera_id: str | None = None,
    now: dt.datetime | None = None,
) -> schemas.StatsReport:
    """The report of the last ``months`` months (this one included) for every camera, or for
    ``camera_id`` alone (404 when there is no such camera)."""
    zone_name = house_zone_name(settings)
    zone = zoneinfo.ZoneInfo(zone_name)
    now = now or dt.datetime.now(dt.UTC)
    firsts = alert_stats.months_back(now, zone, months)
    since = alert_stats.window_start(firsts[0], zone)

    cameras_query = select(Camera.id, Camera.name).order_by(Camera.id)
    if camera_id is not None:
        cameras_query = cameras_query.where(Camera.id == camera_id)
    cameras = (await session.execute(cameras_query)).all()
    if camera_id is not None and not cameras:
        raise NotFound(f"no camera with id {camera_id}")

    per_month: dict[str, dict[dt.date, Counts]] = defaultdict(lambda: defaultdict(Counts))
    per_side: dict[str, dict[bool, Counts]] = defaultdict(lambda: defaultdict(Counts))
    for row in (await session.execute(_month_rows(zone_name, since, camera_id))).all():
        counts = Counts(
            alerts_sent=row.alerts_sent,
            with_feedback=row.with_feedback,
            rated=row.rated,
            false_alarms=row.false_alarms,
            wrong_severity=row.wrong_severity,
        )
        month = row.month.date()
        per_month[row.camera_id][month] += counts
        per_side[row.camera_id][row.after] += counts
    learnt = dict((await session.execute(_learnt(camera_id))).all())

    reports = []
    for camera, name in cameras:
        months_of = per_month.get(camera, {})
        sides = per_side.get(camera, {})
        before, after = sides.get(False, Counts()), sides.get(True, Counts())
        learnt_at = learnt.get(camera)
        reports.append(
            schemas.CameraStats(
                camera_id=camera,
                camera_name=name,
                months=[
                    schemas.MonthTally(
                        month=alert_stats.month_label(first),
                        **_tally(months_of.get(first, Counts())),
                    )
                    for first in firsts
                ],
                total=schemas.Tally(**_tally(before + after)),
                calibration=schemas.CalibrationTrend(
                    learnt_at=learnt_at,
                    before=schemas.Tally(**_tally(before)),
                    after=schemas.Tally(**_tally(after)),
                    verdict=alert_stats.change_in_words(
                        learnt_at,
                        alert_stats.false_alarm_rate(before.false_alarms, before.rated),
                        alert_stats.false_alarm_rate(after.false_alarms, after.rated),
                    ),
                ),
            )
        )
    return schemas.StatsReport(
        timezone=zone_name,
        months=[alert_stats.month_label(first) for first in firsts],
        since=since,
        min_rated=alert_stats.MIN_RATED,
        min_feedback=alert_stats.MIN_FEEDBACK,
        cameras=reports,
    )
