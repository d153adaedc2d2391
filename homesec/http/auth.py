"""API keys: ``X-API-Key`` on requests, ``api_key`` in a WebSocket's query string.

With ``API_KEY_ENABLED`` every route needs a key except liveness (``/health``), the API docs
(``/schema``) and the dashboard's static page, which holds no data and asks for the key itself.
The presented key is hashed (SHA-256, as stored in ``api_keys``) and compared in constant time
with every active hash; the active hashes are cached for a few seconds, so a revoked key stops
working within that time without a database round trip per request.
"""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from litestar import Litestar
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.status_codes import WS_1008_POLICY_VIOLATION
from litestar.types import ASGIApp, Receive, Scope, Send

from homesec.http.errors import Unauthorized
from homesec.store.api_keys import hash_api_key

API_KEY_HEADER = "X-API-Key"
API_KEY_QUERY = "api_key"
KEY_CACHE_SECONDS = 5.0

# The request paths that never need a key.
PUBLIC_PATHS = re.compile(r"^/health$|^/schema(/|$)|^/$|^/static/")

ActiveHashLoader = Callable[[], Awaitable[list[str]]]


class ApiKeyStore:
    """The active key hashes, reloaded at most every ``ttl`` seconds."""

    def __init__(
        self, load: ActiveHashLoader, ttl: float = KEY_CACHE_SECONDS, clock=time.monotonic
    ) -> None:
        self._load = load
        self._ttl = ttl
        self._clock = clock
        self._hashes: list[str] = []
        self._loaded_at: float | None = None

    async def accepts(self, key: str | None) -> bool:
        if not key:
            return False
        now = self._clock()
        if self._loaded_at is None or now - self._loaded_at >= self._ttl:
            self._hashes = await self._load()
            self._loaded_at = now
        presented = hash_api_key(key).encode()
        # Compare with every hash, without stopping at a match, so the time taken does not
        # depend on which key (if any) matched.
        matched = False
        for stored in self._hashes:
            matched |= hmac.compare_digest(presented, stored.encode())
        return matched


def presented_key(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name.decode("latin-1").lower() == API_KEY_HEADER.lower():
            return value.decode("latin-1")
    if scope["type"] == ScopeType.WEBSOCKET:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        values = query.get(API_KEY_QUERY)
        return values[0] if values else None
    return None


class ApiKeyMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP, ScopeType.WEBSOCKET)

    @staticmethod
    def should_bypass_for_scope(scope: Scope) -> bool:
        return PUBLIC_PATHS.match(scope["path"]) is not None

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        services = Litestar.from_scope(scope).state.services
        if not services.settings.api_key_enabled or await services.api_keys.accepts(
            presented_key(scope)
        ):
            await next_app(scope, receive, send)
            return
        if scope["type"] == ScopeType.WEBSOCKET:
            await _refuse_websocket(receive, send)
            return
        raise Unauthorized(
            f"a valid API key is required in the {API_KEY_HEADER} header",
            headers={"WWW-Authenticate": API_KEY_HEADER},
        )


async def _refuse_websocket(receive: Receive, send: Send) -> None:
    # Accept, then close with 1008: a browser sees the close code and reason; a refusal
    # before the handshake would only show as a failed connection.
    await receive()  # websocket.connect
    await send({"type": "websocket.accept", "subprotocol": None, "headers": []})
    await send(
        {
            "type": "websocket.close",
            "code": WS_1008_POLICY_VIOLATION,
            "reason": f"a valid API key is required ({API_KEY_QUERY} query parameter)",
        }
    )
