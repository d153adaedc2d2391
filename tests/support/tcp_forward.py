"""A TCP forwarder, as `ssh -L` makes one: ``python -m tests.support.tcp_forward LISTEN_HOST
LISTEN_PORT TARGET_HOST TARGET_PORT``. The cluster tests run it on the head host so a "laptop"
host reaches the job server, which listens on the head's own 127.0.0.1 (as ray_cluster.yaml
has it: an owner reaches it through an SSH tunnel)."""

from __future__ import annotations

import asyncio
import contextlib
import sys


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(ConnectionError, OSError):
            writer.close()


async def main(listen_host: str, listen_port: int, target_host: str, target_port: int) -> None:
    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            target_reader, target_writer = await asyncio.open_connection(target_host, target_port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, target_writer), _pipe(target_reader, writer))

    server = await asyncio.start_server(connected, listen_host, listen_port)
    print(f"forwarding {listen_host}:{listen_port} to {target_host}:{target_port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    host, port, target, target_port = sys.argv[1:5]
    asyncio.run(main(host, int(port), target, int(target_port)))
