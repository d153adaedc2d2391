"""Has this camera gone blind? Pure decisions on a frame's cheap statistics (issue 23).

Each valid upload gives :class:`FrameStats` (:mod:`homesec.files.frame_stats`, from the small
grayscale sample validation decodes anyway): its brightness and contrast, its sharpness (the
variance of the Laplacian) and a 32x24 map of its edges. :func:`judge` weighs them against the
camera's :class:`TamperState`, what its frames usually look like, and says which problem a
frame raises or clears. No model: three numbers and a small map.

- **lens covered**: a nearly uniform frame (contrast below :data:`UNIFORM_STD` grey levels): a
  hand, tape, paint or spray, a black frame. One *clearly black* frame (dark and flat) is
  enough; a uniform frame that is not black (grey, white) needs :data:`UNIFORM_FRAMES` in a row,
  so one washed-out frame (a headlight, the IR switching) alerts nobody.
- **blurred**: sharpness below :data:`BLUR_RATIO` of the camera's usual, in
  :data:`BLUR_FRAMES` frames in a row; it clears above :data:`BLUR_CLEAR_RATIO` (hysteresis).
- **view moved**: the frame's edge map correlates (Pearson) with the usual scene's below
  :data:`MOVED_CORRELATION`, in :data:`MOVED_FRAMES` frames in a row; it clears above
  :data:`MOVED_CLEAR_CORRELATION`. Edges rather than brightness, so the switch to infrared at
  dusk (the same scene, in other grey levels) still matches; several frames, so one odd frame
  (the switch itself, a bird on the lens) does not. A view that stays moved for
  :data:`RELEARN_FRAMES` frames was re-aimed on purpose: it becomes the usual scene.

Blur and view are judged only once :data:`WARMUP_FRAMES` normal frames built the baseline. The
baseline learns only from frames that look normal (exponential averages, :data:`LEARN_RATE`), so
a covered lens never becomes the usual.
"""

from __future__ import annotations

import math

import msgspec
import numpy as np

from homesec.contract.camera_problems import CameraProblemKind

# The grayscale sample validation keeps of every valid upload (width, height).
SAMPLE_SIZE = (64, 48)
# The edge map of the scene (width, height): a quarter of the sample's.
EDGE_MAP_SIZE = (32, 24)

UNIFORM_STD = 6.0  # grey levels (of 255): below this a frame shows nothing
BLACK_MEAN = 20.0  # a frame this dark and ...
BLACK_STD = 3.0  # ... this flat is clearly black: one is enough
UNIFORM_FRAMES = 2
WARMUP_FRAMES = 5
BLUR_RATIO = 0.1
BLUR_CLEAR_RATIO = 0.3
BLUR_FRAMES = 3
MOVED_CORRELATION = 0.3
MOVED_CLEAR_CORRELATION = 0.5
MOVED_FRAMES = 4
RELEARN_FRAMES = 30
LEARN_RATE = 0.1


class FrameStats(msgspec.Struct, frozen=True, kw_only=True):
    """One frame's cheap statistics on its grayscale sample."""

    mean: float  # brightness, 0..255
    std: float  # contrast, grey levels
    sharpness: float  # variance of the Laplacian
    edges: tuple[float, ...]  # EDGE_MAP_SIZE gradient magnitudes, row by row


class TamperState(msgspec.Struct, frozen=True, kw_only=True):
    """What a camera's frames usually look like, and the odd ones in a row (``camera_tamper``)."""

    normal_frames: int = 0  # frames learnt from
    log_sharpness: float | None = None  # the usual sharpness, as an average of its logarithm
    reference: tuple[float, ...] = ()  # the usual scene's edge map
    problem: str | None = None  # the CameraProblemKind the frames show now
    uniform_streak: int = 0
    blur_streak: int = 0
    moved_streak: int = 0


class TamperVerdict(msgspec.Struct, frozen=True, kw_only=True):
    state: TamperState
    raised: str | None = None  # a problem this frame starts
    cleared: str | None = None  # a problem this frame ends
    detail: str = ""  # the numbers behind it, for people


def correlation(first: tuple[float, ...], second: tuple[float, ...]) -> float:
    """Pearson correlation of two edge maps; 0 when either is flat or they differ in size."""
    if not first or len(first) != len(second):
        return 0.0
    a = np.asarray(first, dtype=np.float64)
    b = np.asarray(second, dtype=np.float64)
    a, b = a - a.mean(), b - b.mean()
    scale = math.sqrt(float((a * a).sum()) * float((b * b).sum()))
    return float((a * b).sum()) / scale if scale > 1e-9 else 0.0


def _log(value: float) -> float:
    return math.log(max(value, 1e-3))


def _learn(state: TamperState, stats: FrameStats) -> TamperState:
    """The baseline moved a step towards a normal frame (the first one sets it)."""
    if state.log_sharpness is None or not state.reference:
        return msgspec.structs.replace(
            state, normal_frames=1, log_sharpness=_log(stats.sharpness), reference=stats.edges
        )
    rate = LEARN_RATE
    reference = tuple(
        round((1 - rate) * old + rate * new, 2)
        for old, new in zip(state.reference, stats.edges, strict=True)
    )
    return msgspec.structs.replace(
        state,
        normal_frames=state.normal_frames + 1,
        log_sharpness=(1 - rate) * state.log_sharpness + rate * _log(stats.sharpness),
        reference=reference,
    )


def judge(state: TamperState, stats: FrameStats) -> TamperVerdict:
    """The camera's state after one more frame, and the problem it raised or cleared."""
    uniform = stats.std < UNIFORM_STD
    black = stats.mean < BLACK_MEAN and stats.std < BLACK_STD
    learnt = state.normal_frames >= WARMUP_FRAMES and state.log_sharpness is not None
    usual = math.exp(state.log_sharpness) if state.log_sharpness is not None else 0.0
    ratio = stats.sharpness / usual if usual > 0 else 1.0
    match = correlation(stats.edges, state.reference) if state.reference else 1.0
    detail = (
        f"brightness {stats.mean:.0f}, contrast {stats.std:.1f}, sharpness {ratio:.2f} of usual,"
        f" scene match {match:.2f}"
    )
    problem = state.problem
    uniform_streak = state.uniform_streak + 1 if uniform else 0
    # A uniform frame says nothing of sharpness or the view: those streaks wait.
    blurry = learnt and not uniform and ratio < BLUR_RATIO
    blur_streak = state.blur_streak + 1 if blurry else (state.blur_streak if uniform else 0)
    moved = learnt and not uniform and not blurry and match < MOVED_CORRELATION
    moved_streak = state.moved_streak + 1 if moved else (state.moved_streak if uniform else 0)

    covered = problem == CameraProblemKind.LENS_COVERED
    if uniform and (black or uniform_streak >= UNIFORM_FRAMES or covered):
        wanted: str | None = CameraProblemKind.LENS_COVERED
    elif uniform:  # one grey frame: too early to say, and no news of blur or the view
        wanted = problem
    elif blur_streak >= BLUR_FRAMES or (
        problem == CameraProblemKind.BLURRED and ratio < BLUR_CLEAR_RATIO
    ):
        wanted = CameraProblemKind.BLURRED
    elif moved_streak >= MOVED_FRAMES or (
        problem == CameraProblemKind.VIEW_MOVED and learnt and match < MOVED_CLEAR_CORRELATION
    ):
        wanted = CameraProblemKind.VIEW_MOVED
    else:
        wanted = None

    next_state = msgspec.structs.replace(
        state,
        problem=wanted,
        uniform_streak=uniform_streak,
        blur_streak=blur_streak,
        moved_streak=moved_streak,
    )
    if wanted == CameraProblemKind.VIEW_MOVED and moved_streak >= RELEARN_FRAMES:
        # Re-aimed on purpose (or knocked and left so): this is the camera's view now.
        next_state = msgspec.structs.replace(
            next_state, problem=None, moved_streak=0, reference=stats.edges
        )
        wanted = None
    elif wanted is None and not uniform and not blurry and not moved:
        next_state = _learn(next_state, stats)
    raised = wanted if wanted != problem else None
    cleared = problem if problem is not None and wanted != problem else None
    return TamperVerdict(state=next_state, raised=raised, cleared=cleared, detail=detail)
