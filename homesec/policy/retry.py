"""Retries, dead letters and a circuit breaker: what to do after a job fails.

- :func:`backoff_delay`: exponential backoff with full jitter (a uniform draw between 0 and the
  capped exponential), so replicas that failed together do not retry together: for probes of a
  dependency that is away.
- :func:`retry_delay`: the same with "equal jitter" (from half the capped exponential up to all
  of it), for the retries of a failed job: their total has a floor, so a job reaches its
  dead-letter queue only after its retries have had time to matter.
- :func:`next_step`: ``MAX_RETRIES`` counts retries after the first attempt, so a job runs at
  most ``1 + max_retries`` times and ``MAX_RETRIES=0`` means "never retry".
- :func:`dead_letter_entry`: the contract's DLQ entry, timestamps ISO-8601 in UTC.
- :class:`CircuitBreaker`: closed -> open after ``failure_threshold`` consecutive failures ->
  half-open after ``cooldown_seconds`` (one trial call at a time) -> closed on a success, or
  open again on a failure. An immutable value: every method returns the next breaker.

Times are float epoch seconds (``time.time()``), passed in as ``now``.
"""

from __future__ import annotations

import datetime as dt
import enum
import random
from typing import Any, Protocol

import msgspec

from homesec.contract.jobs import DlqEntry
from homesec.policy.text import shorten

# 2**62 times any sane base is far past any cap; bounding the exponent keeps the float finite.
_MAX_EXPONENT = 62
MAX_ERROR_CHARS = 2000


def backoff_delay(
    attempt: int, base: float = 1.0, cap: float = 60.0, rng: random.Random | None = None
) -> float:
    """Seconds to wait before retrying after failed attempt number ``attempt`` (1-based).

    Drawn uniformly from ``[0, min(cap, base * 2 ** (attempt - 1))]``.
    """
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    ceiling = min(cap, base * 2.0 ** min(attempt - 1, _MAX_EXPONENT))
    return (rng or random).uniform(0.0, ceiling)


def retry_delay(
    attempt: int, base: float = 1.0, cap: float = 300.0, rng: random.Random | None = None
) -> float:
    """Seconds to wait before retrying a job after failed attempt ``attempt`` (1-based): drawn
    uniformly from ``[c / 2, c]`` where ``c = min(cap, base * 2 ** (attempt - 1))``."""
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    ceiling = min(cap, base * 2.0 ** min(attempt - 1, _MAX_EXPONENT))
    return (rng or random).uniform(ceiling / 2, ceiling)


class RetryStep(enum.StrEnum):
    RETRY = "retry"
    DEAD_LETTER = "dead_letter"


def next_step(attempts: int, max_retries: int) -> RetryStep:
    """After ``attempts`` failed attempts (this one included), retry or give up?"""
    return RetryStep.RETRY if attempts <= max_retries else RetryStep.DEAD_LETTER


def utc_iso(epoch_seconds: float) -> str:
    """``2025-12-23T10:30:05.000000+00:00``: fixed width, explicit UTC."""
    return dt.datetime.fromtimestamp(epoch_seconds, dt.UTC).isoformat(timespec="microseconds")


def describe_error(error: BaseException | str) -> str:
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return shorten(text, MAX_ERROR_CHARS)


def dead_letter_entry(
    job: msgspec.Struct | dict[str, Any],
    error: BaseException | str,
    *,
    attempt_count: int,
    first_failed_at: float,
    last_failed_at: float,
    queue_name: str,
) -> DlqEntry:
    """The entry for ``dlq:{queue_name}``: the job as plain data, and why it failed."""
    original = job if isinstance(job, dict) else msgspec.to_builtins(job)
    return DlqEntry(
        original_job=original,
        error=describe_error(error),
        attempt_count=attempt_count,
        first_failed_at=utc_iso(first_failed_at),
        last_failed_at=utc_iso(last_failed_at),
        queue_name=queue_name,
    )


class BreakerState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker(msgspec.Struct, frozen=True, kw_only=True):
    """Guards a dependency (the LLM server).

    The shell asks ``allowed, breaker = breaker.admit(now)``; when allowed it makes the call and
    keeps ``breaker.on_success()`` or ``breaker.on_failure(now)``, else it tries again in
    ``breaker.retry_after(now)`` seconds.
    """

    failure_threshold: int = 5
    cooldown_seconds: float = 30.0
    state: BreakerState = BreakerState.CLOSED
    consecutive_failures: int = 0
    opened_at: float | None = None
    trial_started_at: float | None = None  # half-open: when the one trial call went out

    def admit(self, now: float) -> tuple[bool, CircuitBreaker]:
        """May a call go out at ``now``? Returns the answer and the breaker to keep."""
        if self.state is BreakerState.CLOSED:
            return True, self
        if self.state is BreakerState.OPEN and not self._cooled_down(self.opened_at, now):
            return False, self
        if self.state is BreakerState.HALF_OPEN and not self._cooled_down(
            self.trial_started_at, now
        ):
            return False, self  # the trial is still out; a trial that never reported expires
        return True, msgspec.structs.replace(
            self, state=BreakerState.HALF_OPEN, trial_started_at=now
        )

    def on_success(self) -> CircuitBreaker:
        return msgspec.structs.replace(
            self,
            state=BreakerState.CLOSED,
            consecutive_failures=0,
            opened_at=None,
            trial_started_at=None,
        )

    def on_failure(self, now: float) -> CircuitBreaker:
        failures = self.consecutive_failures + 1
        if self.state is BreakerState.HALF_OPEN or (
            self.state is BreakerState.CLOSED and failures >= self.failure_threshold
        ):
            return msgspec.structs.replace(
                self,
                state=BreakerState.OPEN,
                consecutive_failures=failures,
                opened_at=now,
                trial_started_at=None,
            )
        # Closed below the threshold, or a call admitted before the breaker opened failing
        # late: count it, but an open breaker keeps its original cooldown.
        return msgspec.structs.replace(self, consecutive_failures=failures)

    def status(self, now: float) -> BreakerState:
        """The state as a health report should show it: open turns half-open once cooled down."""
        if self.state is BreakerState.OPEN and self._cooled_down(self.opened_at, now):
            return BreakerState.HALF_OPEN
        return self.state

    def retry_after(self, now: float) -> float:
        """Seconds until :meth:`admit` would let a call through (0 when it would now)."""
        since = {
            BreakerState.CLOSED: None,
            BreakerState.OPEN: self.opened_at,
            BreakerState.HALF_OPEN: self.trial_started_at,
        }[self.state]
        if since is None:
            return 0.0
        return max(0.0, since + self.cooldown_seconds - now)

    def _cooled_down(self, since: float | None, now: float) -> bool:
        return since is None or now - since >= self.cooldown_seconds


class RetryableEntry(Protocol):
    """A queue entry as the retry book sees it (``homesec.store.streams.StreamEntry``)."""

    @property
    def entry_id(self) -> str: ...

    @property
    def deliveries(self) -> int: ...


class _Attempts(msgspec.Struct):
    count: int
    first_failed_at: float
    due_at: float


class RetryBook:
    """Failed entries of this consumer awaiting their retry: pure bookkeeping, ``now`` passed in."""

    def __init__(self, max_retries: int, base_delay: float = 20.0, cap: float = 300.0) -> None:
        self.max_retries = max_retries
        self.base_delay = base_delay
        self.cap = cap
        self._waiting: dict[str, tuple[RetryableEntry, _Attempts]] = {}

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._waiting

    def __len__(self) -> int:
        return len(self._waiting)

    def attempts(self, entry: RetryableEntry) -> int:
        """Failed attempts of ``entry`` so far, a dead consumer's included (its deliveries)."""
        known = self._waiting.get(entry.entry_id)
        return max(known[1].count if known else 0, entry.deliveries - 1)

    def failed(
        self, entry: RetryableEntry, now: float, *, base_delay: float | None = None
    ) -> tuple[RetryStep, int, float]:
        """Record a failure; returns the step, the attempts so far and the first failure time.
        ``base_delay`` overrides the book's for this retry (the analyst's quick LLM retries)."""
        count = self.attempts(entry) + 1
        known = self._waiting.pop(entry.entry_id, None)
        previous = known[1] if known else None
        first = previous.first_failed_at if previous else now
        step = next_step(count, self.max_retries)
        if step is RetryStep.RETRY:
            base = self.base_delay if base_delay is None else base_delay
            due = now + retry_delay(count, base, self.cap)
            self._waiting[entry.entry_id] = (entry, _Attempts(count, first, due))
        return step, count, first

    def succeeded(self, entry_id: str) -> None:
        self._waiting.pop(entry_id, None)

    def due(self, now: float, limit: int) -> list[RetryableEntry]:
        ready = [entry for entry, attempts in self._waiting.values() if attempts.due_at <= now]
        return ready[:limit]

    def next_due_in(self, now: float) -> float | None:
        if not self._waiting:
            return None
        return max(0.0, min(attempts.due_at for _, attempts in self._waiting.values()) - now)
