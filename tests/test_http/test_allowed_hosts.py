"""Issue 21: the Host header names this machine, or the request is refused (DNS rebinding).

A page on evil.example whose name an attacker re-points at 127.0.0.1 sends ``Host:
evil.example`` and an ``Origin`` that agrees with it, so the cross-site check alone let it in.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import httpx
import msgspec
import pytest
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import AsyncTestClient

from homesec.http.hosts import allowed_hosts, host_name
from homesec.http.server import build_server
from homesec.ops.ports import free_port
from tests.support.waiting import eventually

LOG_LINE = {"level": "INFO", "message": "x"}


def test_the_default_list_is_loopback_this_machine_and_the_bind_address(settings) -> None:
    hosts = allowed_hosts(msgspec.structs.replace(settings, host="192.0.2.77"))
    assert {"localhost", "127.0.0.1", "::1", "192.0.2.77"} <= hosts
    assert socket.gethostname().lower() in hosts
    # The names a phone on the home network reaches this box by (mDNS, the router's DNS).
    short = socket.gethostname().split(".")[0].lower()
    assert {f"{short}.local", f"{short}.lan", f"{short}.fritz.box"} <= hosts
    assert "evil.example" not in hosts and f"{short}.evil.example" not in hosts
    # A wildcard bind is not a name anyone sends.
    assert "0.0.0.0" not in allowed_hosts(msgspec.structs.replace(settings, host="0.0.0.0"))


def test_the_setting_and_the_public_url_extend_it(settings) -> None:
    extended = msgspec.structs.replace(
        settings,
        allowed_hosts=("cams.example.net",),
        public_url="https://alerts.example.org:8443",
    )
    assert {"cams.example.net", "alerts.example.org"} <= allowed_hosts(extended)


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("localhost:8000", "localhost"),
        ("LOCALHOST", "localhost"),
        ("[::1]:8000", "::1"),
        ("[::1]", "::1"),
        ("127.0.0.1", "127.0.0.1"),
        ("cams.example.net.", "cams.example.net"),
        ("", None),
        ("[::1", None),
        ("a b", None),
        ("evil.example:80:80", None),
    ],
)
def test_host_names_are_read_strictly(header, name) -> None:
    assert host_name(header) == name


async def test_a_made_up_host_is_a_400_even_when_the_origin_agrees(make_app) -> None:
    async with AsyncTestClient(make_app(), base_url="http://evil.example:8000") as client:
        posted = await client.post(
            "/api/logs", json=LOG_LINE, headers={"Origin": "http://evil.example:8000"}
        )
        assert posted.status_code == 400, posted.text
        assert posted.headers["content-type"].startswith("application/problem+json")
        assert "evil.example" in posted.json()["detail"]
        assert (await client.get("/api/events")).status_code == 400
        assert (await client.get("/health")).status_code == 400
        with (
            pytest.raises(WebSocketDisconnect) as closed,
            await client.websocket_connect("/ws/events") as socket_,
        ):
            socket_.receive_json(timeout=5)
        assert closed.value.code == 1008


async def test_loopback_names_are_allowed(make_app) -> None:
    # ([::1] is checked by test_host_names_are_read_strictly: the test client cannot send it.)
    for base in ["http://localhost:8000", "http://127.0.0.1:8000"]:
        async with AsyncTestClient(make_app(), base_url=base) as client:
            posted = await client.post("/api/logs", json=LOG_LINE, headers={"Origin": base})
            assert posted.status_code == 201, (base, posted.text)


@pytest.fixture
async def served(make_app, settings) -> AsyncIterator[int]:
    port = free_port()
    server = build_server(make_app(), "127.0.0.1", port, log_level="warning")
    serving = asyncio.create_task(server.serve())
    await eventually(lambda: server.started, 10, "uvicorn to listen", interval=0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        async with asyncio.timeout(15):
            await serving


async def test_dns_rebinding_over_a_real_socket(served) -> None:
    port = served
    url = f"http://127.0.0.1:{port}/api/logs"
    async with httpx.AsyncClient() as http:
        evil = f"evil.example:{port}"
        refused = await http.post(
            url, json=LOG_LINE, headers={"Host": evil, "Origin": f"http://{evil}"}
        )
        assert refused.status_code == 400, refused.text
        accepted = await http.post(
            url, json=LOG_LINE, headers={"Origin": f"http://127.0.0.1:{port}"}
        )
        assert accepted.status_code == 201, accepted.text
