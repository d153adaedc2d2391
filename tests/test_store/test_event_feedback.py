"""A camera's recent feedback read from PostgreSQL with the kinds of objects of each event, and
the calibration made of it."""

from __future__ import annotations

import datetime as dt
import itertools

from homesec.models import Camera, Detection, Event, EventFeedback
from homesec.store.event_feedback import load_calibration, recent_feedback
from homesec.store.events import encode_detection_ids

NOW = dt.datetime(2026, 12, 4, 22, 0, tzinfo=dt.UTC)
_batches = itertools.count(1)


async def add_detections(session, camera_id: str, *object_types: str) -> list[int]:
    rows = [
        Detection(
            camera_id=camera_id,
            file_path=f"/cams/{camera_id}/{n}-{object_type}.jpg",
            detected_at=NOW - dt.timedelta(days=1),
            object_type=object_type,
            confidence=0.9,
        )
        for n, object_type in enumerate(object_types)
    ]
    session.add_all(rows)
    await session.flush()
    return [row.id for row in rows]


async def add_event(
    session, camera_id: str, ids: list[int], level: str = "high", **fields
) -> Event:
    event = Event(
        batch_id=f"{camera_id}-{next(_batches)}",
        camera_id=camera_id,
        started_at=NOW - dt.timedelta(days=1),
        risk_score={"low": 10, "medium": 40, "high": 70, "critical": 90}[level],
        risk_level=level,
        detection_ids=encode_detection_ids(ids),
        **fields,
    )
    session.add(event)
    await session.flush()
    return event


def feedback(event: Event, days_ago: float, kind: str = "false_alarm", should_be=None):
    return EventFeedback(
        event_id=event.id,
        feedback=kind,
        should_be=should_be,
        created_at=NOW - dt.timedelta(days=days_ago),
    )


async def test_feedback_is_read_with_its_events_kinds_one_visit_per_pair(db_sessions):
    async with db_sessions.begin() as session:
        for camera_id in ("yard", "street"):
            session.add(Camera(id=camera_id, name=camera_id, folder_path=f"/cams/{camera_id}"))
        await session.flush()
        person, car, dog = await add_detections(session, "yard", "person", "car", "dog")
        fast = await add_event(session, "yard", [person], is_fast_path=True)
        batch = await add_event(session, "yard", [person, car], supersedes_event_id=fast.id)
        dog_event = await add_event(session, "yard", [dog], level="low")
        gone = await add_event(session, "yard", [999_999])  # its detections were deleted
        [passer] = await add_detections(session, "street", "person")
        street = await add_event(session, "street", [passer])
        session.add_all(
            [
                feedback(fast, 3),
                feedback(batch, 2, "wrong_severity", "medium"),  # changed their mind
                feedback(dog_event, 1, "wrong_severity", "high"),
                feedback(gone, 1),
                feedback(street, 1),
                feedback(batch, 61),  # before the window
            ]
        )

    async with db_sessions() as session:
        facts = await recent_feedback(session, "yard", NOW - dt.timedelta(days=60))
    assert [(f.visit_id, f.feedback, f.should_be, f.scored, sorted(f.kinds)) for f in facts] == [
        (fast.id, "false_alarm", None, "high", ["person"]),
        (fast.id, "wrong_severity", "medium", "high", ["person", "vehicle"]),
        (dog_event.id, "wrong_severity", "high", "low", ["animal"]),
        (gone.id, "false_alarm", None, "high", []),
    ]
    assert facts[0].given_at == NOW - dt.timedelta(days=3)

    calibration = await load_calibration(db_sessions, "yard", NOW)
    assert calibration is not None
    person = calibration.of("person")
    # One visit, its latest word: "should be medium" (lower than high), not the false alarm.
    assert person is not None
    assert (person.events, person.false_alarms, person.lower, person.offset) == (1, 0, 1, 0)
    assert calibration.of("animal").higher == 1
    assert await load_calibration(db_sessions, "nowhere", NOW) is None


async def test_enough_false_alarms_pull_that_cameras_people_down(db_sessions):
    async with db_sessions.begin() as session:
        session.add(Camera(id="yard", name="yard", folder_path="/cams/yard"))
        await session.flush()
        for day in range(4):
            [person] = await add_detections(session, "yard", "person")
            event = await add_event(session, "yard", [person])
            session.add(feedback(event, day))
    calibration = await load_calibration(db_sessions, "yard", NOW)
    assert calibration is not None and [k.kind for k in calibration.kinds] == ["person"]
    person = calibration.of("person")
    assert (person.events, person.false_alarms) == (4, 4)
    assert -15 <= person.offset <= -9
