"""What the alert tests (and the alert pages' browser tests) share: a mosquitto broker of the
test's own, a subscribed MQTT client, an HTTP receiver (for Apprise's ``json://`` and webhooks)
that can be taken down and slowed, the alert tests' settings, and rows of cameras, detections
and events as the pipeline writes them. Their fixtures are in tests/test_alerts/conftest.py.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import paho.mqtt.client as mqtt
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.models import Camera, Detection, Event
from homesec.ops.ports import free_port, port_open
from homesec.settings import RAY_WORKER_PORTS, Settings
from homesec.store.events import encode_detection_ids
from tests.support.settings import make_settings
from tests.support.waiting import eventually_blocking

MOSQUITTO = "/usr/sbin/mosquitto"


def port_outside_ray() -> int:
    while (port := free_port()) in RAY_WORKER_PORTS:
        pass
    return port


def alert_settings(tmp_path: Path, **env: str) -> Settings:
    """Settings of an alert test: in UTC, so quiet hours and times in messages are fixed."""
    return make_settings(tmp_path, env={"HOMESEC_TIMEZONE": "UTC", **env})


# --- mosquitto ----------------------------------------------------------------------------------
class Broker:
    """A mosquitto of the test's own on a free port, which the test may stop and start again.
    ``tls``: (CA, certificate, key) files: the listener speaks TLS only."""

    def __init__(self, directory: Path, tls: tuple[Path, Path, Path] | None = None) -> None:
        self.port = port_outside_ray()
        self.conf = directory / "mosquitto.conf"
        self.log = directory / "mosquitto.log"
        lines = [f"listener {self.port} 127.0.0.1", "allow_anonymous true"]
        if tls is not None:
            cafile, certfile, keyfile = tls
            lines += [f"cafile {cafile}", f"certfile {certfile}", f"keyfile {keyfile}"]
        lines += ["persistence false", f"log_dest file {self.log}"]
        if os.geteuid() == 0:
            # Started as root, mosquitto turns into user `mosquitto` before it reads the TLS
            # files and opens its log, which pytest's 0700 tmp_path keeps from that user.
            lines.append("user root")
        self.conf.write_text("\n".join(lines) + "\n")
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [MOSQUITTO, "-c", str(self.conf)]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        eventually_blocking(lambda: port_open("127.0.0.1", self.port), 15, "mosquitto to listen")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


class Subscriber:
    """A real MQTT client subscribed to everything; it keeps every message it gets. With
    ``ca_file`` it speaks TLS, checking the broker's certificate against that CA."""

    def __init__(self, port: int, ca_file: Path | None = None) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"sub-{port}")
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, *_: c.subscribe("#", qos=1)
        if ca_file is not None:
            self.client.tls_set(ca_certs=str(ca_file))
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, client, userdata, message) -> None:
        with self._lock:
            self.messages.append((message.topic, message.payload, bool(message.retain)))

    def on(self, topic: str) -> list[bytes]:
        with self._lock:
            return [payload for t, payload, _ in self.messages if t == topic]

    def json_on(self, topic: str) -> list[dict]:
        return [json.loads(payload) for payload in self.on(topic)]

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def retained(port: int, topic: str, timeout: float = 5.0) -> bytes | None:
    """What a fresh client gets as the retained message of ``topic``."""
    got: list[bytes] = []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
    client.on_message = lambda c, u, m: got.append(m.payload)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        deadline = time.monotonic() + timeout
        while not got and time.monotonic() < deadline:
            time.sleep(0.05)
        return got[-1] if got else None
    finally:
        client.loop_stop()
        client.disconnect()


# --- an HTTP receiver ----------------------------------------------------------------------------
class Receiver:
    """Records each POST (path, headers, body). ``down``: answers 503. ``hold``: waits that long
    before answering. ``honours_idempotency``: a repeated Idempotency-Key is answered 200 and
    counted as a repeat, not a delivery (what a careful receiver does)."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.deliveries: list[dict] = []
        self.repeats: list[dict] = []
        self.down = False
        self.hold = 0.0
        self.holding = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                return None

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                request = {"path": self.path, "headers": dict(self.headers), "body": body}
                with receiver._lock:
                    receiver.requests.append(request)
                if receiver.down:
                    self.send_response(503)
                    self.end_headers()
                    return
                if receiver.hold:
                    receiver.holding.set()
                    time.sleep(receiver.hold)
                key = self.headers.get("Idempotency-Key")
                with receiver._lock:
                    seen = key is not None and any(
                        d["headers"].get("Idempotency-Key") == key for d in receiver.deliveries
                    )
                    (receiver.repeats if seen else receiver.deliveries).append(request)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

        self.server = ThreadingHTTPServer(("127.0.0.1", port_outside_ray()), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def json_bodies(self, path: str | None = None) -> list[dict]:
        with self._lock:
            return [json.loads(d["body"]) for d in self.deliveries
                    if path is None or d["path"] == path]  # fmt: skip

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- rows ----------------------------------------------------------------------------------------
class Rows:
    """Cameras, detections and events, written as the detector and the analyst write them."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], thumbnail_dir: Path) -> None:
        self.sessions = sessions
        self.thumbnail_dir = thumbnail_dir
        self._batch = 0

    async def camera(self, camera_id: str, name: str) -> None:
        async with self.sessions.begin() as session:
            session.add(Camera(id=camera_id, name=name, folder_path=f"/cams/{camera_id}"))

    async def detection(self, camera_id: str, kind: str = "person", confidence: float = 0.95,
                        at: dt.datetime | None = None) -> int:  # fmt: skip
        self.thumbnail_dir.mkdir(parents=True, exist_ok=True)
        thumbnail = self.thumbnail_dir / f"{camera_id}-{time.monotonic_ns()}.jpg"
        thumbnail.write_bytes(b"\xff\xd8\xff\xe0 a thumbnail \xff\xd9")
        async with self.sessions.begin() as session:
            row = Detection(
                camera_id=camera_id, file_path=f"/cams/{camera_id}/x.jpg", object_type=kind,
                confidence=confidence, detected_at=at or dt.datetime.now(dt.UTC),
                thumbnail_path=str(thumbnail),
            )  # fmt: skip
            session.add(row)
            await session.flush()
            return row.id

    async def event(self, camera_id: str, detection_ids: list[int], *, score: int,
                    level: str, fast_path: bool, at: dt.datetime | None = None,
                    summary: str = "A person at the door") -> int:  # fmt: skip
        self._batch += 1
        at = at or dt.datetime.now(dt.UTC)
        async with self.sessions.begin() as session:
            row = Event(
                batch_id=f"{'fast-' if fast_path else 'b-'}{self._batch}-{time.monotonic_ns()}",
                camera_id=camera_id, started_at=at, ended_at=at, risk_score=score,
                risk_level=level, summary=summary, reasoning="test",
                detection_ids=encode_detection_ids(detection_ids), is_fast_path=fast_path,
            )  # fmt: skip
            session.add(row)
            await session.flush()
            return row.id
