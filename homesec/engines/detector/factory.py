"""Builds the detector that ``DETECTOR_MODEL`` names, on the engine ``DETECTOR_ENGINE`` picks.

Besides a model directory or hub id (RT-DETRv2), two values pick test engines:
``null`` / ``null:<class>[,<class>...]`` (:mod:`.null`, for benchmarks) and ``scripted``
(:mod:`.scripted`, for end-to-end tests).

RT-DETRv2 runs on one of two engines:

- ``torch`` (:mod:`.rtdetr`): transformers in PyTorch eager mode, on a CUDA device or the CPU;
- ``openvino`` (:mod:`.rtdetr_openvino`): the same model converted once to OpenVINO, CPU only,
  several times faster there.

``auto`` picks torch for a CUDA device (asked for, or ``auto`` with a GPU present), else
OpenVINO when it is installed. When OpenVINO cannot convert or load the model, the factory falls
back to torch and records why in the engine's ``fallback_reason``, for health to show.

OpenVINO's precision: ``DETECTOR_PRECISION=f32`` or ``bf16`` as set (bf16 then says ``forced
(unchecked)``); ``auto`` is f32 unless the precision guard (:mod:`.precision_guard`) finds that
bf16 finds the same objects as f32 on this model and the house's recent uploads.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from pathlib import Path

from homesec.engines.detector.base import DetectorEngine, DetectorError, ModelNotFound
from homesec.settings import Settings

NULL_PREFIX = "null"
SCRIPTED = "scripted"

log = logging.getLogger(__name__)


def _cuda_present() -> bool:
    """Whether a CUDA device is usable here, asked without importing torch: NVML's count, unless
    ``CUDA_VISIBLE_DEVICES`` hides every device (as Ray does for an actor without a GPU)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in ("", "-1"):
        return False
    from homesec.engines.gpu import gpu_count

    return gpu_count() > 0


def choose_engine(engine: str, device: str) -> tuple[str, str | None]:
    """``torch`` or ``openvino`` for ``DETECTOR_ENGINE=engine`` on ``device``, and why ``auto``
    settled for torch on a CPU when it would have taken OpenVINO (None otherwise)."""
    if engine in ("torch", "openvino"):
        return engine, None
    if device.startswith("cuda") or (device == "auto" and _cuda_present()):
        return "torch", None
    if importlib.util.find_spec("openvino") is None:
        return "torch", "openvino is not installed; using PyTorch on the CPU"
    return "openvino", None


def openvino_precision(settings: Settings) -> str:
    """The precision OpenVINO starts from: ``auto`` is f32 until the guard finds bf16 agrees."""
    return "f32" if settings.detector_precision == "auto" else settings.detector_precision


def create_detector(settings: Settings, device: str | None = None) -> DetectorEngine:
    """The configured detector on ``device`` (what Ray assigned), else ``DETECTOR_DEVICE``."""
    spec = settings.detector_model.strip()
    if spec == SCRIPTED:
        from homesec.engines.detector.scripted import ScriptedDetector

        return ScriptedDetector()
    if spec == NULL_PREFIX or spec.startswith(NULL_PREFIX + ":"):
        from homesec.engines.detector.null import NullDetector

        classes = spec.partition(":")[2]
        return NullDetector([name.strip().lower() for name in classes.split(",") if name.strip()])

    from homesec.engines.model_store import resolve_model_path

    model_ref = resolve_model_path(settings)
    wanted_device = device or settings.detector_device
    engine, fallback_reason = choose_engine(settings.detector_engine, wanted_device)
    if fallback_reason is not None:
        log.warning("%s", fallback_reason)
    if engine == "openvino":
        if wanted_device.startswith("cuda"):
            log.warning(
                "DETECTOR_ENGINE=openvino runs on the CPU; the CUDA device asked for is not used"
            )
        try:
            detector = _create_openvino(settings, model_ref)
        except ModelNotFound:
            raise  # torch would not find it either: the actor says so and waits for the model
        except Exception as exc:  # a conversion or load failure: PyTorch still detects
            fallback_reason = f"OpenVINO failed ({type(exc).__name__}: {exc}); using PyTorch"
            log.warning("%s", fallback_reason, exc_info=not isinstance(exc, DetectorError))
        else:
            detector.warm_up(settings.detector_batch_size)
            return detector

    if settings.detector_precision == "bf16":
        log.warning("DETECTOR_PRECISION=bf16 applies to OpenVINO only; PyTorch computes as usual")
    # Imported here: torch and transformers take seconds to import and the test engines need
    # neither (nor does OpenVINO loading from its cache).
    from homesec.engines.detector.rtdetr import RtDetrDetector

    torch_detector = RtDetrDetector(
        model_ref,
        device=wanted_device,
        confidence_threshold=settings.detection_confidence_threshold,
    )
    torch_detector.fallback_reason = fallback_reason
    torch_detector.warm_up(settings.detector_batch_size)
    return torch_detector


def _create_openvino(settings: Settings, model_ref: str) -> DetectorEngine:
    from homesec.engines.detector.rtdetr_openvino import OpenVinoRtDetrDetector
    from homesec.engines.model_store import models_dir

    def build(precision: str) -> OpenVinoRtDetrDetector:
        return OpenVinoRtDetrDetector(
            model_ref,
            cache_root=models_dir(settings) / "openvino",
            precision=precision,
            confidence_threshold=settings.detection_confidence_threshold,
        )

    if settings.detector_precision != "auto":
        return build(settings.detector_precision)
    from homesec.engines.detector import precision_guard

    base = settings.foscam_base_path
    return precision_guard.guarded_engine(
        build,
        threshold=settings.detection_confidence_threshold,
        images=lambda: precision_guard.recent_uploads(base),
        max_pixels=settings.max_image_pixels,
        name_of=lambda path: _relative(path, base),
    )


def _relative(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)
