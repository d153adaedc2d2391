"""RT-DETRv2 through OpenVINO on the CPU: the same model as :mod:`.rtdetr`, several times faster.

The transformers model is converted once (``openvino.convert_model``, ~15 s for r50vd) to an
OpenVINO model of one fixed input shape, batch 1 at the processor's size (a dynamic shape runs
10-30% slower), and saved with fp32 weights under ``<data dir>/models/openvino/<key>/``. The key
hashes what the converted graph depends on (see :func:`cache_key`), so a new model, a new
OpenVINO or a new transformers converts again and an unchanged one loads from the cache: that
path imports neither torch nor transformers. Pre- and post-processing are numpy, written after
transformers' ``RTDetrImageProcessor`` and honouring the model's ``preprocessor_config.json``.

Precision: OpenVINO computes in bf16 by default on CPUs with AMX or AVX-512 BF16, which is fast
but not what the model was trained in. ``f32`` is asked for explicitly and agrees with PyTorch;
``bf16`` runs when asked for (``forced (unchecked)``), or when ``DETECTOR_PRECISION=auto`` and the
precision guard (:mod:`.precision_guard`) found it agrees with f32 on this model and this house's
images; the guard then sets the engine's ``precision_check`` to its verdict.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from homesec.contract.analysis import Detection
from homesec.engines.detector.base import DetectorError, ModelNotFound
from homesec.policy.thumbnails import clip_box

ENGINE_NAME = "rtdetr-openvino"
PRECISIONS = ("f32", "bf16")
# Bumped when what this module writes into a cache entry changes (the wrapper's outputs, names).
CACHE_FORMAT = 1
MODEL_XML = "model.xml"
MODEL_BIN = "model.bin"
META = "meta.json"
# Top-level files of a model directory that the converted graph depends on: configs and weights.
_HASHED_SUFFIXES = (".json", ".safetensors", ".bin")
# A camera-sized frame for the warm-up pass, as in the PyTorch engine.
WARM_UP_FRAME = (1280, 720)
_PIL_RESAMPLE = {0: Image.Resampling.NEAREST, 1: Image.Resampling.LANCZOS,
                 2: Image.Resampling.BILINEAR, 3: Image.Resampling.BICUBIC,
                 4: Image.Resampling.BOX, 5: Image.Resampling.HAMMING}  # fmt: skip

log = logging.getLogger(__name__)


class ConversionError(DetectorError):
    """The model could not be converted to, or loaded as, an OpenVINO model."""


# --- the model directory ------------------------------------------------------------------------


def local_model_dir(model_ref: str) -> Path:
    """The directory holding ``model_ref``: itself when it is one, else its snapshot in the local
    Hugging Face cache (never downloaded). :class:`ModelNotFound` when neither has a model."""
    path = Path(model_ref).expanduser()
    if not path.is_dir():
        from huggingface_hub import snapshot_download

        try:
            path = Path(snapshot_download(model_ref, local_files_only=True))
        except Exception as exc:  # not in the cache, or not a valid id
            raise ModelNotFound(
                f"detector model not found: {model_ref!r} is not a local directory and not in "
                "the local model cache. Run `homesec models pull` to download it once, "
                "`homesec models import PATH` for a model copied from another machine, or set "
                f"DETECTOR_MODEL to a local model directory. ({type(exc).__name__}: {exc})"
            ) from exc
    missing = [
        name for name in ("config.json", "preprocessor_config.json") if not (path / name).is_file()
    ]
    has_weights = any(
        child.suffix in (".safetensors", ".bin") for child in path.iterdir() if child.is_file()
    )
    if missing or not has_weights:
        raise ModelNotFound(
            f"detector model not found: the directory {path} holds no usable RT-DETRv2 model "
            "(config.json, weights and preprocessor_config.json). Run `homesec models pull` to "
            "download it once, `homesec models import PATH` for a model copied from another "
            "machine, or set DETECTOR_MODEL to a local model directory."
        )
    return path


@dataclass(frozen=True)
class Preprocessing:
    """What ``preprocessor_config.json`` asks of an image before the model sees it."""

    height: int
    width: int
    resample: Image.Resampling
    do_rescale: bool
    rescale_factor: float
    do_normalize: bool
    image_mean: tuple[float, float, float]
    image_std: tuple[float, float, float]

    @classmethod
    def from_json(cls, path: Path) -> Preprocessing:
        config = json.loads(path.read_text())
        size = config.get("size") or {}
        if not config.get("do_resize", True) or "height" not in size or "width" not in size:
            raise ConversionError(
                f"{path} does not resize to a fixed height and width (size={size!r}, "
                f"do_resize={config.get('do_resize', True)!r}); the OpenVINO engine needs one"
            )
        mean = config.get("image_mean") or (0.485, 0.456, 0.406)
        std = config.get("image_std") or (0.229, 0.224, 0.225)
        return cls(
            height=int(size["height"]),
            width=int(size["width"]),
            resample=_PIL_RESAMPLE.get(int(config.get("resample", 2)), Image.Resampling.BILINEAR),
            do_rescale=bool(config.get("do_rescale", True)),
            rescale_factor=float(config.get("rescale_factor", 1 / 255)),
            do_normalize=bool(config.get("do_normalize", False)),
            image_mean=(float(mean[0]), float(mean[1]), float(mean[2])),
            image_std=(float(std[0]), float(std[1]), float(std[2])),
        )

    def __call__(self, image: Image.Image) -> np.ndarray:
        """One RGB image -> the model's input, float32 of shape (1, 3, height, width)."""
        resized = image.resize((self.width, self.height), resample=self.resample)
        pixels = np.asarray(resized, dtype=np.float32)
        if self.do_rescale:
            pixels = pixels * np.float32(self.rescale_factor)
        if self.do_normalize:
            mean = np.asarray(self.image_mean, dtype=np.float32)
            std = np.asarray(self.image_std, dtype=np.float32)
            pixels = (pixels - mean) / std
        return np.ascontiguousarray(pixels.transpose(2, 0, 1)[np.newaxis])


def read_labels(model_dir: Path) -> dict[int, str]:
    """Class index -> lower-case label, from ``config.json``'s ``id2label``."""
    config = json.loads((model_dir / "config.json").read_text())
    return {int(index): str(label).strip().lower() for index, label in config["id2label"].items()}


def postprocess(
    logits: np.ndarray, boxes: np.ndarray, *, width: int, height: int, threshold: float
) -> list[tuple[float, int, tuple[float, float, float, float]]]:
    """One image's raw outputs -> ``(score, label, (x0, y0, x1, y1))``, best first, in pixels.

    As transformers' ``RTDetrImageProcessor.post_process_object_detection`` with its focal-loss
    scores: sigmoid of every query-class logit, the best ``num_queries`` of them over all
    queries and classes, each with its query's box from centre/size to corners, scaled to the
    image; then those at or above ``threshold``.
    """
    num_queries, num_classes = logits.shape
    scores = 1.0 / (1.0 + np.exp(-logits.astype(np.float64).ravel()))
    top = np.argsort(-scores, kind="stable")[:num_queries]
    kept = top[scores[top] >= threshold]
    found = []
    for index in kept:
        query, label = divmod(int(index), num_classes)
        cx, cy, w, h = (float(v) for v in boxes[query])
        corners = (
            (cx - w / 2) * width,
            (cy - h / 2) * height,
            (cx + w / 2) * width,
            (cy + h / 2) * height,
        )
        found.append((float(scores[index]), label, corners))
    return found


# --- the cache ----------------------------------------------------------------------------------


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "none"


def cpu_has_bf16() -> bool:
    """Whether OpenVINO's CPU plugin computes bf16 natively here (AVX-512 BF16 or AMX); without
    it a bf16 hint computes in f32 and there is nothing to gain or to check."""
    import openvino as ov

    try:
        capabilities = ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    except Exception:  # an old plugin without the property: assume not
        return False
    return "BF16" in {str(capability).upper() for capability in capabilities}


def _type_name(element_type: Any) -> str:
    """An OpenVINO element type as its short name: ``f32``, ``bf16``, ``f16``."""
    name = getattr(element_type, "to_string", None)
    return str(name() if callable(name) else element_type)


def cache_key(model_dir: Path, input_shape: tuple[int, int, int, int]) -> str:
    """What the converted model depends on, hashed: the model directory's config and weights
    files (names and full contents), OpenVINO's version, the versions of transformers and torch
    that trace the model, the input shape and this module's cache format.

    Weights are hashed by content, not by size and mtime: a directory copied to another machine
    or restored from a backup (new mtimes) still hits the cache, and weights replaced in place by
    a file of the same size never load a stale conversion. It costs one read of the weights per
    start (about 0.1-0.3 s for r50vd's 170 MB), which the PyTorch path pays anyway.
    """
    digest = hashlib.sha256()
    for name in (
        f"format={CACHE_FORMAT}",
        f"openvino={_version('openvino')}",
        f"transformers={_version('transformers')}",
        f"torch={_version('torch')}",
        f"shape={'x'.join(map(str, input_shape))}",
    ):
        digest.update(name.encode() + b"\0")
    for path in sorted(model_dir.iterdir()):
        if not path.is_file() or path.suffix not in _HASHED_SUFFIXES:
            continue
        digest.update(path.name.encode() + b"\0")
        with path.open("rb") as file:
            digest.update(hashlib.file_digest(file, "sha256").digest())
    return digest.hexdigest()[:24]


def _convert(model_dir: Path, target: Path, input_shape: tuple[int, int, int, int]) -> None:
    """Trace the transformers model and save it as an OpenVINO model into ``target``."""
    import openvino as ov
    import torch
    from transformers import RTDetrV2ForObjectDetection

    model = RTDetrV2ForObjectDetection.from_pretrained(model_dir, local_files_only=True).eval()

    class _Outputs(torch.nn.Module):
        """Only the two outputs detection reads: the auxiliary ones are pruned from the graph."""

        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, pixel_values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            outputs = self.inner(pixel_values=pixel_values)
            return outputs.logits, outputs.pred_boxes

    # Tracing warns that shape checks become constants: true, and meant (the shape is fixed).
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.simplefilter("ignore", DeprecationWarning)  # its use of torch.jit
        converted = ov.convert_model(
            _Outputs(model), example_input=torch.zeros(input_shape), input=[input_shape]
        )
    converted.reshape({converted.inputs[0]: ov.PartialShape(list(input_shape))})
    for output, name in zip(converted.outputs, ("logits", "pred_boxes"), strict=True):
        output.get_tensor().set_names({name})
    # compress_to_fp16 defaults to True: it would store (and then compute from) fp16 weights.
    ov.save_model(converted, target / MODEL_XML, compress_to_fp16=False)


def _entry_ok(entry: Path, key: str) -> bool:
    """Whether ``entry`` is a complete cache entry for ``key``: its meta (written last) names the
    key, and both model files are there at the sizes it recorded."""
    try:
        meta = json.loads((entry / META).read_text())
        return meta.get("key") == key and all(
            (entry / name).stat().st_size == meta["sizes"][name] for name in (MODEL_XML, MODEL_BIN)
        )
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _discard(entry: Path) -> None:
    """Remove a cache entry: renamed aside first, so no reader finds it half deleted."""
    if not entry.exists():
        return
    aside = entry.with_name(f".discard-{entry.name}-{os.getpid()}-{time.monotonic_ns()}")
    try:
        entry.rename(aside)
    except OSError:
        aside = entry
    shutil.rmtree(aside, ignore_errors=True)


def build_cache_entry(
    model_dir: Path, root: Path, key: str, input_shape: tuple[int, int, int, int]
) -> Path:
    """Convert the model into ``root/key``, atomically: written in a temporary directory next to
    it and renamed into place, so a crash mid-conversion leaves no entry (only a ``.tmp-``
    directory, removed by the next conversion)."""
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob(".tmp-*"):  # a conversion that died: nothing can be using it
        if stale.is_dir() and time.time() - stale.stat().st_mtime > 3600:
            shutil.rmtree(stale, ignore_errors=True)
    entry = root / key
    scratch = Path(tempfile.mkdtemp(prefix=f".tmp-{key}-", dir=root))
    try:
        _convert(model_dir, scratch, input_shape)
        meta = {
            "key": key,
            "format": CACHE_FORMAT,
            "model_dir": str(model_dir),
            "input_shape": list(input_shape),
            "openvino": _version("openvino"),
            "transformers": _version("transformers"),
            "torch": _version("torch"),
            "weights": "fp32",
            "sizes": {name: (scratch / name).stat().st_size for name in (MODEL_XML, MODEL_BIN)},
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        (scratch / META).write_text(json.dumps(meta, indent=2))
        try:
            scratch.rename(entry)
        except OSError:
            if not _entry_ok(entry, key):  # not another process's finished entry: a real error
                raise
            log.info("another process converted %s first; using its entry", model_dir)
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)
    return entry


# --- the engine ---------------------------------------------------------------------------------


class OpenVinoRtDetrDetector:
    """RT-DETRv2 on OpenVINO's CPU plugin, one image per inference request (fixed batch 1), the
    images of a batch one after another. Two requests in flight (an ``AsyncInferQueue``) were
    measured on a 2-core Xeon and were slower, in f32 and in bf16 (bench/detector.py)."""

    name = ENGINE_NAME
    device = "cpu"
    # Set by the factory when this engine stands in for another; None here.
    fallback_reason: str | None = None

    def __init__(
        self,
        model_ref: str,
        *,
        cache_root: Path,
        precision: str = "f32",
        confidence_threshold: float = 0.5,
        compiled_cache: bool = False,
    ) -> None:
        if precision not in PRECISIONS:
            raise DetectorError(f"precision {precision!r} is not one of {', '.join(PRECISIONS)}")
        self._precision = precision
        self._threshold = confidence_threshold
        # The precision guard's verdict, when it chose this engine's precision.
        self._precision_check: str | None = None
        model_dir = local_model_dir(model_ref)  # ModelNotFound before anything else
        self.model_dir = model_dir
        try:
            import openvino as ov
        except ImportError as exc:
            raise ConversionError(f"openvino is not installed ({exc})") from exc
        try:
            self._preprocess = Preprocessing.from_json(model_dir / "preprocessor_config.json")
            self._labels = read_labels(model_dir)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConversionError(f"cannot read the model's configuration: {exc}") from exc
        self.input_shape = (1, 3, self._preprocess.height, self._preprocess.width)
        self.cache_key = cache_key(model_dir, self.input_shape)
        self.cache_entry = cache_root / self.cache_key
        self.converted_now = False
        self.conversion_seconds: float | None = None
        core = ov.Core()
        ov_model = self._read_cached(core, model_dir)
        if ov_model is None:
            _discard(self.cache_entry)
            log.info(
                "converting %s for OpenVINO (once; ~15 s) into %s ...", model_dir, self.cache_entry
            )
            started = time.perf_counter()
            try:
                build_cache_entry(model_dir, cache_root, self.cache_key, self.input_shape)
                ov_model = core.read_model(self.cache_entry / MODEL_XML)
            except Exception as exc:
                raise ConversionError(
                    f"converting {model_dir} for OpenVINO failed: {type(exc).__name__}: {exc}"
                ) from exc
            self.conversion_seconds = time.perf_counter() - started
            self.converted_now = True
            log.info("converted %s for OpenVINO in %.1f s", model_dir, self.conversion_seconds)
        config: dict[str, Any] = {
            "INFERENCE_PRECISION_HINT": precision,
            "PERFORMANCE_HINT": "LATENCY",
        }
        if compiled_cache:
            config["CACHE_DIR"] = str(cache_root / "compiled")
        try:
            self._compiled = core.compile_model(ov_model, "CPU", config)
        except Exception as exc:
            raise ConversionError(f"OpenVINO could not compile {model_dir}: {exc}") from exc
        # What the plugin took from the hint: "f32", or "bf16" on a CPU that has it.
        self.compiled_precision = _type_name(
            self._compiled.get_property("INFERENCE_PRECISION_HINT")
        )
        self._request = self._compiled.create_infer_request()
        self.openvino_version = _version("openvino")
        log.info(
            "RT-DETRv2 from %s on OpenVINO %s (cpu, %s, %s), input %s, threshold %.2f",
            model_dir,
            self.openvino_version,
            precision,
            self.precision_check,
            "x".join(map(str, self.input_shape)),
            confidence_threshold,
        )

    def _read_cached(self, core: Any, model_dir: Path) -> Any | None:
        """The cached OpenVINO model, or None when there is none or it cannot be read."""
        if not self.cache_entry.exists():
            return None
        if not _entry_ok(self.cache_entry, self.cache_key):
            log.warning("the OpenVINO cache entry %s is incomplete; rebuilding", self.cache_entry)
            return None
        try:
            ov_model = core.read_model(self.cache_entry / MODEL_XML)
        except Exception as exc:
            log.warning("the OpenVINO cache entry %s is unreadable (%s); rebuilding",
                        self.cache_entry, exc)  # fmt: skip
            return None
        log.info("RT-DETRv2 for %s from the OpenVINO cache %s", model_dir, self.cache_entry)
        return ov_model

    # --- what it is -------------------------------------------------------------------------

    @property
    def precision(self) -> str:
        """What the CPU computes in: ``f32`` or ``bf16``."""
        return self._precision

    @property
    def precision_check(self) -> str:
        """The precision guard's verdict when it chose this precision (``checked: bf16 agrees
        with f32 on 20 images``, ``f32: bf16 disagreed on ...``, ``unchecked: no images yet``);
        otherwise ``exact`` for f32 (the model's own precision) and ``forced (unchecked)`` for
        bf16 asked for by ``DETECTOR_PRECISION=bf16``."""
        if self._precision_check is not None:
            return self._precision_check
        return "exact" if self._precision == "f32" else "forced (unchecked)"

    @precision_check.setter
    def precision_check(self, verdict: str) -> None:
        self._precision_check = verdict

    @property
    def threshold(self) -> float:
        """The confidence threshold :meth:`detect` keeps detections at."""
        return self._threshold

    @property
    def labels(self) -> dict[int, str]:
        """Class index -> lower-case label, from the model's ``id2label``."""
        return dict(self._labels)

    def describe(self) -> dict[str, str]:
        """A few words for health: engine, device, precision and whether it was checked."""
        return {
            "engine": self.name,
            "device": self.device,
            "runtime": f"openvino {self.openvino_version}",
            "precision": self._precision,
            "precision_check": self.precision_check,
            "fallback": self.fallback_reason or "none",
        }

    # --- detection --------------------------------------------------------------------------

    def warm_up(self, batch_size: int) -> float:
        """One pass over a batch of blank frames; its seconds (memory and kernels at load, not on
        the first upload)."""
        started = time.perf_counter()
        blank = Image.new("RGB", WARM_UP_FRAME, (114, 114, 114))
        self.detect([blank] * max(1, batch_size))
        elapsed = time.perf_counter() - started
        log.info("RT-DETRv2 (OpenVINO) warmed up with a batch of %d in %.1f s", batch_size, elapsed)
        return elapsed

    def detect(self, images: Sequence[Image.Image]) -> list[list[Detection]]:
        return self.detect_at(images, self._threshold)

    def detect_at(self, images: Sequence[Image.Image], threshold: float) -> list[list[Detection]]:
        """As :meth:`detect`, keeping detections at ``threshold`` instead of the engine's (the
        precision guard looks a little below it)."""
        if not images:
            return []
        rgb = [image if image.mode == "RGB" else image.convert("RGB") for image in images]
        raw = [self._infer(image) for image in rgb]
        return [
            self._detections(logits, boxes, image.width, image.height, threshold)
            for (logits, boxes), image in zip(raw, rgb, strict=True)
        ]

    def _infer(self, image: Image.Image) -> tuple[np.ndarray, np.ndarray]:
        self._request.infer({0: self._preprocess(image)})
        return (
            self._request.get_output_tensor(0).data[0].copy(),
            self._request.get_output_tensor(1).data[0].copy(),
        )

    def _detections(
        self, logits: np.ndarray, boxes: np.ndarray, width: int, height: int, threshold: float
    ) -> list[Detection]:
        found: list[Detection] = []
        raw = postprocess(logits, boxes, width=width, height=height, threshold=threshold)
        for score, label, (x0, y0, x1, y1) in raw:
            box = clip_box(x0, y0, x1, y1, width, height)
            if box is None:
                continue
            object_type = self._labels.get(label, f"class_{label}")
            found.append(Detection(object_type=object_type, confidence=score, bbox=box))
        return found
