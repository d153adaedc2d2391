"""What the day at a glance reads and writes on real PostgreSQL: a night's visits (one per
visit, in the window), the camera problems open during it, the timeline's visits and lanes, and
the last look kept per viewer."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import update

from homesec.http.queries import timeline as timeline_queries
from homesec.models import CameraProblem, Event
from homesec.store import digest_facts, timeline_looks
from tests.support.rows import add_event

NIGHT = (dt.datetime(2026, 12, 7, 17, tzinfo=dt.UTC), dt.datetime(2026, 12, 8, 6, tzinfo=dt.UTC))


async def cameras(db_sessions) -> None:
    from homesec.models import Camera

    async with db_sessions.begin() as session:
        for camera_id, name in (("porch", "Porch"), ("garage", "Garage"), ("attic", "Attic")):
            session.add(Camera(id=camera_id, name=name, folder_path=f"/cams/{camera_id}"))


async def seed_night(db_sessions) -> dict[str, int]:
    await cameras(db_sessions)
    start, end = NIGHT
    at = start + dt.timedelta(hours=4)
    ids = {
        "before": await add_event(db_sessions, camera_id="porch", started_at=start
                                  - dt.timedelta(seconds=1), risk_level="high", risk_score=70),
        "first": await add_event(db_sessions, camera_id="porch", started_at=start,
                                 risk_level="low", risk_score=5),
        "fast": await add_event(db_sessions, camera_id="porch", started_at=at, is_fast_path=True,
                                risk_level="high", risk_score=65),
        "batch": await add_event(db_sessions, camera_id="porch", started_at=at,
                                 risk_level="critical", risk_score=90, summary="A person"),
        "garage": await add_event(db_sessions, camera_id="garage", started_at=at
                                  + dt.timedelta(hours=1), risk_level=None),
        "at_end": await add_event(db_sessions, camera_id="porch", started_at=end,
                                  risk_level="low", risk_score=1),
    }  # fmt: skip
    async with db_sessions.begin() as session:
        await session.execute(
            update(Event).where(Event.id == ids["batch"]).values(supersedes_event_id=ids["fast"])
        )
    return ids


async def test_a_night_is_its_visits_once_each_and_its_camera_problems(db_sessions):
    ids = await seed_night(db_sessions)
    start, end = NIGHT
    async with db_sessions.begin() as session:
        for camera_id, problem, began, cleared in (
            ("garage", "offline", start + dt.timedelta(hours=2), start + dt.timedelta(hours=5)),
            ("porch", "lens covered", start - dt.timedelta(days=2), None),  # open all night
            ("attic", "blurred", start - dt.timedelta(days=3), start - dt.timedelta(days=2)),
            ("attic", "view moved", end, None),  # after the digest time
            ("porch", "offline", start - dt.timedelta(hours=3), start),  # cleared as night began
        ):
            session.add(CameraProblem(camera_id=camera_id, problem=problem, started_at=began,
                                      cleared_at=cleared))  # fmt: skip
    visits, problems = await digest_facts.night_facts(db_sessions, start, end)
    # The fast-path event its batch supersedes is one visit with it; the window is [start, end).
    assert [v.event_id for v in visits] == [ids["first"], ids["batch"], ids["garage"]]
    batch = visits[1]
    assert (batch.camera_name, batch.risk_level, batch.risk_score, batch.summary) == (
        "Porch", "critical", 90, "A person",
    )  # fmt: skip
    assert visits[2].risk_level is None and visits[2].camera_name == "Garage"
    assert [(p.camera_name, p.problem, p.cleared_at is None) for p in problems] == [
        ("Porch", "lens covered", True),
        ("Garage", "offline", False),
    ]


async def test_the_timeline_reads_the_same_visits_and_every_camera(db_sessions):
    ids = await seed_night(db_sessions)
    async with db_sessions() as session:
        visits = await timeline_queries.visits_between(session, *NIGHT)
        lanes = await timeline_queries.lane_cameras(session)
        capped = await timeline_queries.visits_between(session, *NIGHT, limit=1)
    assert [v.event_id for v in visits] == [ids["first"], ids["batch"], ids["garage"]]
    assert lanes == [("attic", "Attic"), ("garage", "Garage"), ("porch", "Porch")]
    assert [v.event_id for v in capped] == [ids["first"]]


async def test_the_last_look_is_kept_per_viewer_and_survives_a_pause(db_sessions):
    t0 = dt.datetime(2026, 12, 8, 7, tzinfo=dt.UTC)
    first = await timeline_looks.count_view(db_sessions, "house", t0)
    assert first.previous_at is None
    again = await timeline_looks.count_view(db_sessions, "house", t0 + dt.timedelta(minutes=5))
    assert again.previous_at is None
    later = t0 + dt.timedelta(hours=9)
    look = await timeline_looks.count_view(db_sessions, "house", later)
    assert (look.looked_at, look.previous_at) == (later, t0 + dt.timedelta(minutes=5))
    assert await timeline_looks.last_look(db_sessions, "house") == look
    # Another viewer's looks are its own.
    assert (await timeline_looks.count_view(db_sessions, "k" * 64, later)).previous_at is None
    assert await timeline_looks.last_look(db_sessions, "nobody") is None


async def test_two_views_at_once_count_one_after_the_other(db_sessions):
    t0 = dt.datetime(2026, 12, 8, 7, tzinfo=dt.UTC)
    # A viewer's first views, at once: one row, no conflict.
    firsts = await asyncio.gather(*(timeline_looks.count_view(db_sessions, "house", t0)
                                    for _ in range(4)))  # fmt: skip
    assert {look.previous_at for look in firsts} == {None}
    later = t0 + dt.timedelta(hours=2)
    looks = await asyncio.gather(*(
        timeline_looks.count_view(db_sessions, "house", later + dt.timedelta(seconds=i))
        for i in range(4)
    ))  # fmt: skip
    # Each saw the pause once at most: the look before stays the morning's.
    assert {look.previous_at for look in looks} == {t0}
