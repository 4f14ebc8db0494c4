"""Who may use the relay, the key the relay holds itself, and user redaction."""

from __future__ import annotations

import glob
import json
import re
import signal
import sqlite3

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from rtrec.access import AccessPolicy
from rtrec.recorder.service import Recorder
from rtrec.sim.options import SimOptions
from rtrec.sim.server import Simulator
from tests.conftest import run_cli, start_recorder

TOKEN = "relay-token-0123456789abcdef"
KEY = "sk-proj-relayHELDkey0123456789abcdef"


def file_bytes(db_path: str) -> bytes:
    content = b""
    for path in glob.glob(db_path + "*"):
        with open(path, "rb") as f:
            content += f.read()
    return content


def test_binding_beyond_loopback_needs_a_token_or_an_explicit_opt_out(db_path):
    result = run_cli("record", "--listen", "0.0.0.0:0", db_path=db_path)
    assert result.returncode != 0
    assert "--auth-token" in result.stderr.decode() and "Traceback" not in result.stderr.decode()
    short = run_cli("record", "--listen", "0.0.0.0:0", "--auth-token", "short", db_path=db_path)
    assert "at least 16" in short.stderr.decode()
    AccessPolicy.for_listen("0.0.0.0", None, insecure_no_auth=True)  # allowed when asked
    AccessPolicy.for_listen("127.0.0.1", None, insecure_no_auth=False)
    AccessPolicy.for_listen("::1", None, insecure_no_auth=False)


async def test_token_in_header_or_query_and_never_recorded_or_forwarded(db_path):
    log: list[tuple[str, str | bytes]] = []
    async with Simulator(SimOptions(frame_log=log)) as sim:
        policy = AccessPolicy(TOKEN)
        async with Recorder(
            db_path, upstream=sim.url, port=0, live_status=False, access=policy
        ) as rec:
            with pytest.raises(InvalidStatus) as refused:
                async with connect(rec.url + "/v1/realtime"):
                    pass
            assert refused.value.response.status_code == 401
            with pytest.raises(InvalidStatus):
                async with connect(
                    rec.url + "/v1/realtime", additional_headers={"X-Rtrec-Auth": "wrong"}
                ):
                    pass
            async with connect(
                rec.url + "/v1/realtime", additional_headers={"X-Rtrec-Auth": TOKEN}
            ) as ws:
                assert json.loads(await ws.recv())["type"] == "session.created"
            async with connect(
                rec.url + f"/v1/realtime?model=gpt-realtime&rtrec_token={TOKEN}"
            ) as ws:
                assert json.loads(await ws.recv())["session"]["model"] == "gpt-realtime"
    assert TOKEN.encode() not in file_bytes(db_path)
    with sqlite3.connect(db_path) as db:
        queries = [row[0] for row in db.execute("SELECT query FROM session ORDER BY id")]
    assert queries == ["", "model=gpt-realtime"]  # refused attempts are not sessions


async def test_the_relay_adds_the_upstream_key_itself(db_path, tmp_path):
    async with Simulator(SimOptions(require_key=KEY)) as sim:
        process, relay_url, banner = await start_recorder(
            db_path,
            sim.url,
            "--api-key-env",
            "RTREC_TEST_UPSTREAM_KEY",
            env={"RTREC_TEST_UPSTREAM_KEY": KEY, "PATH": "/usr/bin:/bin"},
        )
        # A browser-like client with no key, and one sending a wrong key: both get in.
        for headers in ({}, {"Authorization": "Bearer sk-wrong-but-replaced-000000"}):
            async with connect(relay_url + "/v1/realtime", additional_headers=headers) as ws:
                assert json.loads(await ws.recv())["type"] == "session.created"
                await ws.send(
                    json.dumps(
                        {
                            "type": "conversation.item.create",
                            "item": {
                                "type": "message",
                                "role": "user",
                                "content": [{"type": "input_text", "text": f"echo {KEY}"}],
                            },
                        }
                    )
                )
                await ws.recv()
        process.send_signal(signal.SIGTERM)
        out, err = await process.communicate()
        assert process.returncode == 0
    assert KEY not in (banner + out.decode() + err.decode())
    assert KEY.encode() not in file_bytes(db_path)
    result = run_cli("sessions", "--json", db_path=db_path)
    assert [row["end_reason"] for row in json.loads(result.stdout)] == ["client_closed"] * 2


async def test_redact_patterns_apply_to_the_log_not_the_wire(db_path):
    log: list[tuple[str, str | bytes]] = []
    card = "4111-1111-1111-1111"
    async with Simulator(SimOptions(frame_log=log)) as sim:
        patterns = (re.compile(r"\b\d{4}-\d{4}-\d{4}-\d{4}\b"),)
        async with Recorder(
            db_path, upstream=sim.url, port=0, live_status=False, redact=patterns
        ) as rec:
            async with connect(rec.url + "/v1/realtime") as ws:
                await ws.recv()
                await ws.send(
                    json.dumps(
                        {
                            "type": "conversation.item.create",
                            "item": {
                                "type": "message",
                                "role": "user",
                                "content": [{"type": "input_text", "text": f"my card is {card}"}],
                            },
                        }
                    )
                )
                await ws.recv()
    assert any(isinstance(f, str) and card in f for d, f in log if d == "client")
    with sqlite3.connect(db_path) as db:
        rows = db.execute(
            "SELECT payload, redacted FROM events WHERE type = 'conversation.item.create'"
        ).fetchall()
    ((payload, redacted),) = rows
    assert redacted == 1 and card not in payload and "[redacted]" in payload
    assert card.encode() not in file_bytes(db_path)


def test_bad_redact_pattern(db_path):
    result = run_cli("record", "--redact", "(unclosed", db_path=db_path)
    assert result.returncode != 0 and "bad --redact" in result.stderr.decode()
