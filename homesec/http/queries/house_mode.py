"""The house's mode as the API reads it, and who is asking (for the change log). Changes are
written by :func:`homesec.store.house_modes.set_mode`."""

from __future__ import annotations

from litestar.connection import ASGIConnection
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.contract.house_mode import HOUSE_MODES, ModeChange
from homesec.http.auth import presented_key, session_token
from homesec.http.schemas import house_mode as schemas
from homesec.http.services import Services
from homesec.models import APIKey
from homesec.store import house_modes
from homesec.store.api_keys import hash_api_key

# Who changed the mode when the front door asks for no key (API_KEY_ENABLED off).
WITHOUT_KEYS = "dashboard"


def to_mode(change: ModeChange) -> schemas.HouseMode:
    return schemas.HouseMode(
        mode=change.mode,
        since=change.changed_at,
        changed_by=change.changed_by,
        modes=list(HOUSE_MODES),
    )


async def current(sessions: async_sessionmaker[AsyncSession]) -> schemas.HouseMode:
    return to_mode(await house_modes.current(sessions))


async def history(
    sessions: async_sessionmaker[AsyncSession], limit: int
) -> schemas.HouseModeHistory:
    changes = await house_modes.history(sessions, limit)
    items = [
        schemas.HouseModeChange(
            mode=change.mode, changed_at=change.changed_at, changed_by=change.changed_by or ""
        )
        for change in changes
        if change.changed_at is not None
    ]
    return schemas.HouseModeHistory(items=items, count=len(items))


async def caller(connection: ASGIConnection, services: Services) -> str:
    """Who is asking, as the change log records it: the name of the API key presented, or of
    the key the dashboard session was opened with; ``dashboard`` when keys are off."""
    key = presented_key(connection.scope)
    key_hash = hash_api_key(key) if key else None
    if key_hash is None:
        key_hash = await services.web_sessions.key_hash(session_token(connection.scope))
    if key_hash is None:
        return WITHOUT_KEYS
    async with services.sessions() as session:
        name = await session.scalar(select(APIKey.name).where(APIKey.key_hash == key_hash))
    return f"key {name}" if name else WITHOUT_KEYS
