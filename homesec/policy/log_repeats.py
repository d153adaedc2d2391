"""A repeated warning is not a flood: the first one passes, repeats within a window are counted,
and the first repeat after the window passes with the count ("... and 149 more times in the last
300 s"). So a detector that cannot reach its model for an hour writes a dozen lines, not 1,800.

The key is the record's logger, level and formatted message: the same words from the same
component. Only WARNING and above collapse; INFO is rarely repeated word for word, and the
operator asked for it. One :class:`RepeatFilter` serves every handler of a process (console and
``logs``), so each sees the same decision for a record.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Hashable

DEFAULT_WINDOW_SECONDS = 300.0
_MAX_KEYS = 1000  # past this many distinct messages, forget those whose window is over


class RepeatGate:
    """Decides, per key, whether a message passes now; pure bookkeeping, ``now`` passed in."""

    def __init__(self, window_seconds: float = DEFAULT_WINDOW_SECONDS) -> None:
        self.window_seconds = window_seconds
        self._passed: dict[Hashable, tuple[float, int]] = {}  # key -> (last passed, held back)
        self._lock = threading.Lock()  # handlers run on any thread

    def admit(self, key: Hashable, now: float) -> tuple[bool, int]:
        """(whether it passes, how many were held back since the last one that passed)."""
        with self._lock:
            known = self._passed.get(key)
            if known is not None and now - known[0] < self.window_seconds:
                self._passed[key] = (known[0], known[1] + 1)
                return False, 0
            if len(self._passed) >= _MAX_KEYS:
                self._forget_before(now - self.window_seconds)
            self._passed[key] = (now, 0)
            return True, known[1] if known is not None else 0

    def _forget_before(self, cutoff: float) -> None:
        self._passed = {k: v for k, v in self._passed.items() if v[0] >= cutoff}


class RepeatFilter(logging.Filter):
    def __init__(self, gate: RepeatGate | None = None) -> None:
        super().__init__()
        self.gate = gate or RepeatGate()

    def filter(self, record: logging.LogRecord) -> bool:
        decided = getattr(record, "homesec_repeat_passes", None)
        if decided is None:  # the first handler to see the record decides for all
            decided = True
            if record.levelno >= logging.WARNING:
                message = record.getMessage()
                decided, held_back = self.gate.admit(
                    (record.name, record.levelno, message), record.created
                )
                if decided and held_back:
                    window = self.gate.window_seconds
                    record.msg = (
                        f"{message} (and {held_back} more times in the last {window:.0f} s)"
                    )
                    record.args = ()
            record.homesec_repeat_passes = decided
        return decided


REPEATS = RepeatFilter()


def collapse_repeats(handler: logging.Handler) -> logging.Handler:
    """Give ``handler`` the process's one repeat filter; returns it."""
    if REPEATS not in handler.filters:
        handler.addFilter(REPEATS)
    return handler
