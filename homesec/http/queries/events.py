"""Events in PostgreSQL: filtered keyset pages, statistics, the review update."""

from __future__ import annotations

import datetime as dt

import msgspec
from sqlalchemy import (
    JSON,
    Exists,
    Integer,
    Select,
    case,
    cast,
    exists,
    func,
    literal,
    select,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from homesec.http.errors import NotFound
from homesec.http.pagination import (
    Cursor,
    RankedCursor,
    after,
    encode_ranked_cursor,
    split_page,
)
from homesec.http.queries import event_search
from homesec.http.queries.detections import to_detection
from homesec.http.schemas import events as schemas
from homesec.http.schemas.detections import Detection as DetectionOut
from homesec.http.schemas.detections import DetectionList
from homesec.models import Camera, Detection, Event, RiskLevel
from homesec.store.events import MAX_VISIT_DEPTH, decode_detection_ids


class EventFilters(msgspec.Struct, kw_only=True):
    camera_id: str | None = None
    risk_level: RiskLevel | None = None
    min_risk_score: int | None = None
    max_risk_score: int | None = None
    start_date: dt.datetime | None = None
    end_date: dt.datetime | None = None
    reviewed: bool | None = None
    object_type: str | None = None
    is_fast_path: bool | None = None
    # False: one entry per visit, the final verdict (a preliminary one it supersedes is
    # inside it); True: every event. Statistics count visits alike.
    include_superseded: bool = False
    # A search's words (time words already taken out, into start_date and end_date): every
    # word must match the event's search document, and the page is ranked.
    words: str | None = None

    def narrowed(self, search: event_search.Search) -> EventFilters:
        """These filters and a search together: its words, its time range within theirs (an
        empty intersection matches nothing)."""
        start, end = self.start_date, self.end_date
        if search.time_range is not None:
            start = max(filter(None, [start, search.time_range.start]))
            # end_date is inclusive, the time words' end is not.
            last = search.time_range.end - dt.timedelta(microseconds=1)
            end = min(filter(None, [end, last]))
        return msgspec.structs.replace(self, words=search.words, start_date=start, end_date=end)


# A search ranks at most this many matches, the newest: ranking needs every ranked row's
# document, and a word like "person" matches most of a million events. The newest thousand
# are found through the time index in milliseconds; words, filters and time words narrow
# which thousand. Pages after the first keep the same ranking.
SEARCH_RANKED_NEWEST = 1000


def _has_detection_of(object_type: str) -> Exists:
    """The event lists a detection of this class.

    ``detection_ids`` is a JSON array in text (the contract's soft link). The subquery starts
    from the event's own ids and probes ``detections`` by primary key, so each event costs a
    few index lookups. (Written as ``detections.id IN (ids)`` instead, PostgreSQL turns it into
    a semi-join of every event against every detection of the class: seconds, not
    milliseconds, at a million events.)
    """
    ids = func.json_array_elements_text(cast(Event.detection_ids, JSON)).table_valued("value")
    listed = ids.alias("listed_ids")
    return exists(
        select(literal(1))
        .select_from(listed.join(Detection, Detection.id == cast(listed.c.value, Integer)))
        .where(Detection.object_type == object_type)
    )


def _filtered(statement: Select, filters: EventFilters) -> Select:
    conditions = []
    required: list[str] = []
    if filters.words is not None:
        # A search asks the document's facets (revision 0015) for the camera, band and kind
        # too, in the one GIN lookup. A camera or band facet is the row's own column, so it
        # replaces that condition (else PostgreSQL also ANDs a bitmap of the camera's every
        # event); the kind's stays, as a detection may expire before its event.
        required = event_search.facets(
            camera_id=filters.camera_id,
            risk_level=filters.risk_level,
            object_type=filters.object_type,
        )
        conditions.append(event_search.matches(filters.words, required))
    if filters.camera_id is not None and f"camera:{filters.camera_id}" not in required:
        conditions.append(Event.camera_id == filters.camera_id)
    if filters.risk_level is not None and f"band:{filters.risk_level}" not in required:
        conditions.append(Event.risk_level == filters.risk_level)
    if filters.min_risk_score is not None:
        conditions.append(Event.risk_score >= filters.min_risk_score)
    if filters.max_risk_score is not None:
        conditions.append(Event.risk_score <= filters.max_risk_score)
    if filters.start_date is not None:
        conditions.append(Event.started_at >= filters.start_date)
    if filters.end_date is not None:
        conditions.append(Event.started_at <= filters.end_date)
    if filters.reviewed is not None:
        conditions.append(Event.reviewed.is_(filters.reviewed))
    if filters.is_fast_path is not None:
        conditions.append(Event.is_fast_path.is_(filters.is_fast_path))
    if filters.object_type is not None:
        conditions.append(_has_detection_of(filters.object_type))
    if not filters.include_superseded:
        conditions.append(~_superseded())
    return statement.where(*conditions) if conditions else statement


def _superseded() -> Exists:
    """A later verdict of the same visit supersedes this event."""
    later = aliased(Event)
    return exists(select(literal(1)).where(later.supersedes_event_id == Event.id))


def to_event(
    row: Event,
    *,
    preliminary: schemas.Event | None = None,
    superseded_by: int | None = None,
) -> schemas.Event:
    ids = decode_detection_ids(row.detection_ids)
    return schemas.Event(
        id=row.id,
        batch_id=row.batch_id,
        camera_id=row.camera_id,
        started_at=row.started_at,
        ended_at=row.ended_at,
        risk_score=row.risk_score,
        risk_level=RiskLevel(row.risk_level) if row.risk_level else None,
        summary=row.summary,
        reasoning=row.reasoning,
        detection_ids=ids,
        detection_count=len(ids),
        reviewed=row.reviewed,
        notes=row.notes,
        is_fast_path=row.is_fast_path,
        supersedes_event_id=row.supersedes_event_id,
        superseded_by_event_id=superseded_by,
        preliminary=preliminary,
        scored_by_engine=row.scored_by_engine,
        scored_by_model=row.scored_by_model,
        prompt_version=row.prompt_version,
        held_at=row.held_at,
        hold_note=row.hold_note,
        incident_id=row.incident_id,
    )


async def to_events(session: AsyncSession, rows: list[Event]) -> list[schemas.Event]:
    """``rows`` as the API shows them: each with the preliminary verdicts it supersedes inside
    it, and the id of the verdict that supersedes it, if any."""
    known = {row.id: row for row in rows}
    wanted = {row.supersedes_event_id for row in rows if row.supersedes_event_id is not None}
    for _ in range(MAX_VISIT_DEPTH):
        wanted -= known.keys()
        if not wanted:
            break
        found = (await session.scalars(select(Event).where(Event.id.in_(wanted)))).all()
        known |= {row.id: row for row in found}
        wanted = {row.supersedes_event_id for row in found if row.supersedes_event_id is not None}
    by_superseded = dict(
        (
            await session.execute(
                select(Event.supersedes_event_id, Event.id).where(
                    Event.supersedes_event_id.in_([row.id for row in rows])
                )
            )
        ).all()
    )

    def shown(row: Event, depth: int, superseded_by: int | None) -> schemas.Event:
        inner = known.get(row.supersedes_event_id) if row.supersedes_event_id else None
        return to_event(
            row,
            preliminary=(
                shown(inner, depth + 1, row.id) if inner and depth < MAX_VISIT_DEPTH else None
            ),
            superseded_by=superseded_by,
        )

    return [shown(row, 0, by_superseded.get(row.id)) for row in rows]


def page_statement(filters: EventFilters, cursor: Cursor | None, limit: int) -> Select:
    """One page, newest first; ``limit + 1`` rows so the caller knows whether more follow."""
    statement = _filtered(select(Event), filters)
    if cursor is not None:
        statement = statement.where(after(Event.started_at, Event.id, cursor))
    return statement.order_by(Event.started_at.desc(), Event.id.desc()).limit(limit + 1)


def ranked_page_statement(
    filters: EventFilters, words: str, cursor: RankedCursor | None, limit: int
) -> Select:
    """One page of a search, most relevant first (then newest): the newest
    ``SEARCH_RANKED_NEWEST`` matches, ranked; ``limit + 1`` rows of ``(Event, relevance,
    summary, notes, reasoning headlines)``.

    Ranked in the subquery that finds the matches (only rows that pass its LIMIT are ranked),
    and the page's events are read by primary key last, so a page reads its 51 rows, not the
    thousand candidates' whole rows."""
    newest = (
        _filtered(
            select(
                Event.id,
                Event.started_at,
                event_search.relevance(words).label("relevance"),
            ),
            filters,
        )
        .order_by(Event.started_at.desc(), Event.id.desc())
        .limit(SEARCH_RANKED_NEWEST)
        .subquery("newest")
    )
    page = select(newest)
    if cursor is not None:
        page = page.where(
            tuple_(newest.c.relevance, newest.c.started_at, newest.c.id)
            < tuple_(cursor.relevance, cursor.at, cursor.id)
        )
    order = (newest.c.relevance.desc(), newest.c.started_at.desc(), newest.c.id.desc())
    ranked = page.order_by(*order).limit(limit + 1).subquery("ranked")
    return (
        select(Event, ranked.c.relevance, *event_search.headline_columns(words))
        .join(ranked, ranked.c.id == Event.id)
        .order_by(ranked.c.relevance.desc(), ranked.c.started_at.desc(), ranked.c.id.desc())
    )


async def _ranked_page(
    session: AsyncSession,
    filters: EventFilters,
    words: str,
    cursor: RankedCursor | None,
    limit: int,
) -> tuple[list[schemas.Event], str | None]:
    rows = (await session.execute(ranked_page_statement(filters, words, cursor, limit))).all()
    page = rows[:limit]
    next_cursor = None
    if len(rows) > limit and page:
        last, relevance, *_ = page[-1]
        next_cursor = encode_ranked_cursor(relevance, last.started_at, last.id)
    events = await to_events(session, [row[0] for row in page])
    for event, (_, relevance, *headlines) in zip(events, page, strict=True):
        marked = event_search.highlight(*headlines)
        event.search = schemas.SearchMatch(
            relevance=relevance,
            summary_html=marked.summary_html,
            snippet_html=marked.snippet_html,
        )
    return events, next_cursor


async def list_events(
    session: AsyncSession,
    filters: EventFilters,
    cursor: Cursor | RankedCursor | None,
    limit: int,
    *,
    include_count: bool = False,
    search: event_search.Search | None = None,
) -> schemas.EventPage:
    """A page of events; with ``search`` (whose words and times ``filters`` already holds, see
    ``EventFilters.narrowed``) ranked when it has words, newest first when only times."""
    if filters.words is not None:
        if cursor is not None and not isinstance(cursor, RankedCursor):
            raise TypeError("a search pages with a RankedCursor")
        items, next_cursor = await _ranked_page(session, filters, filters.words, cursor, limit)
    else:
        if isinstance(cursor, RankedCursor):
            raise TypeError("a list without words pages with a Cursor")
        rows = (await session.scalars(page_statement(filters, cursor, limit))).all()
        page, next_cursor = split_page(rows, limit, ("started_at", "id"))
        items = await to_events(session, list(page))
    count = None
    if include_count:
        count = await session.scalar(_filtered(select(func.count(Event.id)), filters))
    understood = None
    if search is not None and (search.words is not None or search.time_range is not None):
        understood = schemas.SearchUnderstood(
            words=search.words,
            time_phrases=list(search.time_phrases),
            start=search.time_range.start if search.time_range else None,
            end=search.time_range.end if search.time_range else None,
            ranked_newest=SEARCH_RANKED_NEWEST,
        )
    return schemas.EventPage(items=items, next_cursor=next_cursor, count=count, search=understood)


async def _get(session: AsyncSession, event_id: int) -> Event:
    row = await session.get(Event, event_id)
    if row is None:
        raise NotFound(f"no event with id {event_id}")
    return row


async def get_event(session: AsyncSession, event_id: int) -> schemas.Event:
    [event] = await to_events(session, [await _get(session, event_id)])
    return event


async def final_verdict(session: AsyncSession, event: schemas.Event) -> schemas.Event | None:
    """The visit's latest verdict when a later one supersedes ``event`` (following a chain of
    them); None when ``event`` is the latest."""
    latest = event.superseded_by_event_id
    if latest is None:
        return None
    for _ in range(MAX_VISIT_DEPTH):
        later = await session.scalar(select(Event.id).where(Event.supersedes_event_id == latest))
        if later is None:
            break
        latest = later
    return await get_event(session, latest)


async def event_detections(session: AsyncSession, event_id: int) -> DetectionList:
    """The event's detections that still exist, in the order their pictures were taken."""
    ids = decode_detection_ids((await _get(session, event_id)).detection_ids)
    rows = []
    if ids:
        statement = (
            select(Detection)
            .where(Detection.id.in_(ids))
            .order_by(func.coalesce(Detection.captured_at, Detection.detected_at), Detection.id)
        )
        rows = (await session.scalars(statement)).all()
    return DetectionList(items=[to_detection(row) for row in rows], count=len(rows))


async def stationary_in_frames(
    session: AsyncSession, file_paths: list[str], camera_id: str
) -> list[DetectionOut]:
    """The things that stayed put (a parked car) in the event's frames: stored, but in no
    visit, so the page shows them beside the event's own detections."""
    if not file_paths:
        return []
    rows = await session.scalars(
        select(Detection)
        .where(
            Detection.file_path.in_(file_paths),
            Detection.camera_id == camera_id,
            Detection.stationary,
        )
        .order_by(Detection.id)
    )
    return [to_detection(row) for row in rows.all()]


async def event_stats(
    session: AsyncSession, start_date: dt.datetime | None, end_date: dt.datetime | None
) -> schemas.EventStats:
    window = EventFilters(start_date=start_date, end_date=end_date)
    level = case((Event.risk_level.is_(None), "unscored"), else_=Event.risk_level)
    by_level = dict.fromkeys([*(member.value for member in RiskLevel), "unscored"], 0)
    for name, count in await session.execute(
        _filtered(select(level, func.count()), window).group_by(level)
    ):
        by_level[name] = count
    per_camera = select(Event.camera_id, func.count().label("event_count")).group_by(
        Event.camera_id
    )
    per_camera = _filtered(per_camera, window).subquery()
    rows = await session.execute(
        select(Camera.id, Camera.name, func.coalesce(per_camera.c.event_count, 0))
        .outerjoin(per_camera, per_camera.c.camera_id == Camera.id)
        .order_by(func.coalesce(per_camera.c.event_count, 0).desc(), Camera.id)
    )
    cameras = [
        schemas.CameraEventCount(camera_id=camera_id, camera_name=name, event_count=count)
        for camera_id, name, count in rows
    ]
    return schemas.EventStats(
        total_events=sum(by_level.values()),
        events_by_risk_level=by_level,
        events_by_camera=cameras,
    )
