"""Is there an NVIDIA GPU? Asked through NVML, which needs no CUDA toolkit and no torch.

"No NVML" (no driver, no library, a container without the device) means "no GPU": callers use
the answer to pick an engine, and a probe must never be the reason a service fails to start.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def gpu_count() -> int:
    """How many NVIDIA GPUs NVML sees on this node; 0 when it cannot tell. Never raises."""
    try:
        import pynvml
    except ImportError:
        return 0
    try:
        pynvml.nvmlInit()
    except Exception as exc:  # NVMLError, or OSError when the shared library is missing
        log.debug("NVML unavailable (%s): assuming no GPU", exc)
        return 0
    try:
        return int(pynvml.nvmlDeviceGetCount())
    except Exception as exc:
        log.debug("NVML could not count devices (%s): assuming no GPU", exc)
        return 0
    finally:
        try:
            pynvml.nvmlShutdown()
        except Exception as exc:
            log.debug("NVML shutdown failed: %s", exc)
