"""The detector interface and its errors. Box clipping is ``pipeline.thumbnails.clip_box``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from PIL import Image

from homesec.contract.analysis import Detection


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
