"""The offline decision on upload histories: a camera on a timer can be late, one that uploads
on motion never is; the owner's threshold overrides what was learnt."""

from __future__ import annotations

import datetime as dt
import random

from homesec.policy.camera_offline import MIN_SILENCE, MIN_UPLOADS, offline_verdict

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)


def regular(every: dt.timedelta, count: int, last: dt.datetime) -> list[dt.datetime]:
    """Uploads on a timer, a few seconds of jitter each."""
    rng = random.Random(1)
    return [
        last - every * index + dt.timedelta(seconds=rng.uniform(-3, 3))
        for index in reversed(range(count))
    ]


def motion_only(count: int, last: dt.datetime) -> list[dt.datetime]:
    """Bursts of a few snapshots a second apart, hours of quiet between them."""
    rng = random.Random(2)
    times, at = [], last
    while len(times) < count:
        for shot in range(rng.randint(2, 6)):
            times.append(at - dt.timedelta(seconds=shot))
        at -= dt.timedelta(minutes=rng.uniform(5, 300))
    return sorted(times[:count])


def test_a_regular_camera_silent_far_longer_than_its_gap_is_offline() -> None:
    last = NOW - dt.timedelta(hours=1)
    times = regular(dt.timedelta(minutes=5), 200, last)
    verdict = offline_verdict(times, last, NOW)
    assert verdict.offline
    assert verdict.threshold is not None
    assert dt.timedelta(minutes=20) < verdict.threshold < dt.timedelta(minutes=40)
    assert "silent for 60 min" in verdict.reason


def test_a_regular_camera_within_a_few_gaps_is_not_offline() -> None:
    last = NOW - dt.timedelta(minutes=12)
    verdict = offline_verdict(regular(dt.timedelta(minutes=5), 200, last), last, NOW)
    assert not verdict.offline and verdict.threshold is not None


def test_a_fast_camera_is_not_offline_after_a_short_hiccup() -> None:
    last = NOW - dt.timedelta(minutes=3)
    verdict = offline_verdict(regular(dt.timedelta(seconds=10), 300, last), last, NOW)
    assert not verdict.offline and verdict.threshold == MIN_SILENCE


def test_a_motion_only_camera_is_never_offline() -> None:
    last = NOW - dt.timedelta(days=2)
    verdict = offline_verdict(motion_only(200, last), last, NOW)
    assert not verdict.offline and verdict.threshold is None
    assert "motion" in verdict.reason


def test_too_few_uploads_teach_nothing() -> None:
    last = NOW - dt.timedelta(days=1)
    times = regular(dt.timedelta(minutes=5), MIN_UPLOADS - 1, last)
    verdict = offline_verdict(times, last, NOW)
    assert not verdict.offline and verdict.threshold is None


def test_the_owners_threshold_overrides_what_was_learnt() -> None:
    last = NOW - dt.timedelta(hours=3)
    motion = motion_only(200, last)
    assert offline_verdict(motion, last, NOW, offline_after_minutes=120).offline
    assert not offline_verdict(motion, last, NOW, offline_after_minutes=240).offline
    # A camera that never uploaded was never online.
    assert not offline_verdict([], None, NOW, offline_after_minutes=1).offline
