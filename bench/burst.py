"""Burst benchmark: a real `homesec up` per detector engine, a burst of FTP uploads. Prints
figures, asserts nothing.

For each engine setting of ``--engines`` (``torch``: PyTorch f32; ``openvino-f32``;
``openvino-bf16``: forced, unchecked; ``openvino-auto``: what the precision guard picks) it
starts `homesec up` as a user would (a subprocess with a data dir of its own, free ports,
``DETECTOR_DEVICE=cpu``, the rules engine for scoring), with ``--cameras`` cameras whose FTP
accounts ``homesec camera add`` made before it started. Once every actor is alive and the
detector has loaded and warmed its engine, it uploads a burst of ``--images`` distinct
1280x720 camera-like JPEGs over FTP (one connection per camera, all cameras at once) and
measures from the first upload's start to the last upload marked ``done`` (``processed_at``
in the embedded PostgreSQL): images/s, ms/image, and the ratios to ``torch``. The issue's
targets: ``openvino-f32`` at least 1.5x torch, ``openvino-bf16`` at least 4x.

``--idle-memory``: for each engine setting, `homesec up` with ``--cameras`` cameras (default 8),
idle ``--settle`` seconds after warming up; the PSS of every process of the service (from
``/proc/PID/smaps_rollup``), grouped by role (the homesec CLI, Ray's GCS, raylet, dashboard
and agents, each actor kind's workers, idle workers, the embedded PostgreSQL and Redis), and
the Detector worker's RSS and PSS.

The model: ``--model DIR``, else RT-DETRv2 with random weights built like bench/detector.py's
(``--size r50``, what homesec pulls by default; ``r18``; ``tiny``, the tests' model, to try the
script quickly): the compute is the same as trained weights'. It is given as ``DETECTOR_MODEL``;
each run converts it for OpenVINO in its own data dir (not timed: before the detector reports
its engine loaded).

How long: per engine setting, adding the cameras (one `homesec camera add` each, ~5-25 s with
its embedded PostgreSQL), the start until the detector is warm (~1.5-2 min on a busy 2-core
machine with the tiny model; r50 adds its conversion for OpenVINO, ~15 s on a quiet machine,
and PyTorch's load), the burst, and the stop (~10 s). Building the random r50 takes about a
minute. The full r50 run of the three default settings with 40 images is estimated at 12-15
minutes on a quiet 2-core machine (the bursts themselves about 40-60 s with torch, 25-40 s
with OpenVINO f32 and 10-15 s with bf16, from bench/detector.py's r50 figures); it was tried
only with the tiny model, on a machine shared with other work.

Each `homesec up` is stopped (SIGINT, then `homesec down`'s wait; leftovers killed) when its
measurement is done, on an error, and on Ctrl-C. Its output is in ``<work dir>/<engine>/up.log``
(kept with ``--keep``).

    PYTHONPATH=. .venv/bin/python bench/burst.py [--size r50|r18|tiny | --model DIR]
        [--engines torch,openvino-f32,openvino-bf16] [--images 40] [--cameras 2]
    PYTHONPATH=. .venv/bin/python bench/burst.py --idle-memory [--cameras 8] [--settle 20]
        [--engines torch,openvino-f32,openvino-bf16]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ftplib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))

ENGINES: dict[str, dict[str, str]] = {
    "torch": {"DETECTOR_ENGINE": "torch"},
    "openvino-f32": {"DETECTOR_ENGINE": "openvino", "DETECTOR_PRECISION": "f32"},
    "openvino-bf16": {"DETECTOR_ENGINE": "openvino", "DETECTOR_PRECISION": "bf16"},
    "openvino-auto": {"DETECTOR_ENGINE": "openvino", "DETECTOR_PRECISION": "auto"},
}
# What each setting's detector must report in health, so a silent fallback is not measured.
EXPECTED_ENGINE = {
    "torch": "rtdetr",
    "openvino-f32": "rtdetr-openvino",
    "openvino-bf16": "rtdetr-openvino",
    "openvino-auto": "rtdetr-openvino",
}
# The done-when: how many times torch's rate each OpenVINO setting must reach.
TARGETS = {"openvino-f32": 1.5, "openvino-bf16": 4.0}
READY = "Press Ctrl-C"  # what `homesec up` prints once everything runs
PASSWORD = "burst-bench-pw-0"
FRAME = (1280, 720)
STOP_SECONDS = 120.0


class BenchError(Exception):
    """What went wrong, in words for the person running the benchmark."""


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


# --- the model and the images -------------------------------------------------------------------


def build_model(work: Path, size: str) -> Path:
    if size == "tiny":
        from tests.support.tiny_rtdetr import build_tiny_rtdetr

        return build_tiny_rtdetr(work / "model-tiny", distinct_scores=True)
    from detector import random_rtdetr  # bench/detector.py, beside this script

    return random_rtdetr(work / f"model-{size}", size, 640)


def make_jpegs(count: int) -> list[bytes]:
    """Distinct camera-like 1280x720 JPEGs (~100-200 KB): a sky-to-ground gradient, sensor
    noise, a few solid shapes that move from frame to frame, a marker of this run."""
    from PIL import Image, ImageDraw

    run = tuple(os.urandom(3))
    base = Image.linear_gradient("L").resize(FRAME).convert("RGB")
    jpegs = []
    for index in range(count):
        frame = base.copy()
        frame.paste(Image.effect_noise((FRAME[0], FRAME[1] // 2), 20 + index % 30), (0, 360))
        draw = ImageDraw.Draw(frame)
        for shape in range(3):
            x = (150 + 300 * shape + 37 * index) % (FRAME[0] - 200)
            y = (100 + 23 * index) % (FRAME[1] - 320)
            draw.rectangle((x, y, x + 120, y + 300), fill=(60 * shape, 180 - index % 120, 90))
        frame.paste(run, (FRAME[0] - 8, 0, FRAME[0], 8))
        frame.putpixel((FRAME[0] - 1, 0), (index % 256, index // 256 % 256, 1))
        out = io.BytesIO()
        frame.save(out, "JPEG", quality=85)
        jpegs.append(out.getvalue())
    return jpegs


# --- one `homesec up` ---------------------------------------------------------------------------


def free_port() -> int:
    from homesec.ops.ports import free_port as kernel_port

    return kernel_port()


@dataclass
class Service:
    """One `homesec up` of this benchmark: its data dir, environment, process and log."""

    name: str
    data_dir: Path
    env: dict[str, str]
    cameras: list[str]
    users: list[str] = field(default_factory=list)  # their FTP accounts
    process: subprocess.Popen | None = None
    known: dict[int, float] = field(default_factory=dict)  # pid -> create time, for leftovers

    @property
    def log_path(self) -> Path:
        return self.data_dir / "up.log"

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def homesec(self, *args: str, timeout: float = 180) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "homesec.ops.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise BenchError(f"`homesec {' '.join(args)}` failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def start(self, timeout: float) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "homesec.ops.cli", "up"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C here reaches the benchmark, which stops it
            )
        deadline = time.monotonic() + timeout
        while READY not in self.log_path.read_text(errors="replace"):
            if self.process.poll() is not None:
                raise BenchError(f"homesec up exited ({self.process.returncode}) at start:\n"
                                 f"{self.log_tail()}")  # fmt: skip
            if time.monotonic() > deadline:
                raise BenchError(f"homesec up not up within {timeout:.0f} s:\n{self.log_tail()}")
            time.sleep(0.5)
        self.remember_processes()

    def processes(self) -> list:
        """Every live process of this service: `homesec up` and its descendants (Ray's head,
        workers), and whatever carries its data dir (the embedded PostgreSQL and Redis, which
        detach from it) in its command line or environment."""
        import psutil

        found: dict[int, psutil.Process] = {}
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(psutil.Error):
                root = psutil.Process(self.process.pid)
                found[root.pid] = root
                for child in root.children(recursive=True):
                    found[child.pid] = child
        marker = str(self.data_dir)
        for candidate in psutil.process_iter(["pid", "cmdline"]):
            if candidate.pid in found or candidate.pid == os.getpid():
                continue
            try:
                if marker in " ".join(candidate.info["cmdline"] or ()) or (
                    candidate.environ().get("HOMESEC_DATA_DIR") == marker
                ):
                    found[candidate.pid] = candidate
            except psutil.Error:
                continue
        return list(found.values())

    def remember_processes(self) -> None:
        import psutil

        for process in self.processes():
            with contextlib.suppress(psutil.Error):
                self.known[process.pid] = process.create_time()

    def stop(self) -> None:
        """SIGINT (what Ctrl-C does), a wait; then SIGKILL to anything of it still alive."""
        import psutil

        if self.process is None:
            return
        with contextlib.suppress(Exception):
            self.remember_processes()
        if self.process.poll() is None:
            say(f"{self.name}: stopping homesec up (pid {self.process.pid}) ...")
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                say(f"{self.name}: homesec up did not stop in {STOP_SECONDS:.0f} s; killing it")
                self.process.kill()
                self.process.wait(timeout=30)
        time.sleep(1)  # detached servers stop a moment after `up` returns
        leftovers = []
        for pid, created in self.known.items():
            with contextlib.suppress(psutil.Error):
                process = psutil.Process(pid)
                if process.create_time() == created and process.is_running():
                    leftovers.append(process)
        for process in [*leftovers, *self.processes()]:
            with contextlib.suppress(psutil.Error):
                process.kill()
        if leftovers:
            say(f"{self.name}: killed {len(leftovers)} leftover processes")
        self.process = None


def service_env(data_dir: Path, model: Path, engine: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "RAY_ADDRESS", "HOMESEC_CONFIG")
        and not key.startswith(("DETECTOR_", "FTP_"))
    }
    passive = free_port()
    env.update(
        {
            "PYTHONPATH": os.pathsep.join(
                [str(REPOSITORY), *filter(None, [os.environ.get("PYTHONPATH")])]
            ),
            "HOMESEC_DATA_DIR": str(data_dir),
            "HOMESEC_RAY_PORT": str(free_port()),
            "HOMESEC_RAY_DASHBOARD_PORT": str(free_port()),
            "HOMESEC_PORT": str(free_port()),
            "FTP_HOST": "127.0.0.1",
            "FTP_PORT": str(free_port()),
            "FTP_PASSIVE_PORTS": f"{passive}-{min(passive + 19, 65535)}",
            "DETECTOR_MODEL": str(model),
            "DETECTOR_DEVICE": "cpu",
            "LLM_ENGINE": "rules",
            **ENGINES[engine],
        }
    )
    return env


@contextlib.contextmanager
def running(name: str, work: Path, model: Path, cameras: int, timeout: float) -> Iterator[Service]:
    data_dir = work / name
    service = Service(name, data_dir, service_env(data_dir, model, name),
                      [f"burst{index}" for index in range(cameras)])  # fmt: skip
    try:
        say(f"{name}: adding {cameras} cameras ...")
        for camera in service.cameras:
            added = service.homesec("camera", "add", camera, "--password", PASSWORD)
            users = [row.split(":", 1)[1].strip() for row in added.splitlines()
                     if row.strip().startswith("User:")]  # fmt: skip
            service.users.append(users[0] if users else camera)
        setting = " ".join(f"{key}={value}" for key, value in ENGINES[name].items())
        say(f"{name}: starting homesec up ({setting})")
        service.start(timeout)
        detail = wait_until_warm(service, timeout)
        engine = detail.get("engine")
        if engine != EXPECTED_ENGINE[name]:
            raise BenchError(f"{name}: the detector runs {engine!r}, not "
                             f"{EXPECTED_ENGINE[name]!r}: {detail}")  # fmt: skip
        say(f"{name}: detector ready: " + ", ".join(
            f"{k}={detail[k]}" for k in ("engine", "runtime", "precision", "precision_check",
                                         "device") if k in detail))  # fmt: skip
        yield service
    finally:
        service.stop()


# --- is it up -----------------------------------------------------------------------------------


def pipeline_view() -> None:
    """(Run in a subprocess: ``--pipeline-view``.) The running homesec's actors and the
    detector's health detail, as JSON on stdout. A subprocess, so that this benchmark never
    holds a Ray connection of its own (nor its memory in the figures)."""
    from homesec.actors import ray_gateway
    from homesec.contract import actor_names
    from homesec.ops.status import connect_to_running, read_run_state, supervisor_view
    from homesec.settings import load_settings

    run = read_run_state(load_settings())
    if run is None:
        print(json.dumps({"running": False}))
        return
    connect_to_running(run)
    try:
        _, actors, _ = supervisor_view()
        handle = ray_gateway.lookup(actor_names.detector(0))
        detail: dict[str, str] = {}
        if handle is not None:
            detail = dict(asyncio.run(ray_gateway.health(handle, 30.0)).detail)
    finally:
        ray_gateway.disconnect()
    states = {actor.name: actor.state for actor in actors}
    print(json.dumps({"running": True, "actors": states, "detector": detail}))


def wait_until_warm(service: Service, timeout: float) -> dict[str, str]:
    """Until every actor is alive and the detector has its engine loaded (the factory warms it
    before the detector reports it): the detector's health detail."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if service.process is not None and service.process.poll() is not None:
            raise BenchError(f"homesec up exited:\n{service.log_tail()}")
        view = subprocess.run(
            [sys.executable, __file__, "--pipeline-view"],
            env=service.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        lines = view.stdout.strip().splitlines()
        state = json.loads(lines[-1]) if view.returncode == 0 and lines else {}
        actors, detail = state.get("actors") or {}, state.get("detector") or {}
        loaded = detail.get("engine", "not loaded") != "not loaded"
        if actors and loaded and all(value == "ALIVE" for value in actors.values()):
            return detail
        now = (f"{sum(v == 'ALIVE' for v in actors.values())}/{len(actors)} actors alive, "
               f"detector {'loaded' if loaded else 'loading'}")  # fmt: skip
        if now != last:
            say(f"{service.name}: waiting: {now}")
            last = now
        time.sleep(3)
    raise BenchError(f"{service.name}: the pipeline did not warm up in {timeout:.0f} s:\n"
                     f"{service.log_tail()}")  # fmt: skip


# --- the burst ----------------------------------------------------------------------------------


def upload(service: Service, jpegs: list[bytes]) -> float:
    """Every JPEG over FTP, camera by camera in turn (one connection per camera, all at once);
    returns the epoch second the first upload started."""
    port = int(service.env["FTP_PORT"])
    clients = []
    for user in service.users:
        client = ftplib.FTP(timeout=60)
        client.connect("127.0.0.1", port)
        client.login(user, PASSWORD)
        clients.append(client)
    errors: list[BaseException] = []
    go = threading.Barrier(len(clients) + 1)

    def send(client: ftplib.FTP, mine: list[tuple[int, bytes]]) -> None:
        try:
            go.wait()
            for index, data in mine:
                client.storbinary(f"STOR burst_{index:04d}.jpg", io.BytesIO(data))
            client.quit()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [
        threading.Thread(
            target=send,
            args=(client, [(i, d) for i, d in enumerate(jpegs) if i % len(clients) == slot]),
        )
        for slot, client in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    started = time.time()
    go.wait()
    for thread in threads:
        thread.join()
    if errors:
        raise BenchError(f"an FTP upload failed: {errors[0]!r}")
    return started


async def upload_counts(database_url: str) -> tuple[dict[str, int], float | None]:
    """Uploads by status, and the last ``processed_at`` (epoch seconds)."""
    from sqlalchemy import text

    from homesec.store.database import create_engine

    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(
                text("SELECT status, count(*), max(processed_at) FROM uploads GROUP BY status")
            )).all()  # fmt: skip
    finally:
        await engine.dispose()
    counts = {str(status): int(count) for status, count, _ in rows}
    last = max((done for _, _, done in rows if done is not None), default=None)
    return counts, last.timestamp() if last is not None else None


def database_url(service: Service) -> str:
    """The embedded PostgreSQL's URL, from the run file `homesec up` writes for `homesec status`
    (``homesec.ops.runner.run_state_path``)."""
    try:
        run = json.loads((service.data_dir / "run" / "homesec.json").read_text())
    except (OSError, ValueError) as exc:
        raise BenchError(f"{service.name}: no run file of homesec up ({exc})") from None
    if not run.get("database_url"):
        raise BenchError(f"{service.name}: homesec up wrote no database URL in its run file")
    return str(run["database_url"])


def burst(service: Service, jpegs: list[bytes], timeout: float) -> float:
    """Seconds from the first upload's start to the last upload done."""
    url = database_url(service)
    say(f"{service.name}: uploading {len(jpegs)} images over FTP to {len(service.cameras)} "
        "cameras ...")  # fmt: skip
    started = upload(service, jpegs)
    say(f"{service.name}: uploaded in {time.time() - started:.1f} s; waiting for detection ...")
    deadline = time.monotonic() + timeout
    shown = -1
    while True:
        counts, last_done = asyncio.run(upload_counts(url))
        done = counts.get("done", 0)
        # Settled: done, or rejected, duplicate or failed (which end the wait and are reported).
        finished = sum(counts.values()) - counts.get("queued", 0) - counts.get("processing", 0)
        if finished >= len(jpegs):
            break
        if time.monotonic() > deadline:
            raise BenchError(f"{service.name}: only {done} of {len(jpegs)} uploads done within "
                             f"{timeout:.0f} s ({counts}):\n{service.log_tail()}")  # fmt: skip
        if done != shown and (done - shown >= 5 or done == 0):
            say(f"{service.name}: {done} of {len(jpegs)} done")
            shown = done
        time.sleep(0.5)
    if counts.get("done", 0) != len(jpegs) or last_done is None:
        raise BenchError(f"{service.name}: not every upload was done: {counts} (see "
                         f"{service.log_path})")  # fmt: skip
    return last_done - started


# --- idle memory --------------------------------------------------------------------------------


def role_of(process) -> str:
    """Which part of the service a process is, from its name and command line (Ray names its
    workers ``ray::<ActorClass>`` or ``ray::IDLE``)."""
    try:
        cmdline = " ".join(process.cmdline())
        name = process.name()
    except Exception:
        return "gone"
    if cmdline.startswith("ray::"):
        title = cmdline.split()[0].removeprefix("ray::").split(".")[0]
        if title in ("DashboardAgent", "RuntimeEnvAgent"):  # Ray's own, not homesec's actors
            return f"ray {title}"
        return "ray idle workers" if title == "IDLE" else f"ray worker {title}"
    if "homesec.ops.cli" in cmdline:
        return "homesec up (CLI)"
    if "gcs_server" in cmdline:
        return "ray gcs"
    if "raylet" in name or "/raylet " in cmdline:
        return "raylet"
    if "dashboard.py" in cmdline or "ray-dashboard-" in cmdline:  # the head and its modules
        return "ray dashboard"
    for marker, role in (
        ("log_monitor", "ray log monitor"),
        ("monitor.py", "ray autoscaler monitor"),
        ("ray.util.client.server", "ray client server"),
    ):
        if marker in cmdline:
            return role
    if "ray.scripts.scripts start" in cmdline:
        return "ray start (head's parent)"
    program = cmdline.split()[0] if cmdline else ""
    if "postgres" in name or program.endswith("postgres"):
        return "postgresql (embedded)"
    if "redis-server" in name or "redis-server" in cmdline:
        return "redis (embedded)"
    if "multiprocessing" in cmdline:  # a resource tracker or forkserver of one of the above
        return "python multiprocessing helpers"
    if "ray" in cmdline:
        return f"ray, other ({name})"
    return f"other ({name})"


def memory_of(pid: int) -> tuple[int, int]:
    """(PSS, RSS) in bytes, from /proc/PID/smaps_rollup."""
    values = {}
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for row in rollup:
            key, _, rest = row.partition(":")
            if key in ("Pss", "Rss"):
                values[key] = int(rest.split()[0]) * 1024
    return values["Pss"], values["Rss"]


def idle_memory(service: Service, settle: float) -> None:
    say(f"{service.name}: idle for {settle:.0f} s before measuring ...")
    time.sleep(settle)
    groups: dict[str, list[tuple[int, int, int]]] = {}
    for process in service.processes():
        try:
            pss, rss = memory_of(process.pid)
        except (OSError, KeyError):
            continue
        groups.setdefault(role_of(process), []).append((process.pid, pss, rss))
    mib = 1024 * 1024
    print(f"\nidle memory of homesec up with {len(service.cameras)} cameras "
          f"({service.name}), PSS from /proc/PID/smaps_rollup:")  # fmt: skip
    print(f"  {'role':<34} {'processes':>9} {'PSS MiB':>9} {'RSS MiB':>9}")
    total = 0
    for role, members in sorted(groups.items(), key=lambda item: -sum(m[1] for m in item[1])):
        pss = sum(member[1] for member in members)
        total += pss
        rss = sum(member[2] for member in members)
        print(f"  {role:<34} {len(members):>9} {pss / mib:>9.1f} {rss / mib:>9.1f}")
    print(f"  {'total':<34} {sum(map(len, groups.values())):>9} {total / mib:>9.1f}")
    detectors = groups.get("ray worker Detector", [])
    for pid, pss, rss in detectors:
        print(
            f"  the Detector's worker (pid {pid}): RSS {rss / mib:.1f} MiB, PSS {pss / mib:.1f} MiB"
        )
    if not detectors:
        print("  (no Detector worker found: see the roles above)")


# --- main ---------------------------------------------------------------------------------------


def interrupted(*_: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--model", type=Path, help="an RT-DETRv2 model directory")
    source.add_argument(
        "--size",
        choices=("r50", "r18", "tiny"),
        default="r50",
        help="random-weight model to build (default: %(default)s)",
    )
    parser.add_argument(
        "--engines",
        default="torch,openvino-f32,openvino-bf16",
        help=f"comma-separated, of {', '.join(ENGINES)} (default: %(default)s)",
    )
    parser.add_argument("--images", type=int, default=40, help="the burst (default: 40)")
    parser.add_argument(
        "--cameras", type=int, default=None, help="cameras (default: 2; 8 with --idle-memory)"
    )
    parser.add_argument(
        "--idle-memory",
        action="store_true",
        help="measure the idle service's memory instead of a burst",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=20.0,
        help="--idle-memory: seconds idle before measuring (default: 20)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        help="seconds for start-up and for a burst each (default: 900)",
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="where data dirs and the model go (default: a temporary dir)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work dir afterwards")
    parser.add_argument("--pipeline-view", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pipeline_view:
        pipeline_view()
        return 0
    engines = [name.strip() for name in args.engines.split(",") if name.strip()]
    unknown = [name for name in engines if name not in ENGINES]
    if unknown or not engines:
        parser.error(f"--engines: unknown {', '.join(unknown) or '(none)'}; "
                     f"choose from {', '.join(ENGINES)}")  # fmt: skip
    if len(set(engines)) != len(engines):
        parser.error("--engines: each setting once")
    cameras = args.cameras or (8 if args.idle_memory else 2)
    if args.images < 1 or cameras < 1:
        parser.error("--images and --cameras must be at least 1")

    # Ctrl-C and SIGTERM unwind through the `finally`s, which stop every homesec up.
    signal.signal(signal.SIGTERM, interrupted)
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="homesec-bench-burst-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        if args.model is not None:
            model, what = args.model.resolve(), str(args.model)
        else:
            say(f"building RT-DETRv2 {args.size} with random weights ...")
            model, what = build_model(work, args.size), f"RT-DETRv2 {args.size} (random weights)"
        say(f"model: {what}; {os.cpu_count()} CPUs; work dir {work}")
        if args.idle_memory:
            for name in engines:
                with running(name, work, model, cameras, args.timeout) as service:
                    idle_memory(service, args.settle)
            return 0
        jpegs = make_jpegs(args.images)
        say(f"{len(jpegs)} JPEGs of {FRAME[0]}x{FRAME[1]}, "
            f"{sum(map(len, jpegs)) / len(jpegs) / 1024:.0f} KB on average")  # fmt: skip
        seconds: dict[str, float] = {}
        for name in engines:
            with running(name, work, model, cameras, args.timeout) as service:
                seconds[name] = burst(service, jpegs, args.timeout)
            rate = len(jpegs) / seconds[name]
            say(f"{name}: {len(jpegs)} images in {seconds[name]:.1f} s: {rate:.2f} images/s, "
                f"{1000 / rate:.0f} ms/image")  # fmt: skip
        report(seconds, len(jpegs), what, cameras)
        return 0
    except BenchError as exc:
        print(f"burst: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("burst: interrupted; every homesec up of it was stopped", file=sys.stderr)
        return 130
    finally:
        if args.keep or args.work_dir is not None:
            say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def report(seconds: dict[str, float], images: int, what: str, cameras: int) -> None:
    print(f"\nburst of {images} uploads over FTP to {cameras} cameras, {what}, "
          f"{os.cpu_count()} CPUs, first upload to last done:")  # fmt: skip
    print(f"  {'engine':<15} {'seconds':>8} {'images/s':>9} {'ms/image':>9} {'vs torch':>9}")
    base = seconds.get("torch")
    for name, taken in seconds.items():
        ratio = f"{base / taken:>8.2f}x" if base else f"{'-':>9}"
        target = TARGETS.get(name)
        verdict = ""
        if base and target:
            verdict = f"  (target {target:g}x: {'met' if base / taken >= target else 'NOT met'})"
        print(f"  {name:<15} {taken:>8.1f} {images / taken:>9.2f} {1000 * taken / images:>9.0f} "
              f"{ratio}{verdict}")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
