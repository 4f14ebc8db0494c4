"""Peers failing: each ends the session with the right reason and code; the other side is told."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from rtrec.recorder.service import Recorder
from tests.conftest import start_recorder

Handler = Callable[[ServerConnection], Awaitable[None]]


@pytest.fixture
async def upstream_with() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    servers = []

    async def start(handler: Handler) -> str:
        server = await serve(handler, "127.0.0.1", 0, max_size=None, compression=None)
        servers.append(server)
        return f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


def session_row(db_path: str) -> tuple[object, ...]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(
            "SELECT end_reason, client_close_code, client_close_reason, upstream_close_code "
            "FROM session"
        ).fetchone()


async def test_upstream_drops_the_tcp_connection_mid_response(db_path, upstream_with):
    async def handler(ws: ServerConnection) -> None:
        await ws.recv()
        for i in range(3):
            await ws.send(f'{{"type":"response.output_audio.delta","delta":"QUFB","n":{i}}}')
        ws.transport.abort()  # no close frame: the TCP connection just goes

    url = await upstream_with(handler)
    async with Recorder(db_path, upstream=url, port=0, live_status=False) as rec:
        async with connect(rec.url + "/v1/realtime") as ws:
            await ws.send('{"type":"response.create"}')
            got = [await ws.recv() for _ in range(3)]
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            assert ws.close_code == 1011
            assert ws.close_reason == "rtrec: upstream connection lost"
    assert len(got) == 3
    assert session_row(db_path) == (
        "upstream_closed",
        1011,
        "rtrec: upstream connection lost",
        1006,
    )


async def test_upstream_closes_with_an_error_code(db_path, upstream_with):
    async def handler(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.close(1011, "internal server error")

    url = await upstream_with(handler)
    async with Recorder(db_path, upstream=url, port=0, live_status=False) as rec:
        async with connect(rec.url + "/v1/realtime") as ws:
            await ws.send('{"type":"response.create"}')
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            assert (ws.close_code, ws.close_reason) == (1011, "internal server error")
    assert session_row(db_path) == ("upstream_closed", 1011, "internal server error", 1011)


async def test_client_vanishes_without_a_close(db_path, upstream_with):
    told: asyncio.Future[tuple[int | None, str | None]] = asyncio.get_running_loop().create_future()

    async def handler(ws: ServerConnection) -> None:
        try:
            async for _ in ws:
                pass
        except ConnectionClosed:
            pass
        told.set_result((ws.close_code, ws.close_reason))

    url = await upstream_with(handler)
    async with Recorder(db_path, upstream=url, port=0, live_status=False) as rec:
        ws = await connect(rec.url + "/v1/realtime")
        await ws.send('{"type":"response.create"}')
        ws.transport.abort()
        code, reason = await asyncio.wait_for(told, 30)
    assert (code, reason) == (1001, "rtrec: client connection lost")
    row = session_row(db_path)
    assert row[0] == "client_closed" and row[1] == 1006


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


async def test_a_stalled_upstream_pushes_back_instead_of_growing_memory(db_path, upstream_with):
    stalled = asyncio.Event()

    async def handler(ws: ServerConnection) -> None:
        await stalled.wait()  # never reads: its buffers, then the relay's, fill up

    url = await upstream_with(handler)
    process, relay_url, _banner = await start_recorder(db_path, url)
    before = rss_mib(process.pid)
    frame = "x" * (1024 * 1024)
    sent = 0
    async with connect(relay_url + "/v1/realtime", max_size=None, compression=None) as ws:
        try:
            for _ in range(400):  # 400 MiB, if nothing pushed back
                await asyncio.wait_for(ws.send(frame), 3)
                sent += 1
        except TimeoutError:
            pass
        grown = rss_mib(process.pid) - before
        stalled.set()
        ws.transport.abort()
    process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(process.wait(), 30) == 0
    assert sent < 150, f"{sent} MiB went in before the client was held back"
    assert grown < 200, f"the relay grew by {grown:.0f} MiB"
