"""Errors of the operations layer: each one carries a message a user can act on."""

from __future__ import annotations


class OpsError(RuntimeError):
    """Root of the errors that stop `homesec` commands with one clear line."""


class ServiceUnreachable(OpsError):
    """A configured PostgreSQL, Redis or Ray is not answering."""


class EmbeddedServerError(OpsError):
    """An embedded PostgreSQL or Redis could not be started or stopped."""


class PipelineNotRunning(OpsError):
    """A part of the running pipeline (an actor) that a request needs is not there right now."""
