"""aimock (npm @copilotkit/aimock 1.43) as a third-party server, and a frame tap before it.

.ci/run installs it under .ci/aimock; RTREC_AIMOCK may name another dist/cli.js.
Without Node or aimock the tests that need it skip, saying why.  The tap is a
plain WebSocket hop that writes down every frame it passes, so that what rtrec
recorded can be compared with what the third-party server really sent and got.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import subprocess
from pathlib import Path
from types import TracebackType

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parents[1]
AIMOCK_VERSION = "1.43.0"
DEFAULT_CLI = (
    ROOT / ".ci" / "aimock" / "node_modules" / "@copilotkit" / "aimock" / "dist" / "cli.js"
)
CI_NODE = ROOT / ".ci" / "node" / "node_modules" / ".bin" / "node"


def node_binary() -> str:
    """Node >= 20.15 (what aimock needs): .ci/node's, else the one on PATH; or a skip."""
    node = str(CI_NODE) if CI_NODE.exists() else shutil.which("node")
    if node is None:
        pytest.skip("aimock tests need Node.js (node is not on PATH); .ci/run installs it")
    found = subprocess.run([node, "--version"], capture_output=True, text=True, check=False)
    version = tuple(int(x) for x in re.findall(r"\d+", found.stdout)[:2])
    if version < (20, 15):
        pytest.skip(f"aimock needs Node >= 20.15, {node} is {found.stdout.strip() or '?'}")
    return node


def aimock_cli() -> Path:
    """aimock's CLI script, or a skip naming what is missing."""
    cli = Path(os.environ.get("RTREC_AIMOCK") or DEFAULT_CLI)
    if not cli.is_file():
        pytest.skip(
            f"aimock is not installed at {cli}: "
            f"npm install --prefix .ci/aimock @copilotkit/aimock@{AIMOCK_VERSION}"
        )
    return cli


class Aimock:
    """`node aimock/dist/cli.js -p 0 -f FIXTURES` on 127.0.0.1; its URL read from its log."""

    def __init__(self, fixtures: Path) -> None:
        self.fixtures = fixtures
        self.url = ""
        self._process: asyncio.subprocess.Process | None = None
        self._drain: asyncio.Task[bytes] | None = None

    async def __aenter__(self) -> Aimock:
        node, cli = node_binary(), aimock_cli()
        self._process = await asyncio.create_subprocess_exec(
            node,
            str(cli),
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--fixtures",
            str(self.fixtures),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        assert self._process.stdout is not None
        seen = []
        while True:
            line = (await asyncio.wait_for(self._process.stdout.readline(), 30)).decode()
            if not line:
                raise AssertionError(f"aimock exited: {''.join(seen)}")
            seen.append(line)
            found = re.search(r"listening on http://(127\.0\.0\.1:\d+)", line)
            if found:
                self.url = f"ws://{found[1]}"
                break
        self._drain = asyncio.create_task(self._process.stdout.read())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.terminate()
            await asyncio.wait_for(self._process.wait(), 30)
        if self._drain is not None:
            await self._drain


class FrameTap:
    """A WebSocket hop to `upstream` (same path and query) that logs every frame."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.log: list[tuple[str, str | bytes]] = []
        self._server: Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"ws://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def __aenter__(self) -> FrameTap:
        self._server = await serve(self._handle, "127.0.0.1", 0, max_size=None)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, client: ServerConnection) -> None:
        assert client.request is not None
        async with connect(self.upstream + client.request.path, max_size=None) as server:

            async def pump(source, sink, direction: str) -> None:  # type: ignore[no-untyped-def]
                with contextlib.suppress(ConnectionClosed):
                    async for frame in source:
                        self.log.append((direction, frame))
                        await sink.send(frame)
                await sink.close()

            await asyncio.gather(pump(client, server, "client"), pump(server, client, "server"))
