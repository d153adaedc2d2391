"""The start-up probe against real HTTP servers of our own, one per dialect of structured output
(tests/support/llm_server.py): the OpenAI way, llama-cpp-python's way, and a server that ignores
the schema. The engine finds the dialect once; the analyst scores with the rules, and says so in
health, when the server ignores the schema."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from homesec.actors.analyst import Analyst
from homesec.contract.analysis import AnalysisContext, DetectionSummary
from homesec.engines.llm import LlmIgnoresSchema, LlmUnavailable, ProbedLlmEngine
from homesec.engines.llm.openai_compatible import OpenAICompatibleEngine
from homesec.engines.llm.rules import assess_by_rules
from homesec.store.detections import load_batch
from tests.support.analyst import analyst_settings
from tests.support.llm_server import (
    GOOD_ANSWER,
    IGNORES,
    JSON_OBJECT_SCHEMA,
    JSON_SCHEMA,
    WANTED_JSON_OBJECT_FORMAT,
    WANTED_RESPONSE_FORMAT,
    Script,
)
from tests.support.waiting import eventually
from tests.test_llm_server.analyst_helpers import NIGHT, running, scored_event, seed_batch

CONTEXT = AnalysisContext(
    camera_id="front_door",
    camera_name="Front Door",
    local_time=NIGHT,
    detections=[
        DetectionSummary(detection_id=1, object_type="person", confidence=0.9, detected_at=NIGHT)
    ],
)
EVENT_SECONDS = 20.0


def engine_for(url: str) -> OpenAICompatibleEngine:
    return OpenAICompatibleEngine(url, "test-model", timeout_seconds=5)


# --- the engine -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("dialect", "probes", "wanted"),
    [
        (JSON_SCHEMA, 1, WANTED_RESPONSE_FORMAT),
        # json_schema first, answered 500 by llama-cpp-python's kind of server, then its own
        (JSON_OBJECT_SCHEMA, 2, WANTED_JSON_OBJECT_FORMAT),
    ],
)
async def test_the_dialect_is_found_once_and_kept(fake, dialect, probes, wanted):
    fake.reset(dialect=dialect)
    engine = engine_for(fake.url)
    assert isinstance(engine, ProbedLlmEngine) and engine.structured_output is None
    try:
        assert await engine.probe() == dialect
        for _ in range(3):
            assert (await engine.assess(CONTEXT)).risk_score == GOOD_ANSWER["risk_score"]
        assert await engine.probe() == dialect  # remembered: no request
    finally:
        await engine.aclose()
    assert engine.structured_output == dialect
    assert len(fake.probes) == probes
    assert [body["response_format"] for _, body in fake.requests] == [wanted] * 3
    tokens = {str(probe["response_format"]) for probe in fake.probes}
    assert len(tokens) == probes  # one request per dialect, nothing asked twice


async def test_assess_probes_first_when_nobody_did(fake):
    fake.reset(dialect=JSON_OBJECT_SCHEMA)
    engine = engine_for(fake.url)
    try:
        assert (await engine.assess(CONTEXT)).risk_score == GOOD_ANSWER["risk_score"]
    finally:
        await engine.aclose()
    assert (len(fake.probes), len(fake.requests)) == (2, 1)


async def test_a_server_that_ignores_the_schema_is_found_out_once(fake):
    # Its free text is even a valid assessment: the point is that nothing constrains it.
    fake.reset(dialect=IGNORES)
    engine = engine_for(fake.url)
    try:
        with pytest.raises(LlmIgnoresSchema, match="ignores the answer's JSON schema") as caught:
            await engine.probe()
        assert "did not validate" in str(caught.value)
        with pytest.raises(LlmIgnoresSchema):
            await engine.assess(CONTEXT)
    finally:
        await engine.aclose()
    assert (len(fake.probes), len(fake.requests)) == (2, 0)  # found once, never asked again
    assert engine.structured_output is None


async def test_a_server_away_at_first_is_probed_again_when_back(fake):
    fake.reset(Script(status=503, raw_body='{"error": "loading model"}'), dialect=JSON_SCHEMA)
    engine = engine_for(fake.url)
    try:
        with pytest.raises(LlmUnavailable, match="503"):
            await engine.probe()
        assert len(fake.probes) == 1  # no answer: asking another way would not help
        fake.reset(dialect=JSON_SCHEMA)
        assert (await engine.assess(CONTEXT)).risk_score == GOOD_ANSWER["risk_score"]
    finally:
        await engine.aclose()
    assert (len(fake.probes), len(fake.requests)) == (1, 1)


# --- the analyst ------------------------------------------------------------------------------
def build(tmp_path, migrated_database_url, redis_url, url: str) -> Analyst:
    return Analyst(
        "analyst:probe-test",
        analyst_settings(tmp_path, max_retries=2),
        migrated_database_url,
        redis_url,
        engine_for(url),
        retry_base_delay=0.02,
    )


async def test_the_analyst_scores_with_the_llm_in_the_dialect_it_found(
    fake, tmp_path, migrated_database_url, redis_url, db_sessions, redis_client
):
    fake.reset(dialect=JSON_OBJECT_SCHEMA)
    job = await seed_batch(db_sessions)
    analyst = build(tmp_path, migrated_database_url, redis_url, fake.url)
    async with running(analyst):
        event = await scored_event(db_sessions, redis_client, job, EVENT_SECONDS)
        health = await analyst.health()
    assert (event.risk_score, event.reasoning) == (64, GOOD_ANSWER["reasoning"])
    assert health.detail["engine"] == "openai"
    assert health.detail["structured_output"] == "json_object+schema"
    assert health.problems == []
    assert (len(fake.probes), len(fake.requests)) == (2, 1)


async def test_a_server_that_ignores_the_schema_leaves_scoring_to_the_rules_and_says_so(
    fake, tmp_path, migrated_database_url, redis_url, db_sessions, redis_client
):
    # A handler of the test's own on homesec's logger: the root handlers (caplog's too) get the
    # process's repeat filter once an analyst installs its log handler, and an earlier test
    # may already have logged this very line within the filter's window.
    lines: list[str] = []
    recorder = logging.Handler()
    recorder.emit = lambda record: lines.append(record.getMessage())
    logging.getLogger("homesec").addHandler(recorder)
    fake.reset(dialect=IGNORES)
    job = await seed_batch(db_sessions)
    analyst = build(tmp_path, migrated_database_url, redis_url, fake.url)
    try:
        async with running(analyst):
            event = await scored_event(db_sessions, redis_client, job, EVENT_SECONDS)
            health = await analyst.health()
    finally:
        logging.getLogger("homesec").removeHandler(recorder)
    batch = await load_batch(db_sessions, job)
    assert batch is not None
    rules = assess_by_rules(
        AnalysisContext(
            camera_id=job.camera_id,
            camera_name=batch.camera_name,
            local_time=batch.detections[0].detected_at.astimezone(dt.UTC),
            detections=batch.detections,
        )
    )
    assert (event.risk_score, event.reasoning) == (rules.risk_score, rules.reasoning)
    assert len(fake.requests) == 0  # the free text was never asked for a score
    [problem] = health.problems
    assert "ignores the answer's JSON schema" in problem.summary
    assert "scored by the rules engine" in problem.summary
    assert "structured output" in problem.remedy and "LLM_ENGINE=rules" in problem.remedy
    assert health.detail["engine"] == "rules"
    # The log has each dialect's answer.
    logged = "\n".join(lines)
    assert "json_schema: free text" in logged
    assert "json_object+schema: free text" in logged


async def test_a_server_away_at_start_up_does_not_hold_the_analyst_up(
    fake, tmp_path, migrated_database_url, redis_url, db_sessions, redis_client
):
    fake.reset(Script(status=503, raw_body='{"error": "loading model"}'))
    analyst = build(tmp_path, migrated_database_url, redis_url, fake.url)
    async with running(analyst):

        async def probed_once() -> bool:
            return len(fake.probes) == 1

        await eventually(probed_once, EVENT_SECONDS, "the start-up probe")
        health = await analyst.health()
        assert health.state == "running" and health.problems == []
        assert health.detail["structured_output"] == "not probed yet"
        fake.reset()  # the server has loaded its model
        job = await seed_batch(db_sessions)
        event = await scored_event(db_sessions, redis_client, job, EVENT_SECONDS)
        assert (await analyst.health()).detail["structured_output"] == "json_schema"
    assert (event.risk_score, event.reasoning) == (64, GOOD_ANSWER["reasoning"])
    assert (len(fake.probes), len(fake.requests)) == (1, 1)
