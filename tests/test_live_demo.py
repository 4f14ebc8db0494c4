"""`rtrec demo --protocol live`: a simulated GPT-Live call through the real relay."""

from __future__ import annotations

import glob
import json
import sqlite3
from pathlib import Path

from tests.conftest import run_cli


def test_demo_records_a_gpt_live_call_with_everything_in_it(db_path: str, tmp_path: Path):
    result = run_cli("demo", "--protocol", "live", db_path=db_path, timeout=120)
    assert result.returncode == 0, result.stderr.decode()
    out = result.stdout.decode()
    assert "simulated GPT-Live server" in out and "assistant delegates the lookup" in out
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        (session,) = conn.execute("SELECT * FROM sessions").fetchall()
        items = conn.execute("SELECT role, text FROM items ORDER BY position").fetchall()
        statuses = [r[0] for r in conn.execute("SELECT status FROM responses ORDER BY created_ms")]
        (call,) = conn.execute("SELECT kind, name, output FROM tool_calls").fetchall()
        turns = conn.execute("SELECT latency_ms FROM turns ORDER BY turn").fetchall()
    finally:
        conn.close()
    assert (session["protocol"], session["model"], session["source"]) == (
        "live",
        "gpt-live-1",
        "demo",
    )
    assert session["provider_session_id"].startswith("live_")
    assert session["usage_seconds"] > 0 and session["closed_reason"] == "close_requested"
    assert session["audio_in_ms"] > 5000 and session["audio_out_ms"] > 5000
    assert [(i["role"], i["text"]) for i in items][:3] == [
        ("user", "What's the weather like in Paris today?"),
        ("assistant", "Okay, let me check that."),
        ("assistant", "In Paris it is sunny and 22 degrees right now."),
    ]
    assert [i["role"] for i in items][3:] == ["user", "assistant", "user", "assistant"]
    assert items[4]["text"].startswith("Once upon a time")  # the story the user talked over
    assert statuses == ["completed", "completed", "interrupted", "completed"]
    assert (call["kind"], call["name"]) == ("delegation", "client")
    assert json.loads(call["output"]) == {"city": "Paris", "forecast": "sunny and 22 degrees"}
    assert len(turns) == 3 and all(t["latency_ms"] is not None for t in turns)
    for path in glob.glob(db_path + "*"):
        with open(path, "rb") as f:
            assert b"sk-demo-0000" not in f.read()
    wav = run_cli(
        "export-wav", "last", "--out", str(tmp_path / "wav"), "--timeline", db_path=db_path
    )
    assert wav.returncode == 0, wav.stderr.decode()
    assert {p.name for p in (tmp_path / "wav").iterdir()} == {
        "user.wav",
        "assistant.wav",
        "timeline.wav",
    }
