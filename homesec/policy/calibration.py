"""The owner's feedback as a camera's calibration, pure: per kind of object, a bounded offset.

The dashboard's buttons ("false alarm", "wrong severity" with the band it should be) leave rows
in ``event_feedback`` (read by :mod:`homesec.store.event_feedback`). Here they become, for one
camera and each kind of object (:data:`homesec.policy.scene.KINDS`), how many of its recent
events with feedback showed that kind, what the owner said of them, and an offset the rules
engine adds to the score of the next such event on that camera:

- A visit counts once: the latest word on it wins (people change their mind), whether it was
  given on the fast-path event or on the batch event that supersedes it. Its verdict counts for
  every kind the event showed.
- Each verdict pulls: a false alarm and "should be lower" -1, "should be higher" +1; "wrong
  severity" naming the band the event already had says nothing.
- Older feedback weighs less: a verdict's weight halves every :data:`HALF_LIFE_DAYS`, and
  feedback older than :data:`WINDOW_DAYS` is not read at all.
- Nothing moves until a kind has :data:`MIN_FEEDBACK` verdicts in the window: one click is no
  calibration.
- ``offset = MAX_OFFSET * sum(weight * pull) / max(sum(weight), FULL_WEIGHT)``, rounded: mixed
  feedback cancels out, a few fresh verdicts act less than many, old ones fade, and the offset
  never exceeds :data:`MAX_OFFSET` either way.
- The weapon floor stays a floor: :func:`calibrated_score` never takes a score below it, and the
  analyst applies the floor after any engine anyway.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from homesec.contract.analysis import CameraCalibration, KindCalibration
from homesec.contract.enums import FeedbackKind, RiskLevel
from homesec.policy import scene

WINDOW_DAYS = 60
HALF_LIFE_DAYS = 14.0
MIN_FEEDBACK = 3
# Below this much (decayed) feedback an offset acts in proportion: three fresh false alarms
# take 3/5 of MAX_OFFSET off, five or more all of it.
FULL_WEIGHT = 5.0
MAX_OFFSET = 15

_BAND_ORDER = {level.value: rank for rank, level in enumerate(RiskLevel)}


@dataclass(frozen=True)
class FeedbackFact:
    """The owner's word on one event, with what the event showed (the store's reading)."""

    visit_id: int  # the visit's first event: a fast-path event and its batch event share it
    given_at: dt.datetime
    feedback: str  # FeedbackKind's value
    should_be: str | None  # RiskLevel's value, with wrong_severity
    scored: str | None  # the event's own risk_level
    kinds: frozenset[str]


def pull(fact: FeedbackFact) -> int:
    """-1: score such events lower; +1: higher; 0: the verdict says nothing about the score."""
    if fact.feedback == FeedbackKind.FALSE_ALARM:
        return -1
    if fact.feedback != FeedbackKind.WRONG_SEVERITY:
        return 0
    wanted = _BAND_ORDER.get(fact.should_be or "")
    had = _BAND_ORDER.get(fact.scored or "")
    if wanted is None or had is None or wanted == had:
        return 0
    return 1 if wanted > had else -1


def weight(age: dt.timedelta) -> float:
    """How much a verdict given ``age`` ago counts; feedback dated later than now counts fully."""
    days = max(0.0, age.total_seconds() / 86400)
    return 0.5 ** (days / HALF_LIFE_DAYS)


def latest_per_visit(facts: Iterable[FeedbackFact]) -> list[FeedbackFact]:
    """One verdict per visit: the latest given (the last listed among equal times)."""
    latest: dict[int, FeedbackFact] = {}
    for fact in facts:
        held = latest.get(fact.visit_id)
        if held is None or fact.given_at >= held.given_at:
            latest[fact.visit_id] = fact
    return list(latest.values())


def kind_offset(weighted: list[tuple[float, int]]) -> int:
    """The offset of (weight, pull) verdicts, 0 below MIN_FEEDBACK of them; within
    ±MAX_OFFSET."""
    if len(weighted) < MIN_FEEDBACK:
        return 0
    total = sum(w for w, _ in weighted)
    net = sum(w * p for w, p in weighted)
    offset = round(MAX_OFFSET * net / max(total, FULL_WEIGHT))
    return max(-MAX_OFFSET, min(MAX_OFFSET, offset))


def calibrate(facts: Iterable[FeedbackFact], now: dt.datetime) -> CameraCalibration | None:
    """One camera's calibration from its feedback as of ``now``; None when none is recent."""
    since = now - dt.timedelta(days=WINDOW_DAYS)
    recent = [fact for fact in latest_per_visit(facts) if fact.given_at >= since]
    per_kind: dict[str, list[FeedbackFact]] = {}
    for fact in recent:
        for kind in fact.kinds:
            per_kind.setdefault(kind, []).append(fact)
    if not per_kind:
        return None
    kinds = []
    for kind in sorted(per_kind, key=_kind_rank):
        said = [(fact, pull(fact)) for fact in per_kind[kind]]
        weighted = [(weight(now - fact.given_at), p) for fact, p in said if p != 0]
        kinds.append(
            KindCalibration(
                kind=kind,
                events=len(said),
                false_alarms=sum(1 for f, _ in said if f.feedback == FeedbackKind.FALSE_ALARM),
                higher=sum(1 for f, p in said if p > 0),
                lower=sum(1 for f, p in said if p < 0 and f.feedback != FeedbackKind.FALSE_ALARM),
                offset=kind_offset(weighted),
                window_days=WINDOW_DAYS,
            )
        )
    return CameraCalibration(kinds=kinds)


def _kind_rank(kind: str) -> int:
    return scene.KINDS.index(kind) if kind in scene.KINDS else len(scene.KINDS)


def calibrated_score(score: int, offset: int, floor: int | None) -> int:
    """``score`` moved by ``offset`` within 0-100, never from at or above ``floor`` (the weapon
    floor) to below it."""
    moved = max(0, min(100, score + offset))
    if floor is not None and score >= floor:
        return max(floor, moved)
    return moved


def in_words(calibration: KindCalibration) -> str:
    """``"the last 5 person events on this camera with feedback in 60 days: 4 marked false
    alarms, 1 should have been higher"``."""
    noun = scene.noun(calibration.kind, 1)
    said = []
    if calibration.false_alarms == 1:
        said.append("1 marked a false alarm")
    elif calibration.false_alarms:
        said.append(f"{calibration.false_alarms} marked false alarms")
    if calibration.lower:
        said.append(f"{calibration.lower} should have been lower")
    if calibration.higher:
        said.append(f"{calibration.higher} should have been higher")
    told = ", ".join(said) if said else "none asked for another score"
    if calibration.events == 1:
        which = f"the last {noun} event"
    else:
        which = f"the last {calibration.events} {noun} events"
    return f"{which} on this camera with feedback in {calibration.window_days} days: {told}"
