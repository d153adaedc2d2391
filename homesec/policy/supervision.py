"""What the Supervisor does about one actor after a health check: a pure function of what it
remembers of the actor, what the check found, and ``now``.

A check finds one of three things: the actor answered (with its :class:`ActorHealth`), it did not
answer in time, or it is gone (dead for good: killed, or its node is gone). The decision:

- answered and running: nothing to do. Its ``started_at`` differing from the one last seen means
  Ray restarted it in place, which counts as a restart;
- answered ``failed`` (its main loop died): restart the main loop;
- gone: create it again;
- no answer (busy, or Ray is restarting it): nothing yet; it is reported ``UNRESPONSIVE``;
- not placed (Ray holds it pending and no live node has the resources it asks for, as when
  the GPU node died): nothing to do either, Ray places it once such a node joins; it is
  reported ``UNPLACED`` with what it waits for (:mod:`homesec.policy.placement`).

**Restart storms.** An actor that keeps dying (a model that crashes its process, a setting that
makes it fail at once) must not be restarted as fast as it fails, filling the logs and starving the
others. Every restart is counted in a sliding window; past ``max_restarts`` within
``window_seconds`` the actor is stopped and left alone for a backoff (``backoff_seconds``,
doubling with each storm in a row, at most ``max_backoff_seconds``), reported ``BACKING_OFF`` with
the reason, then created again. An actor that then stays up for a whole window has its backoff
reset.
"""

from __future__ import annotations

import enum

import msgspec

from homesec.contract.reports import ActorHealth

# Ray's word for an actor that is up and serving; the front door counts only this as healthy.
ALIVE = "ALIVE"
STARTING = "STARTING"
UNRESPONSIVE = "UNRESPONSIVE"
FAILED = "FAILED"
DEAD = "DEAD"
BACKING_OFF = "BACKING_OFF"
UNPLACED = "UNPLACED"


class Outcome(enum.StrEnum):
    ANSWERED = "answered"
    TIMED_OUT = "timed_out"
    GONE = "gone"
    UNPLACED = "unplaced"


class Observation(msgspec.Struct, frozen=True, kw_only=True):
    """What one health check of the actor found."""

    outcome: Outcome
    health: ActorHealth | None = None  # when it answered
    error: str | None = None  # when it is gone: why; when unplaced: what it waits for


class Action(enum.StrEnum):
    NONE = "none"
    RESTART_LOOP = "restart_loop"  # call its run() again: the main loop failed
    RECREATE = "recreate"  # create the actor again: it is gone
    STOP = "stop"  # kill it for the backoff: it restarts faster than it should


class RestartPolicy(msgspec.Struct, frozen=True, kw_only=True):
    max_restarts: int = 5
    window_seconds: float = 300.0
    backoff_seconds: float = 30.0
    max_backoff_seconds: float = 600.0


class ActorRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What the Supervisor remembers of one actor between checks."""

    state: str = STARTING
    restarts: int = 0  # since the Supervisor started
    started_at: float | None = None  # the actor's own start time, from its last answer
    node: str | None = None
    last_error: str | None = None
    restart_times: tuple[float, ...] = ()  # restarts within the policy's window
    backoff_until: float | None = None  # stopped for a backoff until then
    storms: int = 0  # backoffs in a row, for the doubling
    up_since: float | None = None  # first answer since the last restart


class Decision(msgspec.Struct, frozen=True):
    record: ActorRecord
    action: Action


def backoff_for(storms: int, policy: RestartPolicy) -> float:
    """The backoff after ``storms`` storms in a row (the first: ``backoff_seconds``)."""
    return min(policy.backoff_seconds * 2 ** max(0, storms - 1), policy.max_backoff_seconds)


def decide(
    record: ActorRecord, observation: Observation, now: float, policy: RestartPolicy
) -> Decision:
    """The record after ``observation`` and what to do about the actor."""
    if record.backoff_until is not None:
        return _during_backoff(record, observation, now)
    if observation.outcome is Outcome.TIMED_OUT:
        return Decision(msgspec.structs.replace(record, state=UNRESPONSIVE), Action.NONE)
    if observation.outcome is Outcome.UNPLACED:
        # Ray places it when a node with room joins: re-creating it would change nothing. Its
        # first answer there, with a new start time, counts as the restart it is.
        waiting = msgspec.structs.replace(record, state=UNPLACED, last_error=observation.error)
        return Decision(waiting, Action.NONE)
    if observation.outcome is Outcome.GONE:
        error = observation.error or "actor died"
        return _restart(record, now, policy, DEAD, error, Action.RECREATE)
    health = observation.health
    assert health is not None, "an answer carries the actor's health"
    answered = msgspec.structs.replace(
        record,
        started_at=health.started_at,
        node=health.detail.get("node_id") or record.node,
        last_error=health.last_error or record.last_error,
    )
    restarted_by_ray = record.started_at is not None and health.started_at != record.started_at
    if health.state == "failed":
        error = f"main loop failed: {health.last_error}"
        return _restart(answered, now, policy, FAILED, error, Action.RESTART_LOOP)
    if restarted_by_ray:
        # Ray already restarted it; we only count it (and stop it if that makes a storm).
        return _restart(answered, now, policy, ALIVE, answered.last_error, Action.NONE)
    return Decision(_alive(answered, now, policy), Action.NONE)


def _alive(record: ActorRecord, now: float, policy: RestartPolicy) -> ActorRecord:
    up_since = record.up_since if record.up_since is not None else now
    storms = 0 if now - up_since >= policy.window_seconds else record.storms
    return msgspec.structs.replace(record, state=ALIVE, up_since=up_since, storms=storms)


def _restart(
    record: ActorRecord,
    now: float,
    policy: RestartPolicy,
    state: str,
    error: str | None,
    action: Action,
) -> Decision:
    """Count one restart; within the bound do ``action``, past it stop for a backoff."""
    recent = (*(t for t in record.restart_times if now - t < policy.window_seconds), now)
    counted = msgspec.structs.replace(
        record,
        state=state,
        restarts=record.restarts + 1,
        last_error=error,
        restart_times=recent,
        up_since=None,
        # A new actor's first answer has a start time of its own: not another restart.
        started_at=None if action is Action.RECREATE else record.started_at,
    )
    if len(recent) <= policy.max_restarts:
        return Decision(counted, action)
    storms = record.storms + 1
    pause = backoff_for(storms, policy)
    reason = (
        f"restarted {len(recent)} times within {policy.window_seconds:g} s (last: {error}); "
        f"backing off for {pause:g} s"
    )
    stopped = msgspec.structs.replace(
        counted,
        state=BACKING_OFF,
        last_error=reason,
        backoff_until=now + pause,
        storms=storms,
        restart_times=(),
    )
    # An actor that is still there (its loop failed, or Ray restarted it) is stopped, so it does
    # not go on failing during the backoff; one that is gone stays gone until the backoff ends.
    return Decision(stopped, Action.NONE if action is Action.RECREATE else Action.STOP)


def _during_backoff(record: ActorRecord, observation: Observation, now: float) -> Decision:
    """Stopped for a backoff: leave it until the backoff ends, then create it again."""
    assert record.backoff_until is not None
    if now < record.backoff_until:
        return Decision(record, Action.NONE)
    resumed = msgspec.structs.replace(
        record, state=STARTING, backoff_until=None, started_at=None, up_since=None
    )
    if observation.outcome is Outcome.ANSWERED and observation.health is not None:
        # Something made it again meanwhile (Ray, or the plan); take it as it is.
        return Decision(resumed, Action.NONE)
    return Decision(resumed, Action.RECREATE)
