"""The cameras' habits in PostgreSQL: counted as visits are stored, read back for scoring,
rebuilt from the stored events by the backfill."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from sqlalchemy import select

from homesec.contract.analysis import AnalysisContext, DetectionSummary
from homesec.engines.llm.rules import assess_by_rules
from homesec.models import ActivityBaseline, Camera, ClassBaseline, Detection, Event
from homesec.ops.backfill import BackfillOptions
from homesec.ops.backfill_run import run_backfill
from homesec.store.baselines import load_baseline, rebuild_baselines, record_visit
from tests.support.settings import make_settings

ZONE = zoneinfo.ZoneInfo("Europe/Berlin")
HALF_LIFE = 30.0
FIRST_DAY = dt.date(2026, 5, 1)
CAMERA = "driveway"


def local(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(
        FIRST_DAY + dt.timedelta(days=day), dt.time(hour, minute), tzinfo=ZONE
    )


async def add_camera(db_sessions) -> None:
    async with db_sessions.begin() as session:
        session.add(Camera(id=CAMERA, name="Driveway", folder_path="/cams/driveway"))


async def visit(db_sessions, when: dt.datetime, kinds: set[str]) -> None:
    async with db_sessions.begin() as session:
        await record_visit(session, CAMERA, when, kinds, HALF_LIFE)


async def test_people_at_the_driveway_every_evening_are_usual_and_a_day_counts_once(db_sessions):
    await add_camera(db_sessions)
    for day in range(30):
        await visit(db_sessions, local(day, 17, 40), {"person", "vehicle"})
        if day % 3 == 0:
            await visit(db_sessions, local(day, 17, 55), {"person"})  # same day: counted once
    await visit(db_sessions, local(2, 3), {"animal"})
    baseline = await load_baseline(db_sessions, CAMERA, local(30, 17, 45), HALF_LIFE)
    assert baseline.hour == 17
    assert 20 < baseline.history_days < 31
    person = baseline.days_seen("person")
    assert person == pytest.approx(baseline.history_days - 1, abs=1.0)  # all days but today
    assert baseline.days_seen("vehicle") == pytest.approx(person)
    assert baseline.days_seen("animal") == 0  # at 03:00, not around 17:45
    # Thursdays at 17:00: one or two visits a week.
    assert baseline.weekday_hour_visits is not None and 0.8 < baseline.weekday_hour_visits < 2.5
    # The rules read it back the way an owner counts days.
    person_at = AnalysisContext(
        camera_id=CAMERA,
        camera_name="Driveway",
        local_time=local(30, 17, 45),
        detections=[
            DetectionSummary(
                detection_id=1, object_type="person", confidence=0.9, detected_at=local(30, 17, 45)
            )
        ],
        baseline=baseline,
    )
    assert re.search(
        r"people at the driveway around 17:45 are usual here: seen on 2[89] of the last 30 days",
        assess_by_rules(person_at).reasoning,
    )
    at_night = await load_baseline(db_sessions, CAMERA, local(30, 3, 10), HALF_LIFE)
    assert at_night.days_seen("person") == 0 and 0 < at_night.days_seen("animal") < 1


async def test_a_camera_without_visits_has_no_history(db_sessions):
    await add_camera(db_sessions)
    baseline = await load_baseline(db_sessions, CAMERA, local(0, 12), HALF_LIFE)
    assert baseline.history_days == 0 and baseline.habits == []


async def _stored_rows(db_sessions) -> tuple[list[tuple], list[tuple]]:
    async with db_sessions() as session:
        kinds = (
            await session.execute(
                select(
                    ClassBaseline.object_class,
                    ClassBaseline.hour,
                    ClassBaseline.days_seen,
                    ClassBaseline.first_seen_on,
                    ClassBaseline.last_seen_on,
                ).order_by(ClassBaseline.object_class, ClassBaseline.hour)
            )
        ).all()
        slots = (
            await session.execute(
                select(
                    ActivityBaseline.day_of_week,
                    ActivityBaseline.hour,
                    ActivityBaseline.visits,
                    ActivityBaseline.last_visit_on,
                ).order_by(ActivityBaseline.day_of_week, ActivityBaseline.hour)
            )
        ).all()
    return [tuple(r) for r in kinds], [tuple(r) for r in slots]


async def test_the_backfill_rebuilds_the_same_baselines_from_the_stored_visits(
    db_sessions, migrated_database_url, redis_url, tmp_path
):
    await add_camera(db_sessions)
    visits = [(local(day, 8 + day % 3, 15), "person") for day in range(12)]
    visits += [(local(day, 22), "car") for day in range(0, 12, 4)]
    async with db_sessions.begin() as session:
        for n, (when, object_type) in enumerate(visits):
            detection = Detection(
                camera_id=CAMERA,
                file_path=f"/cams/driveway/{n}.jpg",
                detected_at=when,
                object_type=object_type,
                confidence=0.9,
            )
            session.add(detection)
            await session.flush()
            session.add(
                Event(
                    batch_id=f"b{n}",
                    camera_id=CAMERA,
                    started_at=when,
                    detection_ids=f"[{detection.id}]",
                )
            )
            # A fast-path event of the same visit is not a visit of its own.
            session.add(
                Event(
                    batch_id=f"fast-{detection.id}",
                    camera_id=CAMERA,
                    started_at=when,
                    detection_ids=f"[{detection.id}]",
                    is_fast_path=True,
                )
            )
    for when, object_type in sorted(visits):
        kind = "vehicle" if object_type == "car" else "person"
        await visit(db_sessions, when, {kind})
    live = await _stored_rows(db_sessions)

    # Lost or wrong: the rebuild learns them again.
    await visit(db_sessions, local(20, 8), {"bear"})
    assert await rebuild_baselines(db_sessions, [CAMERA], ZONE, HALF_LIFE) == len(visits)
    assert await _stored_rows(db_sessions) == live

    settings = make_settings(tmp_path, foscam_base_path=tmp_path, timezone="Europe/Berlin")
    said: list[str] = []
    await visit(db_sessions, local(20, 8), {"bear"})
    result = await run_backfill(
        BackfillOptions(rebuild_baselines=True),
        settings,
        migrated_database_url,
        redis_url,
        say=said.append,
    )
    assert result.exit_code == 0 and result.outcomes == {"counted": len(visits)}
    assert await _stored_rows(db_sessions) == live
    assert any("rebuilt from 15 visits" in line for line in said)
