"""Alert rules never match on a thing that stayed put (issue 23): an event's classes, read for
its rules, leave out a parked car among its detections."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from homesec.contract.alerts import AlertRule
from homesec.models import Detection
from homesec.policy.alert_rules import match_failure
from homesec.store import alert_facts

AT = dt.datetime(2025, 12, 5, 23, 30, tzinfo=dt.UTC)


async def test_a_parked_car_in_an_event_matches_no_car_rule(rows, db_sessions) -> None:
    await rows.camera("drive", "Drive")
    person = await rows.detection("drive", at=AT)
    car = await rows.detection("drive", kind="car", at=AT)
    async with db_sessions.begin() as session:
        await session.execute(
            update(Detection)
            .where(Detection.id == car)
            .values(stationary=True, spot_since=AT - dt.timedelta(hours=2))
        )
    await rows.event("drive", [person, car], score=70, level="high", fast_path=False, at=AT)
    async with db_sessions() as session:
        [decidable] = await alert_facts.events_after(session, 0, 10)
    assert set(decidable.facts.confidences) == {"person"}
    cars = AlertRule(name="cars", object_types=("car",))
    assert match_failure(cars, decidable.facts, dt.UTC) is not None
    assert (
        match_failure(AlertRule(name="people", object_types=("person",)), decidable.facts, dt.UTC)
        is None
    )
