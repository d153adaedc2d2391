"""API keys from ``API_KEYS``: stored as SHA-256 hashes in ``api_keys``, never in clear text.

The configured keys are the source of truth for the rows they made (named ``API_KEYS:<hash
prefix>``): a key removed from the variable is deactivated at the next start, so taking a key out
of the configuration revokes it. Keys made any other way are left alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.models import APIKey
from homesec.store.database import create_engine, session_factory

CONFIGURED_PREFIX = "API_KEYS:"


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def sync_api_keys(database_url: str, keys: Iterable[str]) -> int:
    """Store each configured key hashed and active; deactivate configured keys now removed.

    Returns how many configured keys are active.
    """
    hashes = {hash_api_key(key) for key in keys}
    engine = create_engine(database_url, pool_size=1)
    try:
        async with session_factory(engine).begin() as session:
            for key_hash in sorted(hashes):
                statement = insert(APIKey).values(
                    key_hash=key_hash, name=f"{CONFIGURED_PREFIX}{key_hash[:8]}", is_active=True
                )
                await session.execute(
                    statement.on_conflict_do_update(
                        index_elements=[APIKey.key_hash], set_={"is_active": True}
                    )
                )
            removed = update(APIKey).where(
                APIKey.name.startswith(CONFIGURED_PREFIX, autoescape=True),
                APIKey.key_hash.not_in(hashes) if hashes else True,
            )
            await session.execute(removed.values(is_active=False))
            active = await session.scalars(
                select(APIKey.key_hash).where(
                    APIKey.key_hash.in_(hashes), APIKey.is_active.is_(True)
                )
            )
            return len(active.all())
    finally:
        await engine.dispose()


async def active_key_hashes(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    """The hashes of every active key: what a presented key is checked against."""
    async with sessions() as session:
        rows = await session.scalars(select(APIKey.key_hash).where(APIKey.is_active))
        return list(rows.all())
