"""Processes the relay benchmarks run beside rtrec: an audio echo upstream and a bare relay.

    python -m bench.peers echo  [--loop asyncio|uvloop]
    python -m bench.peers relay --upstream ws://… [--loop asyncio|uvloop]

Each prints its port on the first line of stdout, then serves until killed.

The echo upstream answers an `input_audio_buffer.append` with a
`response.output_audio.delta` carrying the same audio and event_id, the way a voice
server streams audio back, unless the append is marked `"quiet":1` (the assistant is
not speaking then); anything else is echoed as is.  The bare relay is the
websockets docs' two-pump relay with rtrec's connection settings and no recording:
the floor rtrec's hop is measured against.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

APPEND_PREFIX = '{"type":"input_audio_buffer.append",'
DELTA_PREFIX = (
    '{"type":"response.output_audio.delta","response_id":"resp_bench","item_id":"item_bench",'
    '"output_index":0,"content_index":0,'
)
MAX_SIZE = 32 * 1024 * 1024
QUIET = ',"quiet":1}'


async def echo_handler(ws: ServerConnection) -> None:
    try:
        async for message in ws:
            if isinstance(message, str) and message.startswith(APPEND_PREFIX):
                if message.endswith(QUIET):
                    continue  # the assistant is not speaking now
                message = DELTA_PREFIX + message[len(APPEND_PREFIX) :].replace(
                    '"audio":', '"delta":', 1
                )
            await ws.send(message)
    except ConnectionClosed:
        pass


async def run_echo() -> None:
    async with serve(echo_handler, "127.0.0.1", 0, max_size=MAX_SIZE, compression=None) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()


async def _pump(source: object, destination: object) -> None:
    try:
        async for message in source:  # type: ignore[attr-defined]
            await destination.send(message)  # type: ignore[attr-defined]
    except ConnectionClosed:
        pass


async def run_bare_relay(upstream: str) -> None:
    async def handler(client: ServerConnection) -> None:
        assert client.request is not None
        async with connect(
            upstream + client.request.path, max_size=MAX_SIZE, compression=None
        ) as up:
            tasks = [
                asyncio.create_task(_pump(client, up)),
                asyncio.create_task(_pump(up, client)),
            ]
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in tasks:
                task.cancel()

    async with serve(handler, "127.0.0.1", 0, max_size=MAX_SIZE) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=["echo", "relay"])
    parser.add_argument("--upstream")
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    args = parser.parse_args()
    coro = run_echo() if args.role == "echo" else run_bare_relay(args.upstream)
    if args.loop == "uvloop":
        import uvloop

        uvloop.run(coro)
    else:
        asyncio.run(coro)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
