"""The precision guard on the real OpenVINO: DETECTOR_PRECISION=auto takes bf16 only after it
found the same objects as f32 on the model and the house's images.

What bf16 does to the tiny random-weight model was looked at, not assumed: its scores move by
about 0.003, the detections at the threshold stay the same, and the guard accepts it. A
precision that disagrees is therefore stood in for by the same model with perturbed weights
(``perturbed_copy``), run in bf16: the guard must refuse it and say what differed.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from homesec.engines.detector import create_detector
from homesec.engines.detector import precision_guard as guard
from homesec.engines.detector.rtdetr_openvino import OpenVinoRtDetrDetector, cpu_has_bf16
from homesec.policy.detection_agreement import (
    CHECK_BUDGET_SECONDS,
    CHECK_IMAGES,
    MIN_CHECKED_IMAGES,
    Outcome,
    PrecisionVerdict,
)
from tests.support.settings import make_settings
from tests.support.tiny_rtdetr import build_tiny_rtdetr, perturbed_copy

pytest.importorskip("openvino")

THRESHOLD = 0.3
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
needs_bf16 = pytest.mark.skipif(not cpu_has_bf16(), reason="this CPU has no native bf16")


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("models")
    tiny = build_tiny_rtdetr(root / "tiny-rtdetr", distinct_scores=True)
    return tiny, perturbed_copy(tiny, root / "perturbed")


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory, models) -> Path:
    """Both models converted once (the conversion is the slow part), for tests to copy."""
    root = tmp_path_factory.mktemp("converted") / "openvino"
    for model in models:
        OpenVinoRtDetrDetector(str(model), cache_root=root)
    return root


@pytest.fixture
def cache(converted: Path, tmp_path: Path) -> Path:
    """A cache of this test's own, with both models converted and no verdicts saved."""
    return Path(shutil.copytree(converted, tmp_path / "openvino"))


def write_frames(folder: Path, count: int, seed: int = 1, start: float = 1_000_000.0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for index in range(count):
        path = folder / f"frame{index:02d}.jpg"
        Image.fromarray(rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)).save(path)
        stamp = start + index
        os.utime(path, (stamp, stamp))
        paths.append(path)
    return paths


def builder(model: Path, cache: Path, bf16_model: Path | None = None):
    """``build(precision)`` as the factory makes it; ``bf16_model`` swaps what bf16 runs."""

    def build(precision: str) -> OpenVinoRtDetrDetector:
        source = bf16_model if precision == "bf16" and bf16_model is not None else model
        return OpenVinoRtDetrDetector(
            str(source), cache_root=cache, precision=precision, confidence_threshold=THRESHOLD
        )

    return build


def guarded(build, paths, **kwargs) -> OpenVinoRtDetrDetector:
    kwargs.setdefault("has_bf16", lambda: True)
    kwargs.setdefault("now", lambda: NOW)
    return guard.guarded_engine(
        build, threshold=THRESHOLD, images=lambda: list(paths), max_pixels=10**8, **kwargs
    )


# --- the real bf16 on the tiny model ------------------------------------------------------------


@needs_bf16
def test_bf16_on_the_tiny_model_agrees_and_is_taken(models, cache, tmp_path):
    tiny, _ = models
    cameras = tmp_path / "cameras"
    write_frames(cameras / "Front Door", 3)
    write_frames(cameras / "yard", 3, seed=2)
    (tmp_path / "models").mkdir()
    cache.rename(tmp_path / "models" / "openvino")  # where the factory looks: converted already
    settings = make_settings(
        tmp_path,
        foscam_base_path=cameras,
        detector_model=str(tiny),
        detector_device="cpu",
        detection_confidence_threshold=THRESHOLD,
    )
    engine = create_detector(settings)  # DETECTOR_ENGINE=auto, DETECTOR_PRECISION=auto
    assert isinstance(engine, OpenVinoRtDetrDetector)
    assert engine.precision == "bf16" and engine.compiled_precision == "bf16"
    assert engine.describe()["precision_check"] == "checked: bf16 agrees with f32 on 6 images"
    saved = guard.saved_verdict(engine.cache_entry)
    assert saved is not None and saved.outcome is Outcome.AGREES and saved.images == 6


@needs_bf16
def test_the_real_comparison_shows_what_bf16_moves(models, cache, tmp_path):
    tiny, _ = models
    f32 = OpenVinoRtDetrDetector(str(tiny), cache_root=cache, confidence_threshold=THRESHOLD)
    bf16 = OpenVinoRtDetrDetector(
        str(tiny), cache_root=cache, precision="bf16", confidence_threshold=THRESHOLD
    )
    paths = write_frames(tmp_path / "frames", 4)
    result = guard.run_check(f32, bf16, paths, threshold=THRESHOLD, max_pixels=10**8)
    assert result.verdict.outcome is Outcome.AGREES
    assert all(image.reference_count > 0 for image in result.images)
    assert len(result.reference_ms) == len(result.candidate_ms) == 4


# --- refusing and accepting ---------------------------------------------------------------------


def test_a_precision_that_finds_other_objects_is_refused(models, cache, tmp_path):
    tiny, perturbed = models
    paths = write_frames(tmp_path / "cameras" / "door", 5)
    engine = guarded(builder(tiny, cache, bf16_model=perturbed), paths)
    assert engine.precision == "f32"
    check = engine.describe()["precision_check"]
    assert check.startswith("f32: bf16 disagreed on 5 of 5 images (")
    assert "missing person" in check or "extra " in check
    saved = guard.saved_verdict(engine.cache_entry)
    assert saved is not None and saved.outcome is Outcome.DISAGREES
    # A restart believes the saved verdict: no images are read, nothing runs again.
    again = guarded(builder(tiny, cache), paths=_no_images())
    assert again.precision == "f32" and again.precision_check == check


def test_f32_against_itself_agrees(models, cache, tmp_path):
    tiny, _ = models
    paths = write_frames(tmp_path / "frames", 3)
    f32 = OpenVinoRtDetrDetector(str(tiny), cache_root=cache, confidence_threshold=THRESHOLD)
    again = OpenVinoRtDetrDetector(str(tiny), cache_root=cache, confidence_threshold=THRESHOLD)
    result = guard.run_check(f32, again, paths, threshold=THRESHOLD, max_pixels=10**8)
    assert result.verdict.text == "checked: f32 agrees with f32 on 3 images"
    assert [image.problems for image in result.images] == [(), (), ()]


class _no_images(list):
    """An image source that fails the test when it is asked."""

    def __iter__(self):
        raise AssertionError("the guard looked for images although a verdict was saved")


def test_a_saved_verdict_decides_until_it_expires(models, cache, tmp_path):
    tiny, perturbed = models
    paths = write_frames(tmp_path / "frames", 2)
    first = guarded(builder(tiny, cache, bf16_model=perturbed), paths)
    assert first.precision == "f32"
    entry = first.cache_entry
    assert json.loads((entry / guard.VERDICT_FILE).read_text())["outcome"] == "disagrees"
    # Within 30 days: the saved verdict, even with images that would now agree.
    later = guarded(builder(tiny, cache), paths, now=lambda: NOW + timedelta(days=29))
    assert later.precision == "f32"
    # After: checked again, on the images of now (here the real bf16, which agrees).
    if cpu_has_bf16():
        month = guarded(builder(tiny, cache), paths, now=lambda: NOW + timedelta(days=31))
        assert month.precision == "bf16"
        assert month.precision_check == "checked: bf16 agrees with f32 on 2 images"
        verdict = guard.saved_verdict(entry)
        assert verdict is not None and verdict.checked_at == NOW + timedelta(days=31)


def test_no_images_yet_stays_on_f32_and_saves_that_for_a_day(models, cache, tmp_path):
    tiny, _ = models
    engine = guarded(builder(tiny, cache), [])
    assert engine.precision == "f32"
    assert engine.precision_check == "unchecked: no images yet"
    saved = guard.saved_verdict(engine.cache_entry)
    assert saved is not None and saved.outcome is Outcome.UNCHECKED and saved.offered == 0
    # A restart that day with a few uploads: the open verdict stands, and health says since when.
    few = write_frames(tmp_path / "cameras" / "door", 3)
    again = guarded(builder(tiny, cache), few, now=lambda: NOW + timedelta(hours=5))
    assert again.precision == "f32"
    assert again.precision_check == (
        "unchecked: no images yet (as of 2026-05-01 12:00 UTC; checked again after a day or "
        f"at {CHECK_IMAGES} uploads)"
    )
    assert guard.saved_verdict(engine.cache_entry) == saved  # not checked, not saved again
    # The next day: checked on what the folders hold now.
    if cpu_has_bf16():
        day = guarded(builder(tiny, cache), few, now=lambda: NOW + timedelta(days=1))
        assert day.precision == "bf16"
        assert day.precision_check == "checked: bf16 agrees with f32 on 3 images"


def test_an_open_verdict_gives_way_once_a_full_sample_exists(models, cache, tmp_path):
    tiny, perturbed = models
    guarded(builder(tiny, cache), [])
    full = write_frames(tmp_path / "cameras" / "door", CHECK_IMAGES + 3)  # more than the cap
    engine = guarded(builder(tiny, cache, bf16_model=perturbed), full,
                     now=lambda: NOW + timedelta(minutes=10))  # fmt: skip
    assert engine.precision == "f32"
    assert engine.precision_check.startswith(f"f32: bf16 disagreed on {CHECK_IMAGES} of ")
    saved = guard.saved_verdict(engine.cache_entry)
    assert saved is not None and saved.outcome is Outcome.DISAGREES
    assert saved.offered == saved.images == CHECK_IMAGES  # the cap: never more than 20


class SteppingClock:
    """A monotonic clock that moves ``step`` seconds each time it is read: a slow machine."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_the_check_stops_at_its_budget_and_decides_on_what_it_compared(models, cache, tmp_path):
    tiny, _ = models
    paths = write_frames(tmp_path / "frames", 9)
    f32 = OpenVinoRtDetrDetector(str(tiny), cache_root=cache, confidence_threshold=THRESHOLD)
    # Read once at the start, then before each image: the 6th image starts 60 s in, past 55.
    result = guard.run_check(f32, f32, paths, threshold=THRESHOLD, max_pixels=10**8,
                             budget_seconds=55, clock=SteppingClock(10))  # fmt: skip
    assert len(result.images) == MIN_CHECKED_IMAGES == 5
    assert result.verdict.outcome is Outcome.AGREES
    assert result.verdict.images == 5 and result.verdict.offered == 9
    assert result.verdict.text == (
        "checked: f32 agrees with f32 on 5 images (5 of 9 compared in the "
        f"{CHECK_BUDGET_SECONDS:.0f} s budget)"
    )
    too_few = guard.run_check(f32, f32, paths, threshold=THRESHOLD, max_pixels=10**8,
                              budget_seconds=25, clock=SteppingClock(10))  # fmt: skip
    assert len(too_few.images) == 2
    assert too_few.verdict.outcome is Outcome.UNCHECKED
    assert too_few.verdict.text.startswith("unchecked: not enough checked (2 of 9 images in ")


def test_out_of_budget_at_start_up_runs_f32_and_saves_it_for_a_day(models, cache, tmp_path):
    tiny, _ = models
    paths = write_frames(tmp_path / "cameras" / "door", 4)
    engine = guarded(builder(tiny, cache), paths, budget_seconds=0)
    assert engine.precision == "f32"
    assert engine.precision_check.startswith("unchecked: not enough checked (0 of 4 images in ")
    saved = guard.saved_verdict(engine.cache_entry)
    assert saved is not None and saved.outcome is Outcome.UNCHECKED and saved.offered == 4
    # A restart within the day does not pay for the check again.
    again = guarded(builder(tiny, cache), paths, now=lambda: NOW + timedelta(hours=1))
    assert again.precision == "f32"
    assert again.precision_check == (
        f"{saved.text} (as of 2026-05-01 12:00 UTC; checked again after a day or at "
        f"{CHECK_IMAGES} uploads)"
    )


def test_the_start_up_check_logs_its_progress(models, cache, tmp_path, caplog):
    tiny, _ = models
    paths = write_frames(tmp_path / "cameras" / "door", 3)

    def progress_lines(clock) -> list[str]:
        caplog.clear()
        with caplog.at_level(logging.INFO, logger=guard.__name__):
            engine = guarded(builder(tiny, cache), paths, clock=clock)
        (engine.cache_entry / guard.VERDICT_FILE).unlink()  # the next call checks again
        messages = [record.getMessage() for record in caplog.records]
        return [line for line in messages if line.startswith("precision check: checked ")]

    # A slow check: a line after each image.
    assert progress_lines(SteppingClock(guard.PROGRESS_EVERY_SECONDS)) == [
        "precision check: checked 1 of 3 images (20 s)",
        "precision check: checked 2 of 3 images (35 s)",
        "precision check: checked 3 of 3 images (45 s)",
    ]
    # A quick one: only the last.
    assert progress_lines(lambda: 0.0) == ["precision check: checked 3 of 3 images (0 s)"]


def test_without_native_bf16_nothing_is_checked(models, cache):
    tiny, _ = models
    engine = guarded(builder(tiny, cache), _no_images(), has_bf16=lambda: False)
    assert engine.precision == "f32" and engine.precision_check == guard.NO_BF16


def test_a_failing_check_stays_on_f32_and_says_why(models, cache, tmp_path):
    tiny, _ = models
    build = builder(tiny, cache)

    def build_without_bf16(precision: str) -> OpenVinoRtDetrDetector:
        if precision == "bf16":
            raise RuntimeError("no bf16 kernels today")
        return build(precision)

    paths = write_frames(tmp_path / "frames", 1)
    engine = guarded(build_without_bf16, paths)
    assert engine.precision == "f32"
    assert (
        engine.precision_check
        == "unchecked: the check failed (RuntimeError: no bf16 kernels today)"
    )


def test_a_damaged_verdict_file_is_checked_again(models, cache):
    tiny, _ = models
    engine = guarded(builder(tiny, cache), [])
    (engine.cache_entry / guard.VERDICT_FILE).write_text("{not json")
    assert guard.saved_verdict(engine.cache_entry) is None
    stale = PrecisionVerdict(outcome=Outcome.AGREES, threshold=THRESHOLD, checked_at=NOW)
    guard.save_verdict(engine.cache_entry, stale)
    assert guard.saved_verdict(engine.cache_entry) == stale


def test_forced_bf16_is_not_checked(models, cache, tmp_path):
    tiny, _ = models
    (tmp_path / "models").mkdir()
    cache.rename(tmp_path / "models" / "openvino")
    settings = make_settings(
        tmp_path, detector_model=str(tiny), detector_device="cpu", detector_precision="bf16"
    )
    engine = create_detector(settings)
    assert engine.describe()["precision_check"] == "forced (unchecked)"


# --- which images -------------------------------------------------------------------------------


def test_recent_uploads_take_each_cameras_newest_and_skip_what_the_watcher_skips(tmp_path):
    base = tmp_path / "cameras"
    street = write_frames(base / "Street", 5, start=2000.0)
    yard = write_frames(base / "yard" / "2026-05-01", 2, start=1000.0)
    for hidden in (base / ".rejected" / "yard" / "bad.jpg", base / "yard" / ".sync" / "x.jpg"):
        hidden.parent.mkdir(parents=True)
        hidden.write_bytes(b"\xff\xd8")
    (base / "yard" / "upload.jpg.part").write_bytes(b"\xff\xd8")
    (base / "yard" / "notes.txt").write_text("not an image")
    (base / "empty").mkdir()
    picked = guard.recent_uploads(base, limit=4)
    assert picked == [street[4], yard[1], street[3], yard[0]]
    assert guard.recent_uploads(tmp_path / "nowhere") == []


def test_images_in_a_folder_the_owner_names(tmp_path):
    paths = write_frames(tmp_path / "mine" / "deeper", 3)
    assert guard.images_in(tmp_path / "mine", limit=2) == [paths[2], paths[1]]


def test_unreadable_images_are_skipped_and_listed(models, cache, tmp_path):
    tiny, _ = models
    good = write_frames(tmp_path / "frames", 1)
    broken = tmp_path / "frames" / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really")
    f32 = OpenVinoRtDetrDetector(str(tiny), cache_root=cache, confidence_threshold=THRESHOLD)
    result = guard.run_check(
        f32, f32, [*good, broken], threshold=THRESHOLD, max_pixels=10**8, name_of=lambda p: p.name
    )
    assert result.unreadable == ["broken.jpg"]
    assert [image.name for image in result.images] == ["frame00.jpg"]
    too_big = guard.run_check(f32, f32, good, threshold=THRESHOLD, max_pixels=100)
    assert too_big.images == [] and len(too_big.unreadable) == 1
