"""What the recorder and the replay share, living beside both (issue 13 item 2): the
handshake's rules and a new session's metadata.  tests/test_layers.py checks that both
modules are pure and that recorder and replay do not import each other."""

from __future__ import annotations

from rtrec.capture.session import Request, answered, new_session
from rtrec.handshake import model_from_query, offered_subprotocols, recorded_subprotocols
from rtrec.secrets import query_without_secrets


class Lines:
    def __init__(self, lines: dict[str, list[str]]) -> None:
        self.lines = lines

    def get_all(self, key: str) -> list[str]:
        return self.lines.get(key, [])


def test_subprotocols_offered_live_and_recorded():
    live = Lines({"Sec-WebSocket-Protocol": ["realtime, openai-insecure-api-key.sk-x", " b "]})
    assert offered_subprotocols(live) == ["realtime", "openai-insecure-api-key.sk-x", "b"]
    recorded = {"sec-websocket-protocol": "realtime, openai-insecure-api-key.[redacted]"}
    assert recorded_subprotocols(recorded) == ["realtime"]
    assert recorded_subprotocols({}) == []


def test_model_and_a_query_to_send_again():
    assert model_from_query("model=gpt-realtime&x=1") == "gpt-realtime"
    assert model_from_query("deployment=mine") == "mine"
    assert model_from_query("model=") is None
    query = "model=m&api_key=%5Bredacted%5D&&api%5Fkey=x&key=k&keep=1"
    assert query_without_secrets(query) == "model=m&keep=1"


def test_a_new_sessions_metadata_keeps_no_credential():
    key = "sk-" + "a" * 40
    request = Request(
        "/v1/realtime",
        f"model=gpt-realtime&api_key={key}",
        [("Authorization", f"Bearer {key}"), ("OpenAI-Beta", "realtime=v1")],
        ["realtime", "openai-insecure-api-key.ek_" + "b" * 20],
    )
    added = ("x-goog-api-key", "g" * 20)
    session = new_session(
        request, source="replay", upstream="ws://h", protocol=None, model="fallback",
        parent_id=7, also_secret=[added],
    )  # fmt: skip
    assert session.model == "gpt-realtime" and session.parent_id == 7
    assert session.query == "model=gpt-realtime&api_key=%5Bredacted%5D"
    assert session.request_headers == {
        "authorization": "[redacted]",
        "openai-beta": "realtime=v1",
    }
    assert session.secrets == {key, "ek_" + "b" * 20, "g" * 20}
    answered(session, "realtime", [("Set-Cookie", "c"), ("x-request-id", "r")])
    assert session.subprotocol == "realtime"
    assert session.response_headers == {"set-cookie": "[redacted]", "x-request-id": "r"}
    fallback = new_session(
        Request("/v1/realtime", "", []), source="replay", upstream="ws://h", protocol=None,
        model="fallback",
    )  # fmt: skip
    assert fallback.model == "fallback" and fallback.secrets == frozenset()
