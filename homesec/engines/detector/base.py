"""The detector interface, its errors, and the box arithmetic every engine shares."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from PIL import Image

from homesec.pipeline.structs import BoundingBox, Detection


class DetectorError(RuntimeError):
    """Root of the detector engines' errors."""


class ModelNotFound(DetectorError):
    """The configured model is neither a local directory nor in the local model cache."""


@runtime_checkable
class DetectorEngine(Protocol):
    """Finds objects in images. One call is one batch: engines run it as one forward pass."""

    @property
    def name(self) -> str: ...

    @property
    def device(self) -> str:
        """Where the engine computes: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, or ``"none"``."""
        ...

    def detect(self, images: Sequence[Image.Image]) -> list[list[Detection]]:
        """The detections of each image, in the order of ``images``: one list per image,
        boxes clipped to that image, only those at or above the engine's threshold."""
        ...


def clip_box(
    x0: float, y0: float, x1: float, y1: float, image_width: int, image_height: int
) -> BoundingBox | None:
    """A corner-format box in pixels, clipped to the image and rounded to whole pixels;
    ``None`` when nothing of at least one pixel in each direction is left."""
    if not all(math.isfinite(value) for value in (x0, y0, x1, y1)):
        return None
    left = round(min(max(x0, 0.0), image_width))
    top = round(min(max(y0, 0.0), image_height))
    right = round(min(max(x1, 0.0), image_width))
    bottom = round(min(max(y1, 0.0), image_height))
    if right - left < 1 or bottom - top < 1:
        return None
    return BoundingBox(x=left, y=top, width=right - left, height=bottom - top)
