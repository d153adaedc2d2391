"""Box geometry for detector output and thumbnails of detected objects.

- :func:`clip_box`: a detector's float ``x1, y1, x2, y2`` corners -> a :class:`BoundingBox` in
  whole pixels inside the image, or None when nothing of it is left.
- :func:`crop_region`: the box grown by a margin on each side (context around the object),
  clipped to the image.
- :func:`render_thumbnail`: that region, scaled to fit ``THUMBNAIL_MAX_SIZE`` (never enlarged),
  as JPEG bytes.
"""

from __future__ import annotations

import io
import math

from PIL import Image

from homesec.contract.analysis import BoundingBox

THUMBNAIL_MAX_SIZE = (320, 240)
CROP_MARGIN = 0.15  # of the box's width (left and right) and height (top and bottom)
JPEG_QUALITY = 85


def clip_box(
    x1: float, y1: float, x2: float, y2: float, width: int, height: int
) -> BoundingBox | None:
    """Clip corner coordinates to a ``width`` x ``height`` image; None for a degenerate box.

    Corners round outwards (floor the top-left, ceil the bottom-right), so the pixel box still
    covers the whole object. Degenerate: not finite, inverted, or empty once clipped.
    """
    if not all(math.isfinite(v) for v in (x1, y1, x2, y2)):
        return None
    left = max(0, math.floor(x1))
    top = max(0, math.floor(y1))
    right = min(width, math.ceil(x2))
    bottom = min(height, math.ceil(y2))
    if right <= left or bottom <= top:
        return None
    return BoundingBox(x=left, y=top, width=right - left, height=bottom - top)


def crop_region(
    box: BoundingBox, width: int, height: int, margin: float = CROP_MARGIN
) -> tuple[int, int, int, int] | None:
    """``(left, top, right, bottom)`` of ``box`` grown by ``margin`` and clipped to the image,
    in Pillow's crop order; None when the box does not overlap the image at all."""
    pad_x = round(box.width * margin)
    pad_y = round(box.height * margin)
    left = max(0, box.x - pad_x)
    top = max(0, box.y - pad_y)
    right = min(width, box.x + box.width + pad_x)
    bottom = min(height, box.y + box.height + pad_y)
    if right <= left or bottom <= top:
        return None
    return left, top, right, bottom


def fit_size(
    width: int, height: int, max_size: tuple[int, int] = THUMBNAIL_MAX_SIZE
) -> tuple[int, int]:
    """The largest size with ``width:height``'s aspect inside ``max_size``, never enlarged."""
    scale = min(1.0, max_size[0] / width, max_size[1] / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def render_thumbnail(
    image: Image.Image,
    box: BoundingBox,
    *,
    margin: float = CROP_MARGIN,
    max_size: tuple[int, int] = THUMBNAIL_MAX_SIZE,
    quality: int = JPEG_QUALITY,
) -> bytes | None:
    """JPEG bytes of the object in ``box`` with some context; None if the box is off-image."""
    region = crop_region(box, image.width, image.height, margin)
    if region is None:
        return None
    crop = image.crop(region)
    size = fit_size(crop.width, crop.height, max_size)
    if size != crop.size:
        crop = crop.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    if crop.mode not in ("RGB", "L"):  # JPEG has no alpha or palette
        crop = crop.convert("RGB")
    out = io.BytesIO()
    crop.save(out, "JPEG", quality=quality)
    return out.getvalue()
