"""The system's status and its reasons, from the facts the front door sees."""

from __future__ import annotations

from homesec.contract.reports import ActorStatus, Problem
from homesec.pipeline.health import QueueActivity, actor_problems, overall_status, queue_problem


def activity(**facts) -> QueueActivity:
    values = {
        "queue": "detection_queue",
        "length": 0,
        "pending": 0,
        "oldest_pending_idle_seconds": None,
        "oldest_entry_age_seconds": None,
    }
    return QueueActivity(**(values | facts))


def test_a_queue_moving_or_empty_is_not_stuck():
    assert queue_problem(activity()) is None
    busy = activity(
        length=40, pending=8, oldest_pending_idle_seconds=4, oldest_entry_age_seconds=900
    )
    assert queue_problem(busy) is None  # a long backlog that is being worked through
    waiting = activity(length=3, oldest_entry_age_seconds=100)
    assert queue_problem(waiting, bound=300) is None


def test_an_entry_held_too_long_or_a_backlog_nobody_takes_is_stuck():
    held = queue_problem(activity(length=1, pending=1, oldest_pending_idle_seconds=400), bound=300)
    assert held is not None and "delivered 400 s ago" in held.summary
    orphaned = queue_problem(activity(length=5, oldest_entry_age_seconds=301), bound=300)
    assert orphaned is not None and "no consumer takes them" in orphaned.summary


def test_actors_not_alive_and_their_own_problems_are_reasons():
    own = Problem(component="analyst:0", summary="the openai LLM does not answer", remedy="x")
    actors = [
        ActorStatus(name="detector:0", kind="detector", state="BACKING_OFF", last_error="boom"),
        ActorStatus(name="analyst:0", kind="analyst", state="ALIVE", problems=[own]),
        ActorStatus(name="janitor", kind="janitor", state="ALIVE"),
    ]
    problems = actor_problems(actors)
    assert [p.summary for p in problems] == ["detector:0 is BACKING_OFF: boom", own.summary]


def test_the_status_follows_the_services_and_the_problems():
    problem = Problem(component="x", summary="y")
    assert overall_status(services_up=True, problems=[]) == "healthy"
    assert overall_status(services_up=True, problems=[problem]) == "degraded"
    assert overall_status(services_up=False, problems=[]) == "unhealthy"
