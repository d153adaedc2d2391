"""Outages are not failures: PostgreSQL or Redis stopped while uploads flow, and started again.

Each test runs a server of its own (homesec's embedded PostgreSQL or Redis, in a temporary
directory) so it can stop it. Every valid upload must end done exactly once, no detection may be
stored twice or sit in two batch events or in none, nothing may reach a dead-letter queue, the
health report must name the outage while it lasts and be clean after. The time from the server's
return to the backlog drained is printed (run with -s to see it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from homesec.contract import keys
from homesec.ops.embedded import EmbeddedPostgres, EmbeddedRedis
from homesec.ops.migrate import upgrade
from homesec.policy.health import actor_problems
from homesec.store.database import create_engine, session_factory
from homesec.store.redis_client import create_redis
from tests.e2e.faults import (
    all_processed,
    assert_exactly_once,
    every_detection_batched,
    write_images,
)
from tests.support.live_pipeline import (
    detections_of,
    e2e_settings,
    events_of,
    running_pipeline,
    unique_camera,
)
from tests.support.waiting import eventually

pytestmark = [pytest.mark.ray, pytest.mark.slow]

UPLOADS = 100
OUTAGE_SECONDS = 10.0


@pytest.fixture
def own_postgres(service_data_dir: Path) -> Iterator[tuple[EmbeddedPostgres, str]]:
    server = EmbeddedPostgres(service_data_dir / "postgres")
    url = server.start()
    upgrade(url)
    try:
        yield server, url
    finally:
        server.stop()


@pytest.fixture
def own_redis(service_data_dir: Path) -> Iterator[tuple[EmbeddedRedis, str]]:
    server = EmbeddedRedis(service_data_dir / "redis")
    url = server.start()
    try:
        yield server, url
    finally:
        server.stop()


async def _report(supervisor):
    return await supervisor.report.options(concurrency_group="health").remote()


async def _outage_seen(supervisor, dependency: str) -> bool:
    """The health report names the dependency while it is away."""
    try:
        report = await asyncio.wait_for(_report(supervisor), 5)
    except Exception:  # a supervisor busy with its own failed cycle answers the next time
        return False
    return any(dependency in problem.summary for problem in actor_problems(report.actors))


async def _unbatched(sessions, cameras, supervisor) -> str:
    """What a stuck rebuild left: the detections no batch event holds, and the batchers' view."""
    import json

    detections = await detections_of(sessions, cameras)
    events = await events_of(sessions, cameras)
    held = {i for e in events if not e.is_fast_path for i in json.loads(e.detection_ids)}
    missing = [
        (d.id, d.camera_id, d.detected_at.isoformat()) for d in detections if d.id not in held
    ]
    health = await supervisor.actor_health.options(concurrency_group="health").remote()
    batchers = {
        name: (item.get("counters"), item.get("detail"), item.get("last_error"))
        for name, item in health.items()
        if name.startswith("batcher:")
    }
    return f"not in a batch event: {missing}\nbatchers: {batchers}"


async def flow_through_outage(
    settings, database_url: str, redis_url: str, dependency: str, stop, start
) -> dict:
    """Run UPLOADS images through the pipeline with ``stop()`` (of ``dependency``) for
    OUTAGE_SECONDS in the middle and ``start()`` after; check the outcome, return the figures."""
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    cameras = [unique_camera("yard"), unique_camera("gate")]
    for camera in cameras:
        (settings.foscam_base_path / camera).mkdir(parents=True)
    try:
        async with running_pipeline(settings, database_url, redis_url) as supervisor:

            async def alive() -> bool:
                report = await _report(supervisor)
                return sum(actor.state == "ALIVE" for actor in report.actors) >= 8

            await eventually(alive, timeout=60.0, what="every actor alive", interval=0.25)
            writer = asyncio.create_task(
                write_images(settings.foscam_base_path, cameras, UPLOADS, pace=0.05)
            )

            async def some_done() -> bool:
                statuses = await all_processed(sessions, cameras, 20)
                return statuses is not None

            await eventually(
                some_done, timeout=120, what="20 uploads done before the outage", interval=0.25
            )
            await asyncio.to_thread(stop)
            stopped = time.monotonic()
            seen = False
            while time.monotonic() - stopped < OUTAGE_SECONDS:
                seen = seen or await _outage_seen(supervisor, dependency)
                await asyncio.sleep(0.5)
            await asyncio.to_thread(start)
            back = time.monotonic()
            expected = await writer
            statuses = await eventually(
                lambda: all_processed(sessions, cameras, UPLOADS),
                timeout=300,
                what="all done",
                interval=0.25,
            )
            drained = time.monotonic() - back
            try:
                outcome = await eventually(
                    lambda: every_detection_batched(sessions, cameras),
                    timeout=120,
                    what="every detection in a batch event",
                    interval=0.25,
                )
            except AssertionError as exc:
                detail = await _unbatched(sessions, cameras, supervisor)
                raise AssertionError(f"{exc}\n{detail}") from None

            async def clean() -> bool:
                report = await _report(supervisor)
                return not actor_problems(report.actors)

            await eventually(
                clean, timeout=60, what="a health report with no problem", interval=0.25
            )
        redis = create_redis(redis_url)
        try:
            dead = [await redis.llen(keys.dlq(queue)) for queue in keys.QUEUES]
        finally:
            await redis.aclose()
    finally:
        await engine.dispose()
    assert statuses == {"done": UPLOADS}
    assert_exactly_once(*outcome, UPLOADS, expected)
    assert dead == [0, 0], "an outage sent jobs to a dead-letter queue"
    assert seen, f"the health report never named {dependency} while it was away"
    figures = {"done": statuses["done"], "expected": UPLOADS, "drained_seconds": drained}
    print(f"\n{dependency} away {OUTAGE_SECONDS:.0f} s: {figures}")
    return figures


async def test_postgresql_away_for_ten_seconds_strands_nothing(
    ray_cluster, own_postgres, redis_url, redis_client, tmp_path: Path
):
    server, url = own_postgres
    await flow_through_outage(
        e2e_settings(tmp_path), url, redis_url, "PostgreSQL", server.stop, server.start
    )


async def test_redis_away_and_back_empty_strands_nothing(
    ray_cluster, migrated_database_url, own_redis, db_sessions, service_data_dir, tmp_path: Path
):
    server, url = own_redis

    def stop_and_lose_everything() -> None:
        server.stop()  # it saves on the way down: delete that, as a Redis without disk would
        (service_data_dir / "redis" / "dump.rdb").unlink(missing_ok=True)

    await flow_through_outage(
        e2e_settings(tmp_path),
        migrated_database_url,
        url,
        "Redis",
        stop_and_lose_everything,
        server.start,
    )
