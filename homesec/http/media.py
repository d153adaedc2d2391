"""Image files the API serves: only from the camera folders and the thumbnail directory.

Paths come from the database, not the client, but a row could point anywhere (a bug, a restore
from another machine, a hand edit), so each one is checked before a byte is read: no ``..``
component, real path (symlinks followed) inside one of the allowed roots, a regular file.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

from PIL import Image, ImageDraw, UnidentifiedImageError

from homesec.http.errors import Forbidden, NotFound, UnprocessableContent

JPEG_QUALITY = 90
BOX_COLOUR = (255, 64, 32)


def resolve_media(stored_path: str | None, roots: Iterable[Path], what: str) -> Path:
    """The real path of ``stored_path`` if it is a file inside one of ``roots``.

    Raises :class:`NotFound` when there is no such file, :class:`Forbidden` when the path
    leads outside the roots.
    """
    if not stored_path:
        raise NotFound(f"{what} has no file")
    candidate = Path(stored_path)
    if not candidate.is_absolute() or ".." in candidate.parts or "\x00" in stored_path:
        raise Forbidden(f"{what} is stored with a path homesec does not serve")
    try:
        real = candidate.resolve(strict=True)
    except (FileNotFoundError, NotADirectoryError):
        raise NotFound(f"{what}'s file no longer exists") from None
    except (OSError, RuntimeError):  # a symlink loop, a permission error on a parent
        raise Forbidden(f"{what} is stored with a path homesec does not serve") from None
    if not any(real.is_relative_to(root.resolve()) for root in roots):
        raise Forbidden(f"{what}'s file is outside the folders homesec serves")
    if not real.is_file():
        raise NotFound(f"{what}'s file is not a regular file")
    return real


CROP_MAX_SIDE = 320
CROP_MARGIN = 0.15  # of the box's size on each side, so the object is seen in its place


def _open_rgb(image_path: Path, max_pixels: int) -> Image.Image:
    try:
        with Image.open(image_path) as image:
            if image.width * image.height > max_pixels:
                raise UnprocessableContent(
                    f"the source image has {image.width}x{image.height} pixels, more than "
                    f"MAX_IMAGE_PIXELS={max_pixels}"
                )
            canvas = image.convert("RGB")
    except Image.DecompressionBombError:
        raise UnprocessableContent("the source image has too many pixels to decode") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise UnprocessableContent(f"the source image cannot be decoded: {exc}") from None
    return canvas


def _jpeg(canvas: Image.Image) -> bytes:
    out = io.BytesIO()
    canvas.save(out, format="JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


def draw_box(image_path: Path, box: tuple[int, int, int, int] | None, max_pixels: int) -> bytes:
    """The image as JPEG with ``box`` (x, y, width, height) outlined; blocking, run in a thread."""
    canvas = _open_rgb(image_path, max_pixels)
    if box is not None:
        x, y, width, height = box
        line = max(2, round(min(canvas.size) / 200))
        ImageDraw.Draw(canvas).rectangle(
            (x, y, x + max(width - 1, 0), y + max(height - 1, 0)), outline=BOX_COLOUR, width=line
        )
    return _jpeg(canvas)


def crop_box(image_path: Path, box: tuple[int, int, int, int] | None, max_pixels: int) -> bytes:
    """The part of the image inside ``box`` plus a margin (all of it without a box), scaled
    down to at most ``CROP_MAX_SIDE`` pixels a side; blocking, run in a thread."""
    canvas = _open_rgb(image_path, max_pixels)
    if box is not None:
        x, y, width, height = box
        margin_x, margin_y = round(width * CROP_MARGIN), round(height * CROP_MARGIN)
        left, top = max(0, x - margin_x), max(0, y - margin_y)
        right = min(canvas.width, x + width + margin_x)
        bottom = min(canvas.height, y + height + margin_y)
        if right > left and bottom > top:
            canvas = canvas.crop((left, top, right, bottom))
    canvas.thumbnail((CROP_MAX_SIDE, CROP_MAX_SIDE))
    return _jpeg(canvas)
