"""Request targets: the pure check, and generated targets against a real relay.

For every generated target sent byte for byte to a real relay: the only listener that
ever sees a connection is the configured upstream, its Host is the configured
host:port, the path arrives unchanged, and the relay's key goes nowhere else.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from rtrec.dial import DialRefused, Endpoint, check_dial, url_from_parts
from rtrec.recorder.service import Recorder
from rtrec.recorder.target import BadTarget, split_origin_form
from rtrec.recorder.upstream import UpstreamTarget
from tests.net_listeners import Upstream, Witness, raw_request

KEY = "sk-proj-fuzzKEY0123456789abcdefghijklmn"
T = TypeVar("T")


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/v1/realtime", ("/v1/realtime", "")),
        ("/v1/realtime?model=gpt-realtime", ("/v1/realtime", "model=gpt-realtime")),
        ("/openai/realtime?api-version=2025-04-01&deployment=x", None),
        ("/v1/live/sessions/live_1/attach", ("/v1/live/sessions/live_1/attach", "")),
        ("/v1/%40user", ("/v1/%40user", "")),
        ("/v1/realtime?next=http://x/a/../b", None),  # anything in the query
        ("/a/.well-known/x", ("/a/.well-known/x", "")),
        ("/a/...", ("/a/...", "")),
    ],
)
def test_origin_form_targets_pass_unchanged(target, expected):
    path, query = split_origin_form(target)
    assert (path + (f"?{query}" if query else "")) == target
    if expected is not None:
        assert (path, query) == expected


@pytest.mark.parametrize(
    "target",
    [
        "",
        "*",
        "@127.0.0.1:1/v1/realtime",
        "http://127.0.0.1:1/v1/realtime",
        "127.0.0.1:1",
        "//127.0.0.1:1/x",
        "/v1\\x",
        "/v1#x",
        "/v1 x",
        "/v1\x00",
        "/v1\r",
        "/v1\n",
        "/v1\t",
        "/v1/é",
        "/v1/\udce9",  # a non-ASCII byte as the HTTP parser keeps it
        "/v1/%",
        "/v1/%g0",
        "/v1/../x",
        "/v1/./x",
        "/v1/%2e%2E/x",
        "/v1/.%2e",
        "/v1/..",
        "/v1%2fx",
        "/v1%5Cx",
        "/v1%00x",
        '/v1/"x"',
        "/v1/<x>",
    ],
)
def test_other_targets_are_refused_with_a_reason(target):
    with pytest.raises(BadTarget) as refused:
        split_origin_form(target)
    assert str(refused.value)


def test_the_dial_guard_fails_closed():
    endpoint = Endpoint.from_url("wss://api.openai.com")
    assert endpoint == Endpoint(True, "api.openai.com", 443)
    assert url_from_parts(endpoint, "/v1/realtime", "model=x") == (
        "wss://api.openai.com/v1/realtime?model=x"
    )
    check_dial("wss://api.openai.com:443/v1/realtime", endpoint)
    for url in (
        "wss://evil.example/v1/realtime",
        "wss://api.openai.com:444/v1/realtime",
        "ws://api.openai.com/v1/realtime",
        "wss://user:pw@api.openai.com/v1/realtime",
        "wss://api.openai.com@evil.example/v1/realtime",
        "wss://api.openai.com#frag",
        "https://api.openai.com/v1/realtime",
    ):
        with pytest.raises(DialRefused):
            check_dial(url, endpoint)
    with pytest.raises(DialRefused):
        url_from_parts(endpoint, "//evil.example/x")
    with pytest.raises(DialRefused):
        url_from_parts(endpoint, "@evil.example/x")
    ipv6 = Endpoint.from_url("ws://[::1]:8080")
    check_dial(url_from_parts(ipv6, "/x"), ipv6)
    assert UpstreamTarget.parse("wss://x.openai.azure.com/base/").url_for("/v1", "a=b") == (
        "wss://x.openai.azure.com/base/v1?a=b"
    )


# -- generated targets against a real relay -----------------------------------------


class BackgroundLoop:
    """An event loop in a thread, so that hypothesis's synchronous tests can use servers."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(120)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@dataclass
class Setup:
    loop: BackgroundLoop
    relay_port: int
    upstream: Upstream
    attacker: Witness


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    loop = BackgroundLoop()
    upstream, attacker = Upstream("refuse"), Witness()
    db_path = str(tmp_path_factory.mktemp("fuzz") / "rtrec.db")

    async def start() -> Recorder:
        await upstream.__aenter__()
        await attacker.__aenter__()
        recorder = Recorder(
            db_path, upstream=upstream.url, port=0, live_status=False, upstream_key=KEY
        )
        await recorder.start()
        return recorder

    recorder = loop.run(start())
    assert recorder.server is not None
    try:
        yield Setup(loop, recorder.server.port, upstream, attacker)
    finally:

        async def stop() -> None:
            await recorder.stop()
            await attacker.__aexit__(None, None, None)
            await upstream.__aexit__(None, None, None)

        loop.run(stop())
        loop.close()


def _targets(attacker_port: int) -> st.SearchStrategy[bytes]:
    """Half hostile (any start, any piece), half origin-form paths full of tricks."""
    evil = f"127.0.0.1:{attacker_port}"
    starts = st.sampled_from(
        ["/", "/v1/realtime", "", "//", "@", "http://", "WS://", "wss://", "\\\\", "/\\", "*",
         evil, f"u:p@{evil}", "%2F%2F", "?", "#"]
    )  # fmt: skip
    pieces = st.sampled_from(
        ["/", "@", ":", "?", "&", "=", "#", "\\", ".", "..", "%", "%2e", "%2E", "%2f", "%40",
         "%5c", "%00", "%zz", " ", "\r", "\n", "\0", "\t", "é", "\u2044", "\uff0f", "ß",
         evil, f"@{evil}", f"//{evil}", "http://", "model=x", "v1", "realtime", "~", "!$'()*+,;"]
    )  # fmt: skip
    text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=8)
    hostile = st.tuples(starts, st.lists(st.one_of(pieces, text), max_size=8).map("".join))
    # Origin-form, but with userinfo, authorities, schemes and escapes inside it.
    tricks = st.sampled_from(
        ["@", ":", evil, f"@{evil}", f"u:p@{evil}", "http:", "ws:", "%40", "%3A", "%2e.",
         "%252e", "%25", "~", "!$&'()*+,;=", "[", "]", "{", "}", "|", "^", "`", "..."]
    )  # fmt: skip
    word = st.text(st.sampled_from("abcXYZ019-._"), min_size=1, max_size=6)
    segment = st.lists(st.one_of(word, tricks), min_size=1, max_size=3).map("".join)
    path = st.lists(segment, min_size=1, max_size=4).map(lambda s: "/" + "/".join(s))
    query = st.lists(st.one_of(word, tricks, st.sampled_from(["=", "&", "/", "?", "//"])))
    tricky = st.tuples(path, query.map(lambda q: ("?" + "".join(q)) if q else ""))
    return st.one_of(hostile, tricky).map(lambda parts: "".join(parts).encode("utf-8"))


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_generated_targets_reach_only_the_configured_upstream(relay: Setup, data: st.DataObject):
    target = data.draw(_targets(relay.attacker.port), label="target")
    before = len(relay.upstream.seen)
    answer = relay.loop.run(raw_request(relay.relay_port, target))
    reached = relay.upstream.seen[before:]
    assert relay.attacker.connections == 0, target
    event("reached the upstream" if reached else f"refused with {answer.status}")
    if answer.status == 404 and "from-upstream" in answer.body:
        (seen,) = reached
        assert seen.header("Host") == f"127.0.0.1:{relay.upstream.port}"
        assert seen.path.encode() == target  # the path and query, unchanged
        assert seen.header("Authorization") == f"Bearer {KEY}"
        split_origin_form(target.decode())  # and it was origin-form
    else:
        assert reached == [], target
        assert answer.status in (400, 426), (target, answer.raw[:200])
