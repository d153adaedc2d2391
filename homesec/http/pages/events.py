"""The Events page (home), an event's detail page, and the live row fragment.

The filters live in the URL (``q`` the search box, ``camera``, ``band``, ``object``, ``since``,
``until`` as local dates, ``reviewed`` = no | yes | all, ``cursor``), so a filtered list can be
bookmarked, reloaded and paged without losing them; the detail page keeps them for its
previous/next links. A search shows reviewed events too unless ``reviewed`` says otherwise:
what is looked for is often what was already seen.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from urllib.parse import urlencode

import msgspec
from litestar import Request, Response, get
from litestar.response import Template
from PIL import Image, UnidentifiedImageError

from homesec.http import status
from homesec.http.errors import ApiError
from homesec.http.media import resolve_media
from homesec.http.pagination import decode_cursor, decode_ranked_cursor
from homesec.http.params import RowId
from homesec.http.queries import cameras as camera_queries
from homesec.http.queries import dashboard, event_search
from homesec.http.queries import events as event_queries
from homesec.http.queries import incidents as incident_queries
from homesec.http.schemas.detections import Detection
from homesec.http.services import DbSession, ServicesDep
from homesec.models import RiskLevel
from homesec.policy import scene
from homesec.settings import Settings, local_zone

PAGE_SIZE = 30
REVIEWED_CHOICES = ("no", "yes", "all")
# Offered in the object filter; any other class can be typed.
COMMON_OBJECTS = ("person", "car", "truck", "bicycle", "motorcycle", "dog", "cat", "bird")


class EventListParams(msgspec.Struct, kw_only=True):
    """The events list's filters as the URL gives them, cleaned: what cannot be used is dropped
    and named in ``problems`` (a page never fails on a hand-edited URL). Not an event: the
    pages read events as the API's ``Event``."""

    q: str = ""
    camera: str = ""
    band: str = ""
    object: str = ""
    since: str = ""
    until: str = ""
    reviewed: str = "no"
    reviewed_given: bool = False  # the address named it (else the default, by ``q``)
    cursor: str = ""
    problems: list[str] = []

    @classmethod
    def from_query(cls, query) -> EventListParams:
        def text(name: str, limit: int = 100) -> str:
            return (query.get(name) or "").strip()[:limit]

        problems = []
        q = text("q", 200).replace("\x00", "")
        band = text("band")
        if band and band not in {level.value for level in RiskLevel}:
            problems.append(f"unknown band {band!r}")
            band = ""
        reviewed = text("reviewed") or ("all" if q else "no")
        if reviewed not in REVIEWED_CHOICES:
            problems.append(f"reviewed must be one of {', '.join(REVIEWED_CHOICES)}")
            reviewed = "no"
        dates = {}
        for name in ("since", "until"):
            value = text(name, 10)
            if value:
                try:
                    dt.date.fromisoformat(value)
                except ValueError:
                    problems.append(f"{name} is not a date (YYYY-MM-DD)")
                    value = ""
            dates[name] = value
        return cls(
            q=q,
            reviewed_given=bool(text("reviewed")),
            camera=text("camera").replace("\x00", ""),
            band=band,
            object=text("object").lower().replace("\x00", ""),
            reviewed=reviewed,
            cursor=text("cursor", 200),
            problems=problems,
            **dates,
        )

    def params(self, **changes: str) -> dict[str, str]:
        """The filters (without the cursor unless given) as URL parameters, empty ones left out."""
        values = {
            "q": self.q,
            "camera": self.camera,
            "band": self.band,
            "object": self.object,
            "since": self.since,
            "until": self.until,
            # The default: "no" without a search, "all" with one.
            "reviewed": "" if self.reviewed == ("all" if self.q else "no") else self.reviewed,
        }
        values.update(changes)
        return {name: value for name, value in values.items() if value}

    def query(self, **changes: str) -> str:
        return urlencode(self.params(**changes))

    def filters(self, settings: Settings) -> event_queries.EventFilters:
        zone = local_zone(settings)

        def day_start(text: str) -> dt.datetime | None:
            if not text:
                return None
            day = dt.datetime.combine(dt.date.fromisoformat(text), dt.time())
            return day.replace(tzinfo=zone) if zone is not None else day.astimezone()

        until = day_start(self.until)
        return event_queries.EventFilters(
            camera_id=self.camera or None,
            risk_level=RiskLevel(self.band) if self.band else None,
            object_type=self.object or None,
            start_date=day_start(self.since),
            end_date=until + dt.timedelta(days=1) - dt.timedelta(microseconds=1) if until else None,
            reviewed={"no": False, "yes": True, "all": None}[self.reviewed],
        )


async def _filters(
    db, view: EventListParams, settings: Settings
) -> tuple[event_queries.EventFilters, event_search.Search]:
    """The view's filters with its search; search text with nothing to look for is named in
    ``view.problems`` and left out."""
    try:
        search = await event_search.read_search(
            db, view.q, dt.datetime.now(dt.UTC), local_zone(settings)
        )
    except ApiError as error:
        view.problems.append(error.detail)
        search = event_search.Search()
    return view.filters(settings).narrowed(search), search


# The detector's problem while it has no model (actors/detector.py says it this way).
NO_DETECTOR = "no detector engine"


class EmptyReason(msgspec.Struct, kw_only=True):
    """Why the list is empty: ``no_camera``, ``no_detector`` (with the uploads waiting for it),
    ``filters`` (other than the default "unreviewed"), ``all_reviewed`` or ``no_events``."""

    why: str
    waiting: int = 0
    detector_problem: str = ""


async def _empty_reason(db, services, view: EventListParams, cameras) -> EmptyReason:
    if not cameras:
        return EmptyReason(why="no_camera")
    if view.params(reviewed=""):
        return EmptyReason(why="filters")
    report = await status.supervisor_report(services)
    problems = [
        problem
        for actor in (report.actors if report else [])
        for problem in actor.problems
        if problem.summary.startswith(NO_DETECTOR)
    ]
    if problems:
        return EmptyReason(
            why="no_detector",
            waiting=await dashboard.uploads_waiting(db),
            detector_problem=problems[0].summary,
        )
    if view.reviewed == "no":
        return EmptyReason(why="all_reviewed")
    return EmptyReason(why="no_events")


def _band(event) -> str:
    return event.risk_level.value if event.risk_level else dashboard.UNSCORED


@get("/", include_in_schema=False)
async def events_page(request: Request, db: DbSession, services: ServicesDep) -> Template:
    view = EventListParams.from_query(request.query_params)
    filters, search = await _filters(db, view, services.settings)
    position = None
    if view.cursor:
        try:
            position = (decode_ranked_cursor if filters.words else decode_cursor)(view.cursor)
        except ApiError:
            view.problems.append("the page position in the URL is not valid: showing the first")
    page = await event_queries.list_events(db, filters, position, PAGE_SIZE, search=search)
    cameras = (await camera_queries.list_cameras(db)).items
    empty = None if page.items else await _empty_reason(db, services, view, cameras)
    events = incident_queries.one_line_per_incident(page.items)  # one line per incident
    return Template(
        template_name="events.html",
        context={
            "page": "events",
            "active": "/",
            "view": view,
            "events": events,
            "incidents": await incident_queries.incidents_of(db, events),
            "cards": await dashboard.event_cards(db, page.items),
            "camera_names": {camera.id: camera.name for camera in cameras},
            "cameras": cameras,
            "counts": await dashboard.band_counts(db, filters),
            "next_cursor": page.next_cursor,
            "objects": COMMON_OBJECTS,
            "band_of": _band,
            "empty": empty,
            "searched": page.search,
        },
    )


@get("/events/{event_id:str}/row", include_in_schema=False)
async def event_row(
    request: Request, db: DbSession, services: ServicesDep, event_id: RowId
) -> Template | Response[None]:
    """One line of the list, for the page to add a live event: 204 when the event does not
    pass the page's filters (given as the page's own query string)."""
    view = EventListParams.from_query(request.query_params)
    filters, _ = await _filters(db, view, services.settings)
    if not await dashboard.event_matches(db, event_id, filters):
        return Response(None, status_code=204)
    event = await event_queries.get_event(db, event_id)
    cameras = (await camera_queries.list_cameras(db)).items
    incidents = await incident_queries.incidents_of(db, [event])  # an incident's line instead
    return Template(
        template_name="incident_row.html" if incidents else "event_row.html",
        context={
            "view": view,
            "event": event,
            "incident": incidents.get(event.incident_id or 0),
            "card": (await dashboard.event_cards(db, [event]))[event.id],
            "camera_names": {camera.id: camera.name for camera in cameras},
            "band_of": _band,
        },
    )


class Box(msgspec.Struct, kw_only=True):
    x: int
    y: int
    width: int
    height: int
    label: str
    stationary: bool = False  # a thing that stayed put (a parked car), in no visit


class Frame(msgspec.Struct, kw_only=True):
    """One image of the event with every box found on it."""

    image_url: str
    detected_at: dt.datetime  # when the picture was taken (else, older rows, processed)
    width: int | None  # None: the image is gone or unreadable
    height: int | None
    boxes: list[Box]


def _image_size(path: str, roots) -> tuple[int, int] | None:
    try:
        real = resolve_media(path, roots, "the frame")
        with Image.open(real) as image:  # reads the header only
            return image.size
    except (ApiError, OSError, UnidentifiedImageError):
        return None


async def _frames(
    detections: list[Detection], stationary: list[Detection], settings: Settings
) -> list[Frame]:
    """The event's frames, in order, with its own boxes and those of the things that stayed
    put in them (drawn apart: they are not why the event was made)."""
    by_file: dict[str, list[Detection]] = {}
    for detection in detections:
        by_file.setdefault(detection.file_path, []).append(detection)
    for detection in stationary:
        if detection.file_path in by_file:
            by_file[detection.file_path].append(detection)
    frames = []
    for file_path, found in by_file.items():
        size = await asyncio.to_thread(_image_size, file_path, [settings.foscam_base_path])
        boxes = [
            Box(
                x=d.bbox_x,
                y=d.bbox_y,
                width=d.bbox_width,
                height=d.bbox_height,
                label=f"{d.object_type or 'object'} · stationary"
                if d.stationary
                else f"{d.object_type or 'object'} {round((d.confidence or 0) * 100)}%",
                stationary=d.stationary,
            )
            for d in found
            if None not in (d.bbox_x, d.bbox_y, d.bbox_width, d.bbox_height)
        ]
        frames.append(
            Frame(
                image_url=f"/api/detections/{found[0].id}/image?boxed=false",
                detected_at=found[0].captured_at or found[0].detected_at,
                width=size[0] if size else None,
                height=size[1] if size else None,
                boxes=boxes,
            )
        )
    return frames


def _distinct_spots(stationary: list[Detection]) -> list[Detection]:
    """One detection per thing that stayed put (its kind and the time its spot was first
    seen), the latest, so a car parked through five frames is listed once."""
    spots: dict[tuple[str | None, dt.datetime | None], Detection] = {}
    for detection in stationary:
        spots[(detection.object_type, detection.stationary_since)] = detection
    return list(spots.values())


@get("/events/{event_id:str}", include_in_schema=False)
async def event_page(
    request: Request, db: DbSession, services: ServicesDep, event_id: RowId
) -> Template:
    view = EventListParams.from_query(request.query_params)
    event = await event_queries.get_event(db, event_id)
    # An alert's link names the event it was sent for; once the visit's batch supersedes it,
    # the page leads to the final verdict.
    final = await event_queries.final_verdict(db, event)
    detections = (await event_queries.event_detections(db, event_id)).items
    filters, _ = await _filters(db, view, services.settings)
    newer, older = await dashboard.neighbours(db, event, filters)
    camera = await camera_queries.get_camera(db, event.camera_id)
    stationary = await event_queries.stationary_in_frames(
        db, list(dict.fromkeys(d.file_path for d in detections)), event.camera_id
    )
    frames = await _frames(detections, stationary, services.settings)
    # The summary was written from the batch as the analyst saw it (or by an LLM, counting in
    # its own way); its frame counts are said as the facts below have them.
    summary = event.summary
    if summary and frames:
        times = [detection.captured_at or detection.detected_at for detection in detections]
        seconds = (max(times) - min(times)).total_seconds()
        summary = scene.restate_frames(summary, len(frames), seconds)
    return Template(
        template_name="event.html",
        context={
            "page": "event",
            "active": "/",
            "view": view,
            "event": event,
            "band": _band(event),
            "final": final,
            "final_band": _band(final) if final is not None else None,
            "camera": camera,
            "frames": frames,
            "summary": summary,
            "detections": detections,
            "stationary": _distinct_spots(stationary),
            "newer": newer,
            "older": older,
            "feedback_levels": [level.value for level in RiskLevel],
        },
    )
