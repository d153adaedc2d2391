"""Errors of the operations layer (the embedded servers); the root is
:class:`homesec.contract.errors.HomesecError`."""

from __future__ import annotations

from homesec.contract.errors import HomesecError


class EmbeddedServerError(HomesecError):
    """An embedded PostgreSQL or Redis could not be started or stopped."""
