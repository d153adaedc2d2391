"""A frame's cheap statistics for the tamper check (issue 23), on the small grayscale sample
validation keeps of every valid upload (:data:`homesec.policy.tamper.SAMPLE_SIZE`): brightness,
contrast, sharpness (variance of the Laplacian) and a 32x24 edge map. A few thousand pixels:
microseconds, no model; what they mean is :mod:`homesec.policy.tamper`'s."""

from __future__ import annotations

import numpy as np

from homesec.policy.tamper import EDGE_MAP_SIZE, SAMPLE_SIZE, FrameStats


def frame_stats(sample: bytes) -> FrameStats:
    width, height = SAMPLE_SIZE
    pixels = np.frombuffer(sample, dtype=np.uint8).reshape(height, width).astype(np.float64)
    laplacian = (
        4 * pixels[1:-1, 1:-1]
        - pixels[:-2, 1:-1]
        - pixels[2:, 1:-1]
        - pixels[1:-1, :-2]
        - pixels[1:-1, 2:]
    )
    map_width, map_height = EDGE_MAP_SIZE
    small = pixels.reshape(map_height, height // map_height, map_width, width // map_width)
    small = small.mean(axis=(1, 3))
    across = np.abs(np.diff(small, axis=1, append=small[:, -1:]))
    down = np.abs(np.diff(small, axis=0, append=small[-1:, :]))
    edges = np.round(across + down, 2).ravel()
    return FrameStats(
        mean=float(pixels.mean()),
        std=float(pixels.std()),
        sharpness=float(laplacian.var()),
        edges=tuple(float(value) for value in edges),
    )
