"""Does a cheaper precision find the same objects as f32? The detector's precision guard, pure.

OpenVINO computes RT-DETRv2 in bf16 several times faster than in f32 on CPUs with AMX, but bf16
rounds every activation to 8 bits of mantissa. Whether that changes what the model finds
depends on the model and on the images, so homesec uses bf16 (``DETECTOR_PRECISION=auto``) only
after both precisions ran on the same images of this house and found the same objects. The
engines run them (``engines/detector/precision_guard.py``); this module compares.

The rules, per image (the tolerances are the module's constants):

- Both precisions detect at ``threshold - SCORE_MARGIN`` (:func:`check_threshold`), below the
  house's threshold, so an object that one precision scores just above the threshold and the
  other just below still has its counterpart to be matched with.
- Detections pair up by class and box: for each detection of the reference (f32), best score
  first, the candidate's (bf16) detection of the same class that overlaps it most, if their
  IoU is at least ``IOU_MIN`` (0.9: the same object in the same place, not merely nearby).
- A pair disagrees when the scores differ by more than ``SCORE_MARGIN`` (0.05) and either is at
  or above the threshold (below it, neither would be stored).
- A detection left without a partner disagrees when its score is at or above the threshold:
  ``missing`` (f32 found it, bf16 did not) or ``extra`` (bf16 only); a missing and an extra one
  of the same class that overlap by ``MOVED_IOU`` (0.5) or more are reported together as a box
  that ``moved``. One without a partner below the threshold is tolerated: its counterpart may
  lie under the check threshold, and neither would be stored. This is the only slack at the
  threshold: a pair whose scores straddle it (0.52 and 0.49) agrees, since they are within the
  margin, although at the threshold one precision would store it and the other not.

The verdict over a set of images is strict: bf16 agrees only when every image agrees and f32
found at least one object at the threshold on at least one of them (agreement on empty frames
proves nothing). No images, or nothing found, leaves the question open (``unchecked``), and
homesec stays on f32.

The check is bounded: at most ``CHECK_IMAGES`` images and ``CHECK_BUDGET_SECONDS`` of
comparing. When the budget runs out, the images compared so far decide if there are at least
``MIN_CHECKED_IMAGES`` of them; fewer leave the question open (``unchecked: not enough
checked``).

A decided verdict stands for ``VERDICT_MAX_AGE``; an open one for ``UNCHECKED_MAX_AGE``, or
until the camera folders hold a full sample when it had less (:func:`still_valid`).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import msgspec

from homesec.contract.analysis import BoundingBox, Detection

# How many recent uploads a start-up check compares on (``homesec models check --limit``).
CHECK_IMAGES = 20
IOU_MIN = 0.9
SCORE_MARGIN = 0.05
MOVED_IOU = 0.5
# How long a start-up check may compare (both precisions, image after image) before it decides on
# what it has: r50vd in f32 and bf16 on a 2-core Xeon takes about 2 s an image, so 20 images fit
# with room to spare on a busy machine, and a slow one delays the detector by a minute at most.
CHECK_BUDGET_SECONDS = 60.0
# Fewer images than this, when the budget ran out, decide nothing: f32 stays.
MIN_CHECKED_IMAGES = 5
# How long an open verdict (no images yet, nothing found on them, not enough checked in the
# budget) stands. Not checking again at every start: a house whose cameras upload little, or a
# machine too slow for the budget, would pay the check's minute at every restart for the same
# answer. Not 30 days like a decided one: the cameras' uploads change within a day (night, day,
# visitors), and a day's f32 costs speed only, never a missed object. A new house is not made to
# wait the day either: once its folders hold a full sample (CHECK_IMAGES) where the open verdict
# had fewer, the next start checks (see still_valid).
UNCHECKED_MAX_AGE = timedelta(days=1)
# How long a decided verdict stands before it is checked again on newer images (the model's own
# change is the cache entry's: a new model, or a new OpenVINO, gets a new entry and no verdict).
VERDICT_MAX_AGE = timedelta(days=30)
# Bumped when the rules above change: verdicts saved under other rules are checked again.
RULES_VERSION = 1
# Problems quoted in a verdict's one line (the rest are counted).
QUOTED_PROBLEMS = 2


class Outcome(enum.StrEnum):
    AGREES = "agrees"
    DISAGREES = "disagrees"
    UNCHECKED = "unchecked"


class ImageAgreement(msgspec.Struct, frozen=True):
    """One image compared: how many objects at the threshold each precision found, how many
    detections paired up, and what disagreed (empty when the image agrees)."""

    name: str
    reference_count: int
    candidate_count: int
    matched: int
    problems: tuple[str, ...] = ()

    @property
    def agrees(self) -> bool:
        return not self.problems


class PrecisionVerdict(msgspec.Struct, frozen=True, kw_only=True):
    """Whether ``candidate`` may replace ``reference`` on this model, and the line that says so
    (the engine's ``precision_check``)."""

    outcome: Outcome
    reference: str = "f32"
    candidate: str = "bf16"
    images: int = 0
    disagreeing: int = 0
    threshold: float = 0.5
    checked_at: datetime | None = None
    text: str = ""
    rules: int = RULES_VERSION
    # How many images the check was given (``images`` counts those it compared): fewer than
    # CHECK_IMAGES means the folders held no more, which a later start may find changed.
    offered: int = 0

    @property
    def agrees(self) -> bool:
        return self.outcome is Outcome.AGREES

    @property
    def decided(self) -> bool:
        """Agrees or disagrees: worth keeping, unlike an open question (no images yet)."""
        return self.outcome is not Outcome.UNCHECKED


def check_threshold(threshold: float) -> float:
    """The threshold both precisions detect at during a check: a margin below the house's."""
    return max(0.0, threshold - SCORE_MARGIN)


def iou(a: BoundingBox, b: BoundingBox) -> float:
    """Intersection over union of two pixel boxes; 0 for boxes without area."""
    width = min(a.x + a.width, b.x + b.width) - max(a.x, b.x)
    height = min(a.y + a.height, b.y + b.height) - max(a.y, b.y)
    inter = max(0, width) * max(0, height)
    union = a.width * a.height + b.width * b.height - inter
    return inter / union if union > 0 else 0.0


def compare_image(
    name: str,
    reference: Sequence[Detection],
    candidate: Sequence[Detection],
    *,
    threshold: float,
) -> ImageAgreement:
    """One image's detections by both precisions (each at :func:`check_threshold` or lower)
    compared by the rules of this module."""
    left = list(candidate)
    unmatched: list[Detection] = []
    problems: list[str] = []
    matched = 0
    for want in sorted(reference, key=lambda d: -d.confidence):
        same_class = [got for got in left if got.object_type == want.object_type]
        best = max(same_class, key=lambda got: iou(got.bbox, want.bbox), default=None)
        if best is None or iou(best.bbox, want.bbox) < IOU_MIN:
            unmatched.append(want)
            continue
        left.remove(best)
        matched += 1
        top = max(want.confidence, best.confidence)
        if top >= threshold and abs(want.confidence - best.confidence) > SCORE_MARGIN:
            problems.append(
                f"{want.object_type} {want.confidence:.2f} scored {best.confidence:.2f}"
            )
    for want in unmatched:
        if want.confidence < threshold:
            continue
        moved = max(
            (got for got in left if got.object_type == want.object_type),
            key=lambda got: iou(got.bbox, want.bbox),
            default=None,
        )
        if moved is not None and iou(moved.bbox, want.bbox) >= MOVED_IOU:
            left.remove(moved)
            problems.append(
                f"{want.object_type} {want.confidence:.2f} moved "
                f"(IoU {iou(moved.bbox, want.bbox):.2f})"
            )
        else:
            problems.append(f"missing {want.object_type} {want.confidence:.2f}")
    problems.extend(
        f"extra {got.object_type} {got.confidence:.2f}"
        for got in left
        if got.confidence >= threshold
    )
    return ImageAgreement(
        name=name,
        reference_count=sum(1 for d in reference if d.confidence >= threshold),
        candidate_count=sum(1 for d in candidate if d.confidence >= threshold),
        matched=matched,
        problems=tuple(problems),
    )


def decide(
    images: Sequence[ImageAgreement],
    *,
    threshold: float,
    now: datetime,
    reference: str = "f32",
    candidate: str = "bf16",
    offered: int | None = None,
    out_of_time: bool = False,
) -> PrecisionVerdict:
    """The verdict over a set of compared images, with its line. ``offered``: how many images
    the check was given (default: those compared); ``out_of_time``: the budget ran out before
    it compared them all, so fewer than :data:`MIN_CHECKED_IMAGES` decide nothing."""
    offered = len(images) if offered is None else offered
    common = {
        "reference": reference,
        "candidate": candidate,
        "images": len(images),
        "threshold": threshold,
        "checked_at": now,
        "offered": offered,
    }
    if out_of_time and len(images) < MIN_CHECKED_IMAGES:
        return PrecisionVerdict(
            outcome=Outcome.UNCHECKED,
            text=f"unchecked: not enough checked ({len(images)} of {_images(range(offered))} in "
            f"the {CHECK_BUDGET_SECONDS:.0f} s budget; {MIN_CHECKED_IMAGES} needed)",
            **common,
        )
    verdict = _decide_compared(images, reference=reference, candidate=candidate, common=common)
    if out_of_time:  # said, so that health does not read "on 7 images" as all there were
        budget = f"{len(images)} of {offered} compared in the {CHECK_BUDGET_SECONDS:.0f} s budget"
        return msgspec.structs.replace(verdict, text=f"{verdict.text} ({budget})")
    return verdict


def _decide_compared(
    images: Sequence[ImageAgreement], *, reference: str, candidate: str, common: dict[str, Any]
) -> PrecisionVerdict:
    if not images:
        return PrecisionVerdict(
            outcome=Outcome.UNCHECKED, text="unchecked: no images yet", **common
        )
    if not any(image.reference_count for image in images):
        return PrecisionVerdict(
            outcome=Outcome.UNCHECKED,
            text=f"unchecked: {reference} found nothing at the threshold on {_images(images)}",
            **common,
        )
    bad = [image for image in images if not image.agrees]
    if not bad:
        return PrecisionVerdict(
            outcome=Outcome.AGREES,
            text=f"checked: {candidate} agrees with {reference} on {_images(images)}",
            **common,
        )
    problems = [f"{problem} in {image.name}" for image in bad for problem in image.problems]
    quoted = "; ".join(problems[:QUOTED_PROBLEMS])
    more = len(problems) - QUOTED_PROBLEMS
    if more > 0:
        quoted += f"; {more} more"
    return PrecisionVerdict(
        outcome=Outcome.DISAGREES,
        disagreeing=len(bad),
        text=f"{reference}: {candidate} disagreed on {len(bad)} of {_images(images)} ({quoted})",
        **common,
    )


def _images(images: Sequence[object]) -> str:
    return f"{len(images)} image" if len(images) == 1 else f"{len(images)} images"


def still_valid(
    verdict: PrecisionVerdict, *, threshold: float, now: datetime, available: int = 0
) -> bool:
    """Whether a saved verdict still stands, under these rules and for this threshold: a decided
    one younger than :data:`VERDICT_MAX_AGE`; an open one younger than
    :data:`UNCHECKED_MAX_AGE`, unless it was given fewer than :data:`CHECK_IMAGES` images and
    ``available`` (the images a check would be given now) is a full sample."""
    if (
        verdict.rules != RULES_VERSION
        or abs(verdict.threshold - threshold) >= 1e-9
        or verdict.checked_at is None
    ):
        return False
    age = now - verdict.checked_at
    if verdict.decided:
        return timedelta(0) <= age < VERDICT_MAX_AGE
    more_to_check = verdict.offered < CHECK_IMAGES <= available
    return timedelta(0) <= age < UNCHECKED_MAX_AGE and not more_to_check


def recheck_note(verdict: PrecisionVerdict) -> str:
    """When a saved open verdict is checked again, for health and the log: ``as of 2026-05-01
    12:00 UTC; checked again after a day or at 20 uploads``."""
    when = verdict.checked_at.strftime("%Y-%m-%d %H:%M %Z") if verdict.checked_at else "?"
    hours = UNCHECKED_MAX_AGE.total_seconds() / 3600
    after = "a day" if hours == 24 else f"{hours:g} h"
    if verdict.offered < CHECK_IMAGES:
        return f"as of {when}; checked again after {after} or at {CHECK_IMAGES} uploads"
    return f"as of {when}; checked again after {after}"


def pick_sample(
    files: Sequence[tuple[str, str, float]], limit: int
) -> list[tuple[str, str, float]]:
    """Up to ``limit`` of ``(camera, path, mtime)``, the newest of each camera first, taken
    camera by camera in turn, so a busy street camera does not crowd out the quiet yard's
    frames (nor day frames the night's). Each camera's newest first; cameras in name order."""
    by_camera: dict[str, list[tuple[str, str, float]]] = {}
    for entry in files:
        by_camera.setdefault(entry[0], []).append(entry)
    queues = [
        sorted(entries, key=lambda e: (-e[2], e[1])) for _, entries in sorted(by_camera.items())
    ]
    picked: list[tuple[str, str, float]] = []
    depth = 0
    while len(picked) < limit and any(depth < len(queue) for queue in queues):
        for queue in queues:
            if depth < len(queue) and len(picked) < limit:
                picked.append(queue[depth])
        depth += 1
    return picked
