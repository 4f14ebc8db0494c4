"""Recorder databases for the fleet tests, and the two sides their checks compare.

Three recorders with different sessions:
- host-a: `rtrec demo`, run as a user runs it;
- host-b: the real recorded sessions (Realtime, and GPT-Live and Gemini Live where the
  shared fixtures are beside the checkout) imported;
- host-c: calls made through the relay: the openai SDK's voice-agent call, a call whose
  tool fails (another model), and one the upstream ends.

`view_rows` reads a database's own views with sqlite3; `dataset_rows` reads the same
table from a dataset with DuckDB.  Both give rows keyed by column name, normalized
(timestamps to µs, booleans to bool) so that equal rows compare equal.
"""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import sqlite3
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from openai import AsyncOpenAI
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosedError

from rtrec.recorder.service import Recorder
from rtrec.sim.server import Simulator
from rtrec.store.db import open_db
from rtrec.store.importer import import_jsonl
from rtrec.store.snapshot import VIEWS
from tests.conftest import real_session_files, run_cli
from tests.sdk_call import WEATHER_TOOL, voice_agent_call

ROOT = Path(__file__).resolve().parents[2]
# Every view the export writes (README's schema table lists them: see test_sql.py).
TABLES = VIEWS
RECORDERS = ("host-a", "host-b", "host-c")
TOOL_ERROR = {"error": "weather service unavailable"}
UPSTREAM_CLOSE = (1011, "upstream overloaded")


def other_protocol_fixtures() -> list[Path]:
    """The GPT-Live and Gemini Live recordings: in tests/fixtures once copied there, else
    in the shared fixtures beside the checkout (as CI lays them out)."""
    found: list[Path] = []
    for family in ("live", "gemini"):
        for base in (
            ROOT / "tests" / "fixtures" / "real-sessions",
            ROOT.parent / "shared" / "fixtures" / "real-sessions",
            ROOT.parents[1] / "shared" / "fixtures" / "real-sessions",
        ):
            files = sorted((base / family).glob("*.jsonl"))
            if files:
                found += files
                break
    return found


def demo_db(path: Path) -> None:
    result = run_cli("demo", "--db", str(path), timeout=180)
    assert result.returncode == 0, result.stderr.decode()


def import_db(path: Path, files: list[Path], *, project: bool = True) -> None:
    conn = open_db(path)
    try:
        for file in files:
            with open(file, "rb") as lines:
                import_jsonl(conn, lines, source_name=file.name, project=project)
    finally:
        conn.close()


def fixtures_db(path: Path) -> None:
    import_db(path, real_session_files() + other_protocol_fixtures())


async def failing_tool_call(relay_url: str) -> None:
    """A typed question answered through get_weather, whose output is an error."""
    client = AsyncOpenAI(api_key="sk-test", websocket_base_url=f"{relay_url}/v1")
    async with client.realtime.connect(model="gpt-realtime-mini") as conn:

        async def until(kind: str) -> Any:
            async for event in conn:
                if event.type == kind:
                    return event
            raise AssertionError(f"closed before {kind}")

        await until("session.created")
        await conn.session.update(
            session={"type": "realtime", "output_modalities": ["text"], "tools": [WEATHER_TOOL]}
        )
        await until("session.updated")
        await conn.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "What's the weather in Oslo?"}],
            }
        )
        await conn.response.create()
        done = await until("response.done")
        call = done.response.output[0]
        await conn.conversation.item.create(
            item={
                "type": "function_call_output",
                "call_id": call.call_id,
                "output": json.dumps(TOOL_ERROR),
            }
        )
        await conn.response.create()
        await until("response.done")


async def upstream_closed_call(db_path: Path) -> None:
    """A session the upstream ends with a close code, right after session.created."""

    async def upstream(ws: ServerConnection) -> None:
        created = {
            "type": "session.created",
            "event_id": "event_up_1",
            "session": {"type": "realtime", "model": "gpt-realtime", "id": "sess_closing"},
        }
        await ws.send(json.dumps(created))
        await ws.close(*UPSTREAM_CLOSE)

    async with serve(upstream, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        async with Recorder(
            str(db_path), upstream=f"ws://127.0.0.1:{port}", port=0, live_status=False
        ) as rec:
            async with connect(f"{rec.url}/v1/realtime?model=gpt-realtime") as ws:
                with pytest.raises(ConnectionClosedError) as closed:
                    async for _ in ws:
                        pass
                assert closed.value.rcvd is not None
                assert (closed.value.rcvd.code, closed.value.rcvd.reason) == UPSTREAM_CLOSE


def relay_db(path: Path) -> None:
    async def go() -> None:
        async with (
            Simulator() as sim,
            Recorder(str(path), upstream=sim.url, port=0, live_status=False) as rec,
        ):
            await voice_agent_call(rec.url)
            await failing_tool_call(rec.url)
        await upstream_closed_call(path)

    asyncio.run(go())


def copy_db(source: Path, target: Path) -> Path:
    """A copy of a database that nobody has open (no -wal or -shm beside it)."""
    for end in ("-wal", "-shm"):
        assert not Path(str(source) + end).exists(), f"{source} is open"
    shutil.copyfile(source, target)
    return target


def generated_lines(events: int, *, audio_bytes: int = 96) -> list[str]:
    """JSONL of a long session: user audio appends with a spoken turn every 200 events."""
    audio = base64.b64encode(bytes(audio_bytes)).decode()
    lines = [
        json.dumps(
            {
                "t": 0.0,
                "dir": "server",
                "event": {"type": "session.created", "session": {"model": "gpt-realtime"}},
            }
        )
    ]
    for n in range(1, events):
        t = n * 0.02
        if n % 200 == 0:
            event: dict[str, Any] = {
                "type": "input_audio_buffer.speech_started",
                "item_id": f"item_{n}",
                "audio_start_ms": n * 20,
            }
            lines.append(json.dumps({"t": t, "dir": "server", "event": event}))
        else:
            event = {"type": "input_audio_buffer.append", "audio": audio}
            lines.append(json.dumps({"t": t, "dir": "client", "event": event}))
    return lines


# ---- the two sides of every comparison ----


def _micros(value: Any) -> Any:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return round(value.timestamp() * 1_000_000)
    return value


def _normalized(row: dict[str, Any], types: dict[str, str]) -> tuple[tuple[str, Any], ...]:
    out = []
    for name, value in sorted(row.items()):
        kind = types.get(name)
        if value is not None and kind == "timestamp":
            value = _micros(value)
        elif value is not None and kind == "bool":
            value = bool(value)
        out.append((name, value))
    return tuple(out)


def schema_types(dataset: Path, table: str) -> dict[str, str]:
    schema = json.loads((dataset / "_rtrec_schema.json").read_text())
    return {c["name"]: c["type"] for c in schema["tables"][table]}


def read_only(db_path: Path) -> sqlite3.Connection:
    """sqlite3 on a database, leaving no -wal or -shm behind when it had none
    (mode=ro alone would create them, and could not remove them)."""
    quiet = not any(Path(str(db_path) + end).exists() for end in ("-wal", "-shm"))
    return sqlite3.connect(f"file:{db_path}?mode=ro{'&immutable=1' if quiet else ''}", uri=True)


def view_rows(db_path: Path, table: str, recorder: str, types: dict[str, str]) -> Counter:
    """A database's own view, every column, plus recorder and session_uuid."""
    conn = read_only(db_path)
    conn.row_factory = sqlite3.Row
    try:
        rows = conn.execute(
            f"SELECT v.*, s.uuid AS session_uuid FROM {table} v "
            "JOIN session s ON s.id = v.session_id"
        ).fetchall()
    finally:
        conn.close()
    return Counter(_normalized({**dict(r), "recorder": recorder}, types) for r in rows)


def dataset_rows(
    dataset: Path, table: str, types: dict[str, str], *, drop: tuple[str, ...] = ("date", "wall_at")
) -> Counter:
    """The same table from the dataset's parts, read back by DuckDB."""
    files = list((dataset / table).glob("*/*/*.parquet"))
    if not files:
        return Counter()
    conn = duckdb.connect()
    try:
        cursor = conn.execute(
            f"SELECT * FROM read_parquet('{dataset}/{table}/*/*/*.parquet', "
            "hive_partitioning = true, union_by_name = true, "
            "hive_types = {'date': DATE, 'recorder': VARCHAR})"
        )
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    finally:
        conn.close()
    return Counter(
        _normalized({k: v for k, v in zip(names, row, strict=True) if k not in drop}, types)
        for row in rows
    )


def part_files(dataset: Path) -> dict[str, tuple[int, int, int]]:
    """Every visible part: path → (inode, size, mtime_ns)."""
    return {
        str(p.relative_to(dataset)): (p.stat().st_ino, p.stat().st_size, p.stat().st_mtime_ns)
        for p in dataset.glob("*/*/*/*.parquet")
    }


def export(db_path: Path, dataset: Path, recorder: str, *flags: str) -> str:
    result = run_cli(
        "export-parquet",
        "--db",
        str(db_path),
        "--out",
        str(dataset),
        "--recorder",
        recorder,
        *flags,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode()
