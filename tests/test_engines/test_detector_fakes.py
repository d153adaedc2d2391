"""The test detectors and the detector factory's special values."""

from __future__ import annotations

import io

from PIL import Image

from homesec.contract.analysis import BoundingBox
from homesec.engines.detector import DetectorEngine, create_detector
from homesec.engines.detector.null import NullDetector
from homesec.engines.detector.scripted import SCRIPTED_CONFIDENCE, ScriptedDetector
from tests.support.settings import make_settings


def as_jpeg(image: Image.Image) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=75)
    buffer.seek(0)
    return Image.open(buffer)


def test_null_detector_returns_nothing_by_default(tmp_path):
    engine = create_detector(make_settings(tmp_path, detector_model="null"))
    assert isinstance(engine, NullDetector) and isinstance(engine, DetectorEngine)
    assert engine.detect([Image.new("RGB", (64, 48))] * 3) == [[], [], []]


def test_null_detector_with_classes_returns_fixed_boxes_inside_each_image(tmp_path):
    engine = create_detector(make_settings(tmp_path, detector_model="null:Person, car"))
    results = engine.detect([Image.new("RGB", (64, 48)), Image.new("RGB", (200, 100))])
    assert [[d.object_type for d in found] for found in results] == [["person", "car"]] * 2
    assert results[0][0].bbox == BoundingBox(16, 12, 32, 24)
    assert results[1][1].bbox == BoundingBox(50, 25, 100, 50)


def test_scripted_detector_reads_the_marker_colour_after_jpeg(tmp_path):
    engine = create_detector(make_settings(tmp_path, detector_model="scripted"))
    assert isinstance(engine, ScriptedDetector) and isinstance(engine, DetectorEngine)
    red = as_jpeg(Image.new("RGB", (320, 240), (255, 0, 0)))
    blue = as_jpeg(Image.new("RGB", (320, 240), (0, 0, 255)))
    grey = as_jpeg(Image.new("RGB", (320, 240), (128, 128, 128)))
    marked_corner = Image.new("RGB", (320, 240), (0, 128, 0))
    marked_corner.paste((255, 0, 0), (0, 0, 8, 8))
    results = engine.detect([red, blue, grey, as_jpeg(marked_corner)])
    assert [[d.object_type for d in found] for found in results] == [
        ["person"],
        ["car"],
        [],
        ["person"],
    ]
    person = results[0][0]
    assert person.confidence == SCRIPTED_CONFIDENCE
    assert person.bbox == BoundingBox(80, 60, 160, 120)
