"""The analyst's policy for each LLM attempt of a job: ask, retry, or leave it to the rules."""

from __future__ import annotations

import pytest

from homesec.policy.llm_attempts import Step, after_failure, before_call
from homesec.policy.retry import BreakerState, CircuitBreaker

T0 = 1_700_000_000.0
MAX_RETRIES = 3


def opened(failures: int = 2, at: float = T0) -> CircuitBreaker:
    breaker = CircuitBreaker(failure_threshold=failures, cooldown_seconds=30.0)
    for _ in range(failures):
        breaker = breaker.on_failure(at)
    assert breaker.state is BreakerState.OPEN
    return breaker


@pytest.mark.parametrize("spent", [0, 1, MAX_RETRIES])
def test_a_closed_breaker_asks_the_llm_while_attempts_remain(spent: int):
    attempt = before_call(CircuitBreaker(), spent, MAX_RETRIES, T0, None)
    assert attempt.step is Step.ASK
    assert attempt.attempts == spent + 1  # counting this one, should it fail
    assert attempt.refusal is None and not attempt.refused_by_breaker
    assert attempt.breaker == CircuitBreaker()


def test_attempts_spent_by_earlier_deliveries_fall_back_without_asking():
    """An analyst that died during each delivery spent them: the model may crash on this very
    batch, so it is not asked again, whatever the breaker says."""
    attempt = before_call(CircuitBreaker(), MAX_RETRIES + 1, MAX_RETRIES, T0, None)
    assert attempt.step is Step.FALL_BACK
    assert attempt.attempts == MAX_RETRIES + 1
    assert attempt.refusal == f"the analyst stopped during {MAX_RETRIES + 1} earlier attempts"
    assert not attempt.refused_by_breaker


def test_an_open_breaker_refuses_and_the_refusal_is_a_failed_attempt():
    breaker = opened()
    attempt = before_call(breaker, 0, MAX_RETRIES, T0 + 1, "LlmUnavailable: 503")
    assert attempt.step is Step.RETRY
    assert attempt.refused_by_breaker and attempt.attempts == 1
    assert attempt.refusal == (
        "circuit breaker open after 2 consecutive failures; last: LlmUnavailable: 503"
    )
    assert attempt.breaker == breaker  # refusing changes nothing
    # Its last attempt refused, the job falls back to the rules.
    last = before_call(breaker, MAX_RETRIES, MAX_RETRIES, T0 + 1, "x")
    assert (last.step, last.attempts, last.refused_by_breaker) == (Step.FALL_BACK, 4, True)


def test_a_cooled_down_breaker_lets_one_trial_call_through():
    attempt = before_call(opened(), 2, MAX_RETRIES, T0 + 30, None)
    assert attempt.step is Step.ASK
    assert attempt.breaker.state is BreakerState.HALF_OPEN
    # While the trial is out, the next job is refused.
    other = before_call(attempt.breaker, 0, MAX_RETRIES, T0 + 31, None)
    assert other.step is Step.RETRY and other.refused_by_breaker


@pytest.mark.parametrize(
    ("spent", "step"),
    [(0, Step.RETRY), (1, Step.RETRY), (2, Step.RETRY), (3, Step.FALL_BACK)],
)
def test_a_failed_call_is_retried_until_the_attempts_are_spent(spent: int, step: Step):
    """``1 + MAX_RETRIES`` attempts in all, then the rules engine scores the batch."""
    assert after_failure(spent, MAX_RETRIES) is step


def test_no_retries_means_the_first_failure_falls_back():
    assert after_failure(0, 0) is Step.FALL_BACK
    assert before_call(opened(), 0, 0, T0, None).step is Step.FALL_BACK
