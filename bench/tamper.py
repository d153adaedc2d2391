"""Tamper check benchmark (issue 23): false alarms and how fast each problem is caught, on
synthetic days of a camera, and what the check costs per frame. Prints figures, asserts nothing.

A "day" is a scene (rectangles at random places, a seed per camera) seen every few minutes with
fresh sensor noise, a cloud's worth of brightness drift, and at dusk and dawn the switch to and
from infrared (grey levels squeezed and darkened, more noise). Into some days one problem is put
at a random frame: a covered lens (black, or a grey cloth), a sprayed lens (heavy blur) or a
camera knocked aside (the scene shifted). Each frame goes through validation's decode and
sample, ``files/frame_stats.py`` and ``policy/tamper.py``'s judge, as an upload would.

    .venv/bin/python bench/tamper.py [--days 40] [--frames 120]
"""

from __future__ import annotations

import argparse
import io
import time
from collections import Counter

import numpy as np
from PIL import Image, ImageFilter

from homesec.files.frame_stats import frame_stats
from homesec.policy.tamper import FrameStats, TamperState, judge
from homesec.policy.validation import validate_image_bytes

WIDTH, HEIGHT = 640, 480
PROBLEMS = ("black", "grey cloth", "sprayed", "knocked aside")
CHECK_SECONDS = [0.0]  # time in frame_stats and judge
EXPECTED = {
    "black": "lens covered",
    "grey cloth": "lens covered",
    "sprayed": "blurred",
    "knocked aside": "view moved",
}


def scene(rng: np.random.Generator) -> np.ndarray:
    pixels = np.full((HEIGHT, WIDTH), float(rng.integers(80, 150)))
    for _ in range(40):
        x, y = rng.integers(0, WIDTH - 60), rng.integers(0, HEIGHT - 60)
        w, h = rng.integers(20, 160), rng.integers(20, 160)
        pixels[y : y + h, x : x + w] = rng.integers(20, 235)
    return pixels


def stats_of(pixels: np.ndarray, blur: float = 0.0) -> FrameStats:
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "L").convert("RGB")
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    result = validate_image_bytes(buffer.getvalue())
    assert result.sample is not None
    started = time.perf_counter()
    stats = frame_stats(result.sample)
    CHECK_SECONDS[0] += time.perf_counter() - started
    return stats


def frame(base: np.ndarray, index: int, frames: int, rng: np.random.Generator) -> np.ndarray:
    """The scene at ``index`` of the day: drift, noise, infrared in the first and last fifth."""
    night = index < frames // 5 or index >= frames * 4 // 5
    drift = 1.0 + 0.15 * np.sin(index / 7.0)
    if night:
        return base * 0.45 * drift + 25 + rng.normal(0, 7, base.shape)
    return base * drift + rng.normal(0, 4, base.shape)


def run_day(seed: int, frames: int, problem: str | None) -> tuple[list[str], int | None, int]:
    """What the day raised, the frame its problem started at, and its normal frames judged."""
    rng = np.random.default_rng(seed)
    base = scene(rng)
    start = int(rng.integers(frames // 3, frames * 2 // 3)) if problem else None
    state = TamperState()
    raised: list[tuple[int, str]] = []
    for index in range(frames):
        pixels = frame(base, index, frames, rng)
        blur = 0.0
        if start is not None and index >= start:
            if problem == "black":
                pixels = rng.normal(2, 1, base.shape)
            elif problem == "grey cloth":
                pixels = np.full(base.shape, 140.0) + rng.normal(0, 1.5, base.shape)
            elif problem == "sprayed":
                blur = 14.0
            elif problem == "knocked aside":
                pixels = np.roll(pixels, WIDTH // 3, axis=1)
        stats = stats_of(pixels, blur)
        started = time.perf_counter()
        verdict = judge(state, stats)
        CHECK_SECONDS[0] += time.perf_counter() - started
        state = verdict.state
        if verdict.raised:
            raised.append((index, verdict.raised))
    normal = start if start is not None else frames
    false_alarms = [what for index, what in raised if start is None or index < start]
    caught = [(index - (start or 0), what) for index, what in raised if start and index >= start]
    return false_alarms, (caught[0][0] if caught and caught[0][1] == EXPECTED.get(problem or "")
                          else None), normal  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=40)
    parser.add_argument("--frames", type=int, default=120, help="frames per day")
    args = parser.parse_args()

    false_alarms: Counter[str] = Counter()
    normal_frames = 0
    caught: dict[str, list[int]] = {problem: [] for problem in PROBLEMS}
    missed: Counter[str] = Counter()
    started = time.perf_counter()
    judged = 0
    for day in range(args.days):
        problem = None if day % 2 == 0 else PROBLEMS[(day // 2) % len(PROBLEMS)]
        alarms, delay, normal = run_day(day, args.frames, problem)
        judged += args.frames
        normal_frames += normal
        false_alarms.update(alarms)
        if problem is not None:
            (caught[problem].append(delay) if delay is not None else missed.update([problem]))
    elapsed = time.perf_counter() - started

    print(f"{args.days} days of {args.frames} frames ({judged} frames, half the days clean)")
    print(f"false alarms: {sum(false_alarms.values())} in {normal_frames} normal frames "
          f"(with dusk and dawn infrared switches) {dict(false_alarms)}")  # fmt: skip
    for problem in PROBLEMS:
        delays = caught[problem]
        shown = f"caught {len(delays)}, missed {missed[problem]}"
        if delays:
            shown += f", after {min(delays) + 1}..{max(delays) + 1} frames"
        print(f"  {problem:14} -> {EXPECTED[problem]:13} {shown}")
    print(f"all of it: {1e3 * elapsed / judged:.2f} ms a frame (making and encoding the frame, "
          "validation's decode, the sample, statistics, judge)")  # fmt: skip
    print(f"the check alone (statistics and judge, what the watcher adds to its decode): "
          f"{1e6 * CHECK_SECONDS[0] / judged:.0f} us a frame")  # fmt: skip


if __name__ == "__main__":
    main()
