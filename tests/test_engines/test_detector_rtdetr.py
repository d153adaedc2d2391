"""RT-DETRv2, loaded the production way from a tiny random-weight model saved to disk."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from homesec.engines.detector import DetectorEngine, DetectorError, ModelNotFound, create_detector
from homesec.engines.detector.rtdetr import RtDetrDetector
from tests.support.settings import make_settings
from tests.support.tiny_rtdetr import TINY_LABELS, build_tiny_rtdetr

THRESHOLD = 0.5


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_rtdetr(tmp_path_factory.mktemp("models") / "tiny-rtdetr")


@pytest.fixture(scope="module")
def detector(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> RtDetrDetector:
    settings = make_settings(
        tmp_path_factory.mktemp("data"),
        detector_model=str(tiny_model_dir),
        detector_device="auto",
        detector_engine="torch",
        detection_confidence_threshold=THRESHOLD,
    )
    engine = create_detector(settings)
    assert isinstance(engine, RtDetrDetector)
    return engine


def images() -> list[Image.Image]:
    return [
        Image.new("RGB", (100, 80), (255, 0, 0)),
        Image.new("L", (50, 120), 128),  # grayscale, as some cameras send at night
        Image.new("RGBA", (640, 480), (0, 0, 255, 255)),
    ]


def test_loads_through_the_factory_as_an_engine(detector):
    assert isinstance(detector, DetectorEngine)
    assert detector.name == "rtdetr"
    assert detector.device == ("cuda" if torch.cuda.is_available() else "cpu")
    assert detector.labels == {index: label.lower() for index, label in TINY_LABELS.items()}


def test_a_batch_of_images_of_different_sizes(detector):
    batch = images()
    results = detector.detect(batch)
    assert len(results) == len(batch)
    assert sum(len(found) for found in results) > 0, "the tiny model should find something"
    labels = {label.lower() for label in TINY_LABELS.values()}
    for image, found in zip(batch, results, strict=True):
        for detection in found:
            box = detection.bbox
            assert box.width >= 1 and box.height >= 1
            assert box.x >= 0 and box.x + box.width <= image.width
            assert box.y >= 0 and box.y + box.height <= image.height
            assert THRESHOLD <= detection.confidence <= 1
            assert detection.object_type in labels


def test_same_images_same_detections(detector):
    assert detector.detect(images()) == detector.detect(images())


def test_an_empty_batch(detector):
    assert detector.detect([]) == []


def test_a_missing_directory_is_model_not_found(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(ModelNotFound, match="homesec models pull") as caught:
        create_detector(make_settings(tmp_path, detector_model=str(missing)))
    assert "DETECTOR_MODEL" in str(caught.value)


def test_a_directory_without_a_model_is_model_not_found(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotFound, match="holds no usable RT-DETRv2 model"):
        create_detector(make_settings(tmp_path, detector_model=str(tmp_path / "empty")))


def test_a_hub_id_not_in_the_cache_is_model_not_found_without_downloading(tmp_path):
    # The engine loads with local_files_only: an id it has not got is an error, not a download.
    with pytest.raises(ModelNotFound, match="not in the local model cache"):
        create_detector(make_settings(tmp_path, detector_model="homesec-tests/no-such-model"))


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on machines without CUDA")
def test_asking_for_cuda_without_cuda_is_a_clear_error(tiny_model_dir, tmp_path):
    with pytest.raises(DetectorError, match="no CUDA device"):
        create_detector(make_settings(tmp_path, detector_model=str(tiny_model_dir)), device="cuda")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_half_precision_on_cuda(tiny_model_dir, tmp_path):
    engine = create_detector(
        make_settings(tmp_path, detector_model=str(tiny_model_dir)), device="cuda"
    )
    assert engine.device == "cuda"
    assert len(engine.detect(images())) == 3


def test_the_factory_warms_the_model_up_with_a_full_batch(tiny_model_dir, tmp_path, caplog):
    settings = make_settings(
        tmp_path,
        detector_model=str(tiny_model_dir),
        detector_device="cpu",
        detector_engine="torch",
        detector_batch_size=3,
    )
    with caplog.at_level("INFO", logger="homesec.engines.detector.rtdetr"):
        engine = create_detector(settings)
    [message] = [r.getMessage() for r in caplog.records if "warmed up" in r.getMessage()]
    assert message.startswith("RT-DETRv2 warmed up with a batch of 3 in ")
    assert len(engine.detect(images())) == 3  # and it detects as before
