"""RT-DETRv2 on OpenVINO: converted from the tiny random-weight model with the real OpenVINO,
checked against the PyTorch engine, its cache, and the factory's choice and fallback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from homesec.engines.detector import DetectorEngine, ModelNotFound, create_detector, factory
from homesec.engines.detector import rtdetr_openvino as ov_engine
from homesec.engines.detector.rtdetr import RtDetrDetector
from homesec.engines.detector.rtdetr_openvino import (
    OpenVinoRtDetrDetector,
    cpu_has_bf16,
    postprocess,
)
from tests.support.settings import make_settings
from tests.support.tiny_rtdetr import INPUT_SIZE, TINY_LABELS, build_tiny_rtdetr

pytest.importorskip("openvino")

THRESHOLD = 0.3
# Pixel corners round outwards in clip_box: a float difference far below a pixel may still move
# a corner by one.
BOX_TOLERANCE_PX = 1
SCORE_TOLERANCE = 1e-3
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Distinct scores: with tied ones, PyTorch and OpenVINO break the ties differently.
    return build_tiny_rtdetr(
        tmp_path_factory.mktemp("models") / "tiny-rtdetr", distinct_scores=True
    )


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="module")
def detector(tiny_model_dir: Path, data_dir: Path) -> OpenVinoRtDetrDetector:
    settings = make_settings(
        data_dir,
        detector_model=str(tiny_model_dir),
        detector_device="cpu",
        detection_confidence_threshold=THRESHOLD,
    )
    engine = create_detector(settings)  # DETECTOR_ENGINE=auto on a CPU
    assert isinstance(engine, OpenVinoRtDetrDetector)
    return engine


@pytest.fixture(scope="module")
def torch_detector(tiny_model_dir: Path) -> RtDetrDetector:
    return RtDetrDetector(str(tiny_model_dir), device="cpu", confidence_threshold=THRESHOLD)


def images() -> list[Image.Image]:
    rng = np.random.default_rng(7)
    noise = Image.fromarray(rng.integers(0, 256, (360, 640, 3), dtype=np.uint8))
    gradient = Image.linear_gradient("L").resize((1280, 720)).convert("RGB")
    return [
        Image.new("RGB", (100, 80), (255, 0, 0)),
        Image.new("L", (50, 120), 128),  # grayscale, as some cameras send at night
        Image.new("RGBA", (640, 480), (0, 0, 255, 255)),
        noise,
        gradient,
    ]


def cache_root(data_dir: Path) -> Path:
    return data_dir / "models" / "openvino"


def assert_agree(expected, actual) -> None:
    """Same detections in the same order: labels equal, scores and boxes within tolerance."""
    assert len(actual) == len(expected)
    for want_found, got_found in zip(expected, actual, strict=True):
        assert len(got_found) == len(want_found)
        for want, got in zip(want_found, got_found, strict=True):
            assert got.object_type == want.object_type
            assert got.confidence == pytest.approx(want.confidence, abs=SCORE_TOLERANCE)
            for field in ("x", "y", "width", "height"):
                got_value, want_value = getattr(got.bbox, field), getattr(want.bbox, field)
                assert abs(got_value - want_value) <= BOX_TOLERANCE_PX, (field, got, want)


# --- the engine -----------------------------------------------------------------------------------


def test_it_is_a_detector_engine_on_the_cpu_in_f32(detector):
    assert isinstance(detector, DetectorEngine)
    assert detector.name == "rtdetr-openvino"
    assert detector.device == "cpu"
    assert detector.labels == {index: label.lower() for index, label in TINY_LABELS.items()}
    assert detector.input_shape == (1, 3, INPUT_SIZE, INPUT_SIZE)
    assert detector.precision == "f32"
    # OpenVINO would compute in bf16 on an AMX CPU unless told otherwise: it was told.
    assert detector.compiled_precision == "f32"
    assert detector.fallback_reason is None
    assert detector.describe() == {
        "engine": "rtdetr-openvino",
        "device": "cpu",
        "runtime": f"openvino {detector.openvino_version}",
        "precision": "f32",
        # DETECTOR_PRECISION=auto with no uploads yet: the precision guard had nothing to check
        # bf16 on (tests/test_engines/test_precision_guard.py).
        "precision_check": (
            "unchecked: no images yet" if cpu_has_bf16() else "exact (this CPU has no native bf16)"
        ),
        "fallback": "none",
    }


def test_f32_agrees_with_pytorch_fp32(detector, torch_detector):
    expected = torch_detector.detect(images())
    assert sum(map(len, expected)) > 0, "the tiny model should find something"
    assert_agree(expected, detector.detect(images()))


def test_f32_agrees_with_pytorch_at_a_low_threshold_too(tiny_model_dir, data_dir):
    # More detections per image (near-ties in score included) than at 0.5.
    reference = RtDetrDetector(str(tiny_model_dir), device="cpu", confidence_threshold=0.1)
    engine = OpenVinoRtDetrDetector(
        str(tiny_model_dir), cache_root=cache_root(data_dir), confidence_threshold=0.1
    )
    expected = reference.detect(images())
    assert sum(map(len, expected)) > 0
    assert_agree(expected, engine.detect(images()))


def test_preprocessing_matches_the_transformers_processor(detector, torch_detector):
    for image in images():
        rgb = image.convert("RGB")
        expected = torch_detector._processor(images=[rgb], return_tensors="np")["pixel_values"]
        actual = detector._preprocess(rgb)
        assert actual.shape == expected.shape == (1, 3, INPUT_SIZE, INPUT_SIZE)
        np.testing.assert_allclose(actual, expected, atol=1e-6)


def test_postprocessing_matches_transformers(torch_detector):
    from transformers.models.rt_detr.modeling_rt_detr import RTDetrObjectDetectionOutput

    rng = np.random.default_rng(3)
    logits = rng.normal(0, 2, (1, 20, 3)).astype(np.float32)
    boxes = rng.uniform(0.05, 0.95, (1, 20, 4)).astype(np.float32)
    outputs = RTDetrObjectDetectionOutput(
        logits=torch.from_numpy(logits), pred_boxes=torch.from_numpy(boxes)
    )
    [expected] = torch_detector._processor.post_process_object_detection(
        outputs, threshold=0.3, target_sizes=[(480, 640)]
    )
    actual = postprocess(logits[0], boxes[0], width=640, height=480, threshold=0.3)
    assert len(actual) == len(expected["scores"]) > 0
    np.testing.assert_allclose([s for s, _, _ in actual], expected["scores"].numpy(), atol=1e-6)
    assert [label for _, label, _ in actual] == expected["labels"].tolist()
    np.testing.assert_allclose([b for _, _, b in actual], expected["boxes"].numpy(), atol=1e-3)


def test_same_images_same_detections_and_an_empty_batch(detector):
    assert detector.detect(images()) == detector.detect(images())
    assert detector.detect([]) == []


def test_bf16_when_asked_is_said_to_be_unchecked(tiny_model_dir, data_dir):
    settings = make_settings(
        data_dir,
        detector_model=str(tiny_model_dir),
        detector_device="cpu",
        detector_precision="bf16",
    )
    engine = create_detector(settings)
    assert isinstance(engine, OpenVinoRtDetrDetector)
    assert engine.precision == "bf16"
    assert engine.describe()["precision_check"] == "forced (unchecked)"
    # The plugin takes the hint where the CPU has bf16, and computes in f32 where it has not.
    assert engine.compiled_precision in ("bf16", "f32")
    assert len(engine.detect(images())) == len(images())


# --- the cache ------------------------------------------------------------------------------------


def test_a_second_construction_loads_from_the_cache(
    tiny_model_dir, data_dir, detector, monkeypatch
):
    entry = detector.cache_entry
    assert entry.parent == cache_root(data_dir)
    assert {"model.xml", "model.bin", "meta.json"} <= {p.name for p in entry.iterdir()}
    meta = json.loads((entry / "meta.json").read_text())
    assert meta["key"] == detector.cache_key and meta["weights"] == "fp32"

    def no_conversion(*args, **kwargs):
        raise AssertionError("converted again instead of loading the cache")

    monkeypatch.setattr(ov_engine, "_convert", no_conversion)
    again = OpenVinoRtDetrDetector(
        str(tiny_model_dir), cache_root=cache_root(data_dir), confidence_threshold=THRESHOLD
    )
    assert again.converted_now is False and again.cache_key == detector.cache_key
    assert again.detect(images()) == detector.detect(images())


def test_loading_from_the_cache_imports_neither_torch_nor_transformers(
    tiny_model_dir, data_dir, detector
):
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from PIL import Image
        from homesec.engines.detector.rtdetr_openvino import OpenVinoRtDetrDetector
        engine = OpenVinoRtDetrDetector(
            {str(tiny_model_dir)!r}, cache_root=Path({str(cache_root(data_dir))!r})
        )
        engine.detect([Image.new("RGB", (320, 240))])
        assert not engine.converted_now, "converted instead of loading the cache"
        loaded = sorted(m for m in ("torch", "transformers") if m in sys.modules)
        assert not loaded, f"loading from the cache imported {{loaded}}"
        print("ok")
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda entry: (entry / "meta.json").unlink(), id="no meta: half written"),
        pytest.param(lambda entry: (entry / "model.bin").write_bytes(b"\0" * 10), id="short bin"),
        pytest.param(
            lambda entry: (entry / "model.xml").write_bytes(
                b"x" * (entry / "model.xml").stat().st_size
            ),
            id="garbage xml",
        ),
        pytest.param(lambda entry: shutil.rmtree(entry), id="missing"),
    ],
)
def test_a_damaged_or_missing_cache_entry_is_rebuilt(
    tiny_model_dir, detector, tmp_path, damage, caplog
):
    root = tmp_path / "openvino"
    shutil.copytree(detector.cache_entry.parent, root)
    damage(root / detector.cache_key)
    with caplog.at_level("INFO", logger="homesec.engines.detector.rtdetr_openvino"):
        rebuilt = OpenVinoRtDetrDetector(
            str(tiny_model_dir), cache_root=root, confidence_threshold=THRESHOLD
        )
    assert rebuilt.converted_now is True
    messages = [record.getMessage() for record in caplog.records]
    assert any(m.startswith("converting ") and "for OpenVINO (once" in m for m in messages)
    assert any(m.startswith("converted ") and " for OpenVINO in " in m for m in messages)
    assert rebuilt.detect(images()) == detector.detect(images())
    assert [p.name for p in root.iterdir() if p.name.startswith(".")] == []


def test_a_changed_model_gets_a_new_key(tiny_model_dir, tmp_path, detector):
    copy = shutil.copytree(tiny_model_dir, tmp_path / "model")
    # The key hashes contents, not the directory's path or its files' times.
    assert ov_engine.cache_key(copy, detector.input_shape) == detector.cache_key
    config = json.loads((copy / "config.json").read_text())
    config["id2label"]["2"] = "cat"
    (copy / "config.json").write_text(json.dumps(config))
    assert ov_engine.cache_key(copy, detector.input_shape) != detector.cache_key
    assert ov_engine.cache_key(tiny_model_dir, (1, 3, 32, 32)) != detector.cache_key


# --- the factory ----------------------------------------------------------------------------------


def test_a_conversion_failure_falls_back_to_pytorch_with_the_reason(
    tiny_model_dir, tmp_path, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("the converter tripped")

    monkeypatch.setattr(ov_engine, "_convert", broken)
    settings = make_settings(
        tmp_path,
        detector_model=str(tiny_model_dir),
        detector_device="cpu",
        detector_engine="openvino",
    )
    engine = create_detector(settings)
    assert isinstance(engine, RtDetrDetector)
    assert engine.fallback_reason is not None
    assert "the converter tripped" in engine.fallback_reason
    assert engine.fallback_reason.endswith("using PyTorch")
    assert engine.describe()["fallback"] == engine.fallback_reason
    # No entry, and no half-written one, was left behind.
    assert list(cache_root(tmp_path).iterdir()) == []
    assert len(engine.detect(images())) == len(images())


def test_torch_when_asked(tiny_model_dir, tmp_path):
    settings = make_settings(
        tmp_path, detector_model=str(tiny_model_dir), detector_device="cpu", detector_engine="torch"
    )
    engine = create_detector(settings)
    assert isinstance(engine, RtDetrDetector)
    assert engine.fallback_reason is None
    assert engine.precision == "f32"
    assert not cache_root(tmp_path).exists()


def test_auto_picks_openvino_without_cuda_and_torch_with_it(monkeypatch):
    monkeypatch.setattr(factory, "_cuda_present", lambda: False)
    assert factory.choose_engine("auto", "auto") == ("openvino", None)
    assert factory.choose_engine("auto", "cpu") == ("openvino", None)
    assert factory.choose_engine("auto", "cuda") == ("torch", None)
    assert factory.choose_engine("torch", "cpu") == ("torch", None)
    assert factory.choose_engine("openvino", "cpu") == ("openvino", None)
    monkeypatch.setattr(factory, "_cuda_present", lambda: True)
    assert factory.choose_engine("auto", "auto") == ("torch", None)
    assert factory.choose_engine("auto", "cpu") == ("openvino", None)


def test_auto_without_openvino_installed_says_so(monkeypatch):
    monkeypatch.setattr(factory, "_cuda_present", lambda: False)
    real_find_spec = factory.importlib.util.find_spec
    monkeypatch.setattr(
        factory.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "openvino" else real_find_spec(name, *a),
    )
    engine, reason = factory.choose_engine("auto", "cpu")
    assert engine == "torch"
    assert reason == "openvino is not installed; using PyTorch on the CPU"


def test_cuda_hidden_by_cuda_visible_devices_is_no_cuda(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert factory._cuda_present() is False


def test_auto_precision_starts_from_f32_until_the_guard_finds_bf16_agrees(tmp_path):
    assert factory.openvino_precision(make_settings(tmp_path, detector_model="m")) == "f32"
    bf16 = make_settings(tmp_path, detector_model="m", detector_precision="bf16")
    assert factory.openvino_precision(bf16) == "bf16"


def test_a_missing_model_is_model_not_found_not_a_fallback(tmp_path):
    settings = make_settings(
        tmp_path, detector_model=str(tmp_path / "no-such-model"), detector_engine="openvino"
    )
    with pytest.raises(ModelNotFound, match="homesec models pull"):
        create_detector(settings)
    (tmp_path / "empty").mkdir()
    settings = make_settings(
        tmp_path, detector_model=str(tmp_path / "empty"), detector_engine="openvino"
    )
    with pytest.raises(ModelNotFound, match="holds no usable RT-DETRv2 model"):
        create_detector(settings)
