"""Risk levels from scores: band edges, custom bands, clamping."""

from __future__ import annotations

import math

import pytest

from homesec.policy.risk import RISK_LEVELS, clamp_score, risk_level
from homesec.settings import RiskBands


@pytest.mark.parametrize(
    ("score", "level"),
    [
        (0, "low"),
        (29, "low"),
        (30, "medium"),
        (59, "medium"),
        (60, "high"),
        (84, "high"),
        (85, "critical"),
        (100, "critical"),
    ],
)
def test_default_band_edges(score: int, level: str) -> None:
    assert risk_level(score) == level
    assert risk_level(score, RiskBands()) == level


@pytest.mark.parametrize(
    ("score", "level"),
    [(9, "low"), (10, "medium"), (49, "medium"), (50, "high"), (94, "high"), (95, "critical")],
)
def test_custom_bands(score: int, level: str) -> None:
    assert risk_level(score, RiskBands(medium=10, high=50, critical=95)) == level


def test_critical_band_of_only_100() -> None:
    bands = RiskBands(medium=1, high=2, critical=100)
    assert [risk_level(s, bands) for s in (0, 1, 2, 99, 100)] == [
        "low",
        "medium",
        "high",
        "high",
        "critical",
    ]


@pytest.mark.parametrize(
    ("raw", "clamped"),
    [(-5, 0), (0, 0), (42, 42), (100, 100), (250, 100), (29.4, 29), (29.5, 30), (84.49, 84)],
)
def test_clamp_score(raw: float, clamped: int) -> None:
    assert clamp_score(raw) == clamped
    assert isinstance(clamp_score(raw), int)


def test_out_of_range_scores_take_the_edge_level() -> None:
    assert risk_level(-10) == "low"
    assert risk_level(1000) == "critical"
    assert risk_level(84.6) == "critical"  # rounds to 85


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, True])
def test_a_non_score_is_refused_not_made_up(bad: float) -> None:
    with pytest.raises(ValueError):
        clamp_score(bad)


def test_every_level_is_reachable_and_ordered() -> None:
    assert [risk_level(s) for s in (0, 30, 60, 85)] == list(RISK_LEVELS)
