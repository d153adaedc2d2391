"""The app under a real uvicorn on a free 127.0.0.1 port: HTTP, and a WebSocket client that
never reads being dropped while a fast one keeps receiving."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from homesec.http.server import build_server
from homesec.ops.ports import free_port
from tests.support.http_app import relay_subscribed
from tests.support.waiting import eventually

MESSAGES = 120
PAYLOAD = "x" * 200_000  # big messages fill the socket buffers of a client that does not read


@pytest.fixture
async def base_url(make_app) -> AsyncIterator[str]:
    port = free_port()
    server = build_server(make_app(websocket_queue_size=8), "127.0.0.1", port, log_level="warning")
    serving = asyncio.create_task(server.serve())
    # uvicorn offers a flag, not an event, to say it is listening.
    await eventually(lambda: server.started, 10, "uvicorn to listen", interval=0.02)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        async with asyncio.timeout(15):
            await serving


async def test_http_over_a_real_socket(base_url) -> None:
    async with httpx.AsyncClient(base_url=f"http://{base_url}") as http:
        assert (await http.get("/health")).json() == {"status": "alive"}
        assert (await http.get("/health/ready")).status_code == 200
        missing = await http.get("/api/events/123")
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/problem+json")


async def test_a_client_that_never_reads_is_dropped_and_others_keep_receiving(
    base_url, redis_client, events_channel
) -> None:
    # A small receive buffer (fixed, so the kernel does not grow it) and max_queue=1 with no
    # reads: the slow client stops taking bytes off its socket almost at once.
    host, port = base_url.split(":")
    slow_socket = socket.socket()
    slow_socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    slow_socket.connect((host, int(port)))
    slow_socket.setblocking(False)
    async with (
        connect(
            f"ws://{base_url}/ws/events",
            sock=slow_socket,
            max_queue=1,
            max_size=None,
            compression=None,  # else the padding compresses to nothing
        ) as slow,
        connect(f"ws://{base_url}/ws/events", max_size=None, compression=None) as fast,
    ):
        await relay_subscribed(redis_client, events_channel)
        received = []

        async def read_fast() -> None:
            while len(received) < MESSAGES:
                received.append(json.loads(await fast.recv())["n"])

        reader = asyncio.create_task(read_fast())
        for index in range(MESSAGES):
            message = json.dumps({"type": "event", "n": index, "padding": PAYLOAD})
            await redis_client.publish(events_channel, message)
            await asyncio.sleep(0.002)
        async with asyncio.timeout(30):
            await reader
        assert received == list(range(MESSAGES))

        async with httpx.AsyncClient(base_url=f"http://{base_url}") as http:
            metrics = (await http.get("/metrics")).text
        assert "homesec_websocket_dropped_clients 1.0" in metrics
        assert "homesec_websocket_event_clients 1.0" in metrics

        # The slow client, reading at last, finds its connection closed part-way.
        slow_received = 0
        with pytest.raises(ConnectionClosed):
            async with asyncio.timeout(30):
                while True:
                    await slow.recv()
                    slow_received += 1
        assert slow_received < MESSAGES
