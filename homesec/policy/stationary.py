"""Things that stay put (issue 23), pure: which new detections sit where one sat before.

A parked car, a bicycle against the fence, a statue the model calls a person: each frame of the
camera shows it again, and each would open a visit of its own. A detection is *stationary* when

- one of the camera's last ``RECENT_FRAMES`` frames before it, taken at most ``forget_seconds``
  before it, holds a box of the same kind over nearly the same pixels (intersection over union
  at least ``min_iou``): the spot is still occupied, and
- its spot was first seen at least ``settle_seconds`` before this picture.

Each detection carries ``since``, when its spot was first seen (its own time when it matched
nothing), handed down the chain of matches: that is how a spot is remembered across a night of
frames, and how the page can say "parked here since 21:40". The continuity rule is what makes a
passer-by count: the frames between two people at the same spot do not hold a person there, so
the second one matches nothing (a camera that sends pictures only on motion and sent none in
between saw nothing move). A burst of frames of one person at the door (a second apart, the same
box) stays one visit with all its frames: the spot is not old enough. A spot no frame has
matched for ``forget_seconds`` is forgotten: a car that leaves, and a different car that parks
there later, is new. A car that moved (its box overlaps its old spot too little) counts again,
and settles at its new spot like any newcomer.

The frames are all of the camera's images, those where nothing was detected included (the
``uploads`` ledger), so an empty frame between two visitors breaks the chain.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import msgspec

from homesec.contract.analysis import BoundingBox
from homesec.settings import Settings

# How many of the camera's latest frames may miss the spot (a detector misses a parked car in
# the odd dark frame) before it is taken to have left.
RECENT_FRAMES = 3


class StationaryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """How alike and how old a sighting must be; ``forget_seconds`` 0 turns the check off."""

    forget_seconds: float = 10 * 60.0
    min_iou: float = 0.7
    settle_seconds: float = 60.0

    @classmethod
    def from_settings(cls, settings: Settings) -> StationaryPolicy:
        return cls(
            forget_seconds=settings.stationary_forget_minutes * 60,
            min_iou=settings.stationary_min_iou,
            settle_seconds=settings.stationary_settle_seconds,
        )

    @property
    def enabled(self) -> bool:
        return self.forget_seconds > 0


class Sighting(msgspec.Struct, frozen=True, kw_only=True):
    """One stored detection of the camera, as the memory holds it."""

    object_type: str
    bbox: BoundingBox
    frame: str  # the image it was found on
    at: dt.datetime  # when the picture was taken
    since: dt.datetime | None = None  # its spot's first sighting; None (older rows): ``at``


class Frame(msgspec.Struct, frozen=True, kw_only=True):
    """One earlier image of the camera, with or without detections."""

    frame: str
    at: dt.datetime


class NewFrame(msgspec.Struct, frozen=True, kw_only=True):
    """One image of the camera whose detections are about to be stored."""

    frame: str
    at: dt.datetime
    boxes: list[tuple[str, BoundingBox]]  # (object type, box) of each detection, in order


class Spot(msgspec.Struct, frozen=True):
    """What one new detection is: when its spot was first seen, and whether it stayed put."""

    since: dt.datetime
    stationary: bool


def iou(a: BoundingBox, b: BoundingBox) -> float:
    """Intersection over union of two boxes; 0 for boxes without area."""
    left, top = max(a.x, b.x), max(a.y, b.y)
    right = min(a.x + a.width, b.x + b.width)
    bottom = min(a.y + a.height, b.y + b.height)
    inter = max(0, right - left) * max(0, bottom - top)
    union = a.width * a.height + b.width * b.height - inter
    return inter / union if union > 0 else 0.0


def recent_frames(frames: Sequence[Frame], frame: str, at: dt.datetime, policy: StationaryPolicy):
    """The names of the camera's last ``RECENT_FRAMES`` frames before ``at`` (within
    ``forget_seconds``), the frame itself left out."""
    oldest = at - dt.timedelta(seconds=policy.forget_seconds)
    before = sorted(
        (f for f in frames if f.frame != frame and oldest <= f.at < at),
        key=lambda f: (f.at, f.frame),
    )
    return {f.frame for f in before[-RECENT_FRAMES:]}


def spot_of(
    object_type: str,
    bbox: BoundingBox,
    at: dt.datetime,
    recent: set[str],
    memory: Sequence[Sighting],
    policy: StationaryPolicy,
) -> Spot:
    """The spot of one new detection, given the names of the camera's recent frames."""
    kind = object_type.casefold()
    matched = [
        seen
        for seen in memory
        if seen.frame in recent
        and seen.object_type.casefold() == kind
        and iou(seen.bbox, bbox) >= policy.min_iou
    ]
    if not policy.enabled or not matched:
        return Spot(at, False)
    since = min(seen.since or seen.at for seen in matched)
    return Spot(since, (at - since).total_seconds() >= policy.settle_seconds)


def mark_frames(
    memory: Sequence[Sighting],
    frames: Sequence[Frame],
    new: Sequence[NewFrame],
    policy: StationaryPolicy,
) -> list[list[Spot]]:
    """For each new frame (of one camera), each detection's :class:`Spot`. The new frames are
    taken in the order their pictures were taken, each joining the memory of the next, so a
    detector batch holding several snapshots of a parked car marks the later ones; the result
    is in the order given."""
    known, seen_frames = list(memory), list(frames)
    marks: dict[int, list[Spot]] = {}
    for index in sorted(range(len(new)), key=lambda i: (new[i].at, i)):
        frame = new[index]
        recent = recent_frames(seen_frames, frame.frame, frame.at, policy)
        found = [spot_of(kind, box, frame.at, recent, known, policy) for kind, box in frame.boxes]
        marks[index] = found
        seen_frames.append(Frame(frame=frame.frame, at=frame.at))
        known.extend(
            Sighting(object_type=kind, bbox=box, frame=frame.frame, at=frame.at, since=spot.since)
            for (kind, box), spot in zip(frame.boxes, found, strict=True)
        )
    return [marks[index] for index in range(len(new))]
