"""API keys from API_KEYS are stored hashed, and removing one from the variable revokes it."""

from __future__ import annotations

import hashlib

from sqlalchemy import select, text

from homesec.models import APIKey
from homesec.store.api_keys import hash_api_key, sync_api_keys


async def _rows(sessions) -> dict[str, bool]:
    async with sessions() as session:
        rows = await session.execute(select(APIKey.key_hash, APIKey.is_active))
        return dict(rows.all())


def test_hash_is_sha256_hex():
    assert hash_api_key("abc") == hashlib.sha256(b"abc").hexdigest()


async def test_keys_are_stored_hashed_never_in_clear(migrated_database_url, db_sessions):
    assert await sync_api_keys(migrated_database_url, ["key-one", "key-two"]) == 2
    rows = await _rows(db_sessions)
    assert rows == {hash_api_key("key-one"): True, hash_api_key("key-two"): True}
    async with db_sessions() as session:
        dump = await session.execute(text("SELECT api_keys::text FROM api_keys"))
        assert not any("key-one" in line or "key-two" in line for line in dump.scalars())


async def test_sync_is_idempotent_and_revokes_removed_keys(migrated_database_url, db_sessions):
    await sync_api_keys(migrated_database_url, ["key-one", "key-two"])
    assert await sync_api_keys(migrated_database_url, ["key-one", "key-two"]) == 2
    assert await sync_api_keys(migrated_database_url, ["key-two"]) == 1
    rows = await _rows(db_sessions)
    assert rows == {hash_api_key("key-one"): False, hash_api_key("key-two"): True}
    # Putting a key back re-activates it.
    assert await sync_api_keys(migrated_database_url, ["key-one", "key-two"]) == 2
    assert all((await _rows(db_sessions)).values())


async def test_keys_made_elsewhere_are_left_alone(migrated_database_url, db_sessions):
    async with db_sessions.begin() as session:
        session.add(APIKey(key_hash=hash_api_key("dashboard"), name="dashboard", is_active=True))
    assert await sync_api_keys(migrated_database_url, []) == 0
    assert (await _rows(db_sessions))[hash_api_key("dashboard")] is True
