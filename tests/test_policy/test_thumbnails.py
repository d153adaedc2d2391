"""Box clipping and thumbnails: margins, image edges, size limits, modes."""

from __future__ import annotations

import io
import math

import pytest
from PIL import Image

from homesec.contract.analysis import BoundingBox
from homesec.policy.thumbnails import (
    THUMBNAIL_MAX_SIZE,
    clip_box,
    crop_region,
    fit_size,
    render_thumbnail,
)


def decode(data: bytes | None) -> Image.Image:
    assert data is not None
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    return image


# --- clip_box -------------------------------------------------------------------------------


def test_clip_box_inside_rounds_outwards() -> None:
    assert clip_box(10.4, 20.6, 50.2, 80.0, 1280, 720) == BoundingBox(10, 20, 41, 60)


def test_clip_box_at_image_edges() -> None:
    assert clip_box(-15.0, -3.2, 100.0, 50.0, 640, 480) == BoundingBox(0, 0, 100, 50)
    assert clip_box(600.0, 400.0, 700.5, 999.0, 640, 480) == BoundingBox(600, 400, 40, 80)
    assert clip_box(-10, -10, 10_000, 10_000, 640, 480) == BoundingBox(0, 0, 640, 480)


@pytest.mark.parametrize(
    "corners",
    [
        (10, 10, 10, 50),  # zero width
        (10, 50, 60, 50),  # zero height
        (60, 10, 10, 50),  # inverted
        (700, 10, 800, 50),  # entirely right of the image
        (-50, -50, -1, -1),  # entirely above-left
        (math.nan, 0, 10, 10),
        (0, 0, math.inf, 10),
    ],
)
def test_clip_box_degenerate(corners: tuple[float, float, float, float]) -> None:
    assert clip_box(*corners, 640, 480) is None


def test_clip_box_tiny_box_keeps_one_pixel() -> None:
    assert clip_box(5.2, 5.3, 5.4, 5.5, 640, 480) == BoundingBox(5, 5, 1, 1)


# --- crop geometry --------------------------------------------------------------------------


def test_crop_region_adds_fifteen_percent_each_side() -> None:
    assert crop_region(BoundingBox(100, 100, 200, 100), 1280, 720) == (70, 85, 330, 215)


def test_crop_region_is_clipped_at_the_image_edges() -> None:
    assert crop_region(BoundingBox(0, 0, 100, 100), 640, 480) == (0, 0, 115, 115)
    assert crop_region(BoundingBox(600, 440, 40, 40), 640, 480) == (594, 434, 640, 480)


def test_crop_region_off_image_is_none() -> None:
    assert crop_region(BoundingBox(700, 10, 50, 50), 640, 480) is None


@pytest.mark.parametrize(
    ("size", "fitted"),
    [
        ((1280, 720), (320, 180)),  # width-bound
        ((300, 900), (80, 240)),  # height-bound
        ((100, 50), (100, 50)),  # small: never enlarged
        ((320, 240), (320, 240)),
        ((5000, 1), (320, 1)),  # extreme aspect keeps at least a pixel
    ],
)
def test_fit_size(size: tuple[int, int], fitted: tuple[int, int]) -> None:
    assert fit_size(*size) == fitted


# --- rendering ------------------------------------------------------------------------------


def test_large_box_is_scaled_to_fit_the_limit() -> None:
    image = Image.new("RGB", (1920, 1080), (40, 80, 120))
    thumb = decode(render_thumbnail(image, BoundingBox(200, 100, 1000, 800)))
    assert thumb.width <= THUMBNAIL_MAX_SIZE[0]
    assert thumb.height <= THUMBNAIL_MAX_SIZE[1]
    assert max(thumb.width / 320, thumb.height / 240) == pytest.approx(1, abs=0.01)


def test_small_box_is_not_enlarged() -> None:
    image = Image.new("RGB", (640, 480), "white")
    thumb = decode(render_thumbnail(image, BoundingBox(300, 200, 20, 40)))
    assert thumb.size == (26, 52)  # 20x40 plus 3 and 6 pixels of margin each side


def test_box_at_the_corner_is_cropped_to_the_image() -> None:
    image = Image.new("RGB", (640, 480), "black")
    image.paste((255, 0, 0), (600, 440, 640, 480))  # the object, red, in the corner
    thumb = decode(render_thumbnail(image, BoundingBox(600, 440, 40, 40)))
    assert thumb.size == (46, 46)  # margin only where the image has pixels
    red, green, _ = thumb.convert("RGB").getpixel((40, 40))
    assert red > 200 and green < 60


@pytest.mark.parametrize("mode", ["RGBA", "P", "L", "1", "CMYK"])
def test_any_image_mode_gives_a_jpeg(mode: str) -> None:
    image = Image.new("RGB", (200, 200), (10, 200, 30)).convert(mode)
    thumb = decode(render_thumbnail(image, BoundingBox(50, 50, 100, 100)))
    assert thumb.mode in ("RGB", "L")


def test_off_image_box_gives_no_thumbnail() -> None:
    image = Image.new("RGB", (100, 100))
    assert render_thumbnail(image, BoundingBox(200, 200, 10, 10)) is None
