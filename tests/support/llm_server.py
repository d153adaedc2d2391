"""A fake OpenAI-compatible LLM server on 127.0.0.1 (a free port): the edge of the world.

It speaks one dialect of structured output, as real servers do (``dialect``):

- ``json_schema`` (OpenAI, vLLM): takes ``{"type": "json_schema", ...}``, refuses (400) any other
  ``response_format``;
- ``json_object+schema`` (llama-cpp-python's server): takes ``{"type": "json_object", "schema":
  ...}`` and answers ``json_schema`` with 500, as that server does;
- ``ignores``: accepts anything and answers the scripted text, whatever schema was asked for.

Requests for the risk assessment's schema are answered as the test scripted and recorded in
``requests`` so a test can count what reached it: scripts queued in ``queued`` first, one per
request; then ``script`` answers every request. Requests for any other schema (the engine's
start-up probe) are recorded in ``probes`` and answered as the dialect's server would: with the
one object the schema allows (a constrained generation, built from the schema's ``enum``s), or,
while ``script`` is an error, with that error (a failing server fails every request).
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from homesec.policy.prompt import RISK_ASSESSMENT_SCHEMA

# What an assessment must ask for in each dialect, spelled out here rather than imported from
# the engine, so the fake checks the engine instead of agreeing with it.
WANTED_RESPONSE_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "risk_assessment", "schema": RISK_ASSESSMENT_SCHEMA, "strict": True},
}
WANTED_JSON_OBJECT_FORMAT = {"type": "json_object", "schema": RISK_ASSESSMENT_SCHEMA}
JSON_SCHEMA = "json_schema"
JSON_OBJECT_SCHEMA = "json_object+schema"
IGNORES = "ignores"
GOOD_ANSWER = {"risk_score": 64, "summary": "A person at the door at night.", "reasoning": "Night."}


@dataclass
class Script:
    status: int = 200
    content: str | None = json.dumps(GOOD_ANSWER)
    raw_body: str | None = None  # sent as is instead of a chat completion
    delay: float = 0.0


@dataclass
class FakeLlmServer:
    url: str = ""
    dialect: str = JSON_SCHEMA
    script: Script = field(default_factory=Script)
    queued: list[Script] = field(default_factory=list)
    requests: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    probes: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(
        self,
        script: Script | None = None,
        queued: list[Script] | None = None,
        dialect: str = JSON_SCHEMA,
    ) -> None:
        with self._lock:
            self.dialect = dialect
            self.script = script or Script()
            self.queued = list(queued or [])
            self.requests.clear()
            self.probes.clear()

    def answer_probe(self, body: dict[str, Any]) -> tuple[int, str]:
        """A request for another schema than the assessment's, answered as the dialect's server
        would answer it."""
        with self._lock:
            self.probes.append(body)
            dialect, script = self.dialect, self.script
        time.sleep(script.delay)
        if script.status >= 400:
            return script.status, script.raw_body or "{}"
        if dialect == IGNORES:
            return 200, _completion(script.content)
        wanted_type = "json_schema" if dialect == JSON_SCHEMA else "json_object"
        response_format = body.get("response_format") or {}
        if response_format.get("type") != wanted_type:
            status = 500 if dialect == JSON_OBJECT_SCHEMA else 400
            return status, json.dumps({"error": f"unsupported response_format {response_format}"})
        if dialect == JSON_SCHEMA:
            schema = response_format["json_schema"]["schema"]
        else:
            schema = response_format["schema"]
        return 200, _completion(json.dumps(_constrained(schema)))

    def asks_for_assessment(self, body: dict[str, Any]) -> bool:
        """Whether ``body`` asks for the risk assessment's schema in some dialect."""
        response_format = body.get("response_format")
        return response_format in (WANTED_RESPONSE_FORMAT, WANTED_JSON_OBJECT_FORMAT)

    def takes(self, body: dict[str, Any]) -> bool:
        """Whether an assessment request is in the dialect this server speaks."""
        if self.dialect == IGNORES:
            return True
        wanted = (
            WANTED_RESPONSE_FORMAT if self.dialect == JSON_SCHEMA else WANTED_JSON_OBJECT_FORMAT
        )
        return body.get("response_format") == wanted

    def record(self, headers: dict[str, str], body: dict[str, Any]) -> Script:
        """Keep one request; the script that answers it."""
        with self._lock:
            self.requests.append((headers, body))
            return self.queued.pop(0) if self.queued else self.script


def _constrained(schema: dict[str, Any]) -> dict[str, Any]:
    """The object a schema-constrained generation must produce for a schema whose required
    properties each allow one value (an ``enum`` of one), as the probe's does."""
    properties = schema["properties"]
    return {name: properties[name]["enum"][0] for name in schema["required"]}


def _completion(content: str | None) -> str:
    message = {"role": "assistant", "content": content}
    return json.dumps({"object": "chat.completion", "choices": [{"index": 0, "message": message}]})


def _handler(server: FakeLlmServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.path != "/v1/chat/completions":
                self._send(404, json.dumps({"error": f"no {self.path} here"}))
                return
            if not server.asks_for_assessment(body):
                self._send(*server.answer_probe(body))
                return
            script = server.record(dict(self.headers), body)
            time.sleep(script.delay)
            if not server.takes(body):
                status = 500 if server.dialect == JSON_OBJECT_SCHEMA else 400
                self._send(status, json.dumps({"error": "expected the risk_assessment schema"}))
            elif script.raw_body is not None:
                self._send(script.status, script.raw_body)
            else:
                self._send(script.status, _completion(script.content))

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
    block_on_close = False  # a handler still sleeping in a timeout test is abandoned

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out hangs up before the answer: expected, not a failure.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def serve_fake_llm() -> Iterator[FakeLlmServer]:
    """Run a :class:`FakeLlmServer` in a thread for the duration of the ``with`` block."""
    fake = FakeLlmServer()
    httpd = _QuietServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        httpd.shutdown()
        httpd.server_close()


def unused_port() -> int:
    """A port on 127.0.0.1 nobody listens on (once this returns): connection refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
