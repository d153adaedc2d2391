"""The OpenAI-compatible engine against a real HTTP server on 127.0.0.1.

The server is a test double of an LLM server (the edge of the world): it checks that each
request asks for the assessment's JSON schema and answers what the test scripted.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from homesec.contract.analysis import AnalysisContext, BoundingBox, DetectionSummary
from homesec.engines.llm import LlmBadResponse, LlmConfigError, LlmEngine, LlmUnavailable
from homesec.engines.llm.openai_compatible import OpenAICompatibleEngine
from tests.support.llm_server import GOOD_ANSWER as ANSWER
from tests.support.llm_server import FakeLlmServer, Script, serve_fake_llm, unused_port
from tests.support.settings import make_settings

NIGHT = dt.datetime(2024, 3, 5, 2, 30, tzinfo=dt.UTC)
CONTEXT = AnalysisContext(
    camera_id="front_door",
    camera_name="Front Door",
    local_time=NIGHT,
    detections=[
        DetectionSummary(
            detection_id=1,
            object_type="person",
            confidence=0.93,
            detected_at=NIGHT,
            bbox=BoundingBox(1, 2, 3, 4),
        )
    ],
)


@pytest.fixture(scope="module")
def llm_server() -> Iterator[FakeLlmServer]:
    with serve_fake_llm() as fake:
        yield fake


@pytest.fixture
def server(llm_server: FakeLlmServer) -> FakeLlmServer:
    llm_server.reset()
    return llm_server


def engine_for(url: str, **kwargs: Any) -> OpenAICompatibleEngine:
    return OpenAICompatibleEngine(url, "test-model", **kwargs)


async def assess(url: str, **kwargs: Any):
    engine = engine_for(url, **kwargs)
    try:
        return await engine.assess(CONTEXT)
    finally:
        await engine.aclose()


async def test_a_good_answer(server):
    result = await assess(server.url, api_key="s3cret")
    assert (result.risk_score, result.summary) == (64, ANSWER["summary"])
    headers, body = server.requests[0]
    assert headers["Authorization"] == "Bearer s3cret"
    assert body["model"] == "test-model" and body["temperature"] == 0
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert "Front Door" in body["messages"][1]["content"]


async def test_no_authorization_header_without_a_key(server):
    await assess(server.url)
    assert "Authorization" not in server.requests[0][0]


async def test_a_fenced_answer_after_thinking(server):
    server.script.content = f"<think>hmm</think>\n```json\n{json.dumps(ANSWER)}\n```"
    assert (await assess(server.url)).risk_score == 64


@pytest.mark.parametrize(
    "script",
    [
        Script(content="I'm sorry, I can't assess that."),
        Script(content=json.dumps({**ANSWER, "risk_score": 150})),
        Script(content=None),
        Script(raw_body="<html>not json</html>"),
        Script(raw_body=json.dumps({"choices": []})),
        Script(status=400, raw_body=json.dumps({"error": "unknown model"})),
        Script(status=401, raw_body=json.dumps({"error": "bad key"})),
    ],
)
async def test_answers_without_an_assessment_are_bad_responses(server, script):
    server.script = script
    with pytest.raises(LlmBadResponse):
        await assess(server.url)


@pytest.mark.parametrize("status", [500, 502, 503, 429])
async def test_failing_or_overloaded_servers_are_unavailable(server, status):
    server.script = Script(status=status, raw_body=json.dumps({"error": "overloaded"}))
    with pytest.raises(LlmUnavailable, match=str(status)):
        await assess(server.url)


async def test_a_slow_server_times_out_as_unavailable(server):
    server.script = Script(delay=0.8)
    started = time.monotonic()
    with pytest.raises(LlmUnavailable, match="timed out"):
        await assess(server.url, timeout_seconds=0.2)
    assert time.monotonic() - started < 0.7


async def test_connection_refused_is_unavailable():
    with pytest.raises(LlmUnavailable, match="cannot reach"):
        await assess(f"http://127.0.0.1:{unused_port()}/v1")


async def test_built_from_settings(server, tmp_path):
    settings = make_settings(
        tmp_path,
        foscam_base_path=tmp_path,
        llm_engine="openai",
        llm_url=server.url,
        llm_model="served-model",
    )
    engine = OpenAICompatibleEngine.from_settings(settings)
    assert isinstance(engine, LlmEngine) and engine.name == "openai"
    try:
        assert (await engine.assess(CONTEXT)).risk_score == 64
    finally:
        await engine.aclose()
    assert server.requests[0][1]["model"] == "served-model"


def test_settings_without_a_url_are_a_config_error(tmp_path):
    settings = make_settings(tmp_path, foscam_base_path=tmp_path, llm_engine="openai")
    with pytest.raises(LlmConfigError, match="LLM_URL"):
        OpenAICompatibleEngine.from_settings(settings)
