"""Field types shared by the schemas."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from homesec.models.base import MAX_INTEGER

# PostgreSQL text cannot hold a NUL character; refusing it here gives a clear 400 instead.
NO_NUL = r"^[^\x00]*$"

# Database integer ids are int4.
MAX_DB_INT = MAX_INTEGER


def text(max_length: int, *, min_length: int = 0, description: str | None = None):
    """A string of bounded length without NUL characters."""
    return Annotated[
        str,
        Meta(min_length=min_length, max_length=max_length, pattern=NO_NUL, description=description),
    ]


DbId = Annotated[int, Meta(ge=1, le=MAX_DB_INT)]
