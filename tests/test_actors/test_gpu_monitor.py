"""The GpuMonitor against a real PostgreSQL, with a fake NVML module standing in for the driver.

The fake has the shape of ``pynvml`` (nvidia-ml-py): module-level functions, an ``NVMLError``
root with ``NVMLError_*`` subclasses, memory in bytes and power in milliwatts.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from homesec.actors.gpu_monitor import GpuMonitor, RayDetectorFps
from homesec.actors.ray_gateway import current_node_id
from homesec.contract import actor_names
from homesec.contract.actor_names import HEALTH_GROUP
from homesec.contract.reports import ActorHealth
from homesec.engines.gpu import gpu_count
from homesec.engines.gpu_sampling import total_inference_fps
from homesec.models import GPUStats, Log
from tests.support.pipeline import pipeline_settings, start, stop
from tests.support.waiting import eventually

GIB = 1024**3


class FakeNvml:
    """Two GPUs; the second does not report its power, like many consumer cards.

    Names, as in pynvml, are camelCase (ruff's pep8-naming is not enabled here).
    """

    class NVMLError(Exception):
        pass

    class NVMLError_NotSupported(NVMLError):
        pass

    class NVMLError_LibraryNotFound(NVMLError):
        pass

    NVML_TEMPERATURE_GPU = 0

    GPUS = [
        {
            "name": "NVIDIA RTX A5500",
            "gpu": 37,
            "used": 6 * GIB,
            "total": 24 * GIB,
            "temperature": 61,
            "power_mw": 142_500,
        },
        {
            "name": b"NVIDIA GeForce RTX 3060",  # older nvidia-ml-py answers bytes
            "gpu": 5,
            "used": 512 * 1024**2,
            "total": 12 * GIB,
            "temperature": 44,
            "power_mw": None,
        },
    ]

    def __init__(self, *, init_error: Exception | None = None) -> None:
        self.init_error = init_error
        self.initialised = 0
        self.shut_down = 0

    def nvmlInit(self) -> None:
        if self.init_error is not None:
            raise self.init_error
        self.initialised += 1

    def nvmlShutdown(self) -> None:
        self.shut_down += 1

    def nvmlDeviceGetCount(self) -> int:
        return len(self.GPUS)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> dict:
        return self.GPUS[index]

    def nvmlDeviceGetName(self, handle: dict) -> str | bytes:
        return handle["name"]

    def nvmlDeviceGetUtilizationRates(self, handle: dict) -> SimpleNamespace:
        return SimpleNamespace(gpu=handle["gpu"], memory=0)

    def nvmlDeviceGetMemoryInfo(self, handle: dict) -> SimpleNamespace:
        return SimpleNamespace(used=handle["used"], total=handle["total"])

    def nvmlDeviceGetTemperature(self, handle: dict, sensor: int) -> int:
        assert sensor == self.NVML_TEMPERATURE_GPU
        return handle["temperature"]

    def nvmlDeviceGetPowerUsage(self, handle: dict) -> int:
        if handle["power_mw"] is None:
            raise self.NVMLError_NotSupported("Not Supported")
        return handle["power_mw"]


def detectors_answering(*fps: float | None):
    async def lookup() -> list[float | None]:
        return list(fps)

    return lookup


def monitor(tmp_path: Path, database_url: str, redis_url: str, **kwargs) -> GpuMonitor:
    settings = pipeline_settings(tmp_path, gpu_poll_interval_seconds=0.1)
    return GpuMonitor("gpu_monitor:test", settings, database_url, redis_url, **kwargs)


async def gpu_rows(db_sessions) -> list[GPUStats]:
    async with db_sessions() as session:
        return list((await session.scalars(select(GPUStats).order_by(GPUStats.id))).all())


async def log_rows(db_sessions) -> list[Log]:
    async with db_sessions() as session:
        return list((await session.scalars(select(Log))).all())


async def test_samples_every_gpu_in_contract_units(
    tmp_path, migrated_database_url, redis_url, db_sessions
):
    nvml = FakeNvml()
    actor = monitor(
        tmp_path,
        migrated_database_url,
        redis_url,
        nvml=nvml,
        detector_fps=detectors_answering(12.5, None, 3.5),
    )
    task = start(actor)

    async def two_samples() -> bool:
        return len(await gpu_rows(db_sessions)) >= 4

    await eventually(two_samples, timeout=15.0, what="two samples of two GPUs")
    health = await actor.health()
    await stop(actor, task)

    rows = await gpu_rows(db_sessions)
    first, second = rows[0], rows[1]
    assert first.recorded_at == second.recorded_at  # one sample, one INSERT
    assert (first.gpu_name, first.gpu_utilization) == ("NVIDIA RTX A5500", 37.0)
    assert (first.memory_used, first.memory_total) == (6 * 1024, 24 * 1024)  # bytes -> MB
    assert (first.temperature, first.power_usage) == (61.0, 142.5)  # mW -> W
    assert first.inference_fps == 16.0  # the detectors that answered, together
    assert (second.gpu_name, second.gpu_utilization) == ("NVIDIA GeForce RTX 3060", 5.0)
    assert (second.memory_used, second.memory_total) == (512, 12 * 1024)
    assert second.temperature == 44.0
    assert second.power_usage is None  # NotSupported: that figure only
    assert second.inference_fps == 16.0

    assert health.state == "running"
    assert health.detail["gpu"] == "2 GPU(s)"
    assert health.detail["inference_fps"] == "16.00"
    assert actor.counters["errors"] == 0
    assert await log_rows(db_sessions) == []
    assert nvml.shut_down == nvml.initialised == 1  # stop() ends the NVML session


async def test_no_detector_answering_leaves_inference_fps_empty(
    tmp_path, migrated_database_url, redis_url, db_sessions
):
    actor = monitor(
        tmp_path,
        migrated_database_url,
        redis_url,
        nvml=FakeNvml(),
        detector_fps=detectors_answering(None, None),
    )
    actor.gpu_count = 2  # as the main loop leaves it after opening NVML
    try:
        assert await actor.sample_once() == 2
    finally:
        await actor.close()
    assert [row.inference_fps for row in await gpu_rows(db_sessions)] == [None, None]


async def test_without_nvml_it_says_so_once_and_records_nothing(
    tmp_path, migrated_database_url, redis_url, db_sessions
):
    nvml = FakeNvml(init_error=FakeNvml.NVMLError_LibraryNotFound("NVML Shared Library Not Found"))
    actor = monitor(
        tmp_path, migrated_database_url, redis_url, nvml=nvml, detector_fps=detectors_answering()
    )
    task = start(actor)

    async def reported() -> bool:
        return len(await log_rows(db_sessions)) > 0

    await eventually(reported, timeout=15.0, what="the no-GPU log row")
    await asyncio.sleep(0.5)  # five poll intervals: time to repeat itself, if it would
    health = await actor.health()
    await stop(actor, task)

    [row] = await log_rows(db_sessions)
    assert row.level == "WARNING"
    assert row.component == "homesec.gpu_monitor"
    assert "NVML Shared Library Not Found" in row.message
    assert row.source == "backend"
    assert await gpu_rows(db_sessions) == []
    assert health.state == "running"  # idle, not failed: the supervisor leaves it alone
    assert health.detail["gpu"].startswith("no GPU (NVML unavailable: ")


async def test_the_real_nvml_here(tmp_path, migrated_database_url, redis_url, db_sessions):
    """With the installed pynvml: no crash; rows only where this machine has GPUs."""
    gpus = gpu_count()
    actor = monitor(tmp_path, migrated_database_url, redis_url, detector_fps=detectors_answering())
    task = start(actor)

    async def settled() -> bool:
        if gpus:
            return len(await gpu_rows(db_sessions)) >= gpus
        return len(await log_rows(db_sessions)) > 0

    await eventually(settled, timeout=15.0, what="a sample or the no-GPU report")
    health = await actor.health()
    await stop(actor, task)

    assert health.state == "running"
    assert actor.counters["errors"] == 0
    if gpus:
        rows = await gpu_rows(db_sessions)
        assert all(row.memory_total and row.memory_total > 0 for row in rows)
    else:
        assert await gpu_rows(db_sessions) == []
        assert health.detail["gpu"].startswith("no GPU (")


def test_total_inference_fps():
    assert total_inference_fps([]) is None
    assert total_inference_fps([None]) is None
    assert total_inference_fps([0.0, None]) == 0.0
    assert total_inference_fps([2.5, 1.5]) == 4.0


class StubDetector:
    """Answers ``health()`` as a detector does: its throughput and the node it runs on."""

    def __init__(self, node_id: str) -> None:
        self.node_id = node_id

    async def health(self) -> ActorHealth:
        return ActorHealth(
            name="stub",
            kind="detector",
            state="running",
            started_at=0.0,
            detail={"inference_fps": "7.50", "node_id": self.node_id},
        )


@pytest.mark.ray
async def test_ray_lookup_reads_the_detectors_on_its_node(ray_cluster):
    import ray

    namespace = "homesec_test_gpu_monitor"  # away from the detectors other tests start
    here = current_node_id()
    stubs = [
        ray.remote(concurrency_groups={HEALTH_GROUP: 1})(StubDetector)
        .options(name=actor_names.detector(replica), namespace=namespace, num_cpus=0)
        .remote(node_id)
        for replica, node_id in ((0, here), (1, "another-node"))
    ]
    try:
        # Up before they are asked: on a loaded machine a worker takes longer than the timeout.
        await asyncio.gather(*(stub.__ray_ready__.remote() for stub in stubs))
        on_this_node = RayDetectorFps(3, node_id=here, namespace=namespace, timeout=5.0)
        # detector:1 runs elsewhere (by its report), detector:2 does not exist
        assert await on_this_node() == [7.5, None, None]
        anywhere = RayDetectorFps(3, namespace=namespace, timeout=5.0)
        assert await anywhere() == [7.5, 7.5, None]
    finally:
        for stub in stubs:
            ray.kill(stub)
