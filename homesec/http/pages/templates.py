"""The Jinja environment of the pages: autoescaped, with the filters the templates share."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig
from markupsafe import Markup, escape

from homesec.policy.text import shorten
from homesec.settings import Settings, local_zone

TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "templates"

# (path, label) of each page in the nav, in order. A new page adds its line here.
NAV = (
    ("/", "Events"),
    ("/timeline", "Timeline"),
    ("/cameras", "Cameras"),
    ("/alerts", "Alerts"),
    ("/stats", "Statistics"),
    ("/system", "System"),
)


def local_time(moment: dt.datetime | None, zone: dt.tzinfo | None, style: str = "long") -> str:
    """``moment`` in the house's zone: ``Tue 23 Dec 2025 13:00:05`` (long), ``Tue 23 Dec 13:00``
    (list), ``13:00`` (short) or ``2025-12-23`` (date)."""
    if moment is None:
        return "-"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    local = moment.astimezone(zone)
    if style == "short":
        return local.strftime("%H:%M")
    if style == "date":
        return local.strftime("%Y-%m-%d")
    if style == "list":  # the year only when it is not this one
        this_year = dt.datetime.now(zone).year
        return local.strftime("%a %d %b %H:%M" if local.year == this_year else "%d %b %Y %H:%M")
    return local.strftime("%a %d %b %Y %H:%M:%S")


DASH = "\N{EN DASH}"


def time_range(start: dt.datetime | None, end: dt.datetime | None, zone: dt.tzinfo | None) -> str:
    """From ``start`` to ``end``, both ends to the second and apart by an en dash:
    ``Tue 23 Dec 2025 13:01:15 to 13:01:42`` within a day, each end with its date when the range
    crosses midnight."""
    if end is None or start is None:
        return local_time(start or end, zone)
    first, last = (
        (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(zone)
        for moment in (start, end)
    )
    if first.date() == last.date():
        return f"{local_time(first, zone)} {DASH} {last:%H:%M:%S}"
    return f"{local_time(first, zone)} {DASH} {local_time(last, zone)}"


def age(moment: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """How long ago, in the largest whole unit: ``40 s``, ``5 min``, ``3 h``, ``2 d``."""
    if moment is None:
        return "never"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    seconds = max(0, int(((now or dt.datetime.now(dt.UTC)) - moment).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def duration(seconds: float | None) -> str:
    """``45 s``, ``12 min``, ``3 h``; a dash for none."""
    if seconds is None:
        return "-"
    seconds = int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


# After these a name may break onto the next line (a browser breaks after "-" by itself).
_BREAK_AFTER = re.compile(r"(?<=[:/_.])")


def breakable(name: str) -> Markup:
    """``name`` escaped, with a line-break opportunity after each ``:``, ``/``, ``_`` and ``.``:
    ``batcher:front-door-2`` breaks after the colon or a hyphen on a phone, never in a word."""
    return Markup("<wbr>").join(escape(part) for part in _BREAK_AFTER.split(name))


# Kinds that are parked rather than standing somewhere.
_PARKED_KINDS = frozenset({"car", "truck", "bus", "motorcycle", "bicycle", "boat"})


def stationary_line(
    object_type: str | None,
    since: dt.datetime | None,
    zone: dt.tzinfo | None,
    now: dt.datetime | None = None,
) -> str:
    """How a thing that stayed put is told: ``stationary: parked here since 21:40`` (a
    vehicle), ``stationary: here since Mon 07 Dec 21:40`` (anything else, seen a day ago)."""
    where = "parked here" if (object_type or "").casefold() in _PARKED_KINDS else "here"
    if since is None:
        return f"stationary: {where}"
    now = now or dt.datetime.now(dt.UTC)
    if since.tzinfo is None:
        since = since.replace(tzinfo=dt.UTC)
    style = "short" if now - since < dt.timedelta(hours=20) else "list"
    return f"stationary: {where} since {local_time(since, zone, style)}"


def template_config(settings: Settings) -> TemplateConfig:
    zone = local_zone(settings)
    environment = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["localtime"] = lambda moment, style="long": local_time(moment, zone, style)
    environment.filters["age"] = age
    environment.filters["timerange"] = lambda start, end: time_range(start, end, zone)
    environment.filters["duration"] = duration
    environment.filters["breakable"] = breakable
    environment.filters["shorten"] = shorten
    environment.filters["stationary_line"] = lambda detection: stationary_line(
        detection.object_type, detection.stationary_since, zone
    )
    environment.globals["nav"] = NAV
    environment.globals["zone_name"] = settings.timezone or "this machine's time zone"
    environment.globals["keys_enabled"] = settings.api_key_enabled
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment))
