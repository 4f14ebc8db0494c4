"""Issue 17 item 4: `replay --serve` follows record's access rule, on IPv4 and IPv6 alike.

Neither it nor `record` prints a wildcard address (0.0.0.0, ::) as the one to use.
"""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from rtrec.sim.server import Simulator
from tests.conftest import run_cli
from tests.net_listeners import port_of, start_rtrec, stop_rtrec
from tests.replay_support import event_line, import_lines

TOKEN = "replay-token-0123456789abcdef"


def _ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


def one_session(db_path: str) -> int:
    return import_lines(
        db_path,
        [event_line(0.0, "server", {"type": "session.created", "session": {"id": "s"}})],
    )


@pytest.mark.parametrize("address", ["0.0.0.0:0", "[::]:0", "192.0.2.1:0"])
def test_serving_beyond_loopback_needs_a_token(db_path, address):
    session = one_session(db_path)
    result = run_cli("replay", str(session), "--serve", address, db_path=db_path)
    stderr = result.stderr.decode()
    assert result.returncode == 1 and len(stderr.strip().splitlines()) == 1, stderr
    assert "--auth-token" in stderr and "--insecure-no-auth" in stderr
    short = run_cli(
        "replay", str(session), "--serve", address, "--auth-token", "short", db_path=db_path
    )
    assert short.returncode == 1 and "at least 16" in short.stderr.decode()


def test_serve_only_flags_need_serve(db_path):
    session = one_session(db_path)
    for flags in (["--auth-token", TOKEN], ["--insecure-no-auth"], ["--tls-cert", "x.pem"]):
        result = run_cli("replay", str(session), "--jsonl", *flags, db_path=db_path)
        assert result.returncode == 1
        assert f"{flags[0]} applies to --serve" in result.stderr.decode()


async def _serves_with_token(db_path: str, listen: str, loopback: str) -> None:
    session = one_session(db_path)
    process, url, banner = await start_rtrec(
        "replay", str(session), "--db", db_path, "--serve", listen, "--loop",
        "--auth-token", TOKEN,
    )  # fmt: skip
    try:
        assert url == f"ws://{loopback}:{port_of(url)}/v1"  # not 0.0.0.0 or [::]
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url + "/realtime"):
                pass
        async with connect(url + "/realtime", additional_headers={"X-Rtrec-Auth": TOKEN}) as ws:
            assert json.loads(await ws.recv())["type"] == "session.created"
        async with connect(f"{url}/realtime?model=x&rtrec_token={TOKEN}") as ws:
            assert json.loads(await ws.recv())["type"] == "session.created"
    finally:
        out, err, code = await stop_rtrec(process)
    assert refused.value.response.status_code == 401
    assert code == 0 and "Traceback" not in err
    assert "0.0.0.0" not in banner and "[::]" not in banner
    assert "listening on every" in out  # and says how other machines reach it
    assert TOKEN not in out + err + banner  # the query's token is not logged either


async def test_ipv4_wildcard_serves_with_a_token_and_prints_a_usable_address(db_path):
    await _serves_with_token(db_path, "0.0.0.0:0", "127.0.0.1")


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback on this machine")
async def test_ipv6_wildcard_serves_with_a_token_and_prints_a_usable_address(db_path):
    await _serves_with_token(db_path, "[::]:0", "[::1]")


async def test_insecure_no_auth_is_an_explicit_choice(db_path):
    session = one_session(db_path)
    process, url, _ = await start_rtrec(
        "replay", str(session), "--db", db_path, "--serve", "0.0.0.0:0", "--insecure-no-auth"
    )
    try:
        async with connect(url + "/realtime") as ws:
            assert json.loads(await ws.recv())["type"] == "session.created"
        await asyncio.wait_for(process.wait(), 60)  # one replay, then it finishes
    finally:
        _, err, code = await stop_rtrec(process)
    assert code == 0, err


async def test_record_on_a_wildcard_address_prints_a_usable_one(db_path):
    async with Simulator() as sim:
        process, url, banner = await start_rtrec(
            "record", "--db", db_path, "--listen", "0.0.0.0:0", "--upstream", sim.url,
            "--auth-token", TOKEN,
        )  # fmt: skip
        try:
            assert url == f"ws://127.0.0.1:{port_of(url)}" and "0.0.0.0" not in banner
            headers = {"X-Rtrec-Auth": TOKEN}
            async with connect(url + "/v1/realtime", additional_headers=headers) as ws:
                assert json.loads(await ws.recv())["type"] == "session.created"
        finally:
            _, err, code = await stop_rtrec(process)
    assert code == 0 and "listening on every IPv4 address" in err
