"""The error root: every error that stops a `homesec` command or an API call with one clear line a
user can act on derives from :class:`HomesecError`."""

from __future__ import annotations


class HomesecError(RuntimeError):
    """Root of the errors that carry a message a user can act on."""


class ServiceUnreachable(HomesecError):
    """A configured PostgreSQL, Redis or Ray is not answering."""


class PipelineNotRunning(HomesecError):
    """A part of the running pipeline (an actor) that a request needs is not there right now."""
