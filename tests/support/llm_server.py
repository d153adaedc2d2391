"""A fake OpenAI-compatible LLM server on 127.0.0.1 (a free port): the edge of the world.

It answers ``POST /v1/chat/completions`` as the test scripted, refuses (400) a request that
does not ask for the risk assessment's JSON schema, and records every request so a test can
count what reached it. Scripts queued in ``queued`` are answered first, one per request; then
``script`` answers every request.
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

from homesec.pipeline.prompt import RISK_ASSESSMENT_SCHEMA

# What every request must ask for, spelled out here rather than imported from the engine, so
# the fake checks the engine instead of agreeing with it.
WANTED_RESPONSE_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "risk_assessment", "schema": RISK_ASSESSMENT_SCHEMA, "strict": True},
}
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
    script: Script = field(default_factory=Script)
    queued: list[Script] = field(default_factory=list)
    requests: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self, script: Script | None = None, queued: list[Script] | None = None) -> None:
        with self._lock:
            self.script = script or Script()
            self.queued = list(queued or [])
            self.requests.clear()

    def record(self, headers: dict[str, str], body: dict[str, Any]) -> Script:
        """Keep one request; the script that answers it."""
        with self._lock:
            self.requests.append((headers, body))
            return self.queued.pop(0) if self.queued else self.script


def _handler(server: FakeLlmServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            script = server.record(dict(self.headers), body)
            time.sleep(script.delay)
            asks_for_schema = body.get("response_format") == WANTED_RESPONSE_FORMAT
            if self.path != "/v1/chat/completions" or not asks_for_schema:
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
