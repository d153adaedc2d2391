"""A test double for the detector model, at the edge of the world: the image says what to find.

End-to-end tests need "a person was detected" without real weights. :class:`ScriptedDetector`
reads the colour of an image's top-left 8x8 block, a JPEG block, so the colour survives JPEG
compression: pure red means a person, pure blue a car, pure green an image the engine cannot
take (it raises: a poison job), anything else nothing. Tests make an image with
``Image.new("RGB", size, (255, 0, 0))``. Chosen with ``DETECTOR_MODEL=scripted``;
never use it to watch a house.
"""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image, ImageStat

from homesec.contract.analysis import Detection
from homesec.policy.thumbnails import clip_box

# Above the default fast-path threshold (0.9), so a scripted person takes the fast path.
SCRIPTED_CONFIDENCE = 0.95
MARKER_BLOCK = 8
# How far a channel may drift from 0 or 255 after JPEG compression and still count.
_TOLERANCE = 40
POISON = "poison"
MARKER_COLOURS: dict[tuple[int, int, int], str] = {
    (255, 0, 0): "person",
    (0, 0, 255): "car",
    (0, 255, 0): POISON,
}


def marker_object_type(image: Image.Image) -> str | None:
    """The class the image's top-left block asks for, or ``None``."""
    block = image.convert("RGB").crop((0, 0, MARKER_BLOCK, MARKER_BLOCK))
    mean = ImageStat.Stat(block).mean
    for colour, object_type in MARKER_COLOURS.items():
        pairs = zip(mean, colour, strict=True)
        if all(abs(channel - target) <= _TOLERANCE for channel, target in pairs):
            return object_type
    return None


class ScriptedDetector:
    """One detection (the centre half of the image) for a marked image, none otherwise."""

    name = "scripted"
    device = "none"

    def detect(self, images: Sequence[Image.Image]) -> list[list[Detection]]:
        return [self._detect_one(image) for image in images]

    def _detect_one(self, image: Image.Image) -> list[Detection]:
        object_type = marker_object_type(image)
        if object_type == POISON:
            raise ValueError("the scripted engine cannot take this image (a green marker)")
        width, height = image.size
        box = clip_box(width / 4, height / 4, width * 3 / 4, height * 3 / 4, width, height)
        if object_type is None or box is None:
            return []
        return [Detection(object_type=object_type, confidence=SCRIPTED_CONFIDENCE, bbox=box)]
