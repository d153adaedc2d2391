"""Incidents in PostgreSQL: what the Analyst reads of the incident so far, and how its write
places a visit in an incident, with two (and three) cameras."""

from __future__ import annotations

import asyncio
import datetime as dt
import zoneinfo

from sqlalchemy import select

from homesec.contract.analysis import RiskAssessment, ScoredBy
from homesec.contract.jobs import AnalysisJob
from homesec.models import Camera, Detection, Event, Incident
from homesec.store.analysis import IncidentRules, ToAnalyse, read_analysis, record_event
from homesec.store.incidents import review_incident

ZONE = zoneinfo.ZoneInfo("Europe/Berlin")
HALF_LIFE = 30.0
NIGHT = dt.datetime(2026, 12, 8, 1, 9, tzinfo=dt.UTC)  # 02:09 in Berlin
SCORER = ScoredBy(engine="rules", model=None, prompt_version="rules-test")
RULES = IncidentRules(window_seconds=120, zone=ZONE)
CAMERAS = {"driveway": "Driveway", "back_door": "Back Door", "garage": "Garage"}


async def seed_cameras(db_sessions) -> None:
    async with db_sessions.begin() as session:
        session.add_all(
            Camera(id=camera_id, name=name, folder_path=f"/cams/{camera_id}")
            for camera_id, name in CAMERAS.items()
        )


async def person(db_sessions, camera_id: str, at: dt.datetime, kind="person") -> int:
    async with db_sessions.begin() as session:
        row = Detection(
            camera_id=camera_id,
            file_path=f"/cams/{camera_id}/{at.timestamp()}.jpg",
            detected_at=at + dt.timedelta(seconds=5),
            captured_at=at,
            object_type=kind,
            confidence=0.9,
        )
        session.add(row)
        await session.flush()
        return row.id


async def visit(db_sessions, camera_id, at, score=65, batch=None, rules=RULES):
    """One batch of one picture on ``camera_id`` read and written as the Analyst does."""
    detection = await person(db_sessions, camera_id, at)
    job = AnalysisJob(
        batch_id=batch or f"{camera_id}-{detection}", camera_id=camera_id, detection_ids=[detection]
    )
    read = await read_analysis(db_sessions, job, ZONE, HALF_LIFE, rules.window_seconds)
    assert isinstance(read, ToAnalyse)
    verdict = RiskAssessment(risk_score=score, summary=f"person at {camera_id}", reasoning="r")
    event, inserted = await record_event(
        db_sessions, job, read, verdict, "high", SCORER, HALF_LIFE, rules
    )
    assert inserted
    return read, event


async def incidents(db_sessions) -> list[Incident]:
    async with db_sessions() as session:
        return list(await session.scalars(select(Incident).order_by(Incident.id)))


async def test_two_cameras_60_s_apart_make_one_incident_told_as_a_story(db_sessions):
    await seed_cameras(db_sessions)
    first_read, first = await visit(db_sessions, "driveway", NIGHT, score=55)
    assert first_read.incident_so_far == () and first.incident_id is None
    read, second = await visit(db_sessions, "back_door", NIGHT + dt.timedelta(seconds=60))
    # The engine saw the driveway's visit before scoring the back door's.
    assert [(v.camera_name, v.kinds, v.risk_score) for v in read.incident_so_far] == [
        ("Driveway", ["person"], 55)
    ]
    [incident] = await incidents(db_sessions)
    assert second.incident_id == incident.id
    async with db_sessions() as session:
        members = dict((await session.execute(select(Event.id, Event.incident_id))).all())
    assert members == {first.id: incident.id, second.id: incident.id}
    assert incident.camera_ids == ["driveway", "back_door"]
    assert (incident.risk_score, incident.risk_level) == (65, "high")
    assert incident.summary == "A person at Driveway at 02:09, then at Back Door at 02:10."
    assert incident.started_at == NIGHT
    assert incident.ended_at == NIGHT + dt.timedelta(seconds=60)


async def test_ten_minutes_apart_are_two_visits_and_no_incident(db_sessions):
    await seed_cameras(db_sessions)
    await visit(db_sessions, "driveway", NIGHT)
    read, second = await visit(db_sessions, "back_door", NIGHT + dt.timedelta(minutes=10))
    assert read.incident_so_far == () and second.incident_id is None
    assert await incidents(db_sessions) == []


async def test_the_same_camera_again_makes_no_incident(db_sessions):
    await seed_cameras(db_sessions)
    await visit(db_sessions, "driveway", NIGHT)
    _, again = await visit(db_sessions, "driveway", NIGHT + dt.timedelta(seconds=60))
    assert again.incident_id is None and await incidents(db_sessions) == []


async def test_a_third_camera_chains_on_and_a_window_of_zero_turns_it_off(db_sessions):
    await seed_cameras(db_sessions)
    _, a = await visit(db_sessions, "driveway", NIGHT)
    _, b = await visit(db_sessions, "back_door", NIGHT + dt.timedelta(seconds=100))
    # 200 s after the driveway, 100 s after the back door: one story still.
    read, c = await visit(db_sessions, "garage", NIGHT + dt.timedelta(seconds=200), score=90)
    assert [v.camera_id for v in read.incident_so_far] == ["driveway", "back_door"]
    [incident] = await incidents(db_sessions)
    assert a.incident_id is None and b.incident_id == c.incident_id == incident.id
    assert incident.camera_ids == ["driveway", "back_door", "garage"]
    assert (incident.risk_score, incident.risk_level) == (90, "critical")
    off = IncidentRules(window_seconds=0, zone=ZONE)
    _, d = await visit(db_sessions, "driveway", NIGHT + dt.timedelta(seconds=230), rules=off)
    assert d.incident_id is None


async def test_two_analysts_writing_at_once_make_one_incident(db_sessions):
    """Two cameras' batches read before either was written, then written at once: the
    incidents' lock makes the second writer see the first and join it."""
    await seed_cameras(db_sessions)
    jobs = []
    for camera_id, offset in (("driveway", 0), ("back_door", 30)):
        detection = await person(db_sessions, camera_id, NIGHT + dt.timedelta(seconds=offset))
        job = AnalysisJob(batch_id=f"b-{camera_id}", camera_id=camera_id, detection_ids=[detection])
        read = await read_analysis(db_sessions, job, ZONE, HALF_LIFE, 120)
        assert isinstance(read, ToAnalyse) and read.incident_so_far == ()
        jobs.append((job, read))
    verdict = RiskAssessment(risk_score=70, summary="s", reasoning="r")
    written = await asyncio.gather(
        *(
            record_event(db_sessions, job, read, verdict, "high", SCORER, HALF_LIFE, RULES)
            for job, read in jobs
        )
    )
    [incident] = await incidents(db_sessions)
    # The first writer stood alone when it wrote; the second found it and took it along.
    assert sorted(event.incident_id is None for event, _ in written) == [False, True]
    async with db_sessions() as session:
        members = list(await session.scalars(select(Event.incident_id)))
    assert members == [incident.id, incident.id]


async def test_reviewing_an_incident_reviews_its_visits(db_sessions):
    await seed_cameras(db_sessions)
    _, a = await visit(db_sessions, "driveway", NIGHT)
    _, b = await visit(db_sessions, "back_door", NIGHT + dt.timedelta(seconds=60))
    _, alone = await visit(db_sessions, "garage", NIGHT + dt.timedelta(hours=1))
    assert await review_incident(db_sessions, b.incident_id, reviewed=True)
    assert not await review_incident(db_sessions, 999_999, reviewed=True)
    async with db_sessions() as session:
        reviewed = dict((await session.execute(select(Event.id, Event.reviewed))).all())
        [incident] = list(await session.scalars(select(Incident)))
    assert reviewed == {a.id: True, b.id: True, alone.id: False}
    assert incident.reviewed


async def test_retention_takes_an_incident_with_the_last_of_its_events(db_sessions):
    from homesec.policy.retention import RetentionCutoffs
    from homesec.store.retention import remove_expired_rows

    await seed_cameras(db_sessions)
    await visit(db_sessions, "driveway", NIGHT)
    _, b = await visit(db_sessions, "back_door", NIGHT + dt.timedelta(seconds=60))
    between = RetentionCutoffs(data=NIGHT + dt.timedelta(seconds=30), logs=NIGHT)
    dry = await remove_expired_rows(db_sessions, between, with_images=False, dry_run=True)
    assert (dry.events, dry.incidents) == (1, 0)  # the back door's visit stays: so does it
    gone = await remove_expired_rows(db_sessions, between, with_images=False, dry_run=False)
    assert (gone.events, gone.incidents) == (1, 0)
    assert [i.id for i in await incidents(db_sessions)] == [b.incident_id]
    after = RetentionCutoffs(data=NIGHT + dt.timedelta(hours=1), logs=NIGHT)
    dry = await remove_expired_rows(db_sessions, after, with_images=False, dry_run=True)
    assert (dry.events, dry.incidents) == (1, 1)
    gone = await remove_expired_rows(db_sessions, after, with_images=False, dry_run=False)
    assert (gone.events, gone.incidents) == (1, 1)
    assert await incidents(db_sessions) == []


async def test_an_incident_is_reviewed_once_each_of_its_visits_is(db_sessions):
    from homesec.store.events import review_event

    await seed_cameras(db_sessions)
    _, a = await visit(db_sessions, "driveway", NIGHT)
    _, b = await visit(db_sessions, "back_door", NIGHT + dt.timedelta(seconds=60))
    assert await review_event(db_sessions, a.id, reviewed=True)
    assert [i.reviewed for i in await incidents(db_sessions)] == [False]
    assert await review_event(db_sessions, b.id, reviewed=True)
    assert [i.reviewed for i in await incidents(db_sessions)] == [True]
    assert await review_event(db_sessions, a.id, reviewed=False)
    assert [i.reviewed for i in await incidents(db_sessions)] == [False]


async def test_a_batch_after_its_own_fast_path_verdict_hears_only_the_other_cameras(db_sessions):
    """The back door's fast-path verdict joined the driveway's incident; the back door's batch,
    holding that picture, is told of the driveway only, then supersedes its fast-path verdict."""
    await seed_cameras(db_sessions)
    await visit(db_sessions, "driveway", NIGHT)
    seen = NIGHT + dt.timedelta(seconds=60)
    detection = await person(db_sessions, "back_door", seen)
    fast_job = AnalysisJob(
        batch_id=f"fast-{detection}", camera_id="back_door", detection_ids=[detection],
        is_fast_path=True,
    )  # fmt: skip
    verdict = RiskAssessment(risk_score=70, summary="s", reasoning="r")
    read = await read_analysis(db_sessions, fast_job, ZONE, HALF_LIFE, 120)
    fast, _ = await record_event(
        db_sessions, fast_job, read, verdict, "high", SCORER, HALF_LIFE, RULES
    )
    assert fast.incident_id is not None
    more = await person(db_sessions, "back_door", seen + dt.timedelta(seconds=10))
    job = AnalysisJob(batch_id="b-door", camera_id="back_door", detection_ids=[detection, more])
    read = await read_analysis(db_sessions, job, ZONE, HALF_LIFE, 120)
    assert isinstance(read, ToAnalyse)
    assert [v.camera_id for v in read.incident_so_far] == ["driveway"]
    final, _ = await record_event(db_sessions, job, read, verdict, "high", SCORER, HALF_LIFE, RULES)
    assert final.incident_id == fast.incident_id and final.supersedes_event_id == fast.id
    [incident] = await incidents(db_sessions)
    assert incident.summary == "A person at Driveway at 02:09, then at Back Door at 02:10."
