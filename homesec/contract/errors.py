"""The error root: every error that stops a `homesec` command or an API call with one clear line a
user can act on derives from :class:`HomesecError`. Also the errors one floor raises for a floor
below it to catch (:class:`BatcherUnavailable`: ``actors/`` raises it, ``workflows/`` holds for
it)."""

from __future__ import annotations


class HomesecError(RuntimeError):
    """Root of the errors that carry a message a user can act on."""


class ServiceUnreachable(HomesecError):
    """A configured PostgreSQL, Redis or Ray is not answering."""


class PipelineNotRunning(HomesecError):
    """A part of the running pipeline (an actor) that a request needs is not there right now."""


class BatcherUnavailable(RuntimeError):
    """The camera's Batcher cannot be reached: none runs (yet; the supervisor starts one per
    camera), or it is dead, restarting or not answering. Not the job's fault: the Detector
    holds the hand-over until the Batcher answers."""
