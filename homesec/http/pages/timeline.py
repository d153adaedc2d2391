"""The timeline (issue 24): the day at a glance, one lane per camera, each visit a mark coloured
by its band at its time, a link to the event.

``GET /timeline?day=YYYY-MM-DD`` (today in the house's zone by default) or
``?since=last-look``: since the owner last looked. The last look is kept in PostgreSQL per viewer
(``timeline_looks``: the API key's hash, or ``house`` while keys are off), not in the web
session: a dashboard without keys has no session, and the owner who looked on the laptop has
seen those visits on the phone too. A view of today or of "since I last looked" counts as a
look; a past day's does not. The layout is :mod:`homesec.policy.timeline`'s; the page is drawn
on the server, without scripts: on a phone the lanes are columns with time running down, on a
wide screen rows with time running right (the same marks, placed by CSS).
"""

from __future__ import annotations

import datetime as dt

from litestar import Request, get
from litestar.response import Template

from homesec.http.auth import presented_key, session_token
from homesec.http.queries import timeline as timeline_queries
from homesec.http.services import DbSession, ServicesDep
from homesec.policy import timeline
from homesec.policy.last_look import since as look_start
from homesec.settings import local_zone
from homesec.store import timeline_looks
from homesec.store.api_keys import hash_api_key

LAST_LOOK = "last-look"
BANDS = ("critical", "high", "medium", "low", "unscored")


async def _viewer(request: Request, services) -> str:
    """Whose look this is: the key's hash (a key, or the session's), else the house's."""
    if not services.settings.api_key_enabled:
        return timeline_looks.HOUSE
    key = presented_key(request.scope)
    if key is not None:
        return hash_api_key(key)
    token = session_token(request.scope)
    key_hash = await services.web_sessions.key_hash(token) if token else None
    return key_hash or timeline_looks.HOUSE


def _day(text: str, today: dt.date) -> tuple[dt.date, str | None]:
    if not text:
        return today, None
    try:
        return dt.date.fromisoformat(text.strip()[:10]), None
    except ValueError:
        return today, f"{text[:20]!r} is not a date (YYYY-MM-DD): showing today"


@get("/timeline", include_in_schema=False)
async def timeline_page(request: Request, db: DbSession, services: ServicesDep) -> Template:
    zone = local_zone(services.settings)
    now = dt.datetime.now(dt.UTC)
    today = now.astimezone(zone).date()
    since_last_look = (request.query_params.get("since") or "") == LAST_LOOK
    day, problem = _day(request.query_params.get("day") or "", today)
    if since_last_look:
        look = await timeline_looks.count_view(
            services.sessions, await _viewer(request, services), now
        )
        start, end = look_start(look, now), now
        day = start.astimezone(zone).date()
    else:
        start, end = timeline.day_window(day, zone)
        if day == today:
            await timeline_looks.count_view(
                services.sessions, await _viewer(request, services), now
            )
    visits = await timeline_queries.visits_between(db, start, end)
    lanes = timeline.lay_out(await timeline_queries.lane_cameras(db), visits, start, end, zone)
    totals = {band: sum(lane.counts.get(band, 0) for lane in lanes) for band in BANDS}
    return Template(
        template_name="timeline.html",
        context={
            "page": "timeline",
            "active": "/timeline",
            "lanes": lanes,
            "ticks": timeline.ticks(start, end, zone),
            "now_percent": timeline.position(now, start, end) if start <= now < end else None,
            "start": start,
            "hours": round((end - start).total_seconds() / 3600, 2),
            "end": end,
            "day": day,
            "today": today,
            "previous_day": day - dt.timedelta(days=1),
            "next_day": day + dt.timedelta(days=1) if day < today else None,
            "since_last_look": since_last_look,
            "totals": {band: count for band, count in totals.items() if count},
            "visit_count": len(visits),
            "truncated": len(visits) >= timeline_queries.MAX_VISITS,
            "problem": problem,
        },
    )
