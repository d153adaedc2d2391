"""The OpenAI-compatible engine and the analyst against a real LLM server: llama-cpp-python's
(``python -m llama_cpp.server``) serving SmolLM2-135M-Instruct, started once per session.

The model is too small to judge risk; what is checked is the plumbing: the engine finds the
server's dialect of structured output once, the server's grammar holds every answer to the
schema, and the analyst writes events the LLM scored, not the rules fallback.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from homesec.actors.analyst import Analyst
from homesec.engines.llm.openai_compatible import OpenAICompatibleEngine, chat_request
from homesec.policy.prompt import RISK_ASSESSMENT_SCHEMA, parse_assessment
from homesec.policy.structured_output import Dialect
from tests.support.analysis_contexts import varied_contexts
from tests.support.analyst import analyst_settings
from tests.support.llama_cpp_server import LlamaServer
from tests.test_llm_server.analyst_helpers import running, scored_event, seed_batch

# An answer takes 1-2 s on an idle CPU; on a machine shared with other test runs reading the
# prompt alone took 15-30 s. Bounds generous enough for a busy machine, not for a hang.
ANSWER_SECONDS = 180.0


def engine_for(server: LlamaServer) -> OpenAICompatibleEngine:
    return OpenAICompatibleEngine(server.url, server.model, timeout_seconds=ANSWER_SECONDS)


def assert_valid(content: str) -> dict[str, Any]:
    """``content`` is exactly one JSON object valid against the assessment's schema."""
    answer = json.loads(content)
    assert isinstance(answer, dict), content
    assert set(answer) == set(RISK_ASSESSMENT_SCHEMA["properties"]), content
    score = answer["risk_score"]
    assert isinstance(score, int) and not isinstance(score, bool), content
    assert 0 <= score <= 100, content
    assert isinstance(answer["summary"], str) and isinstance(answer["reasoning"], str), content
    return answer


@pytest.mark.timeout(3 * ANSWER_SECONDS)
async def test_the_engine_finds_llama_cpp_pythons_dialect_once(llama_server):
    contexts = varied_contexts()[:1]
    engine = engine_for(llama_server)
    before = len(llama_server.chat_statuses())
    try:
        assert await engine.probe() == Dialect.JSON_OBJECT_SCHEMA
        for context in contexts:
            await engine.assess(context)
        assert await engine.probe() == Dialect.JSON_OBJECT_SCHEMA  # remembered
    finally:
        await engine.aclose()
    statuses = llama_server.chat_statuses()[before:]
    # Counted at the server: the probe's json_schema request refused with 500 (0.3.36's request
    # model knows only "text" and "json_object"), its json_object+schema one answered, then one
    # request per assessment, each answered: nothing asked twice, nothing failed.
    assert statuses == [500, 200] + [200] * len(contexts), statuses


@pytest.mark.timeout(12 * ANSWER_SECONDS)
async def test_the_schema_holds_every_answer_on_a_dozen_contexts(llama_server):
    contexts = varied_contexts()
    assert len(contexts) == 12
    async with httpx.AsyncClient(timeout=ANSWER_SECONDS) as client:
        for context in contexts:
            body = chat_request(llama_server.model, context, Dialect.JSON_OBJECT_SCHEMA)
            response = await client.post(f"{llama_server.url}/chat/completions", json=body)
            assert response.status_code == 200, response.text
            content = response.json()["choices"][0]["message"]["content"]
            answer = assert_valid(content)
            assessment = parse_assessment(content)  # what the engine would keep
            assert assessment.risk_score == answer["risk_score"]


@pytest.mark.timeout(4 * ANSWER_SECONDS)
async def test_the_analyst_writes_events_the_llm_scored(
    llama_server, tmp_path, migrated_database_url, redis_url, db_sessions, redis_client
):
    settings = analyst_settings(
        tmp_path,
        max_retries=2,
        llm_engine="openai",
        llm_url=llama_server.url,
        llm_model=llama_server.model,
        llm_timeout_seconds=ANSWER_SECONDS,
    )
    # Built from the settings in the analyst, as `homesec up` builds it.
    analyst = Analyst("analyst:llama-test", settings, migrated_database_url, redis_url)
    job = await seed_batch(db_sessions)
    async with running(analyst):
        # The start-up probe, then the batch.
        event = await scored_event(db_sessions, redis_client, job, 2 * ANSWER_SECONDS)
        health = await analyst.health()
    assert health.detail["engine"] == "openai"
    assert health.detail["structured_output"] == "json_object+schema"
    assert health.problems == []
    assert analyst.counters["events"] == 1
    # Scored by the LLM: no failed call, no fallback to the rules engine.
    assert "llm_failures" not in analyst.counters and "fallbacks" not in analyst.counters
    assert 0 <= event.risk_score <= 100 and event.summary
    assert not event.reasoning.startswith(("LLM unavailable", "LLM gave no valid", "Rules"))
