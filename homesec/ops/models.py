"""``homesec models``: pull a detector model, import one copied from another machine, and check
whether bf16 finds the same objects as f32 on it.

    homesec models pull [ID | --size r18|r34|r50|r101]
    homesec models import PATH [--replace]
    homesec models check [--images DIR] [--limit N]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from homesec.contract.errors import HomesecError
from homesec.settings import Settings

Say = Callable[[str], None]
# How often a long step (an OpenVINO conversion) says it is still at work.
TICK_SECONDS = 5.0
# Problems shown on an image's progress line (the rest are counted).
PROBLEMS_PER_IMAGE = 3


class ModelCommandError(HomesecError):
    """A models command could not do its work; the message says what to do."""


def add_arguments(models: argparse.ArgumentParser) -> None:
    from homesec.engines.model_store import DETECTOR_SIZES
    from homesec.policy.detection_agreement import CHECK_IMAGES

    actions = models.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    pull = actions.add_parser("pull", help="download a detector model once (needs internet)")
    which = pull.add_mutually_exclusive_group()
    which.add_argument("model", nargs="?", help="model id (default: DETECTOR_MODEL)")
    which.add_argument(
        "--size",
        choices=list(DETECTOR_SIZES),
        help="an RT-DETRv2 size: "
        + ", ".join(f"{size} = {hub_id}" for size, hub_id in DETECTOR_SIZES.items()),
    )

    imported = actions.add_parser(
        "import",
        help="take a model directory or archive copied from another machine",
        description="Check a detector model copied from another machine (a directory, or a "
        ".tar, .tar.gz, .tgz or .zip of one), put it where `homesec up` looks and convert it for "
        "OpenVINO.",
    )
    imported.add_argument("path", type=Path, help="the model's directory or an archive of it")
    imported.add_argument(
        "--replace", action="store_true", help="replace a model already imported under its name"
    )

    check = actions.add_parser(
        "check",
        help="does bf16 find the same objects as f32 on this model and these images?",
        description="Run the detector model in f32 and in bf16 on the same images and compare "
        "what each finds (DETECTOR_PRECISION=auto uses bf16 only when they agree). The verdict "
        "is saved for `homesec up`.",
    )
    check.add_argument(
        "--images",
        type=Path,
        help="a folder of JPEG or PNG images (default: the camera folders' newest uploads)",
    )
    check.add_argument(
        "--limit",
        type=int,
        default=CHECK_IMAGES,
        help="at most this many images, newest first (default: %(default)s)",
    )


def run(settings: Settings, args: argparse.Namespace, say: Say) -> int:
    if args.models_command == "pull":
        return pull(settings, args.model, args.size, say)
    if args.models_command == "import":
        return import_(settings, args.path, replace=args.replace, say=say)
    if args.models_command == "check":
        if args.limit < 1:
            raise ModelCommandError("--limit must be at least 1")
        return check(settings, args.images, args.limit, say)
    raise ModelCommandError(f"unknown models action {args.models_command!r}")


# --- pull ---------------------------------------------------------------------------------------


def pull_target(settings: Settings, model: str | None, size: str | None) -> str:
    """The hub id to pull: ``--size``'s checkpoint, the id given, or ``DETECTOR_MODEL``."""
    from homesec.engines.model_store import DETECTOR_SIZES

    if size is not None:
        return DETECTOR_SIZES[size]
    return model or settings.detector_model


def pull(settings: Settings, model: str | None, size: str | None, say: Say) -> int:
    from homesec.engines.model_store import model_guidance, models_dir, pull_model

    model_id = pull_target(settings, model, size)
    path = pull_model(model_id, models_dir(settings), progress=True)
    say(f"{model_id} is ready in {path}")
    say(model_guidance(settings, model_id))
    return 0


# --- import -------------------------------------------------------------------------------------


def import_(settings: Settings, source: Path, *, replace: bool, say: Say) -> int:
    from homesec.engines.model_import import import_model
    from homesec.engines.model_store import model_guidance, models_dir

    say(f"checking {source} ...")
    imported = import_model(source, models_dir(settings), replace=replace)
    verb = "replaced" if imported.replaced else "imported"
    say(f"{verb}: the model is in {imported.path}")
    say(model_guidance(settings, imported.model_ref))
    _convert_now(settings, imported.path, say)
    return 0


def _convert_now(settings: Settings, model_dir: Path, say: Say) -> None:
    """Convert for OpenVINO now, so the first `homesec up` loads from the cache. A failure is
    said, not raised: the model is in place and PyTorch can run it."""
    import importlib.util

    if importlib.util.find_spec("openvino") is None:
        say("openvino is not installed: no conversion (the detector runs it on PyTorch)")
        return
    try:
        _load_f32(settings, str(model_dir), say)
    except Exception as exc:  # the import itself succeeded
        say(
            f"warning: converting for OpenVINO failed ({type(exc).__name__}: {exc}); "
            "`homesec up` will try again and fall back to PyTorch"
        )


def _load_f32(settings: Settings, model_ref: str, say: Say):
    """The f32 OpenVINO engine of ``model_ref``, converted first when its cache entry is
    missing, with the time it takes said as it goes."""
    from homesec.engines.detector.rtdetr_openvino import OpenVinoRtDetrDetector
    from homesec.engines.model_store import models_dir

    cache_root = models_dir(settings) / "openvino"
    with _ticking(say, "loading the model (the first time: converting it for OpenVINO, ~15 s)"):
        engine = OpenVinoRtDetrDetector(
            model_ref,
            cache_root=cache_root,
            precision="f32",
            confidence_threshold=settings.detection_confidence_threshold,
        )
    if engine.converted_now:
        say(f"converted for OpenVINO in {engine.conversion_seconds:.1f} s: {engine.cache_entry}")
    else:
        say(f"the OpenVINO conversion was there already: {engine.cache_entry}")
    return engine


@contextlib.contextmanager
def _ticking(say: Say, label: str) -> Iterator[None]:
    """Say ``label``, then every :data:`TICK_SECONDS` how long it has been running."""
    say(f"{label} ...")
    done = threading.Event()
    started = time.monotonic()

    def tick() -> None:
        while not done.wait(TICK_SECONDS):
            say(f"  ... {time.monotonic() - started:.0f} s")

    ticker = threading.Thread(target=tick, name="homesec-progress", daemon=True)
    ticker.start()
    try:
        yield
    finally:
        done.set()
        ticker.join()


# --- check --------------------------------------------------------------------------------------


def check(settings: Settings, folder: Path | None, limit: int, say: Say) -> int:
    import importlib.util

    if importlib.util.find_spec("openvino") is None:
        raise ModelCommandError("openvino is not installed: there is no bf16 to check")
    from homesec.engines.detector import precision_guard as guard
    from homesec.engines.detector.rtdetr_openvino import OpenVinoRtDetrDetector, cpu_has_bf16
    from homesec.engines.model_store import models_dir, resolve_model_path

    if not cpu_has_bf16():
        say("this CPU has no native bf16: OpenVINO computes in f32 whatever DETECTOR_PRECISION "
            "says, so there is nothing to check")  # fmt: skip
        return 0
    if folder is not None:
        folder = folder.expanduser()
        if not folder.is_dir():
            raise ModelCommandError(f"--images {folder} is not a folder")
        paths, where, base = guard.images_in(folder, limit), str(folder), folder
    else:
        base = settings.foscam_base_path
        paths = guard.recent_uploads(base, limit)
        where = f"the camera folders under {base}"
    if not paths:
        raise ModelCommandError(
            f"no JPEG or PNG images in {where}: point --images at a folder of camera frames"
        )

    model_ref = resolve_model_path(settings)
    reference = _load_f32(settings, model_ref, say)
    candidate = OpenVinoRtDetrDetector(
        model_ref,
        cache_root=models_dir(settings) / "openvino",
        precision="bf16",
        confidence_threshold=settings.detection_confidence_threshold,
    )
    threshold = settings.detection_confidence_threshold
    say(f"comparing bf16 with f32 on {len(paths)} images from {where} (threshold {threshold}):")
    width = len(str(len(paths)))

    def name_of(path: Path) -> str:
        try:
            return str(path.relative_to(base))
        except ValueError:
            return str(path)

    def progress(done: int, total: int, image) -> None:
        found = f"{image.reference_count} found by f32, {image.candidate_count} by bf16"
        problems = "; ".join(image.problems[:PROBLEMS_PER_IMAGE])
        if len(image.problems) > PROBLEMS_PER_IMAGE:
            problems += f"; {len(image.problems) - PROBLEMS_PER_IMAGE} more"
        state = "agrees" if image.agrees else f"DISAGREES: {problems}"
        say(f"  [{done:>{width}}/{total}] {image.name}: {state} ({found})")

    result = guard.run_check(
        reference,
        candidate,
        paths,
        threshold=threshold,
        max_pixels=settings.max_image_pixels,
        name_of=name_of,
        progress=progress,
    )
    for name in result.unreadable:
        say(f"  skipped {name}: not a readable image")
    if result.reference_ms:
        f32_ms = statistics.median(result.reference_ms)
        bf16_ms = statistics.median(result.candidate_ms)
        say(f"f32 {f32_ms:.0f} ms/image, bf16 {bf16_ms:.0f} ms/image (medians; "
            f"bf16 {f32_ms / bf16_ms:.1f}x as fast)")  # fmt: skip
    verdict = result.verdict
    say(verdict.text)
    if verdict.decided:
        guard.save_verdict(reference.cache_entry, verdict)
        chosen = "bf16" if verdict.agrees else "f32"
        if settings.detector_precision == "auto":
            say(f"saved: with DETECTOR_PRECISION=auto, `homesec up` computes in {chosen} "
                "(for 30 days, or until the model changes)")  # fmt: skip
        else:
            say(f"saved; DETECTOR_PRECISION={settings.detector_precision} is set, so "
                f"`homesec up` computes in {settings.detector_precision} regardless")  # fmt: skip
    else:
        say("nothing saved: `homesec up` stays on f32 and checks again at a later start")
    return 0
