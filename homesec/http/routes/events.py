"""``/api/events``: security events, newest first, with their review."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Annotated, BinaryIO

from litestar import Controller, delete, get, patch, put
from litestar.params import FromQuery, JSONBody, QueryParameter
from litestar.response import Stream

from homesec.contract.enums import RiskLevel
from homesec.files.evidence_archive import export_to_anonymous_file
from homesec.http.errors import BadRequest, NotFound
from homesec.http.openapi import problems
from homesec.http.pagination import decode_cursor, decode_ranked_cursor
from homesec.http.params import (
    DEFAULT_LIMIT,
    FilterText,
    Limit,
    PageCursor,
    RowId,
    Since,
    Until,
    time_window,
)
from homesec.http.queries import event_search
from homesec.http.queries import events as queries
from homesec.http.schemas.common import NO_NUL
from homesec.http.schemas.detections import DetectionList
from homesec.http.schemas.events import (
    Event,
    EventHoldRequest,
    EventPage,
    EventStats,
    EventUpdate,
)
from homesec.http.services import DbSession, ServicesDep
from homesec.policy.evidence import archive_file_name
from homesec.settings import local_zone
from homesec.store import events as store_events
from homesec.store.evidence import read_evidence

Score = Annotated[int | None, QueryParameter(ge=0, le=100)]
CHUNK = 1 << 20


async def _chunks(raw: BinaryIO) -> AsyncIterator[bytes]:
    """The file's bytes, read off the event loop; closed (and so gone) at the end, or when the
    client goes away."""
    try:
        while chunk := await asyncio.to_thread(raw.read, CHUNK):
            yield chunk
    finally:
        raw.close()


SearchQuery = Annotated[
    str | None,
    QueryParameter(
        max_length=200,
        pattern=NO_NUL,
        description=(
            "words to find in summaries, reasoning, notes, object kinds, camera and zone names "
            '(English stemming; "quoted phrases", -word); time words (today, yesterday, last '
            "night, this morning, this week, a weekday) narrow the time in the house's zone. "
            "Ranked, most relevant first; empty: no search"
        ),
    ),
]


class EventController(Controller):
    path = "/api/events"
    tags = ["events"]

    @get()
    async def list_events(
        self,
        db: DbSession,
        services: ServicesDep,
        q: SearchQuery = None,
        camera_id: FilterText = None,
        risk_level: FromQuery[RiskLevel | None] = None,
        min_risk_score: Score = None,
        max_risk_score: Score = None,
        start_date: Since = None,
        end_date: Until = None,
        reviewed: FromQuery[bool | None] = None,
        object_type: FilterText = None,
        is_fast_path: FromQuery[bool | None] = None,
        include_superseded: FromQuery[bool] = False,
        cursor: PageCursor = None,
        limit: Limit = DEFAULT_LIMIT,
        include_count: FromQuery[bool] = False,
    ) -> EventPage:
        """Events matching every filter given, newest first, one keyset page at a time.

        One entry per visit: a preliminary (fast-path) event that a visit's final verdict
        supersedes is inside that verdict (``preliminary``), not listed on its own, unless
        ``include_superseded=true``.

        With ``q``, a search: the events whose words match every word of it, most relevant
        first, with the matched words highlighted (``search`` on each); ``search`` on the page
        says how ``q`` was read."""
        if (
            min_risk_score is not None
            and max_risk_score is not None
            and min_risk_score > max_risk_score
        ):
            raise BadRequest("min_risk_score is above max_risk_score")
        start_date, end_date = time_window(start_date, end_date)
        filters = queries.EventFilters(
            camera_id=camera_id,
            risk_level=risk_level,
            min_risk_score=min_risk_score,
            max_risk_score=max_risk_score,
            start_date=start_date,
            end_date=end_date,
            reviewed=reviewed,
            object_type=object_type,
            is_fast_path=is_fast_path,
            include_superseded=include_superseded,
        )
        search = await event_search.read_search(
            db, q, dt.datetime.now(dt.UTC), local_zone(services.settings)
        )
        filters = filters.narrowed(search)
        position = None
        if cursor:
            position = decode_ranked_cursor(cursor) if filters.words else decode_cursor(cursor)
        return await queries.list_events(
            db, filters, position, limit, include_count=include_count, search=search
        )

    @get("/stats")
    async def event_stats(
        self, db: DbSession, start_date: Since = None, end_date: Until = None
    ) -> EventStats:
        """Counts by risk level and by camera, optionally within a time window."""
        return await queries.event_stats(db, *time_window(start_date, end_date))

    @get("/{event_id:str}", responses=problems(404))
    async def get_event(self, db: DbSession, event_id: RowId) -> Event:
        return await queries.get_event(db, event_id)

    @patch("/{event_id:str}", responses=problems(404))
    async def review_event(
        self, db: DbSession, services: ServicesDep, event_id: RowId, data: JSONBody[EventUpdate]
    ) -> Event:
        """Mark reviewed and keep notes; the risk analysis itself cannot be changed. Reviewing
        one verdict of a visit reviews the visit's other verdicts too."""
        found = await store_events.review_event(
            services.sessions, event_id, reviewed=data.reviewed, notes=data.notes
        )
        if not found:
            raise NotFound(f"no event with id {event_id}")
        return await queries.get_event(db, event_id)

    @get("/{event_id:str}/detections", responses=problems(404))
    async def event_detections(self, db: DbSession, event_id: RowId) -> DetectionList:
        return await queries.event_detections(db, event_id)

    @get(
        "/{event_id:str}/evidence",
        media_type="application/zip",
        responses=problems(404),
    )
    async def evidence(self, services: ServicesDep, event_id: RowId) -> Stream:
        """The event as one signed evidence archive (zip): the original uploads byte for byte,
        the annotated frames, the verdict, the times, the camera and a manifest with the
        SHA-256 of every file, signed with the box's own key. ``homesec evidence verify``
        checks one. Events only: incidents across cameras are not exported."""
        record = await read_evidence(services.sessions, event_id)
        if record is None:
            raise NotFound(f"no event with id {event_id}")
        # A file without a name, not memory: an event's originals may be many megabytes, and a
        # download cut short leaves nothing behind.
        raw, size = await asyncio.to_thread(
            export_to_anonymous_file, services.settings, record, dt.datetime.now(dt.UTC)
        )
        return Stream(
            _chunks(raw),
            media_type="application/zip",
            headers={
                "Content-Length": str(size),
                "Content-Disposition": f'attachment; filename="{archive_file_name(event_id)}"',
            },
        )

    @put("/{event_id:str}/hold", status_code=200, responses=problems(404))
    async def hold(
        self,
        db: DbSession,
        services: ServicesDep,
        event_id: RowId,
        data: JSONBody[EventHoldRequest | None] = None,
    ) -> Event:
        """Keep the event: retention deletes neither it, nor its detections, nor their files
        while it is held. Holding it again changes only the note."""
        note = data.note if data is not None else None
        held = await store_events.set_hold(
            services.sessions, event_id, at=dt.datetime.now(dt.UTC), note=note or None
        )
        if held is None:
            raise NotFound(f"no event with id {event_id}")
        return await queries.get_event(db, event_id)

    @delete("/{event_id:str}/hold", status_code=200, responses=problems(404))
    async def release(self, db: DbSession, services: ServicesDep, event_id: RowId) -> Event:
        """Release the hold: retention treats the event by its age again."""
        if await store_events.release_hold(services.sessions, event_id) is None:
            raise NotFound(f"no event with id {event_id}")
        return await queries.get_event(db, event_id)
