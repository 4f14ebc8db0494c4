"""Routing by path (no --upstream): OpenAI paths to OpenAI, Gemini paths to Google, own keys.

The real hosts are never dialled: `RTREC_TEST_OPENAI_UPSTREAM` and
`RTREC_TEST_GEMINI_UPSTREAM`, read once at start-up, point the table at loopback
listeners.  Each listener records the handshakes it received, so the test sees which
key went where.
"""

from __future__ import annotations

import glob
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from rtrec.errors import ConfigError
from rtrec.recorder.routing import GEMINI, KNOWN_UPSTREAMS, OPENAI, Routes, family_of_path
from tests.conftest import run_cli
from tests.net_listeners import Upstream, port_of, raw_request, start_rtrec, stop_rtrec

OPENAI_KEY = "sk-proj-openaiROUTEkey0123456789abcdef"
GEMINI_KEY = "AIzaSyGeminiROUTEkey0123456789abcdefgh"
GEMINI_V1BETA = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
GEMINI_V1ALPHA = "/ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContent"
GEMINI_CONSTRAINED = (
    "/ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContentConstrained"
)
OPENAI_PATHS = [
    "/v1/realtime?model=gpt-realtime",
    "/v1/live/sessions",
    "/v1/live/sessions/live_123/attach",
    "/v1/live/sessions/live_123/fork",
]
GEMINI_PATHS = [GEMINI_V1BETA, GEMINI_V1ALPHA, f"{GEMINI_CONSTRAINED}?access_token=auth_tokens/abc"]


def file_bytes(db_path: str) -> bytes:
    content = b""
    for path in glob.glob(db_path + "*"):
        with open(path, "rb") as f:
            content += f.read()
    return content


@pytest.mark.parametrize(
    ("path", "family"),
    [
        ("/v1/realtime", OPENAI),
        ("/v1/realtime/calls/x", OPENAI),
        ("/v1/live/sessions", OPENAI),
        ("/v1/live/sessions/live_1/attach", OPENAI),
        ("/v1/live/sessions/live_1/fork", OPENAI),
        (GEMINI_V1BETA, GEMINI),
        (GEMINI_V1ALPHA, GEMINI),
        (GEMINI_CONSTRAINED, GEMINI),
        ("/v1/realtimex", None),
        ("/v1/live/sessionsx", None),
        ("/openai/realtime", None),  # Azure: needs --upstream
        ("/openai/v1/live/sessions", None),
        ("/v1/models", None),
        ("/v1/files", None),
        ("/", None),
        (GEMINI_V1BETA + "/x", None),
        ("/x" + GEMINI_V1BETA, None),
    ],
)
def test_the_table(path, family):
    assert family_of_path(path) == family


def test_each_route_gets_only_its_own_key():
    routes = Routes.by_path({OPENAI: OPENAI_KEY, GEMINI: GEMINI_KEY})
    openai = routes.route("/v1/realtime")
    gemini = routes.route(GEMINI_V1BETA)
    assert openai.upstream.origin == KNOWN_UPSTREAMS[OPENAI] == "wss://api.openai.com"
    assert gemini.upstream.origin == "wss://generativelanguage.googleapis.com"
    client = [("Authorization", "Bearer sk-client-000000000"), ("x-goog-api-key", "client")]
    assert openai.headers(client) == [("Authorization", f"Bearer {OPENAI_KEY}")]
    assert gemini.headers(client) == [("x-goog-api-key", GEMINI_KEY)]
    only_openai = Routes.by_path({OPENAI: OPENAI_KEY})
    # No Gemini key: the client's own credentials pass to Gemini, no OpenAI key goes there.
    assert only_openai.route(GEMINI_V1BETA).headers(client) == client
    azure = Routes.to_upstream("wss://res.openai.azure.com", "azure-key-0123456789")
    assert azure.route("/openai/realtime").headers([]) == [("api-key", "azure-key-0123456789")]
    with pytest.raises(ConfigError):
        Routes.configure("wss://res.openai.azure.com", None, GEMINI_KEY)


async def test_one_relay_routes_openai_and_gemini_each_with_its_own_key(db_path):
    async with Upstream() as openai, Upstream() as gemini:
        process, relay, banner = await start_rtrec(
            "record",
            "--db",
            db_path,
            "--listen",
            "127.0.0.1:0",
            "--api-key-env",
            "OPENAI_K",
            "--gemini-key-env",
            "GEMINI_K",
            env={
                "OPENAI_K": OPENAI_KEY,
                "GEMINI_K": GEMINI_KEY,
                "RTREC_TEST_OPENAI_UPSTREAM": openai.url,
                "RTREC_TEST_GEMINI_UPSTREAM": gemini.url,
            },
        )
        try:
            for path in OPENAI_PATHS + GEMINI_PATHS:
                # A client sending credentials of its own: the relay's key replaces them.
                headers = {"Authorization": "Bearer sk-client-0000000000", "x-goog-api-key": "c"}
                async with connect(relay + path, additional_headers=headers) as ws:
                    assert json.loads(await ws.recv())["from"] == "upstream"
            unrouted = {}
            for path in (b"/openai/realtime?api-version=2025-04-01", b"/v1/models", b"/"):
                unrouted[path] = await raw_request(port_of(relay), path)
            with pytest.raises(InvalidStatus) as azure:
                async with connect(relay + "/openai/v1/live/sessions"):
                    pass
        finally:
            _, err, code = await stop_rtrec(process)
    assert code == 0, err
    assert [s.path for s in openai.seen] == OPENAI_PATHS
    assert [s.path for s in gemini.seen] == GEMINI_PATHS
    for seen in openai.seen:
        assert seen.header("Authorization") == f"Bearer {OPENAI_KEY}"
        assert seen.header("x-goog-api-key") is None
        assert GEMINI_KEY not in repr(seen.headers)
    for seen in gemini.seen:
        assert seen.header("x-goog-api-key") == GEMINI_KEY
        assert seen.header("Authorization") is None
        assert OPENAI_KEY not in repr(seen.headers)
    for path, answer in unrouted.items():
        assert answer.status == 404 and "--upstream" in answer.body, path
    assert azure.value.response.status_code == 404
    assert OPENAI_KEY not in err and GEMINI_KEY not in err
    assert f"by path (openai {openai.url}, gemini {gemini.url})" in banner
    stored = file_bytes(db_path)
    assert OPENAI_KEY.encode() not in stored and GEMINI_KEY.encode() not in stored
    sessions = json.loads(run_cli("sessions", "--json", db_path=db_path).stdout)
    assert len(sessions) == len(OPENAI_PATHS + GEMINI_PATHS)  # unrouted: no session


async def test_gemini_credentials_from_the_client_never_reach_disk(db_path):
    """key= and access_token= queries and the x-goog-api-key header: forwarded, not stored."""
    api_key = "AIzaSyClientGEMINIkey0123456789abcdefgh"
    token = "auth_tokens/ephemeralGEMINItoken0123456789"
    async with Upstream() as gemini:
        process, relay, _ = await start_rtrec(
            "record",
            "--db",
            db_path,
            "--listen",
            "127.0.0.1:0",
            env={"RTREC_TEST_GEMINI_UPSTREAM": gemini.url},
        )
        try:
            async with connect(
                f"{relay}{GEMINI_V1BETA}?key={api_key}",
                additional_headers={"x-goog-api-key": api_key},
            ) as ws:
                await ws.recv()
            async with connect(f"{relay}{GEMINI_CONSTRAINED}?access_token={token}") as ws:
                await ws.recv()
        finally:
            _, err, _ = await stop_rtrec(process)
    # The upstream got what the client sent…
    assert gemini.seen[0].path == f"{GEMINI_V1BETA}?key={api_key}"
    assert gemini.seen[0].header("x-goog-api-key") == api_key
    assert gemini.seen[1].path.endswith(f"access_token={token}")
    # …and none of it is on disk, or in the relay's output.
    stored = file_bytes(db_path)
    assert api_key.encode() not in stored and token.encode() not in stored
    assert api_key not in err and token not in err
    sessions = json.loads(run_cli("sessions", "--json", db_path=db_path).stdout)
    assert len(sessions) == 2
