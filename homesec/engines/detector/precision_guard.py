"""The precision guard's running side: which images, both precisions on them, the saved verdict.

With ``DETECTOR_PRECISION=auto`` the OpenVINO engine computes in bf16 only when bf16 found the
same objects as f32 on this model and this house's images (the comparison and its tolerances:
:mod:`homesec.policy.detection_agreement`). :func:`guarded_engine` does it at start-up:

1. the f32 engine is built (converting the model when needed);
2. on a CPU without native bf16 it stays, ``exact``: a bf16 hint would compute in f32 anyway;
3. a verdict saved beside the converted model (``<entry>/precision_check.json``: the entry's
   key is the model's, so a new model has none) decides when it still holds (same threshold,
   same rules, younger than 30 days);
4. otherwise the newest :data:`CHECK_IMAGES` images of the camera folders (each camera's newest
   in turn) are run through both precisions and compared, for at most
   :data:`CHECK_BUDGET_SECONDS` (the images compared by then decide when there are at least
   :data:`MIN_CHECKED_IMAGES`; progress is logged), and the verdict is saved. An open one (no
   images yet, nothing found on them, not enough checked in the budget) keeps f32 and stands
   for a day, or until the folders hold a full sample when it had less
   (:func:`homesec.policy.detection_agreement.still_valid`); a saved open verdict costs a
   start one walk of the camera folders, to count their images.

``homesec models check`` runs the same comparison on demand (:func:`run_check`), on the camera
folders or a folder the owner names, and saves its verdict for the next start.

Images are read here, not through ``files/`` (a floor above engines): the same name rules as the
watcher's (:mod:`homesec.policy.uploads`, :mod:`homesec.policy.validation`), a pixel cap, and
only JPEG or PNG decoded.
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import msgspec
from PIL import Image

from homesec.engines.detector.rtdetr_openvino import OpenVinoRtDetrDetector, cpu_has_bf16
from homesec.policy.cameras import InvalidCameraId, normalize_camera_id
from homesec.policy.detection_agreement import (
    CHECK_BUDGET_SECONDS,
    CHECK_IMAGES,
    ImageAgreement,
    PrecisionVerdict,
    check_threshold,
    compare_image,
    decide,
    pick_sample,
    recheck_note,
    still_valid,
)
from homesec.policy.uploads import is_ignored_name
from homesec.policy.validation import OPEN_FORMATS, has_allowed_extension

VERDICT_FILE = "precision_check.json"
NO_BF16 = "exact (this CPU has no native bf16)"
# At most one progress line this often while a start-up check runs (and one at its end).
PROGRESS_EVERY_SECONDS = 5.0

log = logging.getLogger(__name__)


# --- which images -------------------------------------------------------------------------------


def _images_below(folder: Path, camera: str) -> Iterable[tuple[str, str, float]]:
    """``(camera, path, mtime)`` of every image the watcher would take below ``folder``."""
    for directory, subdirectories, names in os.walk(folder):
        subdirectories[:] = [name for name in subdirectories if not name.startswith(".")]
        for name in names:
            path = os.path.join(directory, name)
            relative = os.path.relpath(path, folder).replace(os.sep, "/")
            if is_ignored_name(relative) or not has_allowed_extension(name):
                continue
            try:
                info = os.stat(path, follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode) and info.st_size > 0:  # no links, FIFOs or devices
                yield camera, path, info.st_mtime


def recent_uploads(base_path: Path, limit: int = CHECK_IMAGES) -> list[Path]:
    """The newest ``limit`` images of the camera folders under ``base_path``, each camera's
    newest in turn (:func:`homesec.policy.detection_agreement.pick_sample`)."""
    try:
        entries = sorted(os.scandir(base_path), key=lambda entry: entry.name)
    except (FileNotFoundError, NotADirectoryError):
        return []
    found: list[tuple[str, str, float]] = []
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_dir(follow_symlinks=True):
            continue
        try:
            camera = normalize_camera_id(entry.name)
        except InvalidCameraId:
            continue
        found.extend(_images_below(Path(entry.path), camera))
    return [Path(path) for _, path, _ in pick_sample(found, limit)]


def images_in(folder: Path, limit: int = CHECK_IMAGES) -> list[Path]:
    """The newest ``limit`` JPEG and PNG images below ``folder`` (a folder the owner names)."""
    found = sorted(_images_below(folder, ""), key=lambda e: (-e[2], e[1]))
    return [Path(path) for _, path, _ in found[:limit]]


def load_image(path: Path, max_pixels: int) -> Image.Image | None:
    """``path`` as RGB pixels, or None when it is gone, too large or not an image."""
    try:
        with Image.open(path, formats=OPEN_FORMATS) as image:
            if image.width * image.height > max_pixels:
                return None
            image.load()
            return image.convert("RGB") if image.mode != "RGB" else image.copy()
    except Exception:  # files from disk: Pillow raises all sorts on garbage
        return None


# --- the check ----------------------------------------------------------------------------------


@dataclass
class CheckResult:
    """A check's verdict, each image's comparison and each precision's milliseconds per
    image (inference, pre- and post-processing; not decoding)."""

    verdict: PrecisionVerdict
    images: list[ImageAgreement] = field(default_factory=list)
    reference_ms: list[float] = field(default_factory=list)
    candidate_ms: list[float] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def run_check(
    reference: OpenVinoRtDetrDetector,
    candidate: OpenVinoRtDetrDetector,
    paths: Sequence[Path],
    *,
    threshold: float,
    max_pixels: int,
    name_of: Callable[[Path], str] = str,
    progress: Callable[[int, int, ImageAgreement], None] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    budget_seconds: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> CheckResult:
    """Both engines on each image in turn (one image in memory at a time), compared; then the
    verdict. ``progress(done, total, image)`` after each image. With ``budget_seconds``, no
    image is started once that many seconds (by ``clock``) have passed: the verdict is then
    on the images compared (:func:`homesec.policy.detection_agreement.decide`)."""
    result = CheckResult(verdict=decide([], threshold=threshold, now=now()))
    low = check_threshold(threshold)
    started_at = clock()
    out_of_time = False
    for index, path in enumerate(paths, start=1):
        if budget_seconds is not None and clock() - started_at >= budget_seconds:
            out_of_time = True
            break
        image = load_image(path, max_pixels)
        if image is None:
            result.unreadable.append(name_of(path))
            continue
        started = time.perf_counter()
        [want] = reference.detect_at([image], low)
        middle = time.perf_counter()
        [got] = candidate.detect_at([image], low)
        result.reference_ms.append((middle - started) * 1000)
        result.candidate_ms.append((time.perf_counter() - middle) * 1000)
        compared = compare_image(name_of(path), want, got, threshold=threshold)
        result.images.append(compared)
        if progress is not None:
            progress(index, len(paths), compared)
    result.verdict = decide(
        result.images,
        threshold=threshold,
        now=now(),
        reference=reference.precision,
        candidate=candidate.precision,
        offered=len(paths),
        out_of_time=out_of_time,
    )
    return result


# --- the saved verdict --------------------------------------------------------------------------


def saved_verdict(entry: Path) -> PrecisionVerdict | None:
    try:
        return msgspec.json.decode((entry / VERDICT_FILE).read_bytes(), type=PrecisionVerdict)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return None


def save_verdict(entry: Path, verdict: PrecisionVerdict) -> None:
    """Written beside the converted model, atomically (a reader finds the old or the new)."""
    scratch = entry / f".{VERDICT_FILE}.{os.getpid()}"
    try:
        scratch.write_bytes(msgspec.json.format(msgspec.json.encode(verdict)))
        os.replace(scratch, entry / VERDICT_FILE)
    except OSError as exc:  # a read-only cache still runs; the next start checks again
        log.warning("could not save the precision check in %s: %s", entry, exc)
        scratch.unlink(missing_ok=True)


# --- at start-up --------------------------------------------------------------------------------

EngineBuilder = Callable[[str], OpenVinoRtDetrDetector]


def guarded_engine(
    build: EngineBuilder,
    *,
    threshold: float,
    images: Callable[[], list[Path]],
    max_pixels: int,
    name_of: Callable[[Path], str] = str,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    has_bf16: Callable[[], bool] = cpu_has_bf16,
    budget_seconds: float = CHECK_BUDGET_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> OpenVinoRtDetrDetector:
    """The engine for ``DETECTOR_PRECISION=auto``: ``build("bf16")`` when bf16 agrees with f32
    on this model (saved or checked now), else ``build("f32")``; its ``precision_check`` says
    which and why. The check compares for at most ``budget_seconds`` (by ``clock``)."""
    exact = build("f32")
    if not has_bf16():
        exact.precision_check = NO_BF16
        return exact
    entry = exact.cache_entry
    verdict = saved_verdict(entry)
    # An open verdict stands only while the folders hold no fuller sample: count what they hold.
    paths = images() if verdict is not None and not verdict.decided else None
    if verdict is not None and still_valid(
        verdict, threshold=threshold, now=now(), available=len(paths or ())
    ):
        log.info("precision check of %s (saved %s): %s", entry.name, verdict.checked_at,
                 verdict.text)  # fmt: skip
        if verdict.agrees:
            chosen = build("bf16")
            chosen.precision_check = verdict.text
            return chosen
        exact.precision_check = (
            verdict.text if verdict.decided else f"{verdict.text} ({recheck_note(verdict)})"
        )
        return exact
    # The cap holds whatever the image source gives: a start never compares more than this.
    paths = (images() if paths is None else paths)[:CHECK_IMAGES]
    candidate: OpenVinoRtDetrDetector | None = None
    if not paths:
        verdict = decide([], threshold=threshold, now=now())
    else:
        log.info("checking bf16 against f32 on %d recent images (for at most %.0f s) ...",
                 len(paths), budget_seconds)  # fmt: skip
        try:
            candidate = build("bf16")
            result = run_check(exact, candidate, paths, threshold=threshold,
                               max_pixels=max_pixels, name_of=name_of, now=now,
                               progress=_progress_log(clock), budget_seconds=budget_seconds,
                               clock=clock)  # fmt: skip
        except Exception as exc:  # the check must never keep the detector from starting
            log.warning("the bf16 check failed; staying on f32", exc_info=True)
            exact.precision_check = f"unchecked: the check failed ({type(exc).__name__}: {exc})"
            return exact
        verdict = result.verdict
    log.info("precision check: %s", verdict.text)
    # Open verdicts are saved too: they stand briefly (still_valid), so that restarts do not pay
    # for the check again and again for the same answer. A failed check (above) is not saved.
    save_verdict(entry, verdict)
    if verdict.agrees:
        chosen = candidate or build("bf16")
        chosen.precision_check = verdict.text
        return chosen
    exact.precision_check = verdict.text
    if not verdict.decided:
        log.info("DETECTOR_PRECISION=auto: f32 until bf16 is checked (%s)", recheck_note(verdict))
    return exact


def _progress_log(clock: Callable[[], float]) -> Callable[[int, int, ImageAgreement], None]:
    """A ``run_check`` progress that logs ``checked 7 of 20 images`` every few seconds and at
    the last image: a slow check shows it is moving."""
    started = last = clock()

    def progress(done: int, total: int, image: ImageAgreement) -> None:
        nonlocal last
        if done < total and clock() - last < PROGRESS_EVERY_SECONDS:
            return
        last = clock()
        log.info("precision check: checked %d of %d images (%.0f s)", done, total, last - started)

    return progress
