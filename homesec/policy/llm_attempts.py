"""The analyst's policy for one LLM attempt of a job: ask, wait for a retry, or fall back.

No invented scores (docs/architecture.md, "Delivery guarantees"): an LLM call sits behind a
circuit breaker; a failed call, or one the open breaker refuses, is a failed attempt of the job,
retried with backoff within ``MAX_RETRIES``; once the attempts are spent the rules engine scores
the batch and its reasoning says why. Attempts of analysts that died mid-call count too (the
entry's deliveries), so a batch that crashes the model is scored by the rules once they are
spent, not retried forever.

Pure: the breaker is an immutable value and ``now`` is passed in. The workflow
(:mod:`homesec.workflows.analysis`) makes the call and keeps the breaker these functions return.
"""

from __future__ import annotations

import enum

import msgspec

from homesec.policy.retry import CircuitBreaker, RetryStep, next_step


class Step(enum.StrEnum):
    ASK = "ask"  # call the LLM
    RETRY = "retry"  # a failed attempt: the job waits for its retry, the entry stays pending
    FALL_BACK = "fall_back"  # the attempts are spent: the rules engine scores the batch


class Attempt(msgspec.Struct, frozen=True, kw_only=True):
    """What to do with this attempt of the job, and the breaker to keep."""

    step: Step
    breaker: CircuitBreaker
    # Failed attempts of the job once this one has failed (or been refused); for the fallback's
    # reasoning.
    attempts: int
    # Why no call goes out (the breaker refused, or earlier deliveries spent the attempts);
    # None when the LLM is asked.
    refusal: str | None = None
    refused_by_breaker: bool = False  # this attempt is one the open breaker refused


def before_call(
    breaker: CircuitBreaker,
    spent: int,
    max_retries: int,
    now: float,
    last_error: str | None,
) -> Attempt:
    """Whether this attempt asks the LLM, after ``spent`` failed attempts of the job.

    - the attempts are already spent (``spent > max_retries``): earlier deliveries spent them
      without a word, as a model that crashes the analyst on this very batch would; fall back
      without asking again;
    - the breaker admits the call: ask (a half-open breaker lets this one trial through);
    - the breaker is open: a failed attempt like any other, retried or, if it was the last,
      fallen back from; the LLM is not asked.
    """
    if spent > max_retries:
        return Attempt(
            step=Step.FALL_BACK,
            breaker=breaker,
            attempts=spent,
            refusal=f"the analyst stopped during {spent} earlier attempts",
        )
    allowed, breaker = breaker.admit(now)
    if allowed:
        return Attempt(step=Step.ASK, breaker=breaker, attempts=spent + 1)
    return Attempt(
        step=after_failure(spent, max_retries),
        breaker=breaker,
        attempts=spent + 1,
        refused_by_breaker=True,
        refusal=(
            f"circuit breaker open after {breaker.consecutive_failures} consecutive failures; "
            f"last: {last_error}"
        ),
    )


def after_failure(spent: int, max_retries: int) -> Step:
    """After a failed or refused attempt that follows ``spent`` failed ones: retry while
    attempts remain (``1 + max_retries`` in all), else fall back to the rules engine."""
    return Step.RETRY if next_step(spent + 1, max_retries) is RetryStep.RETRY else Step.FALL_BACK
