"""Which ledger rows nothing will ever finish: the reconciler's rule.

The ``uploads`` ledger is the truth of the intake. A row ``queued`` or ``processing`` is work the
detector owes; it is *stranded* when no queue holds its job any more: not in the detection
stream (waiting or pending), not in its dead-letter list. That happens when Redis restarted and
lost its streams between two supervisor checks, or when an enqueue was lost with a crash. Only
rows older than a bound count, so a row committed a moment before its XADD is not taken for
stranded.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

DEFAULT_STRANDED_AFTER_SECONDS = 120.0


class _Row(Protocol):
    @property
    def file_path(self) -> str: ...


Row = TypeVar("Row", bound=_Row)


def stranded(waiting: Iterable[Row], queued: set[str], dead_letters: set[str]) -> list[Row]:
    """Those of ``waiting`` (rows old enough to count) whose job no queue holds."""
    return [row for row in waiting if row.file_path not in queued | dead_letters]
