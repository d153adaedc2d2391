"""Serving the app with uvicorn, and the check that refuses an unprotected public bind.

The runner owns the lifecycle: ``server = build_server(app, host, port)`` then
``server.run()`` in a thread (or ``await server.serve()`` on a loop); ``server.should_exit =
True`` stops it gracefully. :func:`serve` is the blocking one-liner for everything else.
"""

from __future__ import annotations

import ipaddress

import uvicorn
from litestar import Litestar

from homesec.contract.errors import HomesecError
from homesec.settings import Settings


class InsecureBindError(HomesecError):
    """The API would be reachable from the network with no API key required."""


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name other than localhost: may resolve to anything
        return False


def check_bind_safety(settings: Settings) -> None:
    """Raise :class:`InsecureBindError` for a non-loopback ``HOMESEC_HOST`` without API keys,
    unless ``HOMESEC_ALLOW_INSECURE_BIND`` says the user means it."""
    if _is_loopback(settings.host) or settings.api_key_enabled or settings.allow_insecure_bind:
        return
    raise InsecureBindError(
        f"HOMESEC_HOST={settings.host} would expose the API to the network without API keys; "
        "set API_KEY_ENABLED=true with API_KEYS, bind to 127.0.0.1, or set "
        "HOMESEC_ALLOW_INSECURE_BIND=true if the network is trusted"
    )


def build_server(app: Litestar, host: str, port: int, *, log_level: str = "info") -> uvicorn.Server:
    """A uvicorn server for ``app``, not yet started; set ``should_exit = True`` to stop it."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level.lower(),
        lifespan="on",
        # Stop waiting for open WebSockets after a while on shutdown; they reconnect.
        timeout_graceful_shutdown=5,
        proxy_headers=False,
    )
    return uvicorn.Server(config)


def serve(app: Litestar, host: str, port: int) -> None:
    """Run until interrupted (SIGINT/SIGTERM, handled by uvicorn)."""
    build_server(app, host, port).run()
