"""GpuMonitor: every ``GPU_POLL_INTERVAL_SECONDS``, one ``gpu_stats`` row per GPU of its node.

Figures come from NVML (:mod:`homesec.engines.gpu_sampling`); ``inference_fps`` from the
detectors' own counters, which they report in ``health()``: the sum over the detectors that
answer, None when none does. Each sample's rows go in with one INSERT.

A node without NVML or without a GPU is not an error: the monitor says so once (a log line and
a ``logs`` row), records nothing, and idles until stopped, so the supervisor sees it alive.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from homesec.actors import ray_gateway
from homesec.actors.base import ServiceActor
from homesec.actors.named_actors import NamedActors
from homesec.contract import actor_names
from homesec.contract.actor_names import NAMESPACE
from homesec.contract.enums import LogSource
from homesec.engines.gpu_sampling import (
    GpuReading,
    NoGpu,
    close_nvml,
    load_nvml,
    open_nvml,
    read_gpus,
    total_inference_fps,
)
from homesec.settings import Settings
from homesec.store import gpu_stats, logs
from homesec.store.log_handler import ALREADY_STORED

# A detector busier than this to answer its health call counts as not answering this time.
DETECTOR_HEALTH_TIMEOUT_SECONDS = 2.0

# Each detector's inference_fps; None for one that did not answer.
DetectorFpsLookup = Callable[[], Awaitable[Iterable[float | None]]]


class RayDetectorFps:
    """The named detector actors' ``inference_fps``, read from their health reports.

    With ``node_id``, only the detectors on that node count: a monitor's rows describe its own
    node's GPUs, and with one monitor per GPU node each detector is counted once.
    """

    def __init__(
        self,
        replicas: int,
        *,
        node_id: str | None = None,
        namespace: str = NAMESPACE,
        timeout: float = DETECTOR_HEALTH_TIMEOUT_SECONDS,
    ) -> None:
        self.replicas = replicas
        self.node_id = node_id
        self.timeout = timeout
        self._detectors = NamedActors(namespace)

    async def __call__(self) -> list[float | None]:
        return list(
            await asyncio.gather(
                *(self._one(actor_names.detector(i)) for i in range(self.replicas))
            )
        )

    async def _one(self, name: str) -> float | None:
        try:
            health = await self._detectors.call(
                name, "health", timeout=self.timeout, health_group=True
            )
        except Exception:  # not started yet, restarting, too busy: unknown this time
            return None
        if self.node_id is not None and health.detail.get("node_id") != self.node_id:
            return None
        try:
            return float(health.detail["inference_fps"])
        except (KeyError, ValueError):  # a detector that does not report it
            return None


class GpuMonitor(ServiceActor):
    kind = "gpu_monitor"

    def __init__(
        self,
        name: str,
        settings: Settings,
        database_url: str,
        redis_url: str,
        *,
        nvml: Any = None,
        detector_fps: DetectorFpsLookup | None = None,
    ) -> None:
        super().__init__(name, settings, database_url, redis_url)
        # Loaded here, not passed through Ray: a module cannot travel in the actor's arguments.
        self.nvml = nvml if nvml is not None else load_nvml()
        self.detector_fps = detector_fps or RayDetectorFps(
            settings.detector_replicas, node_id=ray_gateway.current_node_id()
        )
        self.gpu_count: int | None = None
        self.no_gpu_reason: str | None = None
        self._no_gpu_row_written = False
        self.last_readings: list[GpuReading] = []
        self.last_inference_fps: float | None = None

    # --- main loop --------------------------------------------------------------------------
    async def main(self) -> None:
        interval = self.settings.gpu_poll_interval_seconds
        try:
            self.gpu_count = await asyncio.to_thread(open_nvml, self.nvml)
        except NoGpu as exc:
            await self._idle_without_gpu(str(exc), interval)
            return
        self.log.info("%s: sampling %d GPU(s) every %g s", self.name, self.gpu_count, interval)
        try:
            while not self.stopping:
                started = time.monotonic()
                try:
                    await self.sample_once()
                except Exception as exc:  # PostgreSQL away: this sample is lost, not the loop
                    self.record_error(exc)
                    self.log.warning("%s: sample failed: %s", self.name, exc)
                await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))
        finally:
            close_nvml(self.nvml)

    async def sample_once(self) -> int:
        """Read every GPU, store one row each (one INSERT); how many rows were stored."""
        if self.gpu_count is None:
            raise RuntimeError("sample_once() before NVML was opened by the main loop")
        fps = total_inference_fps(await self.detector_fps())
        readings = await asyncio.to_thread(read_gpus, self.nvml, self.gpu_count)
        recorded_at = dt.datetime.now(dt.UTC)
        await gpu_stats.insert_samples(
            self.sessions, [_row(reading, fps, recorded_at) for reading in readings]
        )
        self.last_readings = readings
        self.last_inference_fps = fps
        self.counters["samples"] += 1
        self.counters["rows"] += len(readings)
        self.counters["unreadable_gpus"] += self.gpu_count - len(readings)
        return len(readings)

    async def _idle_without_gpu(self, reason: str, interval: float) -> None:
        """Say it once; keep trying to store the ``logs`` row until PostgreSQL takes it."""
        if self.no_gpu_reason is None:
            self.no_gpu_reason = reason
            self.log.warning(
                "%s: no GPU (%s); GPU statistics are not recorded",
                self.name,
                reason,
                extra=ALREADY_STORED,
            )
        while not self.stopping:
            if not self._no_gpu_row_written:
                self._no_gpu_row_written = await self._store_no_gpu_row(reason)
            await asyncio.sleep(interval)

    async def _store_no_gpu_row(self, reason: str) -> bool:
        try:
            await logs.write(
                self.sessions,
                level="WARNING",
                component=self.log.name,
                message=f"{self.name}: no GPU ({reason}); GPU statistics are not recorded",
                extra={"actor": self.name, "reason": reason},
                source=LogSource.BACKEND,
            )
        except Exception as exc:
            self.record_error(exc)
            return False
        return True

    # --- reporting --------------------------------------------------------------------------
    def health_detail(self) -> dict[str, str]:
        if self.no_gpu_reason is not None:
            return {"gpu": f"no GPU ({self.no_gpu_reason})"}
        if self.gpu_count is None:
            return {"gpu": "not probed yet"}
        fps = self.last_inference_fps
        return {
            "gpu": f"{self.gpu_count} GPU(s)",
            "gpu_names": ", ".join(r.gpu_name or f"GPU {r.index}" for r in self.last_readings),
            "inference_fps": "unknown" if fps is None else f"{fps:.2f}",
        }


def _row(reading: GpuReading, inference_fps: float | None, recorded_at: dt.datetime) -> dict:
    return {
        "recorded_at": recorded_at,
        "gpu_name": reading.gpu_name,
        "gpu_utilization": reading.gpu_utilization,
        "memory_used": reading.memory_used,
        "memory_total": reading.memory_total,
        "temperature": reading.temperature,
        "power_usage": reading.power_usage,
        "inference_fps": inference_fps,
    }
