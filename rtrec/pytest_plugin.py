"""rtrec's pytest plugin (registered through the `pytest11` entry point).

The `rtrec_replay_server` fixture turns a recorded call into a server your Realtime
client can be tested against::

    async def test_my_agent_handles_the_weather_call(rtrec_replay_server):
        url = rtrec_replay_server("tests/calls/weather.jsonl", pace="client")
        client = AsyncOpenAI(api_key="sk-test", websocket_base_url=url)
        async with client.realtime.connect(model="gpt-realtime") as connection:
            ...  # your agent's code: it gets the recorded server events

The factory takes an `rtrec export` JSONL file (or any file `rtrec import` reads), or
an rtrec database and a session (`"last"`, an id, a uuid prefix).  Each call starts a
server on 127.0.0.1 (a port of its own, on a thread of its own, so it works from sync
and async tests alike) that serves every connecting client its own replay; all of
them stop when the test ends.  It returns the URL to use as the SDK's
`websocket_base_url` (any path works for other clients), with `.clients`: one
`rtrec.replay.session.ClientReport` per client that connected, for assertions
(`strict_failure`, `server_events_sent`, `completed`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from rtrec.replay.background import BackgroundReplayServer
    from rtrec.replay.session import ClientReport

JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")


class ReplayURL(str):
    """The server's URL (a str), plus the reports of the clients it served."""

    server: BackgroundReplayServer

    @property
    def clients(self) -> list[ClientReport]:
        return self.server.reports


def start_replay_server(
    recording: str | os.PathLike[str],
    session: str = "last",
    *,
    pace: str = "client",
    speed: float = 1.0,
    idle_limit: float | None = None,
    strict: bool = False,
    types: Sequence[str] = (),
    start: str | None = None,
    until: str | None = None,
    workdir: str | os.PathLike[str] | None = None,
) -> BackgroundReplayServer:
    """A started replay server for a recording; stop it with `.stop()`.

    A JSONL recording is imported into a database in `workdir` (default: beside a
    temporary file) first.
    """
    from rtrec.replay.background import BackgroundReplayServer
    from rtrec.replay.selection import Bound, Selection, TypeFilter
    from rtrec.replay.session import PACES, ReplayOptions
    from rtrec.replay.source import ReplaySource
    from rtrec.replay.timeline import check_idle_limit, check_speed

    if pace not in PACES:
        raise ValueError(f"pace must be one of {PACES}, not {pace!r}")
    path = Path(recording)
    if path.suffix.lower() in JSONL_SUFFIXES:
        db_path, session = _imported(path, Path(workdir) if workdir else None), "last"
    else:
        db_path = str(path)
    selection = Selection(
        start=Bound.parse(start) if start is not None else None,
        end=Bound.parse(until) if until is not None else None,
        types=TypeFilter.parse(types),
    )
    options = ReplayOptions(check_speed(speed), check_idle_limit(idle_limit), pace, strict)
    server = BackgroundReplayServer(ReplaySource.open(db_path, session, selection), options)
    server.start()
    return server


def _imported(path: Path, workdir: Path | None) -> str:
    import tempfile

    from rtrec.store.db import open_db
    from rtrec.store.importer import import_jsonl

    directory = workdir or Path(tempfile.mkdtemp(prefix="rtrec-replay-"))
    db_path = str(directory / f"{path.stem}.rtrec.db")
    conn = open_db(db_path)
    try:
        with path.open("rb") as lines:
            import_jsonl(conn, lines, source_name=str(path))
    finally:
        conn.close()
    return db_path


@pytest.fixture
def rtrec_replay_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., ReplayURL]]:
    """Factory: `rtrec_replay_server(recording, session="last", pace="client", ...)` → URL.

    Keyword arguments: pace ("client" or "clock"), speed, idle_limit (seconds),
    strict, types (event type patterns), start / until ("12.5" seconds or "#SEQ").
    """
    servers: list[BackgroundReplayServer] = []

    def launch(
        recording: str | os.PathLike[str],
        session: str = "last",
        *,
        pace: str = "client",
        speed: float = 1.0,
        idle_limit: float | None = None,
        strict: bool = False,
        types: Sequence[str] = (),
        start: str | None = None,
        until: str | None = None,
        workdir: str | os.PathLike[str] | None = None,
    ) -> ReplayURL:
        server = start_replay_server(
            recording,
            session,
            pace=pace,
            speed=speed,
            idle_limit=idle_limit,
            strict=strict,
            types=types,
            start=start,
            until=until,
            workdir=workdir if workdir is not None else tmp_path_factory.mktemp("rtrec-replay"),
        )
        servers.append(server)
        url = ReplayURL(server.url)
        url.server = server
        return url

    yield launch
    for server in servers:
        server.stop()
