"""The tamper check on synthetic frames: each goes through validation's sample and
files/frame_stats, as an upload would, then policy/tamper's judge."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageFilter

from homesec.files.frame_stats import frame_stats
from homesec.policy.tamper import (
    BLUR_FRAMES,
    MOVED_FRAMES,
    RELEARN_FRAMES,
    UNIFORM_FRAMES,
    WARMUP_FRAMES,
    FrameStats,
    TamperState,
    judge,
)
from homesec.policy.validation import validate_image_bytes

WIDTH, HEIGHT = 640, 480


def scene(seed: int = 1) -> np.ndarray:
    """A garden of rectangles: grey levels with edges at many places."""
    rng = np.random.default_rng(seed)
    pixels = np.full((HEIGHT, WIDTH), 110.0)
    for _ in range(40):
        x, y = rng.integers(0, WIDTH - 60), rng.integers(0, HEIGHT - 60)
        w, h = rng.integers(20, 160), rng.integers(20, 160)
        pixels[y : y + h, x : x + w] = rng.integers(20, 235)
    return pixels


def noisy(pixels: np.ndarray, seed: int, sigma: float = 4.0) -> np.ndarray:
    return pixels + np.random.default_rng(seed).normal(0, sigma, pixels.shape)


def stats_of(pixels: np.ndarray, blur: float = 0.0) -> FrameStats:
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "L").convert("RGB")
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    result = validate_image_bytes(buffer.getvalue())
    assert result.ok and result.sample is not None
    return frame_stats(result.sample)


def learnt(frames: int = WARMUP_FRAMES + 5) -> TamperState:
    state = TamperState()
    base = scene()
    for index in range(frames):
        verdict = judge(state, stats_of(noisy(base, index)))
        assert verdict.raised is None
        state = verdict.state
    return state


def feed(state: TamperState, frames: list[FrameStats]) -> tuple[TamperState, list[str | None]]:
    raised = []
    for stats in frames:
        verdict = judge(state, stats)
        raised.append(verdict.raised)
        state = verdict.state
    return state, raised


def test_normal_frames_with_noise_raise_nothing_and_build_the_baseline() -> None:
    state = learnt()
    assert state.normal_frames == WARMUP_FRAMES + 5
    assert state.problem is None
    assert state.log_sharpness is not None and len(state.reference) == 32 * 24


def test_one_clearly_black_frame_is_a_covered_lens_and_a_normal_frame_clears_it() -> None:
    state = learnt()
    verdict = judge(state, stats_of(np.zeros((HEIGHT, WIDTH))))
    assert verdict.raised == "lens covered"
    assert verdict.state.problem == "lens covered"
    # More black frames: the same problem, not a second one.
    again = judge(verdict.state, stats_of(np.zeros((HEIGHT, WIDTH))))
    assert again.raised is None and again.state.problem == "lens covered"
    back = judge(again.state, stats_of(noisy(scene(), 99)))
    assert back.cleared == "lens covered" and back.raised is None
    assert back.state.problem is None


def test_a_black_frame_before_any_baseline_is_a_covered_lens_too() -> None:
    assert judge(TamperState(), stats_of(np.zeros((HEIGHT, WIDTH)))).raised == "lens covered"


def test_a_uniform_grey_frame_needs_a_couple_in_a_row() -> None:
    grey = stats_of(noisy(np.full((HEIGHT, WIDTH), 128.0), 3, sigma=1.0))
    state, raised = feed(learnt(), [grey] * UNIFORM_FRAMES)
    assert raised == [None] * (UNIFORM_FRAMES - 1) + ["lens covered"]
    assert state.problem == "lens covered"
    # One washed-out frame between normal ones raises nothing.
    _, raised = feed(learnt(), [grey, stats_of(noisy(scene(), 50))])
    assert raised == [None, None]


def test_a_far_blurrier_view_is_blurred_after_a_few_frames() -> None:
    blurred = [stats_of(noisy(scene(), 60 + i, sigma=0.5), blur=12) for i in range(BLUR_FRAMES)]
    state, raised = feed(learnt(), blurred)
    assert raised == [None] * (BLUR_FRAMES - 1) + ["blurred"]
    verdict = judge(state, stats_of(noisy(scene(), 70)))
    assert verdict.cleared == "blurred"


def test_a_shifted_view_is_a_moved_view_after_several_frames() -> None:
    moved = np.roll(scene(), WIDTH // 3, axis=1)
    frames = [stats_of(noisy(moved, 80 + i)) for i in range(MOVED_FRAMES)]
    state, raised = feed(learnt(), frames)
    assert raised == [None] * (MOVED_FRAMES - 1) + ["view moved"]
    verdict = judge(state, stats_of(noisy(scene(), 90)))
    assert verdict.cleared == "view moved"


def test_a_view_moved_for_long_becomes_the_usual_one() -> None:
    moved = np.roll(scene(), WIDTH // 3, axis=1)
    state, raised = feed(learnt(), [stats_of(noisy(moved, 100 + i)) for i in range(RELEARN_FRAMES)])
    assert raised.count("view moved") == 1
    assert state.problem is None
    assert judge(state, stats_of(noisy(moved, 200))).raised is None


def test_an_infrared_night_frame_of_the_same_scene_raises_nothing() -> None:
    """The IR switch: grey levels squeezed and darker, more sensor noise; the edges stay."""
    night = [stats_of(noisy(scene() * 0.45 + 25, 300 + i, sigma=7.0)) for i in range(12)]
    state, raised = feed(learnt(), night)
    assert raised == [None] * 12
    assert state.problem is None


def test_state_round_trips_through_json() -> None:
    import msgspec

    state = learnt()
    text = msgspec.json.encode(state)
    assert msgspec.json.decode(text, type=TamperState) == state
