"""Environment of the process that runs a detector engine.

glibc's allocator hands every allocation above its mmap threshold (at most 32 MiB, adjusted on
the fly) straight to the kernel and gives it back on free. A forward pass of RT-DETRv2 on the
CPU allocates and frees activations of tens to hundreds of MiB, so every batch faults the same
memory in again page by page: on a 2-core machine, a batch of eight 640x640 images spent 9.1 s,
nearly half of its CPU time in the kernel. With freed memory kept in the heap (a high mmap and
trim threshold) the same batch took 4.2 s, for about 0.8 GiB more resident memory, which the
process reaches at its peak anyway. One arena, because the detector runs the model in a worker
thread, and a thread's own arena is made of 64 MiB heaps: anything larger is mmapped whatever
the threshold (7.3 s per batch with the thresholds alone, 4.3 s with one arena). The settings
are read when a process starts, so they are given to the detector's Ray worker in its
environment (``ActorSpec.env_vars``).

The one arena was measured for PyTorch; ``bench/detector.py --arena-compare`` runs the OpenVINO
engine with and without it.

glibc's older variables rather than ``GLIBC_TUNABLES``: Ray 2.60 cut a runtime_env value at its
first ``:``, which left only the first of the two tunables in the worker.
"""

from __future__ import annotations

GIB = 1024**3

DETECTOR_PROCESS_ENV: dict[str, str] = {
    "MALLOC_MMAP_THRESHOLD_": str(GIB),
    "MALLOC_TRIM_THRESHOLD_": str(4 * GIB),
    "MALLOC_ARENA_MAX": "1",
}
