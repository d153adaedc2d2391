"""Camera snapshots for tests: JPEGs whose colour tells the scripted detector what it sees."""

from __future__ import annotations

import io

from PIL import Image

RED = (255, 0, 0)  # the scripted detector's "person" (0.95: the fast path)
BLUE = (0, 0, 255)  # its "car"
GREY = (128, 128, 128)  # nothing


def jpeg_bytes(colour: tuple[int, int, int], size: tuple[int, int] = (640, 480), seed: int = 0):
    """A JPEG whose top-left block is ``colour``; ``seed`` makes the content (and hash) unique."""
    image = Image.new("RGB", size, colour)
    image.paste(
        Image.effect_noise((size[0] // 2, size[1] // 2), 40 + seed % 50).convert("RGB"),
        (size[0] // 2, size[1] // 2),
    )
    image.putpixel((size[0] - 1, size[1] - 1), (seed % 256, (seed // 256) % 256, 7))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()
