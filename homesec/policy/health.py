"""The system's health, from what the front door can see: a pure function of the facts.

``unhealthy``: PostgreSQL or Redis does not answer, so nothing works. ``degraded``: the API
works but a stage cannot do its work: the pipeline is not running, an actor is not alive, an
actor reports a problem (waiting for a dependency, no detector model, the LLM down and the rules
engine scoring instead, a camera folder it cannot read), or a queue is stuck. ``healthy``:
none of that. Every reason is a :class:`~homesec.contract.reports.Problem` saying what to do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

import msgspec

from homesec.contract.reports import ActorStatus, Problem
from homesec.policy.supervision import UNPLACED
from homesec.policy.text import shorten

# Ray's word for an actor that is up and serving.
ALIVE = "ALIVE"
# The Supervisor's word for an actor that has not answered a health check yet.
STARTING = "STARTING"
# An entry delivered and not acknowledged for this long, or a backlog nobody takes from for
# this long, is a stuck queue (a batch of 8 on a slow CPU takes seconds, not minutes).
QUEUE_STUCK_SECONDS = 300.0
UNPLACED_REMEDY = (
    "start (or bring back) a Ray node with what it waits for (README: Growing to a cluster); "
    "Ray places it there by itself, and its queue waits meanwhile"
)


class QueueActivity(msgspec.Struct, frozen=True, kw_only=True):
    queue: str
    length: int
    pending: int
    oldest_pending_idle_seconds: float | None  # the longest a delivered entry waits for its ack
    oldest_entry_age_seconds: float | None  # since the oldest entry of the stream was added


def queue_problem(activity: QueueActivity, bound: float = QUEUE_STUCK_SECONDS) -> Problem | None:
    idle = activity.oldest_pending_idle_seconds
    if idle is not None and idle > bound:
        return Problem(
            component=activity.queue,
            summary=f"{activity.queue} is stuck: an entry delivered {idle:.0f} s ago is not done",
            remedy="see the consumers' state and last errors (`homesec status`)",
        )
    age = activity.oldest_entry_age_seconds
    if activity.pending == 0 and activity.length > 0 and age is not None and age > bound:
        return Problem(
            component=activity.queue,
            summary=(
                f"{activity.queue} is stuck: {activity.length} entries wait, the oldest for "
                f"{age:.0f} s, and no consumer takes them"
            ),
            remedy="see whether its consumers run (`homesec status`)",
        )
    return None


def actor_problems(actors: Iterable[ActorStatus]) -> list[Problem]:
    """Each actor's own problems, and one for each actor that is not alive."""
    problems: list[Problem] = []
    for actor in actors:
        if actor.state.upper() != ALIVE:
            why = f": {actor.last_error.splitlines()[0]}" if actor.last_error else ""
            problems.append(
                Problem(
                    component=actor.name,
                    summary=shorten(f"{actor.name} is {actor.state}{why}"),
                    remedy=UNPLACED_REMEDY
                    if actor.state.upper() == UNPLACED
                    else "see its last error (`homesec status`); the supervisor restarts it",
                )
            )
        problems.extend(actor.problems)
    return problems


def overall_status(*, services_up: bool, problems: Sequence[Problem]) -> str:
    if not services_up:
        return "unhealthy"
    return "degraded" if problems else "healthy"


def sightings(
    seen: Mapping[str, dt.datetime], actors: Iterable[ActorStatus], checked_at: dt.datetime
) -> dict[str, dt.datetime]:
    """``seen`` (each actor's first report in which it was alive, by its ``checked_at``) brought
    up to this report: actors alive for the first time are added, those gone from it dropped."""
    actors = list(actors)
    now_alive = {actor.name for actor in actors if actor.state.upper() == ALIVE}
    present = {actor.name for actor in actors}
    kept = {name: first for name, first in seen.items() if name in present}
    return kept | {name: checked_at for name in now_alive if name not in kept}


def starting(
    actors: Sequence[ActorStatus], seen: Mapping[str, dt.datetime], checked_at: dt.datetime
) -> list[str]:
    """The actors that have not reported yet: not answered at all (``STARTING``), or alive in
    this report only. An actor's first answer comes before its start-up work is done (the
    detector answers before it has tried its model), so its problems count from its second
    report on. No actors at all: the Supervisor's first round is not done."""
    if not actors:
        return ["supervisor"]
    return sorted(
        actor.name
        for actor in actors
        if actor.state.upper() == STARTING
        or (actor.state.upper() == ALIVE and seen.get(actor.name, checked_at) >= checked_at)
    )


def badge(status: str, starting_actors: Sequence[str]) -> str:
    """The dashboard's word for the system: ``starting`` until every actor has reported
    (unless PostgreSQL or Redis is down), else the status."""
    return "starting" if starting_actors and status != "unhealthy" else status
