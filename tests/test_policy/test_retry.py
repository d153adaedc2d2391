"""Backoff, retry decisions, dead-letter entries and the circuit breaker, with explicit clocks."""

from __future__ import annotations

import random
import time

import msgspec
import pytest

from homesec.contract.jobs import DetectionJob, DlqEntry
from homesec.policy.retry import (
    MAX_ERROR_CHARS,
    BreakerState,
    CircuitBreaker,
    RetryStep,
    backoff_delay,
    dead_letter_entry,
    next_step,
    utc_iso,
)

T0 = 1_700_000_000.0  # 2023-11-14T22:13:20Z


# --- backoff --------------------------------------------------------------------------------


@pytest.mark.parametrize("attempt", [1, 2, 3, 4, 5, 6, 10, 100, 10_000])
def test_backoff_stays_within_the_capped_exponential(attempt: int) -> None:
    rng = random.Random(attempt)
    ceiling = min(30.0, 0.5 * 2 ** min(attempt - 1, 62))
    delays = [backoff_delay(attempt, base=0.5, cap=30.0, rng=rng) for _ in range(500)]
    assert all(0.0 <= delay <= ceiling for delay in delays)
    # Full jitter: the draws spread over the whole range, not bunched at the top.
    assert min(delays) < ceiling * 0.1
    assert max(delays) > ceiling * 0.9


def test_backoff_is_reproducible_with_a_seeded_rng() -> None:
    first = [backoff_delay(a, rng=random.Random(42)) for a in range(1, 8)]
    second = [backoff_delay(a, rng=random.Random(42)) for a in range(1, 8)]
    assert first == second


def test_backoff_grows_on_average() -> None:
    rng = random.Random(0)

    def mean(attempt: int) -> float:
        return sum(backoff_delay(attempt, base=1, cap=1000, rng=rng) for _ in range(2000)) / 2000

    means = [mean(a) for a in (1, 2, 3, 4)]
    assert means == sorted(means)
    assert means[3] > 3 * means[1]


def test_backoff_without_an_rng_and_bad_attempts() -> None:
    assert 0 <= backoff_delay(3, base=1, cap=2) <= 2
    with pytest.raises(ValueError):
        backoff_delay(0)


# --- retry or dead-letter -------------------------------------------------------------------


def test_max_retries_counts_retries_after_the_first_attempt() -> None:
    assert [next_step(a, 3) for a in (1, 2, 3, 4)] == [
        RetryStep.RETRY,
        RetryStep.RETRY,
        RetryStep.RETRY,
        RetryStep.DEAD_LETTER,
    ]


def test_zero_retries_dead_letters_the_first_failure() -> None:
    assert next_step(1, 0) == RetryStep.DEAD_LETTER


# --- dead-letter entries --------------------------------------------------------------------


def test_dead_letter_entry_follows_the_contract() -> None:
    job = DetectionJob(camera_id="front", file_path="/cams/front/a.jpg", timestamp="t")
    entry = dead_letter_entry(
        job,
        ConnectionError("detector unavailable"),
        attempt_count=4,
        first_failed_at=T0,
        last_failed_at=T0 + 10.5,
        queue_name="detection_queue",
    )
    assert entry == DlqEntry(
        original_job={
            "camera_id": "front",
            "file_path": "/cams/front/a.jpg",
            "timestamp": "t",
            "upload_id": None,
            "sha256": None,
            "captured_at": None,
        },
        error="ConnectionError: detector unavailable",
        attempt_count=4,
        first_failed_at="2023-11-14T22:13:20.000000+00:00",
        last_failed_at="2023-11-14T22:13:30.500000+00:00",
        queue_name="detection_queue",
    )
    decoded = msgspec.json.decode(msgspec.json.encode(entry))
    assert set(decoded) == {
        "original_job",
        "error",
        "attempt_count",
        "first_failed_at",
        "last_failed_at",
        "queue_name",
    }


def test_dead_letter_entry_keeps_a_dict_job_and_bounds_the_error() -> None:
    entry = dead_letter_entry(
        {"batch_id": "b"},
        "x" * 10_000,
        attempt_count=1,
        first_failed_at=T0,
        last_failed_at=T0,
        queue_name="analysis_queue",
    )
    assert entry.original_job == {"batch_id": "b"}
    assert len(entry.error) == MAX_ERROR_CHARS


def test_utc_iso_is_utc_whatever_the_local_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert utc_iso(0) == "1970-01-01T00:00:00.000000+00:00"
    finally:
        monkeypatch.undo()
        time.tzset()


# --- circuit breaker ------------------------------------------------------------------------


def fail(breaker: CircuitBreaker, now: float) -> CircuitBreaker:
    allowed, breaker = breaker.admit(now)
    assert allowed
    return breaker.on_failure(now)


def test_breaker_opens_after_consecutive_failures() -> None:
    breaker = CircuitBreaker(failure_threshold=3, cooldown_seconds=30)
    breaker = fail(fail(breaker, T0), T0 + 1)
    assert breaker.state == BreakerState.CLOSED
    breaker = fail(breaker, T0 + 2)
    assert breaker.state == BreakerState.OPEN
    assert breaker.admit(T0 + 3) == (False, breaker)
    assert breaker.retry_after(T0 + 3) == pytest.approx(29)


def test_a_success_resets_the_failure_count() -> None:
    breaker = CircuitBreaker(failure_threshold=3)
    breaker = fail(fail(breaker, T0), T0 + 1).on_success()
    breaker = fail(fail(breaker, T0 + 2), T0 + 3)
    assert breaker.state == BreakerState.CLOSED
    assert breaker.consecutive_failures == 2


def open_breaker() -> CircuitBreaker:
    breaker = CircuitBreaker(failure_threshold=1, cooldown_seconds=30)
    return fail(breaker, T0)


def test_half_open_after_cooldown_allows_one_trial() -> None:
    breaker = open_breaker()
    assert breaker.status(T0 + 29.9) == BreakerState.OPEN
    assert breaker.admit(T0 + 29.9)[0] is False
    assert breaker.status(T0 + 30) == BreakerState.HALF_OPEN
    allowed, breaker = breaker.admit(T0 + 30)
    assert allowed
    assert breaker.state == BreakerState.HALF_OPEN
    # A second caller while the trial is out is turned away.
    assert breaker.admit(T0 + 31)[0] is False


def test_trial_success_closes_the_breaker() -> None:
    _, breaker = open_breaker().admit(T0 + 30)
    breaker = breaker.on_success()
    assert breaker.state == BreakerState.CLOSED
    assert breaker.consecutive_failures == 0
    assert breaker.admit(T0 + 31) == (True, breaker)
    assert breaker.retry_after(T0 + 31) == 0


def test_trial_failure_opens_again_with_a_fresh_cooldown() -> None:
    _, breaker = open_breaker().admit(T0 + 30)
    breaker = breaker.on_failure(T0 + 31)
    assert breaker.state == BreakerState.OPEN
    assert breaker.admit(T0 + 60)[0] is False
    assert breaker.admit(T0 + 61)[0] is True


def test_a_trial_that_never_reports_expires() -> None:
    _, breaker = open_breaker().admit(T0 + 30)  # the trial's caller crashed
    assert breaker.admit(T0 + 59)[0] is False
    allowed, breaker = breaker.admit(T0 + 60)
    assert allowed
    assert breaker.trial_started_at == T0 + 60


def test_late_failure_does_not_extend_an_open_breaker() -> None:
    breaker = open_breaker()
    later = breaker.on_failure(T0 + 20)  # a call admitted before it opened, failing late
    assert later.state == BreakerState.OPEN
    assert later.opened_at == T0
    assert later.admit(T0 + 30)[0] is True


def test_breaker_survives_serialisation() -> None:
    breaker = open_breaker()
    decoded = msgspec.json.decode(msgspec.json.encode(breaker), type=CircuitBreaker)
    assert decoded == breaker
    assert decoded.admit(T0 + 1)[0] is False
