"""The Statistics page: the house's own false-alarm rate per camera and month, as bars drawn
here as inline SVG (no script, nothing from another host) and as a table a screen reader reads.

Read with the function behind ``GET /api/stats`` (:mod:`homesec.http.queries.stats`), so the
page and the API say the same; the words, and when there is too little feedback to say, come
from :mod:`homesec.policy.alert_stats`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import zoneinfo
from dataclasses import dataclass

from litestar import Request, get
from litestar.response import Template

from homesec.http.queries import stats as queries
from homesec.http.schemas.stats import CameraStats, MonthTally
from homesec.http.services import DbSession, ServicesDep
from homesec.policy.alert_stats import DEFAULT_MONTHS, MIN_RATED, percent

MONTH_CHOICES = (3, 6, 12, 24)

# The chart's geometry, in SVG units drawn one to a CSS pixel: six months fit a phone, and a
# longer report scrolls sideways rather than shrink its words.
SLOT = 56  # one month's width
BAR = 30
TOP = 18  # room for the count above the tallest bar
PLOT = 100  # the tallest bar
BOTTOM = 34  # the month's name and its rate below the bars
HEIGHT = TOP + PLOT + BOTTOM
# The parts of a month's bar, bottom up: (class, what it counts).
PARTS = (
    ("false-alarm", "false alarms"),
    ("wrong-severity", "wrong severity"),
    ("right", "rated right (reviewed, no complaint)"),
    ("unrated", "not rated"),
)


@dataclass(frozen=True)
class Segment:
    part: str
    y: float
    height: float
    count: int


@dataclass(frozen=True)
class MonthBar:
    label: str  # "Oct", "Oct 25" in January or when the report spans years
    month: str  # 2025-10
    x: float  # the bar's left edge
    centre: float
    top: float  # where the count is written
    sent: int
    segments: list[Segment]
    rate: str  # "80%", or an en dash when too little feedback to say
    enough: bool


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[MonthBar]
    marker_x: float | None  # the dashed line: when the calibration first had enough feedback
    baseline: float
    top: float  # the top of the plot, under the counts


def _month_name(month: str, with_year: bool) -> str:
    first = dt.date.fromisoformat(f"{month}-01")
    return first.strftime("%b %y" if with_year else "%b")


def month_bars(months: list[MonthTally], scale_max: int) -> list[MonthBar]:
    """One stacked bar per month, every month on the same scale (``scale_max`` alerts fill
    the plot), the parts bottom up as :data:`PARTS` lists them."""
    scale = PLOT / max(scale_max, 1)
    years = {month.month[:4] for month in months}
    bars = []
    for index, month in enumerate(months):
        right = month.rated - month.false_alarms - month.wrong_severity
        counts = (month.false_alarms, month.wrong_severity, right, month.alerts_sent - month.rated)
        y = TOP + PLOT
        segments = []
        for (part, _), count in zip(PARTS, counts, strict=True):
            if count <= 0:
                continue
            height = count * scale
            y -= height
            segments.append(Segment(part=part, y=round(y, 2), height=round(height, 2), count=count))
        x = index * SLOT + (SLOT - BAR) / 2
        bars.append(
            MonthBar(
                label=_month_name(month.month, len(years) > 1),
                month=month.month,
                x=x,
                centre=x + BAR / 2,
                top=round(y - 4, 2),
                sent=month.alerts_sent,
                segments=segments,
                rate=percent(month.false_alarm_rate)
                if month.false_alarm_rate is not None
                else "\u2013",
                enough=month.enough_feedback,
            )
        )
    return bars


def marker_x(
    months: list[MonthTally], learnt_at: dt.datetime | None, zone: dt.tzinfo
) -> float | None:
    """Where, along the months, the calibration first had enough feedback; None when it has
    not, or not within them."""
    if learnt_at is None:
        return None
    local = learnt_at.astimezone(zone)
    labels = [month.month for month in months]
    label = f"{local:%Y-%m}"
    if label not in labels:
        return None
    days = calendar.monthrange(local.year, local.month)[1]
    into = (local.day - 1 + (local.hour * 60 + local.minute) / 1440) / days
    return round((labels.index(label) + into) * SLOT, 2)


def chart_of(camera: CameraStats, scale_max: int, zone: dt.tzinfo) -> Chart:
    return Chart(
        width=len(camera.months) * SLOT,
        height=HEIGHT,
        bars=month_bars(camera.months, scale_max),
        marker_x=marker_x(camera.months, camera.calibration.learnt_at, zone),
        baseline=TOP + PLOT,
        top=TOP,
    )


@get("/stats", include_in_schema=False)
async def stats_page(request: Request, db: DbSession, services: ServicesDep) -> Template:
    query = request.query_params
    try:
        months = int(query.get("months") or DEFAULT_MONTHS)
    except ValueError:
        months = DEFAULT_MONTHS
    if months not in MONTH_CHOICES:
        months = DEFAULT_MONTHS
    cameras = await queries.camera_names(db)
    chosen = query.get("camera") or ""
    if chosen not in {camera for camera, _ in cameras}:
        chosen = ""
    report = await queries.stats_report(db, services.settings, months, chosen or None)
    zone = zoneinfo.ZoneInfo(report.timezone)
    scale_max = max(
        (month.alerts_sent for camera in report.cameras for month in camera.months), default=0
    )
    return Template(
        template_name="stats.html",
        context={
            "page": "stats",
            "active": "/stats",
            "report": report,
            "charts": {
                camera.camera_id: chart_of(camera, scale_max, zone) for camera in report.cameras
            },
            "scale_max": scale_max,
            "parts": PARTS,
            "part_words": dict(PARTS),
            "bar_width": BAR,
            "months": months,
            "month_choices": MONTH_CHOICES,
            "cameras": cameras,
            "chosen": chosen,
            "min_rated": MIN_RATED,
            "house_zone": zone,
        },
    )
