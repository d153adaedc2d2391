"""Risk level from a risk score, in code: an LLM gives the 0-100 score, never the level.

Bands come from ``settings.risk_bands`` (``RISK_BANDS=30,60,85``): each number is the lowest
score of medium, high and critical; everything below medium is low.
"""

from __future__ import annotations

import math

from homesec.settings import RiskBands

RISK_LEVELS = ("low", "medium", "high", "critical")
MIN_SCORE = 0
MAX_SCORE = 100


def clamp_score(score: float) -> int:
    """An integer score in 0-100: rounded half up, out-of-range values clamped.

    A NaN or infinite score is not a score at all: ``ValueError``, so a broken answer is never
    turned into a made-up number.
    """
    if isinstance(score, bool) or not math.isfinite(score):
        raise ValueError(f"not a risk score: {score!r}")
    return max(MIN_SCORE, min(MAX_SCORE, math.floor(score + 0.5)))


def risk_level(score: float, bands: RiskBands | None = None) -> str:
    """``low``, ``medium``, ``high`` or ``critical`` for ``score`` (clamped first)."""
    bands = bands or RiskBands()
    value = clamp_score(score)
    if value >= bands.critical:
        return "critical"
    if value >= bands.high:
        return "high"
    if value >= bands.medium:
        return "medium"
    return "low"
