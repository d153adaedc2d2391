"""The Supervisor's decisions about one actor, as a pure function of (record, observation, now)."""

from __future__ import annotations

import pytest
import ray

from homesec.contract.reports import ActorHealth
from homesec.policy.supervision import (
    ALIVE,
    BACKING_OFF,
    DEAD,
    FAILED,
    STARTING,
    UNPLACED,
    UNRESPONSIVE,
    Action,
    ActorRecord,
    Observation,
    Outcome,
    RestartPolicy,
    backoff_for,
    decide,
)

POLICY = RestartPolicy(
    max_restarts=3, window_seconds=60, backoff_seconds=10, max_backoff_seconds=35
)
T0 = 1_000.0


def answered(started_at: float = 1.0, state: str = "running", error: str | None = None):
    health = ActorHealth(
        name="detector:0",
        kind="detector",
        state=state,
        started_at=started_at,
        last_error=error,
        detail={"node_id": "node-a"},
    )
    return Observation(outcome=Outcome.ANSWERED, health=health)


GONE = Observation(outcome=Outcome.GONE, error="actor died: killed")
SILENT = Observation(outcome=Outcome.TIMED_OUT)


def test_a_running_actor_is_alive_and_left_alone():
    decision = decide(ActorRecord(), answered(), T0, POLICY)
    assert decision.action is Action.NONE
    assert decision.record.state == ALIVE
    assert (decision.record.started_at, decision.record.node) == (1.0, "node-a")
    assert decision.record.restarts == 0


def test_an_actor_with_no_node_to_run_on_is_reported_with_what_it_waits_for_and_left_to_ray():
    waits = "waiting for a Ray node with CPU 1, GPU 0.5: no live node has GPU"
    unplaced = Observation(outcome=Outcome.UNPLACED, error=waits)
    record = decide(ActorRecord(), answered(started_at=1.0), T0, POLICY).record
    for minute in range(30):  # however long the node stays away: no re-creation, no storm
        decision = decide(record, unplaced, T0 + 60 * minute, POLICY)
        assert decision.action is Action.NONE
        record = decision.record
    assert (record.state, record.last_error, record.restarts) == (UNPLACED, waits, 0)
    # The node is back: Ray placed it there, a new process, counted as the restart it was.
    back = decide(record, answered(started_at=2.0), T0 + 1_900, POLICY)
    assert (back.action, back.record.state, back.record.restarts) == (Action.NONE, ALIVE, 1)


def test_no_answer_is_reported_and_waited_for():
    decision = decide(ActorRecord(state=ALIVE), SILENT, T0, POLICY)
    assert (decision.record.state, decision.action) == (UNRESPONSIVE, Action.NONE)
    assert decision.record.restarts == 0


def test_a_gone_actor_is_created_again_and_counted():
    decision = decide(ActorRecord(state=ALIVE), GONE, T0, POLICY)
    assert decision.action is Action.RECREATE
    assert (decision.record.state, decision.record.restarts) == (DEAD, 1)
    assert decision.record.last_error == "actor died: killed"


def test_a_failed_main_loop_is_restarted():
    decision = decide(ActorRecord(state=ALIVE), answered(state="failed", error="boom"), T0, POLICY)
    assert decision.action is Action.RESTART_LOOP
    assert (decision.record.state, decision.record.restarts) == (FAILED, 1)
    assert "boom" in decision.record.last_error


def test_a_restart_by_ray_in_place_is_counted_but_needs_nothing():
    seen = decide(ActorRecord(), answered(started_at=1.0), T0, POLICY).record
    decision = decide(seen, answered(started_at=2.0), T0 + 5, POLICY)
    assert decision.action is Action.NONE
    assert (decision.record.state, decision.record.restarts) == (ALIVE, 1)


def test_past_the_bound_a_gone_actor_is_left_gone_for_a_backoff_then_made_again():
    record = ActorRecord(state=ALIVE)
    for second in range(3):  # three restarts within the window: each made again at once
        decision = decide(record, GONE, T0 + second, POLICY)
        assert decision.action is Action.RECREATE
        record = decision.record
    storm = decide(record, GONE, T0 + 3, POLICY)
    assert storm.action is Action.NONE  # the fourth within 60 s: back off
    assert storm.record.state == BACKING_OFF
    assert storm.record.restarts == 4
    assert "4 times within 60 s" in storm.record.last_error
    assert "backing off for 10 s" in storm.record.last_error
    assert storm.record.backoff_until == T0 + 3 + 10
    # During the backoff nothing is done, whatever the checks find.
    waiting = decide(storm.record, GONE, T0 + 12, POLICY)
    assert (waiting.action, waiting.record) == (Action.NONE, storm.record)
    # Then it is made again, and starts afresh.
    resumed = decide(waiting.record, GONE, T0 + 13, POLICY)
    assert resumed.action is Action.RECREATE
    assert resumed.record.state == STARTING
    assert resumed.record.backoff_until is None


def test_a_failing_actor_past_the_bound_is_stopped_for_the_backoff():
    record = ActorRecord(state=ALIVE)
    failed = answered(state="failed", error="model crashed")
    for second in range(3):
        record = decide(record, failed, T0 + second, POLICY).record
    storm = decide(record, failed, T0 + 3, POLICY)
    assert storm.action is Action.STOP
    assert storm.record.state == BACKING_OFF
    assert "model crashed" in storm.record.last_error


def test_restarts_spread_wider_than_the_window_never_make_a_storm():
    record = ActorRecord(state=ALIVE)
    for minute in range(10):
        decision = decide(record, GONE, T0 + 61 * minute, POLICY)
        assert decision.action is Action.RECREATE
        record = decision.record
    assert record.restarts == 10
    assert record.state == DEAD


def test_backoffs_double_with_each_storm_in_a_row_up_to_the_cap():
    assert [backoff_for(storms, POLICY) for storms in (1, 2, 3, 4)] == [10, 20, 35, 35]
    record = ActorRecord(state=ALIVE)
    now = T0
    pauses = []
    for _ in range(3):
        for _ in range(4):
            decision = decide(record, GONE, now, POLICY)
            record = decision.record
            now += 1
        pauses.append(record.backoff_until - (now - 1))
        now = record.backoff_until
        record = decide(record, GONE, now, POLICY).record  # made again after the backoff
    assert pauses == [10, 20, 35]


def test_a_whole_window_up_resets_the_backoff():
    record = ActorRecord(state=ALIVE, storms=2)
    record = decide(record, answered(), T0, POLICY).record
    assert record.storms == 2  # up, but not for a window yet
    record = decide(record, answered(), T0 + 60, POLICY).record
    assert record.storms == 0


def test_unit_tests_of_pure_code_cannot_start_ray():
    with pytest.raises(AssertionError, match=r"ray\.init"):
        ray.init()


def test_a_re_created_actor_is_counted_once_not_again_at_its_first_answer():
    seen = decide(ActorRecord(), answered(started_at=1.0), T0, POLICY).record
    gone = decide(seen, GONE, T0 + 5, POLICY)
    assert gone.action is Action.RECREATE
    back = decide(gone.record, answered(started_at=9.0), T0 + 10, POLICY)
    assert (back.action, back.record.state, back.record.restarts) == (Action.NONE, ALIVE, 1)
