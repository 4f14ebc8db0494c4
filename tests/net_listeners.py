"""Listeners on loopback that say what reached them, and a raw HTTP client, for the security tests.

- `Upstream`: a real WebSocket server standing in for an upstream; it keeps every
  handshake request it received (path, headers) and accepts, refuses or redirects.
- `Witness`: a plain TCP listener (the "attacker"): it counts every connection and
  keeps whatever bytes arrive, so any connection at all is seen, HTTP or not.
- `raw_request`: one request written byte for byte on a socket, the answer read back.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import re
import signal
import sys
from dataclasses import dataclass, field
from types import TracebackType

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response


@dataclass
class Seen:
    path: str
    headers: list[tuple[str, str]]

    def header(self, name: str) -> str | None:
        values = [v for n, v in self.headers if n.lower() == name.lower()]
        return ", ".join(values) if values else None


class Upstream:
    """mode: "accept" (101, one message, close 1000), "refuse" (404) or "redirect" (3xx)."""

    def __init__(self, mode: str = "accept", location: str = "", status: int = 302) -> None:
        self.mode = mode
        self.location = location
        self.status = status
        self.seen: list[Seen] = []
        self.port = 0
        self._server: Server | None = None

    async def __aenter__(self) -> Upstream:
        self._server = await serve(
            self._handle,
            "127.0.0.1",
            0,
            process_request=self._process_request,
            process_response=self._process_response,
        )
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        self.seen.append(Seen(request.path, list(request.headers.raw_items())))
        if self.mode == "refuse":
            return connection.respond(404, "from-upstream\n")
        if self.mode == "redirect":
            response = connection.respond(self.status, "moved\n")
            response.headers["Location"] = self.location
            return response
        return None

    def _process_response(
        self, connection: ServerConnection, request: Request, response: Response
    ) -> None:
        response.headers["Set-Cookie"] = "upstream-session=1; Secure"

    async def _handle(self, connection: ServerConnection) -> None:
        await connection.send('{"type":"session.created","from":"upstream"}')
        await connection.close(1000, "done")


@dataclass
class Witness:
    """A TCP listener that never answers and remembers everything that reached it."""

    connections: int = 0
    received: bytearray = field(default_factory=bytearray)
    port: int = 0
    _server: asyncio.Server | None = None

    async def __aenter__(self) -> Witness:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        with contextlib.suppress(Exception):
            while chunk := await reader.read(65536):
                self.received += chunk
        writer.close()


def upgrade_headers(host: str = "127.0.0.1") -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"Host: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
    ).encode()


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: closed without an HTTP answer
    raw: bytes

    @property
    def body(self) -> str:
        return self.raw.partition(b"\r\n\r\n")[2].decode("utf-8", "replace")


async def raw_request(
    port: int,
    target: bytes,
    headers: bytes | None = None,
    *,
    method: bytes = b"GET",
    timeout: float = 30,
) -> Answer:
    """Write `METHOD TARGET HTTP/1.1` and the headers as given; read until the server closes.

    A 101 answer is read up to the end of its headers, then the socket is closed.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        extra = upgrade_headers() if headers is None else headers
        writer.write(method + b" " + target + b" HTTP/1.1\r\n" + extra + b"\r\n")
        await writer.drain()
        raw = b""
        async with asyncio.timeout(timeout):
            while chunk := await reader.read(65536):
                raw += chunk
                if raw.startswith(b"HTTP/1.1 101") and b"\r\n\r\n" in raw:
                    break
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
    found = re.match(rb"HTTP/1\.[01] (\d{3})", raw)
    return Answer(int(found[1]) if found else None, raw)


async def start_rtrec(
    *args: str, env: dict[str, str] | None = None, banner: str = r"(wss?://\S+)"
) -> tuple[asyncio.subprocess.Process, str, str]:
    """`rtrec ARGS` as a real process; (process, the first URL its first line names, the line).

    `record` announces itself on stderr, `replay --serve` on stdout.
    """
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "rtrec",
        *args,
        env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stream = process.stdout if args[0] == "replay" else process.stderr
    assert stream is not None
    line = (await asyncio.wait_for(stream.readline(), 60)).decode()
    found = re.search(banner, line)
    assert found, line
    return process, found[1], line


async def stop_rtrec(process: asyncio.subprocess.Process) -> tuple[str, str, int]:
    """SIGTERM, then (stdout, stderr, exit status)."""
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return out.decode(), err.decode(), process.returncode


def port_of(url: str) -> int:
    found = re.search(r":(\d+)(/|$)", url)
    assert found, url
    return int(found[1])
