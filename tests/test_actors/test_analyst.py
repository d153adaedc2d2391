"""The Analyst against a real PostgreSQL, a real Redis and, for the OpenAI-compatible engine, a
real HTTP server standing in for the LLM (the edge of the world).

The actor runs as a plain object in the test's event loop; one test runs it as a Ray actor.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
import pytest
from sqlalchemy import delete, select

from homesec.actors.analyst import Analyst
from homesec.contract import keys
from homesec.contract.analysis import AnalysisContext, BoundingBox, DetectionSummary, RiskAssessment
from homesec.contract.jobs import AnalysisJob
from homesec.engines.llm.openai_compatible import OpenAICompatibleEngine
from homesec.engines.llm.rules import RULES_SCORER, assess_by_rules
from homesec.models import Camera, ClassBaseline, Detection, Event, EventFeedback
from homesec.policy.batching import continuation_batch_id
from homesec.policy.prompt import PROMPT_VERSION
from homesec.policy.retry import CircuitBreaker
from homesec.policy.risk import risk_level
from homesec.policy.scoring import RULES_VERSION
from homesec.settings import RiskBands, Settings
from homesec.store import house_modes
from homesec.store.analysis import ToAnalyse, read_analysis, record_event
from homesec.store.event_channel import publish_event_once
from homesec.store.streams import RetryBook, StreamEntry, enqueue
from tests.support.analyst import analyst_settings, image_of, seed_detections
from tests.support.llm_server import GOOD_ANSWER, FakeLlmServer, Script, serve_fake_llm, unused_port
from tests.support.waiting import eventually

CAMERA_ID = "front_door"
CAMERA_NAME = "Front Door"
NIGHT = dt.datetime(2024, 3, 5, 2, 30, tzinfo=dt.UTC)
MAX_RETRIES = 3
FAST_RETRIES = 0.02  # backoff base: retries within 20, 40, 80 ms
WAIT_SECONDS = 15.0
HALF_LIFE = 30.0  # BASELINE_HALF_LIFE_DAYS

# Two people in one frame, then a car: the rules engine scores this 88 (see expected_context).
SEEN = [
    ("person", 0.93, NIGHT, (10, 20, 30, 60)),
    ("person", 0.81, NIGHT, (50, 20, 30, 60)),
    ("car", 0.70, NIGHT + dt.timedelta(seconds=20), (0, 100, 200, 80)),
]


# --- helpers ----------------------------------------------------------------------------------
async def seed(
    db_sessions, seen=SEEN, camera_id: str = CAMERA_ID, camera_name: str = CAMERA_NAME
) -> list[int]:
    """A camera and its detections; their ids in the order given."""
    return await seed_detections(db_sessions, seen, camera_id, camera_name)


def make_job(ids: list[int], **fields: Any) -> AnalysisJob:
    """A job with a batch id of its own (see :func:`received`). The ids are listed newest
    first on purpose: the event orders them by time."""
    return AnalysisJob(
        batch_id=f"batch-{secrets.token_hex(4)}",
        camera_id=CAMERA_ID,
        detection_ids=ids[::-1],
        **fields,
    )


def expected_context(ids: list[int], seen=SEEN, is_fast_path: bool = False) -> AnalysisContext:
    """The context the analyst should build, written out independently of its code."""
    return AnalysisContext(
        camera_id=CAMERA_ID,
        camera_name=CAMERA_NAME,
        local_time=seen[0][2],  # HOMESEC_TIMEZONE=UTC
        detections=[
            DetectionSummary(
                detection_id=detection_id,
                object_type=object_type,
                confidence=confidence,
                detected_at=detected_at,
                bbox=BoundingBox(*box),
                image=image_of(CAMERA_ID, detected_at),
            )
            for detection_id, (object_type, confidence, detected_at, box) in zip(
                ids, seen, strict=True
            )
        ],
        is_fast_path=is_fast_path,
    )


async def stored_events(db_sessions) -> list[Event]:
    async with db_sessions() as session:
        return list(await session.scalars(select(Event).order_by(Event.id)))


async def is_acked(redis, entry_id: str) -> bool:
    """Delivered to the analysts' group and no longer pending there."""
    groups = {g["name"]: g for g in await redis.xinfo_groups(keys.ANALYSIS_QUEUE)}
    group = groups.get(keys.ANALYST_GROUP)
    if group is None:
        return False

    def position(entry: str) -> tuple[int, ...]:
        return tuple(int(part) for part in entry.split("-"))

    delivered = position(group["last-delivered-id"]) >= position(entry_id)
    pending = await redis.xpending_range(
        keys.ANALYSIS_QUEUE, keys.ANALYST_GROUP, min=entry_id, max=entry_id, count=1
    )
    return delivered and not pending


async def wait_acked(redis, entry_id: str) -> None:
    async def acked() -> bool:
        return await is_acked(redis, entry_id)

    await eventually(acked, WAIT_SECONDS)


@asynccontextmanager
async def running(analyst: Analyst) -> AsyncIterator[Analyst]:
    task = asyncio.create_task(analyst.run())
    try:
        yield analyst
        assert not task.done(), f"the main loop ended early: {analyst.last_error}"
    finally:
        await analyst.stop()
        await asyncio.gather(task, return_exceptions=True)


@asynccontextmanager
async def subscriber(redis) -> AsyncIterator[Any]:
    pubsub = redis.pubsub()
    await pubsub.subscribe(keys.SECURITY_EVENTS)
    # Wait for the confirmation, so nothing published from now on can be missed.
    confirmation = await pubsub.get_message(timeout=5)
    assert confirmation and confirmation["type"] == "subscribe"
    try:
        yield pubsub
    finally:
        await pubsub.aclose()


async def received(pubsub, *jobs: AnalysisJob, quiet: float = 0.3) -> list[dict[str, Any]]:
    """The messages so far about ``jobs``' batches, once the channel stayed quiet for ``quiet``
    seconds. A channel belongs to the whole Redis server, not to this session's database, so
    other test sessions' messages pass by too."""
    ours = {job.batch_id for job in jobs}
    messages = []
    while message := await pubsub.get_message(ignore_subscribe_messages=True, timeout=quiet):
        decoded = json.loads(message["data"])
        if (decoded.get("data") or {}).get("batch_id") in ours:
            messages.append(decoded)
    return messages


@pytest.fixture
def settings(tmp_path) -> Settings:
    return analyst_settings(tmp_path, max_retries=MAX_RETRIES)


@pytest.fixture
def build(settings, migrated_database_url, redis_url, db_sessions, redis_client):
    """Build an analyst on the test database and Redis, both emptied first."""

    def make(engine=None, *, settings: Settings = settings, **options: Any) -> Analyst:
        options.setdefault("retry_base_delay", FAST_RETRIES)
        return Analyst(
            "analyst:test", settings, migrated_database_url, redis_url, engine, **options
        )

    return make


@pytest.fixture(scope="module")
def llm_server() -> Iterator[FakeLlmServer]:
    with serve_fake_llm() as fake:
        yield fake


@pytest.fixture
def server(llm_server: FakeLlmServer) -> FakeLlmServer:
    llm_server.reset()
    return llm_server


def openai_engine(url: str) -> OpenAICompatibleEngine:
    return OpenAICompatibleEngine(url, "test-model", timeout_seconds=5)


# --- the rules engine ---------------------------------------------------------------------------
async def test_a_batch_becomes_one_event_acknowledged_and_published_once(
    build, tmp_path, db_sessions, redis_client
):
    bands = RiskBands(medium=10, high=20, critical=95)
    analyst = build(
        settings=analyst_settings(tmp_path, max_retries=MAX_RETRIES, risk_bands=bands)
    )  # engine from settings
    ids = await seed(db_sessions)
    expected = assess_by_rules(expected_context(ids))
    assert expected.risk_score == 88
    job = make_job(ids)
    async with subscriber(redis_client) as pubsub, running(analyst):
        entry_id = await enqueue(redis_client, keys.ANALYSIS_QUEUE, job)
        await wait_acked(redis_client, entry_id)
        messages = await received(pubsub, job)
        health = await analyst.health()

    [event] = await stored_events(db_sessions)
    assert (event.batch_id, event.camera_id) == (job.batch_id, CAMERA_ID)
    assert (event.started_at, event.ended_at) == (NIGHT, NIGHT + dt.timedelta(seconds=20))
    assert (event.risk_score, event.summary, event.reasoning) == (
        expected.risk_score,
        expected.summary,
        expected.reasoning,
    )
    # The level comes from RISK_BANDS in code: 88 is "high" under these bands, not "critical".
    assert event.risk_level == "high" == risk_level(88, bands)
    assert json.loads(event.detection_ids) == ids  # oldest first
    assert event.is_fast_path is False and event.reviewed is False

    assert messages == [
        {
            "type": "event",
            "data": {
                "id": event.id,
                "event_id": event.id,
                "batch_id": job.batch_id,
                "camera_id": CAMERA_ID,
                "risk_score": 88,
                "risk_level": "high",
                "summary": expected.summary,
                "started_at": NIGHT.isoformat(),
                "is_fast_path": False,
                "supersedes_event_id": None,
                "incident_id": None,
            },
        }
    ]
    assert (event.scored_by_engine, event.scored_by_model, event.prompt_version) == (
        "rules",
        None,
        RULES_VERSION,
    )
    # The visit is counted in the camera's habits at its local hour (HOMESEC_TIMEZONE=UTC).
    async with db_sessions() as session:
        habits = (
            await session.execute(select(ClassBaseline.object_class, ClassBaseline.hour))
        ).all()
    assert sorted(habits) == [("person", 2), ("vehicle", 2)]
    assert (
        health.detail.items()
        >= {"engine": "rules", "breaker": "none (rules engine)", "retrying": "0"}.items()
    )
    assert health.counters == {"events": 1}


async def test_a_redelivered_batch_makes_no_second_event_nor_message(
    build, db_sessions, redis_client
):
    ids = await seed(db_sessions)
    job = make_job(ids)
    async with subscriber(redis_client) as pubsub, running(build()) as analyst:
        first = await enqueue(redis_client, keys.ANALYSIS_QUEUE, job)
        await wait_acked(redis_client, first)
        again = await enqueue(redis_client, keys.ANALYSIS_QUEUE, job)
        await wait_acked(redis_client, again)
        messages = await received(pubsub, job)
    assert len(await stored_events(db_sessions)) == 1
    assert len(messages) == 1
    assert analyst.counters["events"] == 1 and analyst.counters["redeliveries"] == 1


async def test_an_event_written_but_never_published_is_published_once_without_asking_again(
    build, db_sessions, redis_client, server
):
    """A crash between the insert and the publish: the redelivery publishes, nobody re-scores."""
    ids = await seed(db_sessions)
    job = make_job(ids)
    read = await read_analysis(db_sessions, job, dt.UTC, HALF_LIFE)
    assert isinstance(read, ToAnalyse)
    verdict = RiskAssessment(risk_score=40, summary="Written before the crash.", reasoning="r")
    event, inserted = await record_event(
        db_sessions, job, read, verdict, "medium", RULES_SCORER, HALF_LIFE
    )
    assert inserted
    async with subscriber(redis_client) as pubsub, running(build(openai_engine(server.url))):
        entry_id = await enqueue(redis_client, keys.ANALYSIS_QUEUE, job)
        await wait_acked(redis_client, entry_id)
        again = await enqueue(redis_client, keys.ANALYSIS_QUEUE, job)
        await wait_acked(redis_client, again)
        messages = await received(pubsub, job)
    assert [m["data"]["event_id"] for m in messages] == [event.id]
    assert messages[0]["data"]["summary"] == "Written before the crash."
    assert server.requests == []
    assert len(await stored_events(db_sessions)) == 1


async def test_a_rebuilt_batch_that_took_an_older_events_id_leaves_no_detection_unanalysed(
    build, db_sessions, redis_client
):
    """Redis lost its data; a batch rebuilt from PostgreSQL started with the detection an older
    batch started with, so it has that batch's id, and later detections too. The older event
    keeps what it holds; the rest get an event of their own, once, and both are published."""
    ids = await seed(db_sessions)
    older_job = make_job(ids[:1])
    read = await read_analysis(db_sessions, older_job, dt.UTC, HALF_LIFE)
    assert isinstance(read, ToAnalyse)
    verdict = RiskAssessment(risk_score=40, summary="Before Redis lost its data.", reasoning="r")
    older, _ = await record_event(
        db_sessions, older_job, read, verdict, "medium", RULES_SCORER, HALF_LIFE
    )
    rebuilt = msgspec.structs.replace(older_job, detection_ids=ids)
    continuation_id = continuation_batch_id(older_job.batch_id, ids[1])
    continued = msgspec.structs.replace(rebuilt, batch_id=continuation_id)
    async with subscriber(redis_client) as pubsub, running(build()) as analyst:
        entry_id = await enqueue(redis_client, keys.ANALYSIS_QUEUE, rebuilt)
        await wait_acked(redis_client, entry_id)
        again = await enqueue(redis_client, keys.ANALYSIS_QUEUE, rebuilt)
        await wait_acked(redis_client, again)
        messages = await received(pubsub, rebuilt, continued)

    first, rest = await stored_events(db_sessions)
    assert (first.id, json.loads(first.detection_ids)) == (older.id, ids[:1])
    assert (rest.batch_id, json.loads(rest.detection_ids)) == (continuation_id, ids[1:])
    assert rest.is_fast_path is False
    assert rest.risk_score == assess_by_rules(expected_context(ids[1:], SEEN[1:])).risk_score
    # The older event (never published before) and the rest's: each published once.
    assert sorted(m["data"]["event_id"] for m in messages) == [older.id, rest.id]
    assert analyst.counters["continuations"] == 1 and analyst.counters["events"] == 1
    assert analyst.counters["redeliveries"] == 1


async def test_a_fast_path_job_makes_a_fast_path_event(build, db_sessions, redis_client):
    ids = await seed(db_sessions, SEEN[:1])
    job = make_job(ids, is_fast_path=True)
    async with subscriber(redis_client) as pubsub, running(build()):
        entry_id = await enqueue(redis_client, keys.ANALYSIS_QUEUE, job)
        await wait_acked(redis_client, entry_id)
        messages = await received(pubsub, job)
    [event] = await stored_events(db_sessions)
    assert event.is_fast_path is True
    assert event.started_at == event.ended_at == NIGHT
    expected = assess_by_rules(expected_context(ids, SEEN[:1], is_fast_path=True))
    assert event.risk_score == expected.risk_score
    assert [m["data"]["is_fast_path"] for m in messages] == [True]


async def test_a_batch_whose_detections_are_gone_is_acknowledged_without_an_event(
    build, db_sessions, redis_client
):
    ids = await seed(db_sessions)
    async with db_sessions.begin() as session:  # retention cleanup got there first
        await session.execute(delete(Detection))
    job = make_job(ids)
    async with subscriber(redis_client) as pubsub, running(build()) as analyst:
        entry_id = await enqueue(redis_client, keys.ANALYSIS_QUEUE, job)
        await wait_acked(redis_client, entry_id)
        messages = await received(pubsub, job)
    assert await stored_events(db_sessions) == []
    assert messages == []
    assert analyst.counters["empty_batches"] == 1
    assert await redis_client.llen(keys.dlq(keys.ANALYSIS_QUEUE)) == 0


async def test_only_the_detections_that_still_exist_are_assessed(build, db_sessions, redis_client):
    ids = await seed(db_sessions)
    async with db_sessions.begin() as session:
        await session.execute(delete(Detection).where(Detection.id == ids[0]))
    async with running(build()):
        entry_id = await enqueue(redis_client, keys.ANALYSIS_QUEUE, make_job(ids))
        await wait_acked(redis_client, entry_id)
    [event] = await stored_events(db_sessions)
    assert json.loads(event.detection_ids) == ids[1:]
    expected = assess_by_rules(expected_context(ids[1:], SEEN[1:]))
    assert event.risk_score == expected.risk_score


# --- failures that are not the LLM's ----------------------------------------------------------
async def test_a_database_that_is_down_holds_the_job_and_counts_no_attempt(
    settings, redis_url, redis_client
):
    down = f"postgresql+asyncpg://postgres@127.0.0.1:{unused_port()}/homesec"
    analyst = Analyst("analyst:test", settings, down, redis_url, retry_base_delay=FAST_RETRIES)
    job = make_job([1, 2])
    async with running(analyst):
        entry_id = await enqueue(redis_client, keys.ANALYSIS_QUEUE, job)

        async def waiting() -> list:
            problems = (await analyst.health()).problems
            return [p for p in problems if p.summary.startswith("waiting for PostgreSQL")]

        [problem] = await eventually(waiting, WAIT_SECONDS)
        await asyncio.sleep(2.0)  # a few probes later, it still waits
        assert await waiting()
        [pending] = await redis_client.xpending_range(
            keys.ANALYSIS_QUEUE, keys.ANALYST_GROUP, min=entry_id, max=entry_id, count=1
        )
        assert pending["times_delivered"] == 1  # read once and held, not read again
        assert await redis_client.llen(keys.dlq(keys.ANALYSIS_QUEUE)) == 0
        assert analyst.counters["dead_letters"] == 0 and analyst.counters["outages"] == 1
    assert "start PostgreSQL again" in problem.remedy


class Unscorable:
    """An engine that cannot score this batch (no breaker: it is named like the rules engine)."""

    name = "rules"

    async def assess(self, context: AnalysisContext) -> RiskAssessment:
        raise ValueError("this batch cannot be scored")

    async def aclose(self) -> None:
        return None


async def test_a_batch_no_engine_can_score_is_dead_lettered_after_spaced_retries(
    build, db_sessions, redis_client
):
    ids = await seed(db_sessions)
    job = make_job(ids)
    async with running(build(Unscorable())) as analyst:
        entry_id = await enqueue(redis_client, keys.ANALYSIS_QUEUE, job)
        await wait_acked(redis_client, entry_id)
    [letter] = [
        msgspec.json.decode(raw)
        for raw in await redis_client.lrange(keys.dlq(keys.ANALYSIS_QUEUE), 0, -1)
    ]
    assert letter["original_job"]["batch_id"] == job.batch_id
    assert letter["attempt_count"] == 1 + MAX_RETRIES
    assert letter["queue_name"] == keys.ANALYSIS_QUEUE
    assert "this batch cannot be scored" in letter["error"]
    # Retries wait at least half of 1x, 2x, 4x the base each: their span has a floor.
    first = dt.datetime.fromisoformat(letter["first_failed_at"])
    last = dt.datetime.fromisoformat(letter["last_failed_at"])
    assert (last - first).total_seconds() >= FAST_RETRIES * (0.5 + 1 + 2)
    assert analyst.counters["dead_letters"] == 1 and analyst.last_error
    assert await stored_events(db_sessions) == []


async def test_an_entry_that_is_no_analysis_job_is_dead_lettered_at_once(build, redis_client):
    async with running(build()) as analyst:
        entry_id = await redis_client.xadd(keys.ANALYSIS_QUEUE, {keys.STREAM_FIELD: '{"x": 1}'})
        await wait_acked(redis_client, entry_id)
    [raw] = await redis_client.lrange(keys.dlq(keys.ANALYSIS_QUEUE), 0, -1)
    letter = msgspec.json.decode(raw)
    assert letter["attempt_count"] == 1 and "not an analysis job" in letter["error"]
    assert analyst.counters["dead_letters"] == 1


# --- the OpenAI-compatible engine against a real HTTP server ----------------------------------
async def test_the_llm_scores_the_event(build, db_sessions, redis_client, server):
    ids = await seed(db_sessions)
    job = make_job(ids)
    async with subscriber(redis_client) as pubsub, running(build(openai_engine(server.url))):
        entry_id = await enqueue(redis_client, keys.ANALYSIS_QUEUE, job)
        await wait_acked(redis_client, entry_id)
        messages = await received(pubsub, job)
    [event] = await stored_events(db_sessions)
    assert (event.risk_score, event.summary, event.reasoning) == (
        GOOD_ANSWER["risk_score"],
        GOOD_ANSWER["summary"],
        GOOD_ANSWER["reasoning"],
    )
    assert event.risk_level == "high"  # 64 under the default bands
    assert [m["data"]["risk_score"] for m in messages] == [64]
    assert len(server.requests) == 1
    prompt = server.requests[0][1]["messages"][1]["content"]
    assert CAMERA_NAME in prompt and '"detection_count": 3' in prompt
    assert await redis_client.llen(keys.latency("analysis")) == 1


async def test_an_overloaded_llm_is_retried_until_it_answers(
    build, db_sessions, redis_client, server
):
    server.reset(queued=[Script(status=503, raw_body="{}")] * 2)
    ids = await seed(db_sessions)
    async with running(build(openai_engine(server.url))) as analyst:
        entry_id = await enqueue(redis_client, keys.ANALYSIS_QUEUE, make_job(ids))
        await wait_acked(redis_client, entry_id)
    [event] = await stored_events(db_sessions)
    assert event.risk_score == 64 and event.reasoning == GOOD_ANSWER["reasoning"]
    assert len(server.requests) == 3
    assert analyst.counters["llm_failures"] == 2 and "fallbacks" not in analyst.counters


async def test_an_llm_that_stays_down_leaves_the_score_to_the_rules_engine(
    build, db_sessions, redis_client
):
    ids = await seed(db_sessions)
    down = openai_engine(f"http://127.0.0.1:{unused_port()}/v1")
    job = make_job(ids)
    async with subscriber(redis_client) as pubsub, running(build(down)) as analyst:
        entry_id = await enqueue(redis_client, keys.ANALYSIS_QUEUE, job)
        await wait_acked(redis_client, entry_id)
        messages = await received(pubsub, job)
    [event] = await stored_events(db_sessions)
    rules = assess_by_rules(expected_context(ids))
    assert event.risk_score == rules.risk_score  # never a made-up score
    assert event.summary == rules.summary
    assert event.reasoning.startswith(f"LLM unavailable after {1 + MAX_RETRIES} attempts (")
    assert "cannot reach the LLM server" in event.reasoning
    assert event.reasoning.endswith(f"scored by the rules engine: {rules.reasoning}")
    assert [m["data"]["risk_score"] for m in messages] == [rules.risk_score]
    assert analyst.counters["llm_failures"] == 1 + MAX_RETRIES
    assert analyst.counters["fallbacks"] == 1
    assert await redis_client.llen(keys.dlq(keys.ANALYSIS_QUEUE)) == 0


async def test_garbage_answers_are_retried_then_scored_by_the_rules_engine(
    build, db_sessions, redis_client, server
):
    server.reset(Script(content="I'd rather not say."))
    ids = await seed(db_sessions)
    async with running(build(openai_engine(server.url))):
        entry_id = await enqueue(redis_client, keys.ANALYSIS_QUEUE, make_job(ids))
        await wait_acked(redis_client, entry_id)
    [event] = await stored_events(db_sessions)
    assert event.risk_score == assess_by_rules(expected_context(ids)).risk_score
    assert event.reasoning.startswith(
        f"LLM gave no valid assessment after {1 + MAX_RETRIES} attempts (LlmBadResponse:"
    )
    assert len(server.requests) == 1 + MAX_RETRIES


async def test_an_open_breaker_keeps_calls_away_from_the_llm_until_it_cools_down(
    build, db_sessions, redis_client, server
):
    server.reset(Script(status=503, raw_body="{}"))
    first = await seed(db_sessions, SEEN[:1])
    second = await seed(db_sessions, SEEN[1:2])
    third = await seed(db_sessions, SEEN[2:])
    # Every backoff of a job is at most 20+40+80 ms, far inside the cooldown.
    breaker = CircuitBreaker(failure_threshold=2, cooldown_seconds=3.0)
    analyst = build(openai_engine(server.url), breaker=breaker)

    async def breaker_state() -> str:
        return (await analyst.health()).detail.get("breaker", "")

    async with running(analyst):
        entry_id = await enqueue(redis_client, keys.ANALYSIS_QUEUE, make_job(first))
        await wait_acked(redis_client, entry_id)
        # The start-up probe failed, then two calls failed (the engine probing again): that
        # opened it; attempts 3 and 4 were refused. No assessment was asked for.
        assert (len(server.probes), len(server.requests)) == (1 + 2, 0)
        assert await breaker_state() == "open"
        [problem] = (await analyst.health()).problems
        assert "does not answer" in problem.summary and "rules engine" in problem.summary
        assert "LLM_URL" in problem.remedy

        entry_id = await enqueue(redis_client, keys.ANALYSIS_QUEUE, make_job(second))
        await wait_acked(redis_client, entry_id)
        assert (len(server.probes), len(server.requests)) == (1 + 2, 0)  # none while open
        assert analyst.counters["breaker_refusals"] == 2 + 1 + MAX_RETRIES

        server.reset()  # the LLM is back

        async def half_open() -> bool:
            return await breaker_state() == "half_open"

        await eventually(half_open, WAIT_SECONDS)
        entry_id = await enqueue(redis_client, keys.ANALYSIS_QUEUE, make_job(third))
        await wait_acked(redis_client, entry_id)
        assert await breaker_state() == "closed"
        assert (await analyst.health()).problems == []  # the LLM is back: no problem left

    b1, b2, b3 = await stored_events(db_sessions)
    assert b1.reasoning.startswith(f"LLM unavailable after {1 + MAX_RETRIES} attempts")
    assert "circuit breaker open after 2 consecutive failures" in b1.reasoning
    assert b2.reasoning.startswith(f"LLM unavailable after {1 + MAX_RETRIES} attempts")
    assert (b3.risk_score, b3.reasoning) == (64, GOOD_ANSWER["reasoning"])
    assert len(server.requests) == 1


async def test_a_batch_whose_earlier_deliveries_all_died_is_not_sent_to_the_llm_again(
    build, db_sessions, redis_client, server
):
    """As if the model crashed the analyst on this batch each time: once the deliveries have
    spent the attempts, the rules engine scores it rather than the LLM killing it again."""
    ids = await seed(db_sessions)
    entry_id = await enqueue(redis_client, keys.ANALYSIS_QUEUE, make_job(ids))
    await redis_client.xgroup_create(keys.ANALYSIS_QUEUE, keys.ANALYST_GROUP, id="0")
    await redis_client.xreadgroup(keys.ANALYST_GROUP, "crashed", {keys.ANALYSIS_QUEUE: ">"})
    for _ in range(MAX_RETRIES):  # each claim is one more delivery that never reported back
        await redis_client.xclaim(
            keys.ANALYSIS_QUEUE, keys.ANALYST_GROUP, "crashed", 0, [entry_id], idle=10**9
        )
    async with running(build(openai_engine(server.url))) as analyst:
        await wait_acked(redis_client, entry_id)
    [event] = await stored_events(db_sessions)
    assert event.risk_score == assess_by_rules(expected_context(ids)).risk_score
    assert event.reasoning.startswith(f"LLM unavailable after {1 + MAX_RETRIES} attempts (")
    assert "the analyst stopped during" in event.reasoning
    assert server.requests == []
    assert analyst.counters["fallbacks"] == 1


async def test_the_store_writes_and_publishes_a_batch_once(db_sessions, redis_client):
    """The two guards the analyst's ordering relies on, raced directly."""
    ids = await seed(db_sessions)
    job = make_job(ids)
    read = await read_analysis(db_sessions, job, dt.UTC, HALF_LIFE)
    assert isinstance(read, ToAnalyse)
    verdicts = [
        RiskAssessment(risk_score=score, summary=f"s{score}", reasoning="r") for score in (10, 90)
    ]
    (a, a_new), (b, b_new) = await asyncio.gather(
        *(
            record_event(
                db_sessions, job, read, v, risk_level(v.risk_score), RULES_SCORER, HALF_LIFE
            )
            for v in verdicts
        )
    )
    assert a.id == b.id and sorted([a_new, b_new]) == [False, True]
    assert a == b  # the loser reads the winner's row
    async with subscriber(redis_client) as pubsub:
        published = await asyncio.gather(*(publish_event_once(redis_client, a) for _ in range(3)))
        messages = await received(pubsub, job)
    assert sorted(published) == [False, False, True] and len(messages) == 1
    assert await redis_client.ttl(keys.event_published(a.id, a.started_at.timestamp())) > 0


# --- the pure parts (the context: tests/test_policy/test_analysis_context.py; the
# fallback: tests/test_engines/test_llm_rules.py; the LLM attempts: test_llm_attempts.py) --------
def test_the_retry_book_counts_attempts_a_dead_consumer_made():
    book = RetryBook(max_retries=3)
    entry = StreamEntry("1-0", "{}", deliveries=3)  # delivered twice before, both failed
    assert book.attempts(entry) == 2
    book.failed(entry, now=0.0)
    assert book.attempts(entry) == 3


# --- as a Ray actor ---------------------------------------------------------------------------
@pytest.mark.ray
async def test_as_a_ray_actor(
    ray_cluster, settings, migrated_database_url, redis_url, db_sessions, redis_client
):
    import ray

    from homesec.actors import ray_gateway
    from homesec.actors.ray_gateway import create_actor
    from homesec.contract.reports import ActorSpec

    ids = await seed(db_sessions)
    spec = ActorSpec(
        name="analyst:ray-test",
        kind="analyst",
        settings=settings,
        database_url=migrated_database_url,
        redis_url=redis_url,
    )
    handle = create_actor(spec)
    try:
        entry_id = await enqueue(redis_client, keys.ANALYSIS_QUEUE, make_job(ids))
        await eventually(lambda: is_acked(redis_client, entry_id), timeout=30)  # worker start
        health = await ray_gateway.health(handle, 30.0)
        assert (health.kind, health.state) == ("analyst", "running")
        assert health.detail["engine"] == "rules" and health.counters["events"] == 1
    finally:
        ray.kill(handle, no_restart=True)
    [event] = await stored_events(db_sessions)
    assert event.risk_score == assess_by_rules(expected_context(ids)).risk_score


async def test_a_marker_left_by_an_earlier_database_does_not_silence_an_event(redis_client):
    """Event ids start at 1 again in a new database while Redis may keep last week's markers."""
    from homesec.store.events import StoredEvent

    def event(started_at: dt.datetime) -> StoredEvent:
        return StoredEvent(
            id=1,
            batch_id="fast-1",
            camera_id=CAMERA_ID,
            risk_score=70,
            risk_level="high",
            summary="person",
            started_at=started_at,
            is_fast_path=True,
        )

    assert await publish_event_once(redis_client, event(NIGHT)) is True
    assert await publish_event_once(redis_client, event(NIGHT)) is False  # the same event: once
    assert await publish_event_once(redis_client, event(NIGHT + dt.timedelta(days=7))) is True


# --- one visit, one verdict; the weapon floor; who scored -----------------------------------------
async def _analyse(build_analyst, redis_client, *jobs: AnalysisJob) -> None:
    async with running(build_analyst):
        for job in jobs:
            await wait_acked(redis_client, await enqueue(redis_client, keys.ANALYSIS_QUEUE, job))


@pytest.mark.parametrize("fast_first", [True, False])
async def test_the_batch_event_supersedes_the_visits_fast_path_event(
    build, db_sessions, redis_client, fast_first
):
    ids = await seed(db_sessions)
    fast = AnalysisJob(
        batch_id=f"fast-{ids[0]}", camera_id=CAMERA_ID, detection_ids=[ids[0]], is_fast_path=True
    )
    batch = make_job(ids)
    await _analyse(build(), redis_client, *((fast, batch) if fast_first else (batch, fast)))
    preliminary, final = sorted(await stored_events(db_sessions), key=lambda e: e.is_fast_path)[
        ::-1
    ]
    assert preliminary.is_fast_path and not final.is_fast_path
    assert final.supersedes_event_id == preliminary.id
    assert preliminary.supersedes_event_id is None


async def test_a_second_fast_path_event_in_one_visit_chains(build, db_sessions, redis_client):
    ids = await seed(db_sessions)
    first, second = (
        AnalysisJob(batch_id=f"fast-{i}", camera_id=CAMERA_ID, detection_ids=[i], is_fast_path=True)
        for i in ids[:2]
    )
    batch = make_job(ids)
    await _analyse(build(), redis_client, first, second, batch)
    by_batch = {event.batch_id: event for event in await stored_events(db_sessions)}
    assert by_batch[batch.batch_id].supersedes_event_id == by_batch[second.batch_id].id
    assert by_batch[second.batch_id].supersedes_event_id == by_batch[first.batch_id].id
    # Only the final verdict counts as a visit in the camera's habits.
    async with db_sessions() as session:
        days = await session.scalars(
            select(ClassBaseline.days_seen).where(ClassBaseline.object_class == "person")
        )
        assert list(days) == [1.0]


KNIFE_AT_NIGHT = [
    ("person", 0.9, NIGHT, (10, 20, 30, 60)),
    ("knife", 0.62, NIGHT, (40, 50, 10, 10)),
]


async def test_no_llm_scores_a_person_with_a_knife_at_night_below_critical(
    build, db_sessions, redis_client, server
):
    calm = {"risk_score": 12, "summary": "Someone cooking.", "reasoning": "Looks harmless."}
    server.reset(Script(content=json.dumps(calm)))
    ids = await seed(db_sessions, KNIFE_AT_NIGHT)
    await _analyse(build(openai_engine(server.url)), redis_client, make_job(ids))
    [event] = await stored_events(db_sessions)
    assert (event.risk_score, event.risk_level) == (85, "critical")
    assert event.reasoning.startswith("Weapon floor: raised from 12 to 85")
    assert event.reasoning.endswith("Looks harmless.")
    assert event.summary == "Someone cooking."
    assert event.scored_by_engine == "openai" and event.prompt_version == PROMPT_VERSION
    prompt = server.requests[0][1]["messages"][1]["content"]
    assert '"minimum_score": 85' in prompt and '"camera_role": "entrance"' in prompt


async def test_a_role_set_for_the_camera_reaches_the_engine(build, db_sessions, redis_client):
    ids = await seed(db_sessions)
    async with db_sessions.begin() as session:
        (await session.get(Camera, CAMERA_ID)).role = "street"
    await _analyse(build(), redis_client, make_job(ids))
    [event] = await stored_events(db_sessions)
    assert "role set for the camera" in event.reasoning
    street = AnalysisContext(
        **{**msgspec.structs.asdict(expected_context(ids)), "camera_role": "street"}
    )
    assert event.risk_score == assess_by_rules(street).risk_score < 88


# --- the owner's feedback -------------------------------------------------------------------
PERSON_EARLIER = [("person", 0.9, NIGHT - dt.timedelta(days=1), (10, 20, 30, 60))]


async def test_feedback_on_a_cameras_events_scores_its_next_event_lower_and_says_why(
    build, db_sessions, redis_client, server, tmp_path
):
    # Five earlier visits of a person at the front door, scored by the analyst; the owner marks
    # four false alarms and says the fifth should have been critical.
    earlier = [make_job(await seed(db_sessions, PERSON_EARLIER)) for _ in range(5)]
    await _analyse(build(), redis_client, *earlier)
    async with db_sessions.begin() as session:
        events = list(await session.scalars(select(Event).order_by(Event.id)))
        assert len(events) == 5
        for event in events[:4]:
            session.add(EventFeedback(event_id=event.id, feedback="false_alarm"))
        session.add(
            EventFeedback(event_id=events[4].id, feedback="wrong_severity", should_be="critical")
        )
    ids = await seed(db_sessions)
    elsewhere = AnalysisJob(
        batch_id="back-door",
        camera_id="back_door",
        detection_ids=await seed(db_sessions, camera_id="back_door"),
    )
    job = make_job(ids)
    # Incidents off: the two cameras' batches at one moment would be one story (scored as such
    # in the incidents' tests); here each camera is judged on its own feedback.
    alone = analyst_settings(tmp_path, max_retries=MAX_RETRIES, incident_window_seconds=0)
    await _analyse(build(settings=alone), redis_client, job, elsewhere)
    by_batch = {event.batch_id: event for event in await stored_events(db_sessions)}
    event = by_batch[job.batch_id]
    assert assess_by_rules(expected_context(ids)).risk_score == 88  # without the feedback
    assert event.risk_score == 88 - 9
    assert event.reasoning.endswith(
        "adjusted by the owner's feedback (the last 5 person events on this camera with "
        "feedback in 60 days: 4 marked false alarms, 1 should have been higher): -9."
    )
    # Another camera's people are judged as before.
    other = by_batch["back-door"]
    assert other.risk_score == 88 and "feedback" not in (other.reasoning or "")

    # An LLM engine gets the same facts as data in its prompt.
    server.reset()
    again = make_job(await seed(db_sessions))
    await _analyse(build(openai_engine(server.url)), redis_client, again)
    prompt = server.requests[0][1]["messages"][1]["content"]
    data = json.loads(prompt.split("<detection_data>")[1].split("</detection_data>")[0])
    assert data["owner_feedback"]["people"] == {
        "events_with_feedback": 5,
        "marked_false_alarm": 4,
        "should_have_been_lower": 0,
        "should_have_been_higher": 1,
        "rules_adjustment": -9,
        "over_last_days": 60,
    }


# --- the house's mode -------------------------------------------------------------------------
AFTERNOON = dt.datetime(2024, 3, 5, 15, 0, tzinfo=dt.UTC)
PERSON_BY_DAY = [("person", 0.92, AFTERNOON, (10, 20, 30, 60))]


async def test_switching_to_away_raises_a_daytime_visits_score_and_says_why(
    build, db_sessions, redis_client, server
):
    at_home = make_job(await seed(db_sessions, PERSON_BY_DAY))
    await _analyse(build(), redis_client, at_home)
    # The owner leaves at 15:10; the next person at 15:20 is judged with the house away. The
    # mode is the one in force when the picture was taken, not when it is analysed.
    await house_modes.set_mode(db_sessions, "away", "test", at=AFTERNOON + dt.timedelta(minutes=10))
    later = [("person", 0.92, AFTERNOON + dt.timedelta(minutes=20), (10, 20, 30, 60))]
    while_away = make_job(await seed(db_sessions, later))
    await _analyse(build(), redis_client, while_away)
    by_batch = {event.batch_id: event for event in await stored_events(db_sessions)}
    home_event, away_event = by_batch[at_home.batch_id], by_batch[while_away.batch_id]
    assert away_event.risk_score > home_event.risk_score
    assert "the house is set to away" in away_event.reasoning
    assert "away" not in home_event.reasoning

    # An LLM engine gets the mode as data in its prompt.
    again = make_job(await seed(db_sessions, later))
    await _analyse(build(openai_engine(server.url)), redis_client, again)
    prompt = server.requests[0][1]["messages"][1]["content"]
    data = json.loads(prompt.split("<detection_data>")[1].split("</detection_data>")[0])
    assert data["house_mode"] == "away"


# --- incidents across cameras --------------------------------------------------------------------
async def test_a_second_cameras_batch_is_scored_on_the_whole_story_and_joins_its_incident(
    build, db_sessions, redis_client, server
):
    """The driveway, then the back door 60 s later: the LLM is asked once per batch, the second
    time with the driveway's visit in its data; the back door's event joins the incident, and
    its live message says so."""
    driveway = await seed(db_sessions, [("person", 0.9, NIGHT, (10, 20, 30, 60))], "driveway",
                          "Driveway")  # fmt: skip
    later = NIGHT + dt.timedelta(seconds=60)
    door = await seed(db_sessions, [("person", 0.9, later, (10, 20, 30, 60))], "back_door",
                      "Back Door")  # fmt: skip
    jobs = [
        AnalysisJob(batch_id="b-driveway", camera_id="driveway", detection_ids=driveway),
        AnalysisJob(batch_id="b-door", camera_id="back_door", detection_ids=door),
    ]
    async with subscriber(redis_client) as pubsub, running(build(openai_engine(server.url))):
        for job in jobs:  # one after the other, as the cameras saw them
            await wait_acked(redis_client, await enqueue(redis_client, keys.ANALYSIS_QUEUE, job))
        messages = await received(pubsub, *jobs)

    assert len(server.requests) == 2  # one call per batch: the incident costs no extra call
    datas = []
    for _, body in server.requests:
        user = body["messages"][1]["content"]
        datas.append(json.loads(user.split("<detection_data>")[1].split("</detection_data>")[0]))
    assert datas[0]["incident"] == "no other camera saw anything just before"
    assert datas[1]["incident"]["earlier_visits"] == [
        {
            "camera_name": "Driveway",
            "camera_role": "driveway",
            "local_time": NIGHT.isoformat(),
            "seconds_before_this": 60,
            "objects": ["person"],
            "risk_score": GOOD_ANSWER["risk_score"],
        }
    ]
    first, second = await stored_events(db_sessions)
    assert first.incident_id == second.incident_id is not None
    assert [m["data"]["incident_id"] for m in messages] == [None, second.incident_id]
