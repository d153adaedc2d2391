"""Dashboard sessions: a login turns an API key into a cookie, so the key stays on the server.

The cookie holds a random token; Redis holds ``session:{sha256(token)}`` -> the hash of the key
that logged in, with the session's lifetime as its TTL. A request with the cookie is let in
while that key is still active, so revoking a key ends every session it opened (within the key
cache's few seconds). Only the token's hash is stored: a copy of Redis opens no session.
"""

from __future__ import annotations

import hashlib
import secrets

import redis.asyncio as aioredis

from homesec.store import web_sessions

SESSION_COOKIE = "homesec_session"
TOKEN_BYTES = 32


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore:
    """Sessions in Redis; each lasts ``lifetime_seconds`` from its login (not sliding)."""

    def __init__(self, redis: aioredis.Redis, lifetime_seconds: int) -> None:
        self._redis = redis
        self.lifetime_seconds = lifetime_seconds

    async def open(self, key_hash: str) -> str:
        """A new session for the key with this hash; the token goes into the cookie."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        await web_sessions.open_session(
            self._redis, _token_hash(token), key_hash, self.lifetime_seconds
        )
        return token

    async def key_hash(self, token: str | None) -> str | None:
        """The hash of the key that opened the session; None when there is no such session."""
        if not token or len(token) > 200:
            return None
        return await web_sessions.session_key_hash(self._redis, _token_hash(token))

    async def close(self, token: str | None) -> None:
        if token and len(token) <= 200:
            await web_sessions.close_session(self._redis, _token_hash(token))
