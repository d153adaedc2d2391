"""Who may use the front door: API keys, dashboard sessions, and the cross-site request check.

With ``API_KEY_ENABLED`` every route needs a key except liveness (``/health``), the API docs
(``/schema``), the login and logout pages and the static files (vendored libraries, no data).
A key comes as ``X-API-Key``, as ``Authorization: Bearer`` (what Prometheus and Home
Assistant send), or, for a WebSocket, as ``api_key`` in the query string. A browser logs in
once (``/login``) and then sends the session cookie instead (:mod:`homesec.http.sessions`);
pages, images and WebSockets all accept it. A browser that is not logged in is sent to the
login page; an API client gets 401.

The presented key is hashed (SHA-256, as stored in ``api_keys``) and compared in constant time
with every active hash; the active hashes are cached for a few seconds, so a revoked key (and
every session it opened) stops working within that time without a database round trip.

DNS rebinding: every request (and WebSocket) whose ``Host`` header does not name this machine is
refused with 400 (a WebSocket: closed with 1008) before anything else (:mod:`homesec.http.hosts`).

Cross-site request forgery: the cookie is ``SameSite=Strict``, and, keys on or off, a request
with an unsafe method (and every WebSocket handshake) whose ``Origin`` names another host, or
that the browser marks ``Sec-Fetch-Site: cross-site``, is refused with 403 (a WebSocket: closed
with 1008). Clients that are not browsers send no ``Origin`` and are not affected.
"""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Awaitable, Callable
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs, quote, urlsplit

from litestar import Litestar
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.status_codes import WS_1008_POLICY_VIOLATION
from litestar.types import ASGIApp, Receive, Scope, Send

from homesec.http.errors import BadRequest, Forbidden, Unauthorized
from homesec.http.hosts import host_problem
from homesec.http.sessions import SESSION_COOKIE
from homesec.store.api_keys import hash_api_key

API_KEY_HEADER = "X-API-Key"
API_KEY_QUERY = "api_key"
KEY_CACHE_SECONDS = 5.0
LOGIN_PATH = "/login"

# The request paths that never need a key.
PUBLIC_PATHS = re.compile(r"^/health$|^/schema(/|$)|^/static/|^/login$|^/logout$")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Pages a browser opens by address: without a session it is sent to the login page.
API_PATHS = re.compile(r"^/api/|^/ws/|^/metrics$|^/health/")

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
        return await self.accepts_hash(hash_api_key(key))

    async def accepts_hash(self, key_hash: str | None) -> bool:
        """Whether ``key_hash`` is the hash of an active key (a session's key is checked so)."""
        if not key_hash:
            return False
        now = self._clock()
        if self._loaded_at is None or now - self._loaded_at >= self._ttl:
            self._hashes = await self._load()
            self._loaded_at = now
        presented = key_hash.encode()
        # Compare with every hash, without stopping at a match, so the time taken does not
        # depend on which key (if any) matched.
        matched = False
        for stored in self._hashes:
            matched |= hmac.compare_digest(presented, stored.encode())
        return matched


def _header(scope: Scope, wanted: str) -> str | None:
    wanted = wanted.lower()
    for name, value in scope.get("headers", ()):
        if name.decode("latin-1").lower() == wanted:
            return value.decode("latin-1")
    return None


def presented_key(scope: Scope) -> str | None:
    """The key in ``X-API-Key``, ``Authorization: Bearer`` or (WebSocket) ``?api_key=``."""
    key = _header(scope, API_KEY_HEADER)
    if key is not None:
        return key
    authorization = _header(scope, "authorization")
    if authorization is not None:
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return credentials.strip()
    if scope["type"] == ScopeType.WEBSOCKET:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        values = query.get(API_KEY_QUERY)
        return values[0] if values else None
    return None


def session_token(scope: Scope) -> str | None:
    """The session cookie's token, if the request carries one."""
    header = _header(scope, "cookie")
    if not header:
        return None
    cookies = SimpleCookie()
    try:
        cookies.load(header)
    except CookieError:  # a malformed Cookie header: as if there were no session
        return None
    morsel = cookies.get(SESSION_COOKIE)
    return morsel.value if morsel is not None else None


def cross_site_reason(scope: Scope) -> str | None:
    """Why the request looks sent by another site's page, or None when it does not."""
    origin = _header(scope, "origin")
    host = _header(scope, "host")
    if origin is not None:
        if origin == "null" or urlsplit(origin).netloc.lower() != (host or "").lower():
            return f"the request comes from the page of another site ({origin})"
        return None
    fetch_site = _header(scope, "sec-fetch-site")
    if fetch_site in ("cross-site", "same-site"):
        return "the browser says the request comes from the page of another site"
    return None


def _needs_origin_check(scope: Scope) -> bool:
    return scope["type"] == ScopeType.WEBSOCKET or scope.get("method") not in SAFE_METHODS


class AccessMiddleware(ASGIMiddleware):
    """The Host check, the cross-site check, then a key or a session (when keys are enabled)."""

    scopes = (ScopeType.HTTP, ScopeType.WEBSOCKET)

    def __init__(self, allowed_hosts: frozenset[str]) -> None:
        self.allowed_hosts = allowed_hosts

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        wrong_host = host_problem(_header(scope, "host"), self.allowed_hosts)
        if wrong_host is not None:
            if scope["type"] == ScopeType.WEBSOCKET:
                await _refuse_websocket(receive, send, f"refused: {wrong_host}")
                return
            raise BadRequest(wrong_host)
        if _needs_origin_check(scope):
            reason = cross_site_reason(scope)
            if reason is not None:
                if scope["type"] == ScopeType.WEBSOCKET:
                    await _refuse_websocket(receive, send, f"refused: {reason}")
                    return
                raise Forbidden(f"refused: {reason}; use homesec's own pages or an API key")
        if PUBLIC_PATHS.match(scope["path"]) is not None:
            await next_app(scope, receive, send)
            return
        services = Litestar.from_scope(scope).state.services
        if not services.settings.api_key_enabled or await allowed(scope, services):
            await next_app(scope, receive, send)
            return
        if scope["type"] == ScopeType.WEBSOCKET:
            await _refuse_websocket(
                receive, send, f"a valid API key is required ({API_KEY_QUERY} query parameter)"
            )
            return
        if scope.get("method") == "GET" and API_PATHS.match(scope["path"]) is None:
            await _redirect_to_login(scope, send)
            return
        raise Unauthorized(
            f"a valid API key is required in the {API_KEY_HEADER} header "
            "(or Authorization: Bearer), or a dashboard session (log in at /login)",
            headers={"WWW-Authenticate": API_KEY_HEADER},
        )


async def allowed(scope: Scope, services) -> bool:
    """A valid key, or a session opened with a key that is still active."""
    key = presented_key(scope)
    if key is not None:
        return await services.api_keys.accepts(key)
    token = session_token(scope)
    if token is None:
        return False
    return await services.api_keys.accepts_hash(await services.web_sessions.key_hash(token))


def login_url(path: str, query: bytes = b"") -> str:
    target = path + ("?" + query.decode("latin-1") if query else "")
    return f"{LOGIN_PATH}?next={quote(target, safe='')}"


async def _redirect_to_login(scope: Scope, send: Send) -> None:
    location = login_url(scope["path"], scope.get("query_string", b""))
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [(b"location", location.encode("latin-1")), (b"content-length", b"0")],
        }
    )
    await send({"type": "http.response.body", "body": b""})


async def _refuse_websocket(receive: Receive, send: Send, reason: str) -> None:
    # Accept, then close with 1008: a browser sees the close code and reason; a refusal
    # before the handshake would only show as a failed connection.
    await receive()  # websocket.connect
    await send({"type": "websocket.accept", "subprotocol": None, "headers": []})
    # A close frame's reason holds at most 123 bytes.
    reason = reason.encode()[:120].decode(errors="ignore")
    await send({"type": "websocket.close", "code": WS_1008_POLICY_VIOLATION, "reason": reason})
