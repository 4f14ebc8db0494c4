"""README's "Traces" stays true: the sample tree, and every attribute in the tables."""

from __future__ import annotations

import re
from pathlib import Path

from rtrec.otel.spans import TraceOptions
from rtrec.otel.trace import build_trace
from rtrec.store.reading import open_reader
from rtrec.store.trace_source import read_trace_source
from tests.conftest import REAL_SESSIONS, real_session_files, run_cli
from tests.sdk_call import record_call

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
_UUID_HEX = re.compile(r"[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ATTRIBUTE = re.compile(r"`((?:gen_ai|rtrec|server|error)\.[a-z0-9_.]+)`")


def readme_block(first_line: str) -> list[str]:
    """The README code block that begins with `first_line`."""
    block = README[README.index(f"```\n{first_line}\n") + 4 :]
    return block[: block.index("```")].splitlines()


def test_the_dry_run_sample(db_path):
    fixture = REAL_SESSIONS / "test_openai_ws__test_tool_call_round.jsonl"
    assert run_cli("import", str(fixture), db_path=db_path).returncode == 0
    result = run_cli("otel", "last", "--dry-run", db_path=db_path)
    assert result.returncode == 0, result.stderr.decode()
    sample = readme_block("$ rtrec otel last --dry-run")
    assert sample[0] == "$ rtrec otel last --dry-run"
    got = [_UUID_HEX.sub("ID", line) for line in result.stdout.decode().splitlines()]
    assert got == [_UUID_HEX.sub("ID", line) for line in sample[1:]]


def emitted_attributes(db_path: str) -> set[str]:
    """Every attribute and event attribute rtrec puts on the real sessions' traces."""
    for path in real_session_files():
        assert run_cli("import", str(path), db_path=db_path).returncode == 0
    record_call(db_path)  # an error naming its client event, a truncation
    names: set[str] = set()
    conn = open_reader(db_path)
    try:
        ids = [sid for (sid,) in conn.execute("SELECT id FROM session")]
        for session_id in ids:
            trace = build_trace(read_trace_source(conn, session_id), TraceOptions(True, True))
            for span in trace.spans:
                names.update(span.attributes)
                for event in span.events:
                    names.update(event.attributes)
    finally:
        conn.close()
    return names


def test_every_attribute_is_in_the_tables(db_path):
    section = README[README.index("### Span attributes") : README.index("## SQL for analysis")]
    first_cells = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    documented = {name for cell in first_cells for name in _ATTRIBUTE.findall(cell)}
    emitted = emitted_attributes(db_path)
    assert {"gen_ai.tool.name", "rtrec.error.client_event_type", "rtrec.turn.latency_ms"} <= emitted
    assert emitted - documented == set(), "attributes missing from README's tables"
    source = "".join(p.read_text() for p in (ROOT / "rtrec" / "otel").glob("*.py"))
    stale = {name for name in documented if f'"{name}"' not in source}
    assert stale == set(), "README documents attributes rtrec does not send"
