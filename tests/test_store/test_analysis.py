"""What the Analyst reads and writes for one job: one read session, one write transaction in
which the event and its visit in the camera's habits happen together or not at all."""

from __future__ import annotations

import asyncio
import datetime as dt
import zoneinfo

from sqlalchemy import delete, select

from homesec.contract.analysis import RiskAssessment, ScoredBy, StationaryThing
from homesec.contract.jobs import AnalysisJob
from homesec.models import ActivityBaseline, Camera, ClassBaseline, Detection, Event
from homesec.policy.batching import continuation_batch_id
from homesec.store.analysis import (
    AlreadyWritten,
    NothingLeft,
    ToAnalyse,
    read_analysis,
    record_event,
)

ZONE = zoneinfo.ZoneInfo("Europe/Berlin")
HALF_LIFE = 30.0
CAMERA = "porch"
TAKEN = dt.datetime(2026, 5, 1, 16, 40, tzinfo=dt.UTC)  # 18:40 in Berlin
VERDICT = RiskAssessment(risk_score=40, summary="A person and a car.", reasoning="r")
SCORER = ScoredBy(engine="rules", model=None, prompt_version="rules-test")


async def seed(db_sessions) -> list[int]:
    async with db_sessions.begin() as session:
        session.add(Camera(id=CAMERA, name="Porch", folder_path=f"/cams/{CAMERA}"))
        rows = [
            Detection(
                camera_id=CAMERA,
                file_path=f"/cams/{CAMERA}/{i}.jpg",
                detected_at=TAKEN + dt.timedelta(minutes=5),
                captured_at=TAKEN + dt.timedelta(seconds=10 * i),
                object_type=kind,
                confidence=0.9,
            )
            for i, kind in enumerate(["person", "car"])
        ]
        session.add_all(rows)
        await session.flush()
        return [row.id for row in rows]


async def test_a_batch_to_analyse_is_read_as_of_its_first_picture(db_sessions):
    ids = await seed(db_sessions)
    job = AnalysisJob(batch_id="b-1", camera_id=CAMERA, detection_ids=ids)
    read = await read_analysis(db_sessions, job, ZONE, HALF_LIFE)
    assert isinstance(read, ToAnalyse)
    assert read.batch.camera_name == "Porch"
    assert [d.detection_id for d in read.batch.detections] == ids
    assert read.local_start == TAKEN and read.local_start.tzinfo == ZONE
    assert (read.baseline.hour, read.baseline.history_days) == (18, 0)
    assert read.calibration is None


async def test_what_stayed_put_in_the_batchs_frames_is_read_beside_it(db_sessions):
    ids = await seed(db_sessions)
    parked_since = TAKEN - dt.timedelta(hours=3)
    async with db_sessions.begin() as session:
        session.add_all(
            Detection(
                camera_id=CAMERA,
                file_path=path,
                detected_at=TAKEN,
                object_type="car",
                confidence=0.8,
                stationary=True,
                spot_since=parked_since,
            )
            for path in [f"/cams/{CAMERA}/0.jpg", f"/cams/{CAMERA}/1.jpg", "/cams/other/9.jpg"]
        )
    job = AnalysisJob(batch_id="b-1", camera_id=CAMERA, detection_ids=ids[:1])
    read = await read_analysis(db_sessions, job, ZONE, HALF_LIFE)
    assert isinstance(read, ToAnalyse)
    # The car in the person's frame, once; the batch's detections are still only the person.
    assert read.stationary == (StationaryThing(object_type="car", since=parked_since),)
    assert [d.detection_id for d in read.batch.detections] == ids[:1]


async def test_an_event_written_once_counts_its_visit_once(db_sessions):
    ids = await seed(db_sessions)
    job = AnalysisJob(batch_id="b-2", camera_id=CAMERA, detection_ids=ids)
    read = await read_analysis(db_sessions, job, ZONE, HALF_LIFE)
    assert isinstance(read, ToAnalyse)
    (a, a_new), (b, b_new) = await asyncio.gather(
        *(record_event(db_sessions, job, read, VERDICT, "medium", SCORER, HALF_LIFE) for _ in "ab")
    )
    assert a == b and sorted([a_new, b_new]) == [False, True]
    async with db_sessions() as session:
        habits = (
            await session.execute(select(ClassBaseline.object_class, ClassBaseline.hour))
        ).all()
        visits = list(await session.scalars(select(ActivityBaseline.visits)))
        [event] = list(await session.scalars(select(Event)))
    assert sorted(habits) == [("person", 18), ("vehicle", 18)]
    assert len(visits) == 1
    assert (event.scored_by_engine, event.prompt_version) == ("rules", "rules-test")
    # Delivered again: the event is there, nothing is scored or counted again.
    again = await read_analysis(db_sessions, job, ZONE, HALF_LIFE)
    assert again == AlreadyWritten(event=a)


async def test_a_fast_path_event_counts_no_visit(db_sessions):
    ids = await seed(db_sessions)
    job = AnalysisJob(
        batch_id=f"fast-{ids[0]}", camera_id=CAMERA, detection_ids=ids[:1], is_fast_path=True
    )
    read = await read_analysis(db_sessions, job, ZONE, HALF_LIFE)
    assert isinstance(read, ToAnalyse)
    _, inserted = await record_event(db_sessions, job, read, VERDICT, "medium", SCORER, HALF_LIFE)
    assert inserted
    async with db_sessions() as session:
        assert list(await session.scalars(select(ClassBaseline))) == []


async def test_a_batch_whose_detections_are_gone_leaves_nothing_to_analyse(db_sessions):
    ids = await seed(db_sessions)
    async with db_sessions.begin() as session:
        await session.execute(delete(Detection))
    job = AnalysisJob(batch_id="b-3", camera_id=CAMERA, detection_ids=ids)
    assert await read_analysis(db_sessions, job, ZONE, HALF_LIFE) == NothingLeft()


async def test_a_rebuilt_batch_with_an_older_events_id_has_the_rest_read_as_its_continuation(
    db_sessions,
):
    """After Redis lost its data a rebuilt batch can start with a detection an older batch
    started with, and so carry that batch's id while holding later detections too. Those must
    not pass for a redelivery (never analysed): they are read as the batch's continuation."""
    person, car = await seed(db_sessions)
    first = AnalysisJob(batch_id="b-5", camera_id=CAMERA, detection_ids=[person])
    read = await read_analysis(db_sessions, first, ZONE, HALF_LIFE)
    assert isinstance(read, ToAnalyse) and read.job == first and read.earlier == ()
    older, _ = await record_event(db_sessions, first, read, VERDICT, "medium", SCORER, HALF_LIFE)

    rebuilt = AnalysisJob(batch_id="b-5", camera_id=CAMERA, detection_ids=[person, car])
    read = await read_analysis(db_sessions, rebuilt, ZONE, HALF_LIFE)
    assert isinstance(read, ToAnalyse)
    assert read.job.batch_id == continuation_batch_id("b-5", car) != "b-5"
    assert read.job.detection_ids == [car]
    assert [d.detection_id for d in read.batch.detections] == [car]
    assert read.earlier == (older,)
    rest, inserted = await record_event(
        db_sessions, read.job, read, VERDICT, "medium", SCORER, HALF_LIFE
    )
    assert inserted
    async with db_sessions() as session:
        held = dict((await session.execute(select(Event.batch_id, Event.detection_ids))).all())
        visits = list(await session.scalars(select(ActivityBaseline.visits)))
    assert held == {"b-5": f"[{person}]", read.job.batch_id: f"[{car}]"}
    assert visits == [1.0]  # the continuation is the rest of a visit counted once

    # The rebuilt batch delivered again: both events are found, nothing is analysed again.
    again = await read_analysis(db_sessions, rebuilt, ZONE, HALF_LIFE)
    assert again == AlreadyWritten(event=rest, earlier=(older,))
