"""aimock (`@copilotkit/aimock` 1.43.0), a third-party mock of the providers' APIs, as a
real server process on loopback.

CI installs it with `npm install --prefix .ci/aimock @copilotkit/aimock@1.43.0` (see
.ci/run); `RTREC_AIMOCK_DIR` may point at another installed copy of the package.
Tests that need it skip, saying why, where Node or the package cannot be found.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

from tests.aimock_support import AIMOCK_VERSION, DEFAULT_CLI, aimock_cli, node_binary

VERSION = AIMOCK_VERSION


def package_dir() -> Path:
    configured = os.environ.get("RTREC_AIMOCK_DIR")
    if configured:
        return Path(configured)
    return DEFAULT_CLI.parent.parent


def fixture(name: str) -> Path:
    return package_dir() / "fixtures" / name


def skip_without_aimock() -> None:
    """Skip, saying why, where Node or the aimock package cannot be found."""
    node_binary()
    if not (package_dir() / "dist" / "cli.js").is_file():
        aimock_cli()


@contextlib.asynccontextmanager
async def aimock(*fixtures: Path) -> AsyncIterator[str]:
    """aimock serving these fixture files on a free loopback port; yields its ws:// origin."""
    skip_without_aimock()
    node = node_binary()
    args = [str(package_dir() / "dist" / "cli.js"), "--host", "127.0.0.1", "--port", "0"]
    for path in fixtures:
        args += ["--fixtures", str(path)]
    process = await asyncio.create_subprocess_exec(
        node,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    try:
        seen = []
        while True:
            line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
            if not line:
                raise AssertionError("aimock exited before listening: " + "".join(seen))
            seen.append(line)
            found = re.search(r"listening on http://([\d.]+:\d+)", line)
            if found:
                break
        drain = asyncio.get_running_loop().create_task(process.stdout.read())
        yield f"ws://{found[1]}"
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()
        if "drain" in locals():
            await drain
