"""Has a camera gone silent? Pure, on its upload times (issue 23).

A camera that uploads on a timer (a snapshot every few minutes) has gaps of about one size; a
camera that uploads only on motion has gaps of every size, from a second within a burst to a
quiet night. Only the first can be late, so only the first is ever called offline:

- **regular**: at least :data:`MIN_UPLOADS` uploads in the last :data:`HISTORY` (the newest
  :data:`MAX_SAMPLES` of them), whose gaps spread little: the 90th percentile of the gaps is at
  most :data:`MAX_SPREAD` times their median;
- **offline**: a regular camera silent for :data:`SILENT_GAPS` times its 90th-percentile gap,
  and at least :data:`MIN_SILENCE` (a camera that uploads every 10 s is not offline after a
  minute's hiccup).

The owner can set the threshold per camera (``cameras.offline_after_minutes``): then the camera
is offline after that much silence, whatever its history says (a camera that has never uploaded
is not: it was never online to begin with).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence

import msgspec

HISTORY = dt.timedelta(days=7)
MAX_SAMPLES = 500
MIN_UPLOADS = 20
MAX_SPREAD = 2.0
SILENT_GAPS = 5
MIN_SILENCE = dt.timedelta(minutes=10)


class OfflineVerdict(msgspec.Struct, frozen=True, kw_only=True):
    offline: bool
    threshold: dt.timedelta | None  # None: no threshold, never offline (motion-only, too new)
    reason: str


def _quantile(ordered: Sequence[float], fraction: float) -> float:
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def learnt_threshold(upload_times: Sequence[dt.datetime]) -> tuple[dt.timedelta | None, str]:
    """The silence after which a camera with these uploads is offline, and why (None: never)."""
    if len(upload_times) < MIN_UPLOADS:
        return None, f"{len(upload_times)} uploads in the last week, too few to learn from"
    times = sorted(upload_times)
    gaps = sorted((b - a).total_seconds() for a, b in itertools.pairwise(times))
    median = _quantile(gaps, 0.5)
    high = _quantile(gaps, 0.9)
    if median <= 0 or high > MAX_SPREAD * median:
        return None, (
            f"irregular uploads (median gap {median:.0f} s, 90th percentile {high:.0f} s): "
            "it uploads on motion"
        )
    threshold = max(dt.timedelta(seconds=SILENT_GAPS * high), MIN_SILENCE)
    return threshold, f"uploads every {median:.0f} s or so"


def offline_verdict(
    upload_times: Sequence[dt.datetime],
    last_seen_at: dt.datetime | None,
    now: dt.datetime,
    offline_after_minutes: int | None = None,
) -> OfflineVerdict:
    """Is the camera offline now. ``upload_times``: its uploads of the last :data:`HISTORY`."""
    if last_seen_at is None:
        return OfflineVerdict(offline=False, threshold=None, reason="it never uploaded")
    if offline_after_minutes is not None:
        threshold: dt.timedelta | None = dt.timedelta(minutes=offline_after_minutes)
        why = f"the owner's threshold of {offline_after_minutes} min"
    else:
        threshold, why = learnt_threshold(upload_times)
    if threshold is None:
        return OfflineVerdict(offline=False, threshold=None, reason=why)
    silent = now - last_seen_at
    minutes = silent.total_seconds() / 60
    if silent > threshold:
        return OfflineVerdict(
            offline=True,
            threshold=threshold,
            reason=f"silent for {minutes:.0f} min; {why}, offline after "
            f"{threshold.total_seconds() / 60:.0f} min",
        )
    return OfflineVerdict(offline=False, threshold=threshold, reason=why)
