"""Alerts benchmark: prints figures, asserts nothing.

1. Upload to first notification, end to end: a real ``homesec up`` (the scripted detector as the
   model, the rules engine as the LLM; the same doubles as the e2e tests), a mosquitto broker
   and an HTTP receiver this script starts, ``NOTIFY_URLS=json://...`` (Apprise's real code) and
   ``MQTT_URL``. Each sample writes one new "person" JPEG into the camera's folder and times the
   push reaching the receiver and the alert reaching an MQTT subscriber: p50, p95, max. The
   default rule's cooldown is set to 0 through the API first (and the fast path's cooldown is 0)
   so every upload alerts. "Night" comes from the house's zone, as in the e2e test.
2. The rule decision itself (:func:`homesec.policy.alert_rules.decide`), per call.

PostgreSQL and Redis: ``DATABASE_URL`` / ``REDIS_URL`` when set, else homesec's embedded ones
under a temporary data dir. Needs /usr/sbin/mosquitto.

    .venv/bin/python bench/alerts.py [--samples 20] [--gap 2.0]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import timeit
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import paho.mqtt.client as mqtt
from PIL import Image

from homesec.contract.alerts import AlertRule, JudgedEvent
from homesec.policy.alert_rules import decide

READY = "Press Ctrl-C"


def free_port() -> int:
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if not 10002 <= port <= 19999:  # Ray's worker ports
            return port


def person_jpeg(seed: int) -> bytes:
    """Red top-left block: the scripted detector's person; the seed makes the bytes unique."""
    image = Image.new("RGB", (640, 480), (255, 0, 0))
    image.paste(Image.effect_noise((320, 240), 40 + seed % 50).convert("RGB"), (320, 240))
    image.putpixel((639, 479), (seed % 256, (seed // 256) % 256, 7))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def night_zone() -> str:
    offset = ((1 - dt.datetime.now(dt.UTC).hour + 12) % 24) - 12
    if offset == 0:
        return "Etc/GMT"
    return f"Etc/GMT-{offset}" if offset > 0 else f"Etc/GMT+{-offset}"


class Arrivals:
    """When each push (HTTP) and MQTT alert arrived, by the event's camera-local sequence."""

    def __init__(self) -> None:
        self.pushes: list[float] = []
        self.mqtt: list[float] = []


def start_receiver(arrivals: Arrivals) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            return None

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            if not body.get("title", "").startswith("Update:"):
                arrivals.pushes.append(time.monotonic())
            self.send_response(200)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.02)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def end_to_end(samples: int, gap: float, work: Path) -> None:
    arrivals = Arrivals()
    receiver = start_receiver(arrivals)
    broker_port = free_port()
    conf = work / "mosquitto.conf"
    conf.write_text(f"listener {broker_port} 127.0.0.1\nallow_anonymous true\n")
    broker = subprocess.Popen(["/usr/sbin/mosquitto", "-c", str(conf)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    subscriber = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    subscriber.on_message = lambda c, u, m: (
        arrivals.mqtt.append(time.monotonic()) if b'"update": false' in m.payload else None
    )
    subscriber.on_connect = lambda c, *_: c.subscribe("bench/alerts", qos=1)
    time.sleep(0.5)
    subscriber.connect("127.0.0.1", broker_port)
    subscriber.loop_start()

    camera = "front_porch"
    data = work / "data"
    (data / "cameras" / camera).mkdir(parents=True)
    api_port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "HOMESEC_CONFIG")}
    env.update({
        "HOMESEC_DATA_DIR": str(data), "HOMESEC_PORT": str(api_port),
        "HOMESEC_RAY_PORT": str(free_port()), "HOMESEC_RAY_DASHBOARD_PORT": str(free_port()),
        "DETECTOR_MODEL": "scripted", "LLM_ENGINE": "rules", "MIN_IMAGE_BYTES": "100",
        "UPLOAD_SETTLE_SECONDS": "0.5", "FAST_PATH_COOLDOWN_SECONDS": "0",
        "BATCH_IDLE_TIMEOUT_SECONDS": "1", "BATCH_WINDOW_SECONDS": "3", "FTP_ENABLED": "false",
        "HOMESEC_TIMEZONE": night_zone(), "MQTT_URL": f"mqtt://127.0.0.1:{broker_port}",
        "MQTT_TOPIC_PREFIX": "bench",
        "NOTIFY_URLS": f"json://127.0.0.1:{receiver.server_address[1]}/push",
    })  # fmt: skip
    up = subprocess.Popen([sys.executable, "-m", "homesec.ops.cli", "up"], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        lines = []
        while not any(READY in line for line in lines):
            line = up.stdout.readline()
            if not line:
                raise SystemExit("homesec up exited:\n" + "".join(lines))
            lines.append(line)
        threading.Thread(target=up.stdout.read, daemon=True).start()  # keep the pipe drained
        request = urllib.request.Request(
            f"http://127.0.0.1:{api_port}/api/alerts/rules/1", method="PATCH",
            data=b'{"cooldown_seconds": 0}', headers={"Content-Type": "application/json"},
        )  # fmt: skip
        urllib.request.urlopen(request, timeout=30).read()
        # A first upload warms every stage (imports, connections); not counted.
        (data / "cameras" / camera / "warm.jpg").write_bytes(person_jpeg(10_000))
        wait(lambda: arrivals.pushes and arrivals.mqtt, 120, "the warm-up alert")
        push_times, mqtt_times = [], []
        for sample in range(samples):
            time.sleep(gap)
            pushes, alerts = len(arrivals.pushes), len(arrivals.mqtt)
            path = data / "cameras" / camera / f"snap_{sample:04d}.jpg"
            path.write_bytes(person_jpeg(sample))
            written = time.monotonic()
            wait(lambda p=pushes, a=alerts: len(arrivals.pushes) > p and len(arrivals.mqtt) > a,
                 60, f"sample {sample}")  # fmt: skip
            push_times.append(arrivals.pushes[pushes] - written)
            mqtt_times.append(arrivals.mqtt[alerts] - written)
        for name, values in (("Apprise push (json://)", push_times), ("MQTT alert", mqtt_times)):
            print(f"upload -> {name}: n={len(values)} p50={statistics.median(values):.3f} s "
                  f"p95={percentile(values, 0.95):.3f} s max={max(values):.3f} s")  # fmt: skip
    finally:
        up.send_signal(signal.SIGINT)
        try:
            up.wait(90)
        except subprocess.TimeoutExpired:
            up.kill()
        subscriber.loop_stop()
        broker.terminate()
        receiver.shutdown()


def decision_cost() -> None:
    rule = AlertRule(name="night", min_risk_level="high", object_types=("person",),
                     days=(1, 2, 3, 4, 5), time_ranges=("22:00-06:00",))  # fmt: skip
    now = dt.datetime.now(dt.UTC)
    event = JudgedEvent(
        event_id=1, camera_id="porch", risk_score=70, risk_level="high", is_fast_path=True,
        started_at=now, confidences={"person": 0.95},
    )  # fmt: skip
    calls = 20_000
    seconds = timeit.timeit(lambda: decide(rule, event, None, now), number=calls)
    print(f"decide(rule, event, last, now): {seconds / calls * 1e6:.1f} us per call")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--gap", type=float, default=2.0, help="seconds between uploads")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    decision_cost()
    work = Path(tempfile.mkdtemp(prefix=f"homesec-bench-alerts-{secrets.token_hex(2)}-"))
    work.chmod(0o755)
    try:
        end_to_end(args.samples, args.gap, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
