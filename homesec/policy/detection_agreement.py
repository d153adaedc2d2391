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
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime, timedelta

import msgspec

from homesec.contract.analysis import BoundingBox, Detection

# How many recent uploads a start-up check compares on (``homesec models check --limit``).
CHECK_IMAGES = 20
IOU_MIN = 0.9
SCORE_MARGIN = 0.05
MOVED_IOU = 0.5
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
) -> PrecisionVerdict:
    """The verdict over a set of compared images, with its line."""
    common = {
        "reference": reference,
        "candidate": candidate,
        "images": len(images),
        "threshold": threshold,
        "checked_at": now,
    }
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


def still_valid(verdict: PrecisionVerdict, *, threshold: float, now: datetime) -> bool:
    """Whether a saved verdict still decides: a decided one, under these rules, for this
    threshold, younger than :data:`VERDICT_MAX_AGE`."""
    return (
        verdict.decided
        and verdict.rules == RULES_VERSION
        and abs(verdict.threshold - threshold) < 1e-9
        and verdict.checked_at is not None
        and timedelta(0) <= now - verdict.checked_at < VERDICT_MAX_AGE
    )


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
