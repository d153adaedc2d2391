"""Things that stay put, measured: a night of snapshots of a parked car, with a passer-by in a
few of them, fed through the real path (the Detector's memory read and stationary marks,
``workflows/detection_store.py``; the detections stored and their uploads marked done,
``store/detections.py``; the batching policy, ``policy/batching.py``). Prints the visits made
against the snapshots taken, with the check on and off, and what the memory read costs per
detector batch. Asserts nothing.

The night (seeded, so every run is the same): a snapshot every ``--every`` seconds from 21:00 to
07:00; a car parked on the drive all along, its box wobbling a few pixels and missed by the
detector in some dark frames; at 02:00 it drives off and at 03:30 a different car parks on the
same spot; passers-by walk through a few snapshots each, some of them in front of the car.
The detector sees nothing else. A visit is a batch the Batcher would hand the Analyst.

Needs a PostgreSQL server (a scratch database is made and dropped): ``HOMESEC_BENCH_DATABASE_URL``
or the local one.

    .venv/bin/python bench/stationary.py [--every 60] [--passers-by 8] [--walk 1] [--seed 23]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from homesec.contract.analysis import BoundingBox, Detection
from homesec.models import Camera
from homesec.models import Detection as DetectionRow
from homesec.ops.migrate import upgrade
from homesec.policy import batching
from homesec.policy.stationary import StationaryPolicy
from homesec.store.database import create_engine, scratch_database, session_factory
from homesec.store.detections import ImageDetections, store_images
from homesec.workflows.detection_store import with_stationary_marks

SERVER = os.environ.get(
    "HOMESEC_BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
DUSK = dt.datetime(2026, 12, 7, 21, 0, tzinfo=dt.UTC)
DAWN = DUSK + dt.timedelta(hours=10)
CAR = BoundingBox(820, 520, 610, 330)  # on a 1920 x 1080 frame
SECOND_CAR = BoundingBox(845, 505, 640, 350)  # parks a little differently, same spot
CAR_LEAVES = DUSK + dt.timedelta(hours=5)
SECOND_CAR_PARKS = DUSK + dt.timedelta(hours=6, minutes=30)
MISSED = 0.05  # the share of dark frames in which the detector misses the car


def wobble(box: BoundingBox, rng: random.Random) -> BoundingBox:
    return BoundingBox(
        box.x + rng.randint(-6, 6),
        box.y + rng.randint(-6, 6),
        box.width + rng.randint(-8, 8),
        box.height + rng.randint(-8, 8),
    )


def night(every: float, passers_by: int, walk: int, rng: random.Random):
    """The snapshots, in order: (time, detections), and the passers-by's times."""
    times = []
    at = DUSK
    while at < DAWN:
        times.append(at)
        at += dt.timedelta(seconds=every)
    # Each passer-by crosses the view in ``walk`` snapshots, left to right, some in front of
    # the car; no two walk at once.
    walks: dict[int, list[Detection]] = {}
    slots = rng.sample(range((len(times) - walk) // (walk + 40)), passers_by)
    starts = sorted(slot * (walk + 40) + rng.randint(0, 20) for slot in slots)
    for start in starts:
        y = rng.choice([430, 600])
        for step in range(walk):
            box = BoundingBox(200 + 500 * step + rng.randint(-40, 40), y, 120, 330)
            walks.setdefault(start + step, []).append(Detection("person", 0.91, box))
    snapshots = []
    for index, taken in enumerate(times):
        found: list[Detection] = []
        car = None
        if taken < CAR_LEAVES:
            car = CAR
        elif taken >= SECOND_CAR_PARKS:
            car = SECOND_CAR
        if car is not None and rng.random() >= MISSED:
            found.append(Detection("car", round(rng.uniform(0.6, 0.9), 2), wobble(car, rng)))
        found.extend(walks.get(index, []))
        snapshots.append((taken, found))
    return snapshots, starts


async def run_night(sessions, camera_id: str, snapshots, policy: StationaryPolicy):
    """Feed the night through the real path; the visits made and the memory reads' seconds."""
    batch_policy = batching.BatchPolicy()
    state: batching.BatchState | None = None
    fired_at: float | None = None
    jobs: list = []
    reads: list[float] = []
    for index, (taken, found) in enumerate(snapshots):
        now = taken.timestamp()
        tick = batching.on_tick(state, now, batch_policy)
        state = tick.state
        jobs.extend(closed.job for closed in tick.closed)
        image = ImageDetections(
            camera_id=camera_id,
            file_path=f"/cams/{camera_id}/{index:05}.jpg",
            sha256=None,
            file_type="image/jpeg",
            detections=found,
            thumbnail_paths=[None] * len(found),
            captured_at=taken,
        )
        started = time.perf_counter()
        [marked] = await with_stationary_marks(sessions, [image], taken, policy)
        reads.append(time.perf_counter() - started)
        [stored] = await store_images(sessions, [marked], taken)
        moving = [d for d in stored.detections if not d.stationary]
        if moving:
            decision = batching.on_detections(state, camera_id, moving, now, batch_policy, fired_at)
            state, fired_at = decision.state, decision.fast_path_fired_at
            jobs.extend(decision.jobs)
    visits = [job for job in jobs if not job.is_fast_path] + ([state] if state else [])
    alarms = [job for job in jobs if job.is_fast_path]
    return visits, alarms, reads


async def main_async(args, url: str) -> None:
    rng = random.Random(args.seed)
    snapshots, starts = night(args.every, args.passers_by, args.walk, rng)
    with_people = sum(any(d.object_type == "person" for d in found) for _, found in snapshots)
    with_car = sum(any(d.object_type == "car" for d in found) for _, found in snapshots)
    print(f"night: {len(snapshots)} snapshots, one every {args.every:g} s, 21:00-07:00")
    print(f"  a car in {with_car} of them (gone 02:00-03:30, then a different car)")
    print(f"  {len(starts)} passers-by, in {with_people} snapshots")
    print(f"  each passer-by in {args.walk} snapshot(s), {args.every:g} s apart")
    print(
        f"  wanted: a visit per passer-by and one per car parking = {len(starts) + 2} "
        "(the Batcher closes a visit after 30 s idle, so a passer-by seen in snapshots more "
        "than 30 s apart is a visit per snapshot, with or without this check)"
    )

    engine = create_engine(url)
    sessions = session_factory(engine)
    try:
        policy = StationaryPolicy(
            forget_seconds=args.forget_minutes * 60, settle_seconds=args.settle_seconds
        )
        for camera_id, label, used in (
            ("drive_on", "stationary check on ", policy),
            ("drive_off", "stationary check off", StationaryPolicy(forget_seconds=0)),
        ):
            async with sessions.begin() as session:
                session.add(Camera(id=camera_id, name=camera_id, folder_path=f"/cams/{camera_id}"))
            visits, alarms, reads = await run_night(sessions, camera_id, snapshots, used)
            print(
                f"{label}: {len(visits)} visits, {len(alarms)} immediate alerts "
                f"for {len(snapshots)} snapshots"
            )
            if used.enabled:
                stationary = await _stationary_count(sessions, camera_id)
                ms = sorted(r * 1000 for r in reads)
                print(
                    f"  {stationary} detections stored as stationary; memory read + marks per "
                    f"batch: median {statistics.median(ms):.2f} ms, "
                    f"p95 {ms[int(len(ms) * 0.95)]:.2f} ms, max {ms[-1]:.2f} ms"
                )
                opened = [
                    dt.datetime.fromtimestamp(v.started_at, dt.UTC).strftime("%H:%M")
                    for v in visits
                ]
                print(f"  visits opened at {', '.join(sorted(opened))}")
    finally:
        await engine.dispose()


async def _stationary_count(sessions, camera_id: str) -> int:
    async with sessions() as session:
        return await session.scalar(
            select(func.count()).where(DetectionRow.camera_id == camera_id, DetectionRow.stationary)
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=float, default=60.0, help="seconds between snapshots")
    parser.add_argument("--passers-by", type=int, default=8)
    parser.add_argument("--walk", type=int, default=1, help="snapshots a passer-by is in")
    parser.add_argument("--seed", type=int, default=23)
    parser.add_argument("--forget-minutes", type=float, default=10.0)
    parser.add_argument("--settle-seconds", type=float, default=60.0)
    args = parser.parse_args()
    with scratch_database(SERVER, "homesec_bench_stationary") as url:
        upgrade(url)
        asyncio.run(main_async(args, url))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
