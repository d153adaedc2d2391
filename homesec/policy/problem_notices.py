"""Which problems to tell the person at the terminal, and when: each once, when it appears (and
has lasted a little), and once more when it is over.

`homesec up` polls the supervisor's report every few seconds. A problem that lasts shorter than
``settle_seconds`` (an actor starting, a retry that works) is not worth a line; one that stays is
printed once, with what to do, however long it lasts, and "resolved" when it is gone.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from homesec.contract.reports import Problem

DEFAULT_SETTLE_SECONDS = 15.0


class Notices(msgspec.Struct, frozen=True):
    appeared: list[Problem]
    resolved: list[Problem]


def _key(problem: Problem) -> tuple[str, str]:
    return problem.component, problem.summary


class ProblemNotices:
    def __init__(self, settle_seconds: float = DEFAULT_SETTLE_SECONDS) -> None:
        self.settle_seconds = settle_seconds
        self._first_seen: dict[tuple[str, str], float] = {}
        self._told: dict[tuple[str, str], Problem] = {}

    def update(self, problems: Iterable[Problem], now: float) -> Notices:
        current = {_key(problem): problem for problem in problems}
        self._first_seen = {k: self._first_seen.get(k, now) for k in current}
        appeared = [
            problem
            for key, problem in current.items()
            if key not in self._told and now - self._first_seen[key] >= self.settle_seconds
        ]
        resolved = [problem for key, problem in self._told.items() if key not in current]
        for problem in appeared:
            self._told[_key(problem)] = problem
        for problem in resolved:
            del self._told[_key(problem)]
        return Notices(appeared=appeared, resolved=resolved)
