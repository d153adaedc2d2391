"""DetectionWork with things that stay put, on a real PostgreSQL and Redis: a parked car fed
every ten seconds is stored all along but handed to the Batcher only until it has settled, so
the real batching policy makes one visit of it; a passer-by beside it still opens one; a car
that moves counts again; the memory is PostgreSQL's, so a restarted Detector, and a Batcher
recovering after Redis lost its data, still know the car is parked."""

from __future__ import annotations

import datetime as dt

from PIL import Image

from homesec.contract.analysis import BoundingBox, Detection
from homesec.policy import batching
from homesec.policy.stationary import StationaryPolicy
from homesec.store.detections import uncovered_detections
from homesec.workflows.detection import DetectionWork
from tests.support.detection_work import rows
from tests.support.images import BLUE
from tests.support.pipeline import CAMERA

START = dt.datetime(2026, 12, 7, 21, 40, tzinfo=dt.UTC).timestamp()
PARKED = Detection("car", 0.9, BoundingBox(300, 200, 200, 120))
MOVED = Detection("car", 0.9, BoundingBox(420, 200, 200, 120))
PASSER_BY = Detection("person", 0.95, BoundingBox(40, 150, 50, 160))
POLICY = StationaryPolicy(forget_seconds=10 * 60, min_iou=0.7, settle_seconds=60)


class Scene:
    """The engine: each image shows what the test put in front of the camera."""

    def __init__(self) -> None:
        self.now: list[Detection] = []

    async def detect(self, images: list[Image.Image]) -> list[list[Detection]]:
        return [list(self.now) for _ in images]


class Clock:
    def __init__(self) -> None:
        self.t = START

    def __call__(self) -> float:
        return self.t


def watched(house, work: DetectionWork | None = None) -> tuple[Scene, Clock, DetectionWork]:
    scene, clock = Scene(), Clock()
    work = work or house.work
    work.detect, work.clock, work.stationary = scene.detect, clock, POLICY
    return scene, clock, work


class Visits:
    """The real batching policy fed with each hand-over at the Detector's clock."""

    def __init__(self) -> None:
        self.state: batching.BatchState | None = None
        self.fired_at: float | None = None
        self.jobs: list = []
        self.policy = batching.BatchPolicy()

    def feed(self, handed, now: float) -> None:
        for _camera, detections in handed:
            decision = batching.on_detections(
                self.state, CAMERA, detections, now, self.policy, self.fired_at
            )
            self.state, self.fired_at = decision.state, decision.fast_path_fired_at
            self.jobs.extend(decision.jobs)

    def count(self) -> int:
        batches = [job for job in self.jobs if not job.is_fast_path]
        return len(batches) + (self.state is not None)


async def snapshot(house, work: DetectionWork, name: str, visits: Visits, now: float) -> None:
    before = len(house.directory.handed)
    await house.queue(name, BLUE)
    assert await work.round() is None
    visits.feed(house.directory.handed[before:], now)
    tick = batching.on_tick(visits.state, now, visits.policy)
    visits.state = tick.state
    visits.jobs.extend(closed.job for closed in tick.closed)


async def test_a_parked_car_makes_one_visit_and_each_passer_by_one(house, db_sessions):
    scene, clock, work = watched(house)
    visits = Visits()
    scene.now = [PARKED]
    for i in range(60):  # ten minutes of a snapshot every ten seconds
        clock.t = START + 10 * i
        scene.now = [PARKED, PASSER_BY] if i in (30, 50) else [PARKED]
        await snapshot(house, work, f"{i:03}.jpg", visits, clock.t)

    stored = await rows(db_sessions)
    cars = [row for row in stored if row.object_type == "car"]
    assert len(cars) == 60  # every snapshot's car is stored: the owner can see it
    assert [row.stationary for row in cars[:6]] == [False] * 6  # settling (60 s)
    assert all(row.stationary for row in cars[6:])
    assert {row.spot_since for row in cars} == {dt.datetime.fromtimestamp(START, dt.UTC)}
    people = [row for row in stored if row.object_type == "person"]
    assert [row.stationary for row in people] == [False, False]
    # The car's arrival is one visit; each passer-by, on one spot 200 s apart, is one more
    # (with its fast path).
    assert visits.count() == 3
    assert sum(job.is_fast_path for job in visits.jobs) == 2
    assert house.tally.counters["stationary"] == 54


async def test_a_car_that_moves_counts_again(house, db_sessions):
    scene, clock, work = watched(house)
    visits = Visits()
    for i, seen in enumerate([PARKED] * 10 + [MOVED] * 2):
        clock.t = START + 30 * i
        scene.now = [seen]
        await snapshot(house, work, f"{i:03}.jpg", visits, clock.t)
    marks = [row.stationary for row in await rows(db_sessions)]
    assert marks == [False] * 2 + [True] * 8 + [False] * 2
    handed = [d for _, detections in house.directory.handed for d in detections]
    assert len(handed) == 4


async def test_the_memory_survives_a_restarted_detector_and_redis_losing_its_data(
    house, db_sessions
):
    scene, clock, work = watched(house)
    visits = Visits()
    for i in range(4):
        clock.t = START + 60 * i
        scene.now = [PARKED]
        await snapshot(house, work, f"{i:03}.jpg", visits, clock.t)
    # A new Detector (a restart): nothing in memory but PostgreSQL's rows.
    restarted = DetectionWork(
        "detector:restarted",
        work.settings,
        work.consumer,
        db_sessions,
        work.redis,
        house.directory,
        work.detect,
        house.tally,
    )
    restarted.detect, restarted.clock, restarted.stationary = scene.detect, clock, POLICY
    clock.t = START + 300
    before = len(house.directory.handed)
    await house.queue("after-restart.jpg", BLUE)
    assert await restarted.round() is None
    assert house.directory.handed[before:] == []  # nothing moving: no call
    last = (await rows(db_sessions))[-1]
    assert last.file_path.endswith("after-restart.jpg")
    assert last.stationary
    assert last.spot_since == dt.datetime.fromtimestamp(START, dt.UTC)

    # Redis lost its data: the Batcher re-batches the detections no event holds, not the
    # parked ones.
    since = dt.datetime.fromtimestamp(START - 60, dt.UTC)
    orphans = await uncovered_detections(db_sessions, CAMERA, since)
    stored = await rows(db_sessions)
    assert [d.detection_id for d in orphans] == [r.id for r in stored if not r.stationary]
    assert len(orphans) == 1


async def test_an_empty_frame_between_two_people_on_one_spot_keeps_the_second_a_visit(
    house, db_sessions
):
    scene, clock, work = watched(house)
    visits = Visits()
    door = Detection("person", 0.93, BoundingBox(100, 50, 60, 180))
    # Someone stands at the door for two minutes (they settle: stationary by the end) ...
    for i in range(5):
        clock.t = START + 30 * i
        scene.now = [door]
        await snapshot(house, work, f"first-{i}.jpg", visits, clock.t)
    # ... leaves (three frames with nobody), and someone else stands on the same spot.
    for i in range(3):
        clock.t = START + 150 + 30 * i
        scene.now = []
        await snapshot(house, work, f"empty-{i}.jpg", visits, clock.t)
    clock.t = START + 300
    scene.now = [door]
    await snapshot(house, work, "second.jpg", visits, clock.t)

    marks = [(row.file_path.rsplit("/", 1)[1], row.stationary) for row in await rows(db_sessions)]
    assert marks[-1] == ("second.jpg", False)  # the empty frames broke the chain: a visit
    assert [stationary for _, stationary in marks[:5]] == [False, False, True, True, True]
