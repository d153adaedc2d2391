"""The system's health, from what the front door can see: a pure function of the facts.

``unhealthy``: PostgreSQL or Redis does not answer, so nothing works. ``degraded``: the API
works but a stage cannot do its work: the pipeline is not running, an actor is not alive, an
actor reports a problem (waiting for a dependency, no detector model, the LLM down and the rules
engine scoring instead, a camera folder it cannot read), or a queue is stuck. ``healthy``:
none of that. Every reason is a :class:`~homesec.contract.reports.Problem` saying what to do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import msgspec

from homesec.contract.reports import ActorStatus, Problem
from homesec.pipeline.text import shorten

# Ray's word for an actor that is up and serving.
ALIVE = "ALIVE"
# An entry delivered and not acknowledged for this long, or a backlog nobody takes from for
# this long, is a stuck queue (a batch of 8 on a slow CPU takes seconds, not minutes).
QUEUE_STUCK_SECONDS = 300.0


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
                    remedy="see its last error (`homesec status`); the supervisor restarts it",
                )
            )
        problems.extend(actor.problems)
    return problems


def overall_status(*, services_up: bool, problems: Sequence[Problem]) -> str:
    if not services_up:
        return "unhealthy"
    return "degraded" if problems else "healthy"
