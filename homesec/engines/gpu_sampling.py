"""One reading of each GPU's load through NVML, in the units of the ``gpu_stats`` contract.

The NVML module is passed in (``pynvml`` in production, a fake in tests), so this code never
needs a GPU to be tested. Each figure is read on its own: a GPU that does not support one
(power on many consumer cards, temperature in some VMs) yields None for it, not a lost sample.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any, TypeVar

import msgspec

from homesec.policy.retry import describe_error

MIB = 1024 * 1024
MILLIWATTS_PER_WATT = 1000
GPU_NAME_MAX_CHARS = 255  # gpu_stats.gpu_name is String(255)

T = TypeVar("T")


class GpuReading(msgspec.Struct, frozen=True, kw_only=True):
    """One GPU at one moment; None where NVML could not tell."""

    index: int
    gpu_name: str | None
    gpu_utilization: float | None  # percent, 0-100
    memory_used: int | None  # MB (MiB, as nvidia-smi counts them)
    memory_total: int | None  # MB
    temperature: float | None  # Celsius
    power_usage: float | None  # Watts


class NoGpu(Exception):
    """NVML cannot be used on this node, or sees no GPU; the message says why."""


def load_nvml() -> ModuleType | None:
    """The ``pynvml`` module (nvidia-ml-py), or None where it is not installed."""
    try:
        import pynvml
    except ImportError:
        return None
    return pynvml


def open_nvml(nvml: Any) -> int:
    """Initialise NVML and return how many GPUs it sees; :class:`NoGpu` when none can be read.

    On success the caller owns the NVML session and ends it with :func:`close_nvml`.
    """
    if nvml is None:
        raise NoGpu("NVML is not installed (nvidia-ml-py)")
    try:
        nvml.nvmlInit()
    except Exception as exc:  # NVMLError, or OSError when the driver's library is missing
        raise NoGpu(f"NVML unavailable: {describe_error(exc)}") from exc
    try:
        count = int(nvml.nvmlDeviceGetCount())
    except Exception as exc:
        close_nvml(nvml)
        raise NoGpu(f"NVML could not count GPUs: {describe_error(exc)}") from exc
    if count == 0:
        close_nvml(nvml)
        raise NoGpu("NVML sees no GPU")
    return count


def close_nvml(nvml: Any) -> None:
    """End the NVML session; a failure here changes nothing for the caller."""
    with contextlib.suppress(Exception):  # the session is being dropped either way
        nvml.nvmlShutdown()


def read_gpus(nvml: Any, count: int) -> list[GpuReading]:
    """A reading of each of the ``count`` GPUs NVML can still reach (a lost one is left out)."""
    readings = []
    for index in range(count):
        try:
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
        except nvml.NVMLError:  # the GPU fell off the bus or was reset: nothing to read
            continue
        readings.append(read_gpu(nvml, index, handle))
    return readings


def read_gpu(nvml: Any, index: int, handle: Any) -> GpuReading:
    memory = _field(nvml, lambda: nvml.nvmlDeviceGetMemoryInfo(handle))
    utilization = _field(nvml, lambda: nvml.nvmlDeviceGetUtilizationRates(handle))
    temperature = _field(
        nvml, lambda: nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU)
    )
    power_mw = _field(nvml, lambda: nvml.nvmlDeviceGetPowerUsage(handle))
    return GpuReading(
        index=index,
        gpu_name=_name(_field(nvml, lambda: nvml.nvmlDeviceGetName(handle))),
        gpu_utilization=float(utilization.gpu) if utilization is not None else None,
        memory_used=int(memory.used) // MIB if memory is not None else None,
        memory_total=int(memory.total) // MIB if memory is not None else None,
        temperature=float(temperature) if temperature is not None else None,
        power_usage=power_mw / MILLIWATTS_PER_WATT if power_mw is not None else None,
    )


def total_inference_fps(per_detector: Iterable[float | None]) -> float | None:
    """The detectors' throughput together; None when no detector answered."""
    answered = [fps for fps in per_detector if fps is not None]
    return sum(answered) if answered else None


def _field(nvml: Any, read: Callable[[], T]) -> T | None:
    try:
        return read()
    except nvml.NVMLError:  # NotSupported, NoPermission, ...: just this figure is unknown
        return None


def _name(raw: str | bytes | None) -> str | None:
    # Older nvidia-ml-py releases return bytes.
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    return raw[:GPU_NAME_MAX_CHARS] if raw else None
