"""The system's status and its reasons, from the facts the front door sees."""

from __future__ import annotations

import datetime as dt

from homesec.contract.reports import ActorStatus, Problem
from homesec.policy.health import (
    QueueActivity,
    actor_problems,
    badge,
    overall_status,
    queue_problem,
    sightings,
    starting,
)


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


def test_an_actor_waiting_for_a_node_says_what_it_waits_for_and_how_to_give_it_one():
    waits = "waiting for a Ray node with CPU 1, GPU 0.5: no live node has GPU"
    [problem] = actor_problems(
        [ActorStatus(name="detector:0", kind="detector", state="UNPLACED", last_error=waits)]
    )
    assert problem.summary == f"detector:0 is UNPLACED: {waits}"
    assert problem.remedy is not None and "Ray node" in problem.remedy
    assert "restarts it" not in problem.remedy  # no restart helps: a node must join


def test_the_status_follows_the_services_and_the_problems():
    problem = Problem(component="x", summary="y")
    assert overall_status(services_up=True, problems=[]) == "healthy"
    assert overall_status(services_up=True, problems=[problem]) == "degraded"
    assert overall_status(services_up=False, problems=[]) == "unhealthy"


def test_an_actor_is_starting_until_a_second_report_finds_it_alive():
    first = dt.datetime(2026, 1, 2, 12, 0, 0, tzinfo=dt.UTC)
    second = first + dt.timedelta(seconds=5)
    # The first round: the detector answered (before it tried its model), the janitor not yet.
    actors = [
        ActorStatus(name="detector:0", kind="detector", state="ALIVE"),
        ActorStatus(name="janitor", kind="janitor", state="STARTING"),
    ]
    seen = sightings({}, actors, first)
    assert seen == {"detector:0": first}
    assert starting(actors, seen, first) == ["detector:0", "janitor"]
    assert badge("healthy", starting(actors, seen, first)) == "starting"
    # Asked again before the Supervisor's next round: still the same report, still starting.
    assert starting(actors, sightings(seen, actors, first), first) == ["detector:0", "janitor"]
    # The next round: the detector has reported its model problem; the janitor answered once.
    later = [
        ActorStatus(
            name="detector:0", kind="detector", state="ALIVE",
            problems=[Problem(component="detector:0", summary="no detector engine: ...")],
        ),
        ActorStatus(name="janitor", kind="janitor", state="ALIVE"),
    ]  # fmt: skip
    seen = sightings(seen, later, second)
    assert starting(later, seen, second) == ["janitor"]
    third = second + dt.timedelta(seconds=5)
    seen = sightings(seen, later, third)
    assert starting(later, seen, third) == []
    assert badge("degraded", []) == "degraded"
    # A failed actor is a problem, not a start; down services outrank a start.
    failed = [ActorStatus(name="analyst:0", kind="analyst", state="FAILED")]
    assert starting(failed, sightings({}, failed, third), third) == []
    assert badge("unhealthy", ["janitor"]) == "unhealthy"
    # No actors yet: the Supervisor's first round is not done.
    assert starting([], {}, first) == ["supervisor"]
    # An actor gone from the report is forgotten; back later, it starts again.
    assert sightings(seen, [later[1]], third) == {"janitor": second}
