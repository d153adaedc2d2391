"""The one way tests wait for something to happen: poll a check until it returns something
truthy, or fail saying what was awaited and what the check last returned.

``eventually`` is for async tests (its check may be sync or async); ``eventually_blocking``
for code that runs outside an event loop (a fixture starting a server, a thread's test).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


def _describe(check: Callable[..., Any], what: str | None) -> str:
    return what or getattr(check, "__name__", repr(check))


def _timed_out(what: str, timeout: float, last: Any) -> AssertionError:
    return AssertionError(
        f"timed out after {timeout:g} s waiting for {what}; last value seen: {last!r}"
    )


async def eventually(
    check: Callable[[], T | Awaitable[T]],
    timeout: float,
    what: str | None = None,
    interval: float = 0.05,
) -> T:
    """Call ``check`` every ``interval`` seconds until it returns something truthy, and return
    that; after ``timeout`` seconds fail with ``what`` (else the check's name) and the last
    value. The check runs once more at the deadline, so a slow machine gets its full time."""
    deadline = time.monotonic() + timeout
    while True:
        last = check()
        if inspect.isawaitable(last):
            last = await last
        if last:
            return last
        if time.monotonic() > deadline:
            raise _timed_out(_describe(check, what), timeout, last)
        await asyncio.sleep(interval)


def eventually_blocking(
    check: Callable[[], T], timeout: float, what: str | None = None, interval: float = 0.05
) -> T:
    """``eventually`` for code without an event loop: sleeps the thread between checks."""
    deadline = time.monotonic() + timeout
    while True:
        last = check()
        if last:
            return last
        if time.monotonic() > deadline:
            raise _timed_out(_describe(check, what), timeout, last)
        time.sleep(interval)
