"""`homesec up` tells each lasting problem once, and when it is over."""

from __future__ import annotations

from homesec.contract.reports import Problem
from homesec.policy.problem_notices import ProblemNotices

MODEL = Problem(component="detector:0", summary="no detector engine", remedy="put a model there")
BLIP = Problem(component="analyst:0", summary="analyst:0 is STARTING")


def test_a_lasting_problem_is_told_once_and_its_end_once():
    notices = ProblemNotices(settle_seconds=10)
    assert notices.update([MODEL], now=0).appeared == []  # not yet: it may pass
    assert notices.update([MODEL], now=5).appeared == []
    assert notices.update([MODEL], now=10).appeared == [MODEL]
    assert notices.update([MODEL], now=15).appeared == []  # told already
    assert notices.update([MODEL], now=3600).appeared == []
    over = notices.update([], now=3605)
    assert (over.appeared, over.resolved) == ([], [MODEL])
    assert notices.update([], now=3610).resolved == []


def test_a_problem_shorter_than_the_settle_time_is_never_told():
    notices = ProblemNotices(settle_seconds=10)
    assert notices.update([BLIP], now=0).appeared == []
    quiet = notices.update([], now=5)
    assert (quiet.appeared, quiet.resolved) == ([], [])
    assert notices.update([BLIP], now=6).appeared == []  # back: its clock starts again
    assert notices.update([BLIP], now=15).appeared == []
    assert notices.update([BLIP], now=16).appeared == [BLIP]
