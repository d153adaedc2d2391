"""RT-DETRv2 through transformers: the production detector.

Weights are never fetched here. ``model_ref`` is a local directory (what ``homesec models pull``
writes, or one the user copied) or a hub id already in the local Hugging Face cache; anything else
is :class:`ModelNotFound`, raised at construction so a misconfigured actor fails on start, not on
its first image.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path

import torch
from PIL import Image
from transformers import AutoImageProcessor, RTDetrV2ForObjectDetection

from homesec.contract.analysis import Detection
from homesec.engines.detector.base import DetectorError, ModelNotFound
from homesec.policy.thumbnails import clip_box

# A camera-sized frame for the warm-up pass (the processor resizes it like any upload).
WARM_UP_FRAME = (1280, 720)

log = logging.getLogger(__name__)


def resolve_device(requested: str) -> str:
    """``auto`` -> ``cuda`` when torch sees a CUDA device, else ``cpu``; others as given.

    In a Ray actor with ``num_gpus`` Ray sets ``CUDA_VISIBLE_DEVICES``, so ``cuda`` is the GPU
    Ray assigned.
    """
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise DetectorError(
            f"detector device {requested!r} was asked for, but torch sees no CUDA device "
            "(set DETECTOR_DEVICE=auto or cpu)"
        )
    return requested


def _model_not_found(model_ref: str, cause: BaseException) -> ModelNotFound:
    where = (
        f"the directory {model_ref} holds no usable RT-DETRv2 model (config.json, weights and "
        "preprocessor_config.json)"
        if Path(model_ref).expanduser().is_dir()
        else f"{model_ref!r} is not a local directory and not in the local model cache"
    )
    return ModelNotFound(
        f"detector model not found: {where}. Run `homesec models pull` to download it once, "
        "`homesec models import PATH` to take one copied from another machine, or set "
        f"DETECTOR_MODEL to a local model directory. ({type(cause).__name__}: {cause})"
    )


class RtDetrDetector:
    """RT-DETRv2 object detection, one batched forward pass per :meth:`detect` call."""

    name = "rtdetr"
    # Why this engine runs instead of the one configured (OpenVINO failed or is missing); set by
    # the factory, None when it is the engine that was asked for.
    fallback_reason: str | None = None

    def __init__(
        self,
        model_ref: str,
        *,
        device: str = "auto",
        confidence_threshold: float = 0.5,
        half_precision_on_cuda: bool = True,
    ) -> None:
        self._device = resolve_device(device)
        self._threshold = confidence_threshold
        try:
            self._processor = AutoImageProcessor.from_pretrained(model_ref, local_files_only=True)
            model = RTDetrV2ForObjectDetection.from_pretrained(model_ref, local_files_only=True)
        except (OSError, ValueError) as exc:  # missing files, or a directory of something else
            raise _model_not_found(model_ref, exc) from exc
        # fp16 halves memory and time on a GPU shared with the LLM; on CPU it is slower.
        self._dtype = (
            torch.float16
            if half_precision_on_cuda and self._device.startswith("cuda")
            else torch.float32
        )
        self._model = model.to(device=self._device, dtype=self._dtype).eval()
        if self._device == "cpu":
            # Ray starts a worker with one intra-op thread per CPU it reserved (num_cpus=1 for a
            # detector); on a CPU-only box the model is the one heavy computation: use the cores.
            torch.set_num_threads(max(torch.get_num_threads(), os.cpu_count() or 1))
        self._labels = {
            int(index): str(label).strip().lower() for index, label in model.config.id2label.items()
        }
        log.info(
            "RT-DETRv2 from %s on %s (%s), threshold %.2f",
            model_ref,
            self._device,
            self._dtype,
            confidence_threshold,
        )

    @property
    def device(self) -> str:
        return self._device

    @property
    def precision(self) -> str:
        """What it computes in: ``fp16`` on CUDA by default, else ``f32``."""
        return "fp16" if self._dtype == torch.float16 else "f32"

    def describe(self) -> dict[str, str]:
        """A few words for health, as the OpenVINO engine gives them."""
        return {
            "engine": self.name,
            "device": self._device,
            "runtime": f"torch {torch.__version__}",
            "precision": self.precision,
            "precision_check": "exact" if self.precision == "f32" else "half precision on CUDA",
            "fallback": self.fallback_reason or "none",
        }

    @property
    def labels(self) -> dict[int, str]:
        """Class index -> lower-case label, from the model's ``id2label``."""
        return dict(self._labels)

    def warm_up(self, batch_size: int) -> float:
        """One forward pass over a batch of blank frames; its seconds. The first pass pays for
        memory, kernel selection and (on CUDA) context set-up: paid here at load, it is not
        added to the first upload's time to an event."""
        started = time.perf_counter()
        blank = Image.new("RGB", WARM_UP_FRAME, (114, 114, 114))
        self.detect([blank] * max(1, batch_size))
        elapsed = time.perf_counter() - started
        log.info("RT-DETRv2 warmed up with a batch of %d in %.1f s", batch_size, elapsed)
        return elapsed

    def detect(self, images: Sequence[Image.Image]) -> list[list[Detection]]:
        if not images:
            return []
        rgb = [image if image.mode == "RGB" else image.convert("RGB") for image in images]
        inputs = self._processor(images=rgb, return_tensors="pt")
        pixel_values = inputs["pixel_values"].to(device=self._device, dtype=self._dtype)
        with torch.inference_mode():
            outputs = self._model(pixel_values=pixel_values)
            sizes = [(image.height, image.width) for image in rgb]
            results = self._processor.post_process_object_detection(
                outputs, threshold=self._threshold, target_sizes=sizes
            )
        return [
            self._detections(result, width=image.width, height=image.height)
            for result, image in zip(results, rgb, strict=True)
        ]

    def _detections(self, result: dict, *, width: int, height: int) -> list[Detection]:
        found: list[Detection] = []
        scores = result["scores"].float().cpu().tolist()
        labels = result["labels"].cpu().tolist()
        boxes = result["boxes"].float().cpu().tolist()
        for score, label, (x0, y0, x1, y1) in zip(scores, labels, boxes, strict=True):
            box = clip_box(x0, y0, x1, y1, width, height)
            if box is None:
                continue
            object_type = self._labels.get(int(label), f"class_{int(label)}")
            found.append(Detection(object_type=object_type, confidence=score, bbox=box))
        return found
