"""Issue 17 item 5: `--tls-cert`/`--tls-key` for `record`, `replay --serve` and `ui`.

Real clients trusting a CA made here: the Python openai SDK (through `SSL_CERT_FILE`,
as a user would set it, and through an SSL context), and openai-node (through
`NODE_EXTRA_CA_CERTS`), which only speaks wss:// and could not reach rtrec before.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import shutil
import ssl
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from openai import AsyncOpenAI

from rtrec.sim.server import Simulator
from tests.conftest import run_cli
from tests.net_listeners import port_of, raw_request, start_rtrec, stop_rtrec
from tests.replay_support import record_sdk_call
from tests.tls_ca import Pki, make_pki

NODE_DIR = Path(__file__).parent / "node_tls"

SDK_CALL = textwrap.dedent(
    """
    import asyncio, sys
    from openai import AsyncOpenAI

    async def main():
        client = AsyncOpenAI(api_key="sk-test-0000000000", websocket_base_url=sys.argv[1])
        async with client.realtime.connect(model="gpt-realtime") as conn:
            print((await conn.recv()).type, flush=True)
            await conn.conversation.item.create(item={
                "type": "message", "role": "user",
                "content": [{"type": "input_text", "text": "hello over TLS"}],
            })
            print((await conn.recv()).type, flush=True)

    asyncio.run(main())
    """
)


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path)


def client_context(pki: Pki) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(pki.ca))


async def test_record_serves_wss_to_the_openai_sdk(db_path, pki):
    async with Simulator() as sim:
        process, relay, _ = await start_rtrec(
            "record", "--db", db_path, "--listen", "127.0.0.1:0", "--upstream", sim.url,
            "--tls-cert", str(pki.cert), "--tls-key", str(pki.key),
        )  # fmt: skip
        try:
            assert relay.startswith("wss://127.0.0.1:")
            # As a user would: the SDK unchanged, the CA named by SSL_CERT_FILE.
            sdk = await asyncio.create_subprocess_exec(
                sys.executable, "-c", SDK_CALL, f"{relay}/v1",
                env={**os.environ, "SSL_CERT_FILE": str(pki.ca)},
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            out, err = await asyncio.wait_for(sdk.communicate(), 60)
            # Without the CA the client refuses the certificate: TLS is real.
            untrusted = await asyncio.create_subprocess_exec(
                sys.executable, "-c", SDK_CALL, f"{relay}/v1",
                env={k: v for k, v in os.environ.items() if k != "SSL_CERT_FILE"},
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            _, untrusted_err = await asyncio.wait_for(untrusted.communicate(), 60)
            # A plain ws:// client on the TLS port: refused, quietly.
            plain = await raw_request(port_of(relay), b"/v1/realtime")
        finally:
            _, relay_err, code = await stop_rtrec(process)
    assert sdk.returncode == 0, err.decode()
    assert out.decode().split() == ["session.created", "conversation.item.added"]
    assert untrusted.returncode != 0 and b"CERTIFICATE_VERIFY_FAILED" in untrusted_err
    assert plain.status is None
    assert code == 0 and "Traceback" not in relay_err
    (session,) = json.loads(run_cli("sessions", "--json", db_path=db_path).stdout)
    assert session["end_reason"] == "client_closed" and session["event_count"] >= 3


async def test_replay_serve_serves_wss_to_the_openai_sdk(db_path, pki):
    original = await record_sdk_call(db_path)
    process, url, _ = await start_rtrec(
        "replay", str(original), "--db", db_path, "--serve", "127.0.0.1:0",
        "--pace", "client", "--tls-cert", str(pki.cert), "--tls-key", str(pki.key),
    )  # fmt: skip
    try:
        assert url.startswith("wss://127.0.0.1:") and url.endswith("/v1")
        client = AsyncOpenAI(api_key="sk-test", websocket_base_url=url)
        options = {"ssl": client_context(pki)}
        async with client.realtime.connect(
            model="gpt-realtime",
            websocket_connection_options=options,  # type: ignore[arg-type]
        ) as conn:
            assert (await conn.recv()).type == "session.created"
    finally:
        _, err, code = await stop_rtrec(process)
    assert code == 0 and "Traceback" not in err


def _node_clients() -> Path:
    """openai-node and ws, installed by .ci/run (or here, once); skip with the reason."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js (node and npm) is not installed")
    modules = NODE_DIR / "node_modules"
    if not (modules / "openai").is_dir() or not (modules / "ws").is_dir():
        result = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--silent"],
            cwd=NODE_DIR,
            capture_output=True,
            timeout=600,
        )
        if result.returncode != 0:
            pytest.skip(f"npm install failed: {result.stderr.decode().strip()[-300:]}")
    return NODE_DIR


async def test_record_serves_wss_to_openai_node(db_path, pki):
    node_dir = _node_clients()
    async with Simulator() as sim:
        process, relay, _ = await start_rtrec(
            "record", "--db", db_path, "--listen", "127.0.0.1:0", "--upstream", sim.url,
            "--tls-cert", str(pki.cert), "--tls-key", str(pki.key),
        )  # fmt: skip
        base_url = relay.replace("wss://", "https://") + "/v1"
        try:
            node = await asyncio.create_subprocess_exec(
                "node", str(node_dir / "realtime_call.mjs"), base_url,
                cwd=node_dir,
                env={**os.environ, "NODE_EXTRA_CA_CERTS": str(pki.ca)},
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            out, err = await asyncio.wait_for(node.communicate(), 90)
        finally:
            _, relay_err, code = await stop_rtrec(process)
    assert node.returncode == 0, err.decode()
    events = [json.loads(line) for line in out.decode().splitlines()]
    assert [e["type"] for e in events] == ["session.created", "response.done"]
    assert events[0]["url"].startswith(relay + "/v1/realtime?model=gpt-realtime")
    assert code == 0 and "Traceback" not in relay_err
    (session,) = json.loads(run_cli("sessions", "--json", db_path=db_path).stdout)
    assert session["model"] == "gpt-realtime" and session["end_reason"] == "client_closed"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (lambda p: ["--tls-cert", str(p.cert)], "go together"),
        (lambda p: ["--tls-key", str(p.key)], "go together"),
        (lambda p: ["--tls-cert", str(p.cert), "--tls-key", "missing.pem"], "no such file"),
        (lambda p: ["--tls-cert", str(p.cert), "--tls-key", str(p.other_key)], "not a PEM"),
        (lambda p: ["--tls-cert", str(p.key), "--tls-key", str(p.key)], "not a PEM"),
        (lambda p: ["--tls-cert", str(p.cert), "--tls-key", str(p.encrypted_key)], "passphrase"),
    ],
)
def test_unusable_tls_files_are_one_line(db_path, pki, files, message):
    assert run_cli("demo", db_path=db_path, timeout=120).returncode == 0  # for ui to serve
    for command in (
        ["record", "--listen", "127.0.0.1:0"],
        ["replay", "1", "--serve", ":0"],
        ["ui", "--listen", "127.0.0.1:0"],
    ):
        result = run_cli(*command, *files(pki), db_path=db_path, input=b"")
        stderr = result.stderr.decode()
        assert result.returncode == 1, stderr
        assert message in stderr and len(stderr.strip().splitlines()) == 1, stderr


def test_ui_serves_https_to_a_client_trusting_the_ca(db_path, pki):
    assert run_cli("demo", db_path=db_path, timeout=120).returncode == 0
    process = subprocess.Popen(
        [sys.executable, "-m", "rtrec", "ui", "--db", db_path, "--listen", "127.0.0.1:0",
         "--tls-cert", str(pki.cert), "--tls-key", str(pki.key)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stderr is not None
        banner = process.stderr.readline().decode()
        assert "https://127.0.0.1:" in banner, banner
        port = int(banner.split("https://127.0.0.1:")[1].split("/")[0])
        # A browser speaking plain HTTP to the TLS port gets no page.
        plain = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        with pytest.raises((http.client.HTTPException, ConnectionError)):
            plain.request("GET", "/")
            plain.getresponse()
        secure = http.client.HTTPSConnection("127.0.0.1", port, context=client_context(pki))
        secure.request("GET", "/")
        page = secure.getresponse()
        assert page.status == 200 and b"<html" in page.read().lower()
        secure.request("GET", "/api/sessions")
        listed = secure.getresponse()
        assert listed.status == 200 and len(json.loads(listed.read())) == 1
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0 and "Traceback" not in stderr.decode(), stderr
