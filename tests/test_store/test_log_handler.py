"""The database log handler against a real PostgreSQL: bursts, drops, context, failures, close.

Each test logs through a logger of its own (not propagating), so records from anything else in
the test process never mix into the counts.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from homesec.models import Log
from homesec.store.log_handler import DatabaseLogHandler, install_db_log_handler
from homesec.store.log_rows import COMPONENT, json_safe

THREADS = 5
PER_THREAD = 1_000
TOTAL = THREADS * PER_THREAD
# Only catches an emit that waits for PostgreSQL; the burst takes a fraction of this.
BURST_SANITY_SECONDS = 10.0


@pytest.fixture
def logger(request) -> Iterator[logging.Logger]:
    # Short enough for the 50-character component column, which would cut it.
    log = logging.getLogger(f"tests.db_log.{request.node.name[:30]}")
    log.setLevel(logging.DEBUG)
    log.propagate = False
    yield log
    for handler in list(log.handlers):
        log.removeHandler(handler)


def burst(log: logging.Logger) -> float:
    """TOTAL records from THREADS threads at once; the seconds the slowest thread took."""
    start = threading.Barrier(THREADS)
    elapsed: list[float] = []

    def emit_many(thread_index: int) -> None:
        start.wait()
        began = time.perf_counter()
        for i in range(PER_THREAD):
            log.info("record %d of thread %d", i, thread_index, extra={"camera_id": "porch"})
        elapsed.append(time.perf_counter() - began)

    threads = [threading.Thread(target=emit_many, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return max(elapsed)


async def rows_of(db_sessions, component: str) -> list[Log]:
    async with db_sessions() as session:
        query = select(Log).where(Log.component == component).order_by(Log.id)
        return list((await session.scalars(query)).all())


async def count_of(db_sessions, component: str) -> int:
    async with db_sessions() as session:
        query = select(func.count()).select_from(Log).where(Log.component == component)
        return (await session.execute(query)).scalar_one()


async def test_a_burst_from_threads_is_stored_whole(migrated_database_url, db_sessions, logger):
    handler = DatabaseLogHandler(migrated_database_url, logging.DEBUG, queue_size=TOTAL)
    logger.addHandler(handler)

    seconds = burst(logger)
    handler.close()

    assert seconds < BURST_SANITY_SECONDS
    assert handler.dropped == 0
    assert handler.lost == 0
    assert await count_of(db_sessions, logger.name) == TOTAL
    [first] = (await rows_of(db_sessions, logger.name))[:1]
    assert (first.level, first.camera_id, first.source) == ("INFO", "porch", "backend")


async def test_a_full_queue_drops_and_reports_the_count(migrated_database_url, db_sessions, logger):
    handler = DatabaseLogHandler(
        migrated_database_url, logging.DEBUG, queue_size=10, batch_size=10, flush_seconds=0.05
    )
    logger.addHandler(handler)

    seconds = burst(logger)
    handler.close()

    assert seconds < BURST_SANITY_SECONDS
    stored = await count_of(db_sessions, logger.name)
    reports = await rows_of(db_sessions, COMPONENT)
    reported_drops = sum(report.extra["dropped"] for report in reports)
    assert handler.dropped > 0
    assert reported_drops == handler.dropped
    assert stored + reported_drops == TOTAL
    assert all(report.level == "WARNING" for report in reports)
    assert handler.lost == 0


async def test_context_lands_in_its_columns(migrated_database_url, db_sessions):
    long_name = "tests.db_log." + "a_component_name_longer_than_the_column_" * 2
    log = logging.getLogger(long_name)
    log.setLevel(logging.DEBUG)
    log.propagate = False
    handler = DatabaseLogHandler(migrated_database_url, logging.DEBUG)
    log.addHandler(handler)
    try:
        log.warning(
            "door %s opened\x00",
            "front",
            extra={
                "camera_id": "front_door",
                "event_id": 42,
                "detection_id": 7,
                "request_id": "6f1c2b1e-0d7a-4c1e-9a51-1d2f3e4a5b6c",
                "duration_ms": 12.6,
                "zone": "porch",
                "score": math.nan,
                "nested": {"when": (1, 2), 3: object},
                "_factory_private": "left out, like Ray's _ray_timestamp_ns",
            },
        )
        try:
            raise RuntimeError("lens covered")
        except RuntimeError:
            log.exception("camera check failed", extra={"event_id": "not-an-id"})
        log.info("plain")
    finally:
        log.removeHandler(handler)
        handler.close()

    rows = await rows_of(db_sessions, long_name[:50])
    assert len(rows) == 3
    context, failure, plain = rows
    assert context.message == "door front opened"  # NUL removed: PostgreSQL text refuses it
    assert context.level == "WARNING"
    assert (context.camera_id, context.event_id, context.detection_id) == ("front_door", 42, 7)
    assert context.request_id == "6f1c2b1e-0d7a-4c1e-9a51-1d2f3e4a5b6c"
    assert context.duration_ms == 13
    assert context.extra == {
        "zone": "porch",
        "score": "nan",
        "nested": {"when": [1, 2], "3": "<class 'object'>"},
    }
    assert failure.level == "ERROR"
    assert failure.message.startswith("camera check failed\nTraceback")
    assert "RuntimeError: lens covered" in failure.message
    assert failure.event_id is None
    assert failure.extra == {"event_id": "not-an-id"}  # wrong type for the column: kept aside
    async with db_sessions() as session:
        null_extra = await session.scalar(select(Log.extra.is_(None)).where(Log.id == plain.id))
    assert null_extra  # SQL NULL, not the JSON value null


@pytest.mark.parametrize(
    "bad_url",
    ["postgresql+asyncpg://nobody@127.0.0.1:1/nothing", "not a database url"],
    ids=["refused", "unparseable"],
)
def test_a_database_that_is_down_never_reaches_the_caller(bad_url, logger, capfd):
    handler = DatabaseLogHandler(bad_url, logging.DEBUG, flush_seconds=0.05)
    # The database libraries' own loggers, chatty as can be: their records must not come back.
    watched = [logger, *(logging.getLogger(name) for name in ("sqlalchemy", "asyncpg", "asyncio"))]
    saved_levels = [log.level for log in watched]
    for log in watched:
        log.setLevel(logging.DEBUG)
        log.addHandler(handler)
    try:
        for i in range(100):
            logger.error("record %d", i)
            time.sleep(0.001)
        handler.close()
    finally:
        for log, level in zip(watched, saved_levels, strict=True):
            log.removeHandler(handler)
            log.setLevel(level)

    assert handler.written == 0
    assert handler.lost == 100  # exactly ours: nothing of its own came back around
    complaints = [line for line in capfd.readouterr().err.splitlines() if "log record" in line]
    assert len(complaints) == 1  # at most once a minute


async def test_close_flushes_what_is_queued(migrated_database_url, db_sessions, logger):
    handler = DatabaseLogHandler(migrated_database_url, logging.DEBUG, flush_seconds=60.0)
    logger.addHandler(handler)
    for i in range(3):
        logger.info("queued %d", i)

    began = time.monotonic()
    handler.close()

    assert time.monotonic() - began < 10.0  # woken at once, not after the 60 s flush interval
    assert [row.message for row in await rows_of(db_sessions, logger.name)] == [
        "queued 0",
        "queued 1",
        "queued 2",
    ]
    logger.info("after close")  # ignored, no error
    assert handler.written == 3


async def test_install_follows_log_level(migrated_database_url, db_sessions):
    log = logging.getLogger("tests.db_log.installed")
    log.setLevel(logging.DEBUG)
    handler = install_db_log_handler(migrated_database_url, "WARNING")
    try:
        assert handler in logging.getLogger().handlers
        log.info("below LOG_LEVEL")
        log.warning("at LOG_LEVEL")
    finally:
        handler.close()
    assert handler not in logging.getLogger().handlers
    assert [row.message for row in await rows_of(db_sessions, log.name)] == ["at LOG_LEVEL"]


def test_json_safe_survives_cycles_and_odd_values():
    cyclic: dict = {"name": "loop"}
    cyclic["self"] = cyclic
    safe = json_safe(cyclic)
    depth = 0
    while isinstance(safe, dict) and "self" in safe:
        safe, depth = safe["self"], depth + 1
    assert isinstance(safe, str)  # cut off as text at the depth limit
    assert depth > 1
    assert json_safe({"inf": math.inf, "text": "a\x00b", "set": {1}}) == {
        "inf": "inf",
        "text": "ab",
        "set": [1],
    }
