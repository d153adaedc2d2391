"""The Alerts page: the channels (listed by service and host, added, tested, removed), the rules
(in words, with an editor), and the recent alerts, one line each with its event's score, band and
summary and a status per channel, with acknowledge.

Read with the functions behind ``/api/alerts`` and ``/api/cameras``; its scripts change things
only through ``/api/alerts/...`` (docs/alerts.md), so the page has no truth of its own. A
channel's URL is never on it: its label and a masked form are.
"""

from __future__ import annotations

import os

import msgspec
from litestar import Request, get
from litestar.response import Template

from homesec.contract.alerts import CHANNEL_KINDS, AlertStatus
from homesec.http.pages.templates import duration
from homesec.http.queries import alerts as alert_queries
from homesec.http.queries import cameras as camera_queries
from homesec.http.queries import notify_channels as channel_queries
from homesec.http.schemas.alerts import AlertRule
from homesec.http.services import DbSession, ServicesDep
from homesec.models.enums import RiskLevel
from homesec.settings import Settings

ALERT_LINES = 30
DASH = "\u2013"  # an en dash, between the ends of a range
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # ISO 1 .. 7
BANDS = tuple(level.value for level in RiskLevel)
# The status filter's choices; "open" is every status, unacknowledged only.
STATUS_CHOICES = ("all", "open", *(status.value for status in AlertStatus))
# A channel's part of an alert, in words.
STATUS_WORDS = {
    AlertStatus.PENDING: "pending",
    AlertStatus.SENT: "sent",
    AlertStatus.FAILED: "failed",
    AlertStatus.SUPPRESSED_COOLDOWN: "suppressed: cooldown",
    AlertStatus.SUPPRESSED_QUIET_HOURS: "suppressed: quiet hours",
    AlertStatus.SUPPRESSED_UNCHANGED: "suppressed: no news",
}


def _days_in_words(days: list[int]) -> str:
    """``[1, 2, 3, 4, 5]`` -> ``Mon-Fri``; ``[1, 3]`` -> ``Mon, Wed``: runs of three or more
    days joined with an en dash."""
    chosen = sorted(set(days))
    if not chosen or len(chosen) == 7:
        return "every day"
    runs: list[list[int]] = []
    for day in chosen:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{DAY_NAMES[run[0] - 1]}{DASH}{DAY_NAMES[run[-1] - 1]}")
        else:
            parts.extend(DAY_NAMES[day - 1] for day in run)
    return ", ".join(parts)


def conditions_in_words(rule: AlertRule, camera_names: dict[str, str]) -> list[str]:
    """Each condition of ``rule`` as a short phrase; one phrase for a rule that holds always."""
    words = []
    if rule.min_risk_level is not None:
        words.append(
            "band critical"
            if rule.min_risk_level == "critical"
            else f"band {rule.min_risk_level} or above"
        )
    if rule.min_risk_score is not None:
        words.append(f"score {rule.min_risk_score} or more")
    if rule.camera_ids:
        names = ", ".join(camera_names.get(camera, camera) for camera in rule.camera_ids)
        words.append(f"camera{'s' if len(rule.camera_ids) > 1 else ''} {names}")
    if rule.object_types:
        words.append(" or ".join(rule.object_types))
    if rule.min_confidence is not None:
        words.append(f"confidence {round(rule.min_confidence * 100)}% or more")
    if rule.zones:
        words.append(f"in zone{'s' if len(rule.zones) > 1 else ''} {', '.join(rule.zones)}")
    if rule.days and len(set(rule.days)) < 7:
        words.append(_days_in_words(rule.days))
    if rule.time_ranges:
        words.append(", ".join(text.replace("-", DASH) for text in rule.time_ranges))
    if rule.fast_path is True:
        words.append("fast-path events only")
    elif rule.fast_path is False:
        words.append("scored batches only")
    if rule.modes:
        words.append(f"the house {' or '.join(rule.modes)}")
    return words or ["every event"]


def script_zone(settings: Settings) -> str:
    """The IANA name of the house's zone for the page's script (it formats the times the API
    returns): ``HOMESEC_TIMEZONE``, else this machine's (``/etc/localtime``); empty when
    unknown, and the browser's zone is used."""
    if settings.timezone:
        return settings.timezone
    target = os.path.realpath("/etc/localtime")
    return target.split("zoneinfo/", 1)[1] if "zoneinfo/" in target else ""


@get("/alerts", include_in_schema=False)
async def alerts_page(request: Request, db: DbSession, services: ServicesDep) -> Template:
    query = request.query_params
    status = query.get("status") or "all"
    if status not in STATUS_CHOICES:
        status = "all"
    try:
        before_id = max(1, int(query.get("before_id") or 0)) if query.get("before_id") else None
    except ValueError:
        before_id = None
    cameras = (await camera_queries.list_cameras(db)).items
    camera_names = {camera.id: camera.name for camera in cameras}
    rules = await alert_queries.list_rules(services.sessions, services.settings)
    lines, next_before_id = await alert_queries.alert_lines(
        services.sessions,
        services.settings,
        ALERT_LINES,
        status=AlertStatus(status) if status not in ("all", "open") else None,
        acknowledged=False if status == "open" else None,
        before_id=before_id,
    )
    channels = await channel_queries.list_channels(services.sessions, services.settings)
    return Template(
        template_name="alerts.html",
        context={
            "page": "alerts",
            "active": "/alerts",
            "rules": [
                {
                    "rule": rule,
                    "words": conditions_in_words(rule, camera_names),
                    "cooldown": duration(rule.cooldown_seconds)
                    if rule.cooldown_seconds
                    else "none",
                    "json": msgspec.json.encode(rule).decode(),
                }
                for rule in rules.items
            ],
            "rule_names": {rule.id: rule.name for rule in rules.items},
            "channels": channels.items,
            "environment_only": any(not c.removable for c in channels.items),
            "added": query.get("added") or "",
            "added_label": next(
                (
                    c.label
                    for c in channels.items
                    if c.id is not None and str(c.id) == query.get("added")
                ),
                "",
            ),
            "status_words": {status.value: words for status, words in STATUS_WORDS.items()},
            "channel_kinds": CHANNEL_KINDS,
            "cameras": cameras,
            "camera_names": camera_names,
            "camera_names_json": msgspec.json.encode(camera_names).decode(),
            "bands": BANDS,
            "day_names": list(enumerate(DAY_NAMES, start=1)),
            "alerts": lines,
            "next_before_id": next_before_id,
            "paged": before_id is not None,
            "status": status,
            "statuses": STATUS_CHOICES,
            "saved": query.get("saved") or "",
            "script_zone": script_zone(services.settings),
        },
    )
