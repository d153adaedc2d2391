"""``/login`` and ``/logout``: an API key, given once, becomes a session cookie.

The key is checked as any presented key is, then forgotten: the browser keeps only the random
session token, in an ``HttpOnly``, ``SameSite=Strict`` cookie (``Secure`` when served over
HTTPS) that expires with the session (``SESSION_HOURS``). Failed logins are limited per client
address, so a key cannot be guessed at speed.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template

from homesec.http.auth import allowed, session_token
from homesec.http.errors import TooManyRequests
from homesec.http.services import ServicesDep
from homesec.http.sessions import SESSION_COOKIE
from homesec.store.api_keys import hash_api_key

MAX_KEY_CHARS = 500


class LoginForm(msgspec.Struct, kw_only=True):
    key: str = ""
    next: str = "/"


def safe_next(target: str | None) -> str:
    """Only a path of this site: never ``//host`` or ``https://host`` (an open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def served_over_https(request: Request) -> bool:
    """HTTPS here, or at the reverse proxy in front (``X-Forwarded-Proto``/``Forwarded``). A
    client that claims it falsely only gets a ``Secure`` cookie its plain-HTTP page drops."""
    if request.url.scheme == "https":
        return True
    forwarded_proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip()
    forwarded = request.headers.get("forwarded", "").lower().replace(" ", "")
    return forwarded_proto.lower() == "https" or "proto=https" in forwarded


def _login_page(next_path: str, error: str | None = None, status_code: int = 200) -> Template:
    return Template(
        template_name="login.html",
        context={"next": next_path, "error": error, "page": "login"},
        status_code=status_code,
    )


@get("/login", include_in_schema=False)
async def login_page(
    request: Request, services: ServicesDep, next: FromQuery[str | None] = None
) -> Template | Redirect:
    target = safe_next(next)
    if not services.settings.api_key_enabled or await allowed(request.scope, services):
        return Redirect(target)
    return _login_page(target)


@post("/login", include_in_schema=False, status_code=303)
async def login(
    request: Request,
    services: ServicesDep,
    data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template | Redirect:
    target = safe_next(data.next)
    if not services.settings.api_key_enabled:
        return Redirect(target, status_code=303)
    key = data.key.strip()
    if not key or len(key) > MAX_KEY_CHARS or not await services.api_keys.accepts(key):
        client = request.client.host if request.client else "unknown"
        wait = services.failed_logins.retry_after(client)
        if wait is not None:
            raise TooManyRequests(
                f"too many failed logins from this address: try again in {wait} s",
                headers={"Retry-After": str(wait)},
            )
        return _login_page(target, "That key is not valid (or it was revoked).", 401)
    token = await services.web_sessions.open(hash_api_key(key))
    response = Redirect(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=services.web_sessions.lifetime_seconds,
        path="/",
        httponly=True,
        samesite="strict",
        secure=served_over_https(request),
    )
    return response


@post("/logout", include_in_schema=False, status_code=303)
async def logout(request: Request, services: ServicesDep) -> Redirect:
    await services.web_sessions.close(session_token(request.scope))
    response = Redirect("/login" if services.settings.api_key_enabled else "/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
