"""The OpenAI-compatible engine against a real HTTP server on 127.0.0.1.

The server is a test double of an LLM server (the edge of the world): it checks that each
request asks for the assessment's JSON schema and answers what the test scripted.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from homesec.engines.llm import LlmBadResponse, LlmConfigError, LlmEngine, LlmUnavailable
from homesec.engines.llm.openai_compatible import OpenAICompatibleEngine
from homesec.pipeline.prompt import RISK_ASSESSMENT_SCHEMA
from homesec.pipeline.structs import AnalysisContext, BoundingBox, DetectionSummary
from homesec.settings import Settings

ANSWER = {"risk_score": 64, "summary": "A person at the door at night.", "reasoning": "Night."}
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


@dataclass
class Script:
    status: int = 200
    content: str | None = json.dumps(ANSWER)
    raw_body: str | None = None  # sent as is instead of a chat completion
    delay: float = 0.0


@dataclass
class FakeLlmServer:
    url: str
    script: Script = field(default_factory=Script)
    requests: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)


def _handler(server: FakeLlmServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            server.requests.append((dict(self.headers), body))
            script = server.script
            time.sleep(script.delay)
            wanted = {
                "type": "json_schema",
                "json_schema": {
                    "name": "risk_assessment",
                    "schema": RISK_ASSESSMENT_SCHEMA,
                    "strict": True,
                },
            }
            if self.path != "/v1/chat/completions" or body.get("response_format") != wanted:
                self._send(400, json.dumps({"error": "expected the risk_assessment schema"}))
            elif script.raw_body is not None:
                self._send(script.status, script.raw_body)
            else:
                message = {"role": "assistant", "content": script.content}
                reply = {"object": "chat.completion", "choices": [{"index": 0, "message": message}]}
                self._send(script.status, json.dumps(reply))

        def _send(self, status: int, text: str) -> None:
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a handler still sleeping in the timeout test is abandoned

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The client of the timeout test hangs up before the answer: expected, not a failure.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@pytest.fixture(scope="module")
def llm_server() -> Iterator[FakeLlmServer]:
    fake = FakeLlmServer(url="")
    httpd = _QuietServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield fake
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def server(llm_server: FakeLlmServer) -> FakeLlmServer:
    llm_server.script = Script()
    llm_server.requests.clear()
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
    with socket.socket() as probe:  # a port nobody listens on once this closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(LlmUnavailable, match="cannot reach"):
        await assess(f"http://127.0.0.1:{port}/v1")


async def test_built_from_settings(server, tmp_path):
    settings = Settings(
        data_dir=tmp_path,
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
    settings = Settings(data_dir=tmp_path, foscam_base_path=tmp_path, llm_engine="openai")
    with pytest.raises(LlmConfigError, match="LLM_URL"):
        OpenAICompatibleEngine.from_settings(settings)
