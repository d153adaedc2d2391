"""Builds the detector that ``DETECTOR_MODEL`` names.

Besides a model directory or hub id (RT-DETRv2), two values pick test engines:
``null`` / ``null:<class>[,<class>...]`` (:mod:`.null`, for benchmarks) and ``scripted``
(:mod:`.scripted`, for end-to-end tests).
"""

from __future__ import annotations

from homesec.engines.detector.base import DetectorEngine
from homesec.settings import Settings

NULL_PREFIX = "null"
SCRIPTED = "scripted"


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

    # Imported here: torch and transformers take seconds to import and the test engines need
    # neither.
    from homesec.engines.detector.rtdetr import RtDetrDetector
    from homesec.engines.model_store import resolve_model_path

    detector = RtDetrDetector(
        resolve_model_path(settings),
        device=device or settings.detector_device,
        confidence_threshold=settings.detection_confidence_threshold,
    )
    detector.warm_up(settings.detector_batch_size)
    return detector
