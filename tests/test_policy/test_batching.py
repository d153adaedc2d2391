"""Batching policy with explicit clocks: window, idle, cap, fast path, cooldown, idempotency."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from homesec.contract import keys
from homesec.contract.jobs import AnalysisJob, StoredDetection
from homesec.policy.batching import (
    BatchPolicy,
    BatchState,
    BatchUpdate,
    CloseReason,
    add,
    batch_id_for,
    fast_path_candidate,
    next_deadline,
    on_detections,
    on_tick,
    should_close,
)
from tests.support.settings import make_settings

T0 = 1_700_000_000.0
CAM = "front_door"
POLICY = BatchPolicy()  # 90 s window, 30 s idle, 500 cap, person >= 0.9, 60 s cooldown


def car(detection_id: int, confidence: float = 0.8) -> StoredDetection:
    return StoredDetection(detection_id, "car", confidence)


def person(detection_id: int, confidence: float = 0.95) -> StoredDetection:
    return StoredDetection(detection_id, "person", confidence)


def open_batch(ids: tuple[int, ...] = (1,), started: float = T0) -> BatchState:
    return add(None, CAM, list(ids), started, POLICY).state or pytest.fail("no batch opened")


# --- opening and adding ---------------------------------------------------------------------


def test_first_detection_opens_a_batch() -> None:
    update = add(None, CAM, [7, 8], T0, POLICY)
    assert update.closed == ()
    state = update.state
    assert state is not None
    assert (state.camera_id, state.detection_ids) == (CAM, (7, 8))
    assert state.started_at == state.last_activity == T0
    assert state.batch_id == batch_id_for(CAM, 7)


def test_adding_extends_the_batch_and_its_activity_time() -> None:
    state = add(open_batch(), CAM, [2, 3], T0 + 20, POLICY).state
    assert state is not None
    assert state.detection_ids == (1, 2, 3)
    assert (state.started_at, state.last_activity) == (T0, T0 + 20)


def test_redelivered_ids_are_not_added_twice() -> None:
    state = add(open_batch((1, 2)), CAM, [2, 1, 3, 3], T0 + 5, POLICY).state
    assert state is not None
    assert state.detection_ids == (1, 2, 3)


def test_batch_of_another_camera_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        add(open_batch(), "back_yard", [2], T0 + 1, POLICY)


def test_batch_ids_are_deterministic_and_distinct() -> None:
    assert batch_id_for(CAM, 1) == batch_id_for(CAM, 1)
    assert batch_id_for(CAM, 1) != batch_id_for(CAM, 2)
    assert batch_id_for(CAM, 1) != batch_id_for("back_yard", 1)
    assert len(batch_id_for(CAM, 1)) == 36  # a UUID, as events.batch_id expects


# --- closing --------------------------------------------------------------------------------


def test_idle_timeout_boundary() -> None:
    state = open_batch()
    assert should_close(state, T0 + 29.999, POLICY) is None
    assert should_close(state, T0 + 30, POLICY) == CloseReason.IDLE


def test_activity_postpones_idle_but_not_the_window() -> None:
    state = open_batch()
    for t in (20, 40, 60, 80):  # a detection every 20 s: never idle for 30 s
        assert should_close(state, T0 + t, POLICY) is None
        state = add(state, CAM, [100 + t], T0 + t, POLICY).state or pytest.fail("closed early")
    assert should_close(state, T0 + 89.999, POLICY) is None
    assert should_close(state, T0 + 90, POLICY) == CloseReason.WINDOW


def test_window_wins_when_both_are_due() -> None:
    state = open_batch(started=T0)
    assert should_close(state, T0 + 500, POLICY) == CloseReason.WINDOW


def test_next_deadline_is_the_earlier_limit() -> None:
    state = open_batch()
    assert next_deadline(state, POLICY) == T0 + 30  # idle first
    for t in (25, 50, 75):
        state = add(state, CAM, [t], T0 + t, POLICY).state
    assert next_deadline(state, POLICY) == T0 + 90  # the window comes before idle (T0 + 105)
    assert next_deadline(None, POLICY) is None


def test_tick_closes_a_due_batch_into_its_job() -> None:
    state = add(open_batch(), CAM, [2], T0 + 10, POLICY).state
    assert state is not None
    assert on_tick(state, T0 + 39, POLICY).closed == ()
    update = on_tick(state, T0 + 40, POLICY)
    assert update.state is None
    (closed,) = update.closed
    assert closed.reason == CloseReason.IDLE
    assert closed.job == AnalysisJob(
        batch_id=state.batch_id,
        camera_id=CAM,
        detection_ids=[1, 2],
        started_at=T0,
        ended_at=T0 + 10,
    )


def test_closing_is_idempotent() -> None:
    state = open_batch()
    first = on_tick(state, T0 + 100, POLICY)
    # The shell crashed after enqueuing and before saving: the same state closes again into
    # the same job (same batch_id, so the Analyst makes no second event) ...
    again = on_tick(state, T0 + 200, POLICY)
    assert again.closed[0].job.batch_id == first.closed[0].job.batch_id
    assert again.closed[0].job.detection_ids == first.closed[0].job.detection_ids
    # ... and ticking the closed result does nothing.
    assert first.state is None
    assert on_tick(first.state, T0 + 300, POLICY) == BatchUpdate(None, ())


def test_late_detection_closes_the_expired_batch_first() -> None:
    state = open_batch()
    update = add(state, CAM, [2], T0 + 45, POLICY)  # the idle timer was late
    assert [c.reason for c in update.closed] == [CloseReason.IDLE]
    assert update.closed[0].job.detection_ids == [1]
    assert update.state is not None
    assert update.state.detection_ids == (2,)
    assert update.state.started_at == T0 + 45


def test_cap_closes_the_batch_and_the_rest_opens_a_new_one() -> None:
    policy = BatchPolicy(max_detections=3)
    update = add(add(None, CAM, [1, 2], T0, policy).state, CAM, [3, 4, 5, 6, 7], T0 + 1, policy)
    assert [c.reason for c in update.closed] == [CloseReason.FULL, CloseReason.FULL]
    assert [c.job.detection_ids for c in update.closed] == [[1, 2, 3], [4, 5, 6]]
    assert update.state is not None
    assert update.state.detection_ids == (7,)
    assert update.state.batch_id == batch_id_for(CAM, 7)


def test_exactly_reaching_the_cap_leaves_no_open_batch() -> None:
    update = add(None, CAM, [1, 2], T0, BatchPolicy(max_detections=2))
    assert update.state is None
    assert [c.job.detection_ids for c in update.closed] == [[1, 2]]


def test_should_close_reports_full_for_a_state_at_the_cap() -> None:
    state = BatchState(
        batch_id="b", camera_id=CAM, detection_ids=(1, 2), started_at=T0, last_activity=T0
    )
    assert should_close(state, T0, BatchPolicy(max_detections=2)) == CloseReason.FULL


# --- fast path ------------------------------------------------------------------------------


def test_confident_person_fires_the_fast_path_and_joins_the_batch() -> None:
    decision = on_detections(None, CAM, [car(1), person(2)], T0, POLICY, None)
    (job,) = decision.jobs
    assert job == AnalysisJob(
        batch_id="fast-2",
        camera_id=CAM,
        detection_ids=[2],
        is_fast_path=True,
        started_at=T0,
        ended_at=T0,
    )
    assert decision.fast_path_fired_at == T0
    assert decision.state is not None
    assert decision.state.detection_ids == (1, 2)


def test_fast_path_threshold_is_inclusive_and_class_must_match() -> None:
    assert fast_path_candidate([person(1, 0.9)], POLICY) == person(1, 0.9)
    assert fast_path_candidate([person(1, 0.8999)], POLICY) is None
    assert fast_path_candidate([car(1, 0.99)], POLICY) is None
    assert fast_path_candidate([StoredDetection(1, "Person", 0.95)], POLICY) is not None


def test_fast_path_picks_the_most_confident_then_the_lowest_id() -> None:
    assert fast_path_candidate([person(5, 0.92), person(3, 0.97), person(4, 0.97)], POLICY) == (
        person(3, 0.97)
    )


def test_only_one_fast_path_job_per_call() -> None:
    decision = on_detections(None, CAM, [person(1), person(2, 0.99)], T0, POLICY, None)
    assert [job.batch_id for job in decision.jobs] == ["fast-2"]


def test_cooldown_suppresses_the_fast_path_but_not_the_batch() -> None:
    decision = on_detections(None, CAM, [person(1)], T0 + 59.9, POLICY, T0)
    assert decision.jobs == ()
    assert decision.fast_path_fired_at == T0  # unchanged: the cooldown runs from the last fire
    assert decision.state is not None
    assert decision.state.detection_ids == (1,)


def test_cooldown_boundary() -> None:
    decision = on_detections(None, CAM, [person(1)], T0 + 60, POLICY, T0)
    assert [job.batch_id for job in decision.jobs] == ["fast-1"]
    assert decision.fast_path_fired_at == T0 + 60


def test_clock_gone_backwards_does_not_silence_the_fast_path() -> None:
    decision = on_detections(None, CAM, [person(1)], T0, POLICY, T0 + 3600)
    assert [job.batch_id for job in decision.jobs] == ["fast-1"]


def test_redelivered_fast_path_detection_gets_the_same_batch_id() -> None:
    first = on_detections(None, CAM, [person(9)], T0, POLICY, None)
    again = on_detections(None, CAM, [person(9)], T0 + 1, POLICY, None)  # cooldown state lost
    assert first.jobs[0].batch_id == again.jobs[0].batch_id == "fast-9"


def test_fast_path_job_comes_before_closed_batches() -> None:
    policy = BatchPolicy(max_detections=2)
    decision = on_detections(None, CAM, [car(1), person(2)], T0, policy, None)
    assert [(job.batch_id, job.is_fast_path) for job in decision.jobs] == [
        ("fast-2", True),
        (batch_id_for(CAM, 1), False),
    ]
    assert [c.reason for c in decision.closed] == [CloseReason.FULL]


def test_no_detections_changes_nothing() -> None:
    state = open_batch()
    decision = on_detections(state, CAM, [], T0 + 5, POLICY, T0 - 10)
    assert (decision.state, decision.jobs, decision.fast_path_fired_at) == (state, (), T0 - 10)


# --- settings and the contract's Redis keys -------------------------------------------------


def test_policy_from_settings(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        foscam_base_path=tmp_path,
        batch_window_seconds=60,
        batch_idle_timeout_seconds=10,
        batch_max_detections=50,
        fast_path_confidence_threshold=0.8,
        fast_path_object_types=("person", "Dog"),
        fast_path_cooldown_seconds=5,
    )
    assert BatchPolicy.from_settings(settings) == BatchPolicy(
        window_seconds=60,
        idle_seconds=10,
        max_detections=50,
        fast_path_confidence=0.8,
        fast_path_object_types=frozenset({"person", "dog"}),
        fast_path_cooldown_seconds=5,
    )


def test_state_round_trips_through_the_contract_keys() -> None:
    state = add(open_batch((4, 5)), CAM, [6], T0 + 12.25, POLICY).state
    assert state is not None
    values = state.redis_values()
    assert values[keys.batch_current(CAM)] == state.batch_id
    assert msgspec.json.decode(values[keys.batch_detections(state.batch_id)]) == [4, 5, 6]
    assert float(values[keys.batch_started_at(state.batch_id)]) == T0
    stored = [values[key].encode() for key in keys.batch_keys(state.batch_id)]  # Redis bytes
    assert BatchState.from_redis_values(state.batch_id.encode(), *stored) == state


@pytest.mark.parametrize(
    "values",
    [
        (None, "[1]", "1.0", "2.0"),  # a key expired
        (CAM, "not json", "1.0", "2.0"),
        (CAM, "5", "1.0", "2.0"),  # JSON, but not a list
        (CAM, "[1]", "yesterday", "2.0"),
        (b"\xff\xfe", "[1]", "1.0", "2.0"),  # not UTF-8
    ],
)
def test_missing_or_garbled_keys_mean_no_open_batch(values: tuple) -> None:
    assert BatchState.from_redis_values("b", *values) is None
