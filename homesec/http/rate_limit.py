"""A per-client sliding-window rate limit, kept in memory (one API process serves a home)."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable


class SlidingWindowLimiter:
    """At most ``limit`` calls per ``window`` seconds for each client key."""

    # Every this many calls, forget the clients with no call inside the window, so the table
    # cannot grow without bound.
    _SWEEP_EVERY = 1000

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._calls: dict[str, deque[float]] = {}
        self._since_sweep = 0

    def retry_after(self, client: str) -> int | None:
        """Record a call; None when allowed, else the whole seconds until one is allowed."""
        now = self._clock()
        self._sweep(now)
        calls = self._calls.setdefault(client, deque())
        while calls and calls[0] <= now - self.window:
            calls.popleft()
        if len(calls) >= self.limit:
            return max(1, math.ceil(calls[0] + self.window - now))
        calls.append(now)
        return None

    def _sweep(self, now: float) -> None:
        self._since_sweep += 1
        if self._since_sweep < self._SWEEP_EVERY:
            return
        self._since_sweep = 0
        idle = [
            key for key, calls in self._calls.items() if not calls or calls[-1] <= now - self.window
        ]
        for key in idle:
            del self._calls[key]
