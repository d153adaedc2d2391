"""The host names the API answers to: a defence against DNS rebinding.

A page on evil.example can re-point its name at 127.0.0.1 after loading; its requests then reach
homesec with ``Host: evil.example`` and an ``Origin`` that agrees, which the cross-site check
(Origin against Host) cannot tell from homesec's own pages. So the Host header must name this
machine: loopback, its host names and addresses, the bind address (``HOMESEC_HOST``), the host
of ``HOMESEC_PUBLIC_URL``, and the names in ``HOMESEC_ALLOWED_HOSTS`` (a reverse proxy's).
The port is not compared: a rebound name reaches the same port either way.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import socket
from urllib.parse import urlsplit

import psutil

from homesec.settings import Settings

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
# Binding to every interface: a browser never sends these as Host.
WILDCARD_BINDS = frozenset({"0.0.0.0", "::", ""})
# The suffixes home networks give a machine's name: mDNS (Avahi, Bonjour) and the usual home
# routers' DNS, so the owner's phone reaches the dashboard as ``nas.local`` or ``nas.fritz.box``.
HOME_NETWORK_SUFFIXES = ("local", "lan", "home", "home.arpa", "localdomain", "fritz.box")

_NAME_AND_PORT = re.compile(r"([a-z0-9.-]+?)\.?(:[0-9]{1,5})?", re.ASCII)
_PORT = re.compile(r"(:[0-9]{1,5})?", re.ASCII)


def host_name(header: str) -> str | None:
    """The name in a ``Host`` header, lower-case, without port or trailing dot; None when the
    header is not a host (and port)."""
    header = header.strip().lower()
    if header.startswith("["):  # an IPv6 address: [::1]:8000
        address, bracket, port = header[1:].partition("]")
        if not bracket or _PORT.fullmatch(port) is None:
            return None
        try:
            return str(ipaddress.IPv6Address(address))
        except ValueError:
            return None
    match = _NAME_AND_PORT.fullmatch(header)
    return match.group(1) if match is not None else None


def machine_names() -> set[str]:
    """This machine's host names (with the home networks' suffixes) and the addresses of its
    interfaces."""
    short = socket.gethostname().split(".")[0]
    names = {socket.gethostname(), socket.getfqdn(), short}
    names |= {f"{short}.{suffix}" for suffix in HOME_NETWORK_SUFFIXES}
    # A host name that does not resolve is no error: its interfaces still count.
    with contextlib.suppress(OSError):
        names |= {str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None)}
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family in (socket.AF_INET, socket.AF_INET6):
                names.add(address.address.split("%")[0])  # no IPv6 zone: a Host has none
    return {_normalised(name) for name in names if name}


def _normalised(name: str) -> str:
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        return name.lower()


def allowed_hosts(settings: Settings) -> frozenset[str]:
    hosts = set(LOOPBACK_NAMES) | machine_names() | set(settings.allowed_hosts)
    bind = settings.host.strip("[]").lower()
    if bind not in WILDCARD_BINDS:
        hosts.add(bind)
    if settings.public_url:
        public = urlsplit(settings.public_url).hostname
        if public:
            hosts.add(public.lower())
    return frozenset(hosts)


def host_problem(header: str | None, allowed: frozenset[str]) -> str | None:
    """Why a request with this ``Host`` header is refused, or None when it names this machine."""
    if header is None:
        return "the request has no Host header"
    name = host_name(header)
    if name is None or name not in allowed:
        return (
            f"this server does not answer to the host {header[:100]!r}; add it to "
            "HOMESEC_ALLOWED_HOSTS if it is this server's name"
        )
    return None
