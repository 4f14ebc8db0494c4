"""Issue 16: a client cannot steer the relay, or the operator's key, to another host.

`rtrec record --api-key-env …` runs as a real process in front of a loopback
"upstream"; a second loopback listener plays the attacker's host.  Every request
target that is not origin-form is refused with 400 before anything is dialled: the
attacker sees no connection, the upstream sees none either, no session is recorded.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from rtrec.replay.resend import handshake_headers, target_url
from rtrec.replay.source import RecordedSession
from rtrec.store.reader import SessionRef
from tests.conftest import run_cli
from tests.net_listeners import Upstream, Witness, port_of, raw_request, start_rtrec, stop_rtrec
from tests.replay_support import record_sdk_call

KEY = "sk-proj-operatorKEY0123456789abcdefghij"
ENV = {"RTREC_TEST_KEY": KEY}


def refused_targets(attacker: int) -> list[bytes]:
    evil = f"127.0.0.1:{attacker}".encode()
    return [
        b"@" + evil + b"/v1/realtime",  # the reported attack: the origin becomes userinfo
        b"http://" + evil + b"/v1/realtime",  # absolute-form (was a traceback)
        b"ws://" + evil + b"/v1/realtime",
        b"wss://" + evil + b"/v1/realtime",
        evil,  # authority-form
        b"//" + evil + b"/v1/realtime",  # network-path reference
        b"\\\\" + evil + b"/v1/realtime",
        b"/\\" + evil + b"/v1/realtime",  # backslash, which WHATWG parsers read as '/'
        b"/v1/realtime\\@" + evil,
        b"/v1/realtime#@" + evil,
        b"/v1/realtime\x00@" + evil,  # NUL
        b"/v1/realtime\r@" + evil,  # a bare CR
        b"/v1/realtime\r\nHost: " + evil,  # CR LF: header injection
        b"/v1/real time@" + evil,  # raw space
        b"/v1/realtime\t@" + evil,
        b"/v1/realtime/../../@" + evil,
        b"/v1/%2e%2e/%2E%2E/realtime",
        b"/v1/realtime%2F%2F" + evil,
        b"/v1/realtime?x=%zz",
        "/v1/realtime/é".encode(),  # raw non-ASCII
        b"*",
    ]


async def test_every_non_origin_form_target_is_refused_before_anything_is_dialled(db_path):
    async with Upstream() as upstream, Witness() as attacker:
        process, relay, banner = await start_rtrec(
            "record",
            "--db",
            db_path,
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            upstream.url,
            "--api-key-env",
            "RTREC_TEST_KEY",
            env=ENV,
        )
        try:
            answers = {}
            for target in refused_targets(attacker.port):
                answers[target] = await raw_request(port_of(relay), target)
            # A control: a good target does reach the upstream, with the key.
            good = await raw_request(port_of(relay), b"/v1/realtime?model=gpt-realtime")
        finally:
            _, err, code = await stop_rtrec(process)
    for target, answer in answers.items():
        assert answer.status == 400, (target, answer.raw[:200])
    assert attacker.connections == 0 and not attacker.received
    assert good.status == 101
    assert [s.path for s in upstream.seen] == ["/v1/realtime?model=gpt-realtime"]
    (only,) = upstream.seen
    assert only.header("Authorization") == f"Bearer {KEY}"
    assert only.header("Host") == f"127.0.0.1:{upstream.port}"
    assert code == 0 and "Traceback" not in err and KEY not in err + banner
    sessions = json.loads(run_cli("sessions", "--json", db_path=db_path).stdout)
    assert len(sessions) == 1  # the control; no refused target left a session


async def test_a_redirect_from_the_upstream_is_not_followed(db_path):
    async with Witness() as attacker:
        location = f"ws://127.0.0.1:{attacker.port}/v1/realtime"
        async with Upstream("redirect", location) as upstream:
            process, relay, banner = await start_rtrec(
                "record",
                "--db",
                db_path,
                "--listen",
                "127.0.0.1:0",
                "--upstream",
                upstream.url,
                "--api-key-env",
                "RTREC_TEST_KEY",
                env=ENV,
            )
            try:
                answer = await raw_request(port_of(relay), b"/v1/realtime")
            finally:
                _, err, _ = await stop_rtrec(process)
    assert answer.status == 502 and b"Location" not in answer.raw
    assert "redirect" in answer.body
    assert len(upstream.seen) == 1
    assert attacker.connections == 0
    assert "Traceback" not in err and KEY not in err + banner
    (session,) = json.loads(run_cli("sessions", "--json", db_path=db_path).stdout)
    assert session["end_reason"] == "upstream_refused"


@pytest.mark.parametrize("status", [301, 307, 308])
async def test_replay_to_does_not_follow_redirects_either(db_path, status):
    original = await record_sdk_call(db_path)
    async with Witness() as attacker:
        location = f"ws://127.0.0.1:{attacker.port}/v1/realtime"
        async with Upstream("redirect", location, status) as upstream:
            result = await asyncio.to_thread(
                run_cli,
                "replay",
                str(original),
                "--to",
                upstream.url,
                db_path=db_path,
                env={"OPENAI_API_KEY": KEY},
            )
    stderr = result.stderr.decode()
    assert result.returncode == 1 and "does not follow redirects" in stderr
    assert len(stderr.strip().splitlines()) == 1 and KEY not in stderr
    assert attacker.connections == 0
    assert upstream.seen[0].header("Authorization") == f"Bearer {KEY}"  # loopback: allowed


async def test_the_upstream_gets_what_the_client_sent_less_cookies_and_the_relay_token(db_path):
    token = "relay-token-0123456789abcdef"
    async with Upstream() as upstream:
        process, relay, _ = await start_rtrec(
            "record", "--db", db_path, "--listen", "127.0.0.1:0", "--upstream", upstream.url,
            "--auth-token", token,
        )  # fmt: skip
        headers = (
            b"Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            b"Authorization: Bearer sk-client-own-key-000000\r\nOpenAI-Beta: realtime=v1\r\n"
            b"Cookie: localhost-app=secret\r\nOrigin: http://localhost:3000\r\n"
            b"X-Rtrec-Auth: " + token.encode() + b"\r\n"
        )
        try:
            answer = await raw_request(port_of(relay), b"/v1/realtime?model=m", headers)
        finally:
            await stop_rtrec(process)
    assert answer.status == 101 and b"Set-Cookie" not in answer.raw
    (seen,) = upstream.seen
    assert seen.header("Host") == f"127.0.0.1:{upstream.port}"
    assert seen.header("Authorization") == "Bearer sk-client-own-key-000000"
    assert seen.header("OpenAI-Beta") == "realtime=v1"
    assert seen.header("Origin") == "http://localhost:3000"
    assert seen.header("Cookie") is None and seen.header("X-Rtrec-Auth") is None
    assert token not in repr(seen.headers) and seen.path == "/v1/realtime?model=m"


def test_replay_to_adds_openai_api_key_only_for_openai_and_loopback():
    recorded = RecordedSession(SessionRef(1, "0" * 32, 0, None), path="/v1/realtime", model="m")
    env = {"OPENAI_API_KEY": KEY}
    for url in ("wss://api.openai.com", "ws://127.0.0.1:9", "ws://localhost:9", "ws://[::1]:9"):
        headers = handshake_headers([], recorded, env, target_url(url, recorded))
        assert ("Authorization", f"Bearer {KEY}") in headers, url
    for url in (
        "wss://api.x.ai",
        "wss://res.openai.azure.com",
        "wss://api.openai.com.evil.example",
        "wss://evil.example/api.openai.com",
    ):
        headers = handshake_headers([], recorded, env, target_url(url, recorded))
        assert all(KEY not in value for _, value in headers), url
    # An explicit --header is the way to send a key elsewhere.
    given = ["Authorization: Bearer sk-xai-0000000000"]
    headers = handshake_headers(given, recorded, env, target_url("wss://api.x.ai", recorded))
    assert headers == [("Authorization", "Bearer sk-xai-0000000000")]
    assert target_url("wss://api.openai.com", recorded) == (
        "wss://api.openai.com/v1/realtime?model=m"
    )
