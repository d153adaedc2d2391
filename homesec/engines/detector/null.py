"""A detector that never looks at pixels: for benchmarks and pipeline tests only.

``DETECTOR_MODEL=null`` measures everything around detection (ingest, queues, batching,
storage) without the model's cost; ``null:person`` (or ``null:person,car``) returns one fixed
box per listed class in every image, so the stages after detection get work too. It detects
nothing real: never use it to watch a house.
"""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image

from homesec.contract.analysis import Detection
from homesec.policy.thumbnails import clip_box

FIXED_CONFIDENCE = 0.99


class NullDetector:
    """Returns, for every image, one centred box (half the image) per class in ``object_types``;
    no classes means no detections. Reads only each image's size, never its pixels."""

    name = "null"
    device = "none"

    def __init__(self, object_types: Sequence[str] = ()) -> None:
        self._object_types = tuple(object_types)

    def detect(self, images: Sequence[Image.Image]) -> list[list[Detection]]:
        return [self._fixed(image.width, image.height) for image in images]

    def _fixed(self, width: int, height: int) -> list[Detection]:
        box = clip_box(width / 4, height / 4, width * 3 / 4, height * 3 / 4, width, height)
        if box is None:  # an image too small to hold a box
            return []
        return [
            Detection(object_type=object_type, confidence=FIXED_CONFIDENCE, bbox=box)
            for object_type in self._object_types
        ]
