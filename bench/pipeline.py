"""Pipeline benchmark: prints figures, asserts nothing.

On one set of 1280x720 JPEGs, in one run:
  1. the raw rate of hashing plus decoding (what the watcher and detector must do per image);
  2. the pipeline's capacity, images/s from the first file landing to the last upload done,
     through every actor on real Ray, PostgreSQL and Redis, with a zero-cost detector engine
     (``null:car``: one box per image, so thumbnails, batches and events happen too), and its
     ratio to (1);
  3. the RT-DETRv2 engine's own rate (the real architecture with random weights: the compute is
     the same), measured in a Ray worker set up as the detector's, the pipeline's rate with it,
     and their ratio;
  4. fast-path latency from a file's close to its ``security_events`` message (p50, p95), with
     the scripted detector and the rules engine;
  5. the same over homesec's FTP server: from the end of ``STOR`` (the client has the 226) to
     the message, the upload handed to the watcher by the server (target p95 under 150 ms).

PostgreSQL and Redis: ``DATABASE_URL`` / ``REDIS_URL`` when set (a scratch database is created
and dropped on that server), else the embedded servers under a temporary data dir.

    .venv/bin/python bench/pipeline.py [--images 400] [--rtdetr-images 48] [--fast-samples 20]
        [--skip capacity --skip rtdetr --skip fast-path --skip ftp]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import random
import secrets
import shutil
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from PIL import Image

# Before Ray is imported anywhere: clients of a token-auth cluster must say so at import.
os.environ.setdefault("RAY_AUTH_MODE", "token")

import ray
from sqlalchemy import func, select

from homesec.actors import ray_gateway
from homesec.actors.camera_watcher import DEFAULT_TICK_SECONDS as WATCHER_TICK_SECONDS
from homesec.contract import actor_names, keys
from homesec.contract.reports import ActorSpec
from homesec.engines.detector import DetectorEngine
from homesec.models import Detection, Upload
from homesec.ops import migrate
from homesec.ops.services import local_services
from homesec.policy.validation import validate_image_bytes
from homesec.settings import Settings, load_settings
from homesec.store.database import create_engine, scratch_database, session_factory
from homesec.store.redis_client import create_redis

SIZE = (1280, 720)
RUN_MARKER = tuple(secrets.token_bytes(3))  # an 8x8 colour of this run, top right


def make_jpegs(count: int, red_marker: bool = False, first: int = 0) -> list[bytes]:
    """Distinct 1280x720 JPEGs with camera-like content (noise and gradients, ~100-200 KB);
    ``first`` numbers them apart from another set (the same bytes twice are a duplicate). A
    marker of this run keeps them apart from an earlier run's too: an external Redis still
    holds that run's dedupe keys."""
    images = []
    run = RUN_MARKER
    base = Image.linear_gradient("L").resize(SIZE).convert("RGB")
    for index in range(first, first + count):
        image = base.copy()
        image.paste(Image.effect_noise((SIZE[0] // 2, SIZE[1] // 2), 30 + index % 40), (0, 360))
        image.paste(run, (SIZE[0] - 8, 0, SIZE[0], 8))
        image.putpixel((SIZE[0] - 1, 0), (index % 256, index // 256 % 256, 1))
        if red_marker:  # the scripted detector's "person"
            image.paste((255, 0, 0), (0, 0, 16, 16))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=85)
        images.append(out.getvalue())
    return images


def raw_rate(jpegs: list[bytes]) -> float:
    """Images/s of SHA-256 plus a full decode, in this process, one core."""
    started = time.perf_counter()
    for data in jpegs:
        result = validate_image_bytes(data)
        assert result.ok, result.message
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # the detector decodes at full size
    return len(jpegs) / (time.perf_counter() - started)


def bench_settings(data_dir: Path, detector_model: str, **env: str) -> Settings:
    return load_settings(
        {
            "HOMESEC_DATA_DIR": str(data_dir),
            "FOSCAM_BASE_PATH": str(data_dir / "cameras"),
            "DETECTOR_MODEL": detector_model,
            "LLM_ENGINE": "rules",
            "UPLOAD_SETTLE_SECONDS": "0.5",
            "BATCH_WINDOW_SECONDS": "5",
            "BATCH_IDLE_TIMEOUT_SECONDS": "1",
            "QUEUE_MAX_DEPTH": "100000",
            "FTP_ENABLED": "false",  # only the FTP measurement runs the server (on a free port)
            **env,
        }
    )


@contextlib.asynccontextmanager
async def pipeline(settings: Settings, database_url: str, redis_url: str) -> AsyncIterator[None]:
    spec = ActorSpec(
        name=actor_names.SUPERVISOR,
        kind="supervisor",  # the production cycle: it starts every other actor
        settings=settings,
        database_url=database_url,
        redis_url=redis_url,
    )
    supervisor, main_loop = ray_gateway.spawn(spec)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            report = await supervisor.report.options(concurrency_group="health").remote()
            if report.actors and all(actor.state == "ALIVE" for actor in report.actors):
                # ... and the detector has its model loaded: loading is not throughput.
                detector = ray.get_actor(actor_names.detector(0), namespace="homesec")
                health = await ray_gateway.health(detector, 30.0)
                if health.detail.get("engine", "not loaded") != "not loaded":
                    break
            await asyncio.sleep(0.5)
        yield
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(supervisor.shutdown.remote(), 60)
        # As `homesec up` stops it: its `run` answers before the kill (no "killed" noise).
        await ray_gateway.retire(supervisor, [main_loop], stop_timeout=30, loop_timeout=5)


async def done_count(sessions, camera_id: str) -> int:
    async with sessions() as session:
        return await session.scalar(
            select(func.count())
            .select_from(Upload)
            .where(Upload.camera_id == camera_id, Upload.status == "done")
        )


async def last_done_at(sessions, camera_id: str) -> float:
    """When the camera's last upload was done: ``processed_at``, set in the transaction that
    marks it done (epoch seconds, this machine's clock)."""
    async with sessions() as session:
        last = await session.scalar(
            select(func.max(Upload.processed_at)).where(Upload.camera_id == camera_id)
        )
    return last.timestamp()


async def detection_count(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            return await session.scalar(select(func.count()).select_from(Detection))
    finally:
        await engine.dispose()


def new_camera_folder(settings: Settings, prefix: str) -> tuple[str, Path]:
    """A camera of this run: its id and its (new) folder."""
    camera = f"{prefix}_{secrets.token_hex(3)}"
    folder = settings.foscam_base_path / camera
    folder.mkdir(parents=True)
    return camera, folder


async def pipeline_rate(
    settings: Settings, database_url: str, redis_url: str, jpegs: list[bytes]
) -> float:
    """Images/s through the running pipeline: from the first file landing to the last done."""
    camera, folder = new_camera_folder(settings, "bench")
    staging = settings.data_dir / "staging" / camera
    staging.mkdir(parents=True)
    for index, data in enumerate(jpegs):
        (staging / f"{index:05d}.jpg").write_bytes(data)
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    try:
        async with pipeline(settings, database_url, redis_url):
            await asyncio.sleep(2)  # let the watcher of the new camera start
            started = time.time()
            for path in sorted(staging.iterdir()):
                os.rename(path, folder / path.name)  # an upload landing whole, as FTP renames
            # Seldom: the poll itself takes CPU from the pipeline. The end is read from the
            # ledger, not from when the poll noticed.
            while await done_count(sessions, camera) < len(jpegs):  # noqa: ASYNC110 (polls PostgreSQL)
                await asyncio.sleep(1.0)
            return len(jpegs) / (await last_done_at(sessions, camera) - started)
    finally:
        await engine.dispose()


# Puts the sample with this index into the camera's folder, and returns once it is complete.
PutSample = Callable[[int, bytes], Awaitable[None]]


async def fast_path_latency(
    settings: Settings, database_url: str, redis_url: str, samples: int
) -> list[float]:
    """Seconds from a file's close to its fast-path event message, one upload at a time."""
    camera, folder = new_camera_folder(settings, "fast")

    @contextlib.asynccontextmanager
    async def by_folder() -> AsyncIterator[PutSample]:
        async def write(index: int, data: bytes) -> None:
            with (folder / f"person_{index:03d}.jpg").open("wb") as handle:
                handle.write(data)

        yield write

    jpegs = make_jpegs(samples, red_marker=True, first=1_000_000)
    return await fast_path_samples(settings, database_url, redis_url, camera, jpegs, by_folder)


async def ftp_fast_path_latency(
    settings: Settings, database_url: str, redis_url: str, samples: int, cpu: list[float]
) -> list[float]:
    """Seconds from the end of an FTP ``STOR`` to its fast-path event message, one at a time."""
    import ftplib

    from homesec.policy.cameras import CameraFolder
    from homesec.store import camera_accounts

    camera, folder = new_camera_folder(settings, "ftp")
    engine = create_engine(database_url)
    await camera_accounts.create_account(
        session_factory(engine), CameraFolder(camera, camera, str(folder)), "bench-password"
    )
    await engine.dispose()

    @contextlib.asynccontextmanager
    async def by_ftp() -> AsyncIterator[PutSample]:
        client = ftplib.FTP(timeout=30)
        await asyncio.to_thread(client.connect, settings.ftp_host, settings.ftp_port)
        await asyncio.to_thread(client.login, camera, "bench-password")

        async def store(index: int, data: bytes) -> None:
            # Returns with the server's 226: the end of the STOR as the camera sees it.
            await asyncio.to_thread(
                client.storbinary, f"STOR person_{index:03d}.jpg", io.BytesIO(data)
            )

        try:
            yield store
        finally:
            await asyncio.to_thread(client.quit)

    jpegs = make_jpegs(samples, red_marker=True, first=2_000_000)
    return await fast_path_samples(
        settings, database_url, redis_url, camera, jpegs, by_ftp, settle_seconds=3, cpu=cpu
    )


def watcher_cpu_seconds() -> float:
    """User + system CPU seconds so far of this machine's CameraWatcher actor processes (their
    Ray worker titles say ``ray::CameraWatcher``); each measurement runs one camera."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if not (entry / "cmdline").read_bytes().startswith(b"ray::CameraWatcher"):
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


async def fast_path_samples(
    settings: Settings,
    database_url: str,
    redis_url: str,
    camera: str,
    jpegs: list[bytes],
    uploader: Callable[[], contextlib.AbstractAsyncContextManager[PutSample]],
    *,
    settle_seconds: float = 2,
    cpu: list[float] | None = None,
) -> list[float]:
    """What both fast-path measurements share: subscribed to ``security_events`` before the
    pipeline starts, each image uploaded alone (``uploader``'s way) and timed from the moment the
    upload is complete to its camera's fast-path event; the subscription and the pipeline are
    torn down whatever happens. ``cpu``, when given, gets the watcher's CPU milliseconds per
    upload (what reading, hashing and decoding each upload costs it, its idle ticks included)."""
    redis = create_redis(redis_url)
    pubsub = redis.pubsub()
    await pubsub.subscribe(keys.SECURITY_EVENTS)
    latencies = []
    try:
        async with pipeline(settings, database_url, redis_url):
            await asyncio.sleep(settle_seconds)  # the camera's watcher (and the FTP accounts)
            cpu_before = watcher_cpu_seconds()
            async with uploader() as upload:
                for index, data in enumerate(jpegs):
                    await upload(index, data)
                    latencies.append(
                        await _fast_path_event_after(pubsub, camera, time.perf_counter())
                    )
                    # A pause of random length: a fixed one locked the folder path's samples to
                    # one phase of the watcher's 0.25 s tick (all ~300 ms, or most ~70 ms, as the
                    # pipeline's own latency shifted the phase), where they should see them all.
                    await asyncio.sleep(random.uniform(0.2, 0.2 + WATCHER_TICK_SECONDS))
            if cpu is not None and jpegs:
                cpu.append((watcher_cpu_seconds() - cpu_before) * 1000 / len(jpegs))
    finally:
        await pubsub.aclose()
        await redis.aclose()
    return latencies


def random_rtdetr(directory: Path) -> Path:
    """The published RT-DETRv2 r50vd architecture with random weights, saved for loading."""
    from transformers import RTDetrImageProcessor, RTDetrV2Config, RTDetrV2ForObjectDetection

    config = RTDetrV2Config(use_pretrained_backbone=False)
    config.id2label = {0: "person", 1: "car", 2: "dog"}
    config.label2id = {label: index for index, label in config.id2label.items()}
    RTDetrV2ForObjectDetection(config).save_pretrained(directory)
    RTDetrImageProcessor(size={"height": 640, "width": 640}).save_pretrained(directory)
    return directory


def engine_rate(settings: Settings, jpegs: list[bytes]) -> tuple[float, str]:
    """Images/s of the engine alone, batch after batch on decoded images, built as the detector
    builds it (``create_detector``: the engine, precision and batch size of ``settings``) in a
    Ray worker set up as the detector's (one CPU, the detector's process environment): the ratio
    of the pipeline to this rate is then what the pipeline around the engine costs."""
    from homesec.actors.ray_gateway import actor_options
    from homesec.contract.reports import ActorSpec
    from homesec.policy.process_env import DETECTOR_PROCESS_ENV

    options = actor_options(
        ActorSpec(
            name="bench",
            kind="bench",
            settings=settings,
            database_url="",
            redis_url="",
            num_cpus=1,
            env_vars=DETECTOR_PROCESS_ENV,
        )
    )
    task = ray.remote(_engine_rate_here).options(
        num_cpus=options["num_cpus"], runtime_env=options.get("runtime_env")
    )
    return ray.get(task.remote(settings, jpegs))


def _engine_rate_here(settings: Settings, jpegs: list[bytes]) -> tuple[float, str]:
    from homesec.engines.detector import create_detector

    detector = create_detector(settings, device="cpu")  # warmed up, as the detector's is
    images = [Image.open(io.BytesIO(data)).convert("RGB") for data in jpegs]
    batch_size = settings.detector_batch_size
    started = time.perf_counter()
    for start in range(0, len(images), batch_size):
        detector.detect(images[start : start + batch_size])
    return len(images) / (time.perf_counter() - started), _engine_words(detector)


def _engine_words(detector: DetectorEngine) -> str:
    """What ran: the engine's name, and OpenVINO's precision as compiled."""
    precision = getattr(detector, "compiled_precision", None)
    return f"{detector.name} {precision}" if precision else detector.name


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def _fast_path_event_after(pubsub, camera: str, started: float) -> float:
    """Seconds from ``started`` until the camera's next fast-path event is published."""
    while True:
        # None also for a subscription notice it skipped: only the clock says when to give up.
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
        if message is None:
            if time.perf_counter() - started > 10:
                raise TimeoutError("no fast-path event within 10 s")
            continue
        payload = json.loads(message["data"])
        data = payload.get("data", {})
        if (
            payload.get("type") == "event"
            and data.get("camera_id") == camera
            and data.get("is_fast_path")
        ):
            return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=400)
    parser.add_argument("--rtdetr-images", type=int, default=48)
    parser.add_argument("--fast-samples", type=int, default=20)
    parser.add_argument(
        "--engine", default="auto", choices=["auto", "openvino", "torch"],
        help="DETECTOR_ENGINE of the RT-DETRv2 measurement (3.)",
    )  # fmt: skip
    parser.add_argument(
        "--precision", default="auto", choices=["auto", "f32", "bf16"],
        help="DETECTOR_PRECISION of the RT-DETRv2 measurement (3.)",
    )  # fmt: skip
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=["capacity", "rtdetr", "fast-path", "ftp"],
        help="leave out a measurement (repeatable)",
    )
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="homesec-bench-"))
    data_dir.chmod(0o755)  # the embedded PostgreSQL's unprivileged user must reach it
    base = load_settings({**os.environ, "HOMESEC_DATA_DIR": str(data_dir)})
    print(f"making {args.images} JPEGs of {SIZE[0]}x{SIZE[1]} ...", flush=True)
    jpegs = make_jpegs(args.images)
    print(f"  mean size {statistics.mean(map(len, jpegs)) / 1024:.0f} KiB")
    raw = raw_rate(jpegs)
    print(f"1. raw hash + full decode: {raw:.1f} images/s (one core)")

    try:
        with (
            local_services(base) as endpoints,
            scratch_database(endpoints.database_url, "homesec_bench") as db,
        ):
            migrate.upgrade(db)
            ray.init(
                address="local",
                num_cpus=os.cpu_count() or 2,
                include_dashboard=False,
                namespace="homesec",
                _node_ip_address="127.0.0.1",
                log_to_driver=False,
            )
            if "capacity" not in args.skip:
                null = bench_settings(data_dir / "null", "null:car")
                capacity = asyncio.run(pipeline_rate(null, db, endpoints.redis_url, jpegs))
                print(
                    f"2. pipeline capacity, zero-cost detector: {capacity:.1f} images/s; "
                    f"ratio to raw rate {capacity / raw:.2f}",
                    flush=True,
                )

            if "rtdetr" not in args.skip:
                model_dir = random_rtdetr(data_dir / "rtdetr")
                # Images of their own: the capacity run's would be duplicates within the TTL.
                subset = make_jpegs(args.rtdetr_images, first=len(jpegs))
                # Random weights score every query near chance; a high threshold keeps the number
                # of stored detections per image in a real model's range (a few, not hundreds).
                real = bench_settings(
                    data_dir / "rtdetr-run",
                    str(model_dir),
                    DETECTOR_DEVICE="cpu",
                    DETECTOR_ENGINE=args.engine,
                    DETECTOR_PRECISION=args.precision,
                    DETECTION_CONFIDENCE_THRESHOLD="0.95",
                )
                # Before and after the pipeline run: on a shared machine two runs of the very same
                # measurement differ by up to a tenth, so the ratio is taken to their mean.
                engine_before, what = engine_rate(real, subset)
                stored_before = asyncio.run(detection_count(db))
                with_model = asyncio.run(pipeline_rate(real, db, endpoints.redis_url, subset))
                engine_after, _ = engine_rate(real, subset)
                engine = (engine_before + engine_after) / 2
                found = asyncio.run(detection_count(db)) - stored_before
                print(
                    f"3. RT-DETRv2 (r50vd, random weights, CPU; {what}): engine "
                    f"{engine:.2f} images/s (before {engine_before:.2f}, after "
                    f"{engine_after:.2f}), pipeline {with_model:.2f} images/s ({found} detections "
                    f"stored); pipeline / engine {with_model / engine:.2f}"
                )

            if "fast-path" not in args.skip:
                fast = bench_settings(data_dir / "fast", "scripted", FAST_PATH_COOLDOWN_SECONDS="0")
                latencies = asyncio.run(
                    fast_path_latency(fast, db, endpoints.redis_url, args.fast_samples)
                )
                print(
                    f"4. fast path, file close -> security_events ({len(latencies)} samples): "
                    f"p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
                    f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms"
                )

            if "ftp" not in args.skip:
                from homesec.ops.ports import free_port

                passive = free_port()
                over_ftp = bench_settings(
                    data_dir / "ftp",
                    "scripted",
                    FAST_PATH_COOLDOWN_SECONDS="0",
                    FTP_ENABLED="true",
                    FTP_HOST="127.0.0.1",
                    FTP_PORT=str(free_port()),
                    FTP_PASSIVE_PORTS=f"{passive}-{passive + 9}",
                )
                cpu: list[float] = []
                latencies = asyncio.run(
                    ftp_fast_path_latency(over_ftp, db, endpoints.redis_url, args.fast_samples, cpu)
                )
                print(
                    f"5. fast path over FTP, end of STOR -> security_events ({len(latencies)} "
                    f"samples): p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
                    f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms; the watcher's CPU "
                    f"{cpu[0]:.1f} ms per upload"
                )
            ray.shutdown()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
