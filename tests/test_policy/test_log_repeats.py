"""Repeats of one warning collapse into a count, on every handler alike."""

from __future__ import annotations

import logging

from homesec.policy.log_repeats import RepeatFilter, RepeatGate


def test_the_first_passes_repeats_are_counted_and_told_after_the_window():
    gate = RepeatGate(window_seconds=300)
    assert gate.admit("k", now=0) == (True, 0)
    assert [gate.admit("k", now=t) for t in (2, 4, 299)] == [(False, 0)] * 3
    assert gate.admit("other", now=5) == (True, 0)  # another message is its own
    assert gate.admit("k", now=300) == (True, 3)  # the window is over: with the count
    assert gate.admit("k", now=301) == (False, 0)
    assert gate.admit("k", now=900) == (True, 1)


def record(message: str, level: int = logging.WARNING, created: float = 0.0) -> logging.LogRecord:
    rec = logging.LogRecord("homesec.detector", level, __file__, 1, message, (), None)
    rec.created = created
    return rec


class Collect(logging.Handler):
    def __init__(self, repeats: RepeatFilter) -> None:
        super().__init__()
        self.addFilter(repeats)
        self.lines: list[str] = []

    def emit(self, rec: logging.LogRecord) -> None:
        self.lines.append(rec.getMessage())


def test_every_handler_sees_the_same_decision_and_the_count():
    repeats = RepeatFilter(RepeatGate(window_seconds=300))
    console, database = Collect(repeats), Collect(repeats)
    for second in range(0, 600, 2):  # a warning every 2 s for ten minutes
        rec = record("detector:0: round failed: no model", created=float(second))
        for handler in (console, database):
            handler.handle(rec)
    expected = [
        "detector:0: round failed: no model",
        "detector:0: round failed: no model (and 149 more times in the last 300 s)",
    ]
    assert console.lines == expected and database.lines == expected


def test_info_is_never_collapsed():
    repeats = RepeatFilter(RepeatGate(window_seconds=300))
    handler = Collect(repeats)
    for second in range(3):
        handler.handle(record("batch closed", level=logging.INFO, created=float(second)))
    assert handler.lines == ["batch closed"] * 3
