"""What never reaches the log: header, subprotocol and query credentials."""

from __future__ import annotations

from rtrec.secrets import redact_headers, redact_query, redact_subprotocol, request_secrets


def test_headers_keep_names_and_lose_secret_values():
    headers = [
        ("Authorization", "Bearer sk-abc"),
        ("api-key", "k"),
        ("OpenAI-Beta", "realtime=v1"),
        ("Cookie", "a=b"),
        ("Sec-WebSocket-Protocol", "realtime, openai-insecure-api-key.sk-x"),
    ]
    out = redact_headers(headers)
    assert out["authorization"] == "[redacted]"
    assert out["api-key"] == "[redacted]"
    assert out["cookie"] == "[redacted]"
    assert out["openai-beta"] == "realtime=v1"
    assert out["sec-websocket-protocol"] == "realtime, openai-insecure-api-key.[redacted]"


def test_subprotocols():
    assert redact_subprotocol("realtime") == "realtime"
    assert (
        redact_subprotocol("openai-insecure-api-key.sk-123") == "openai-insecure-api-key.[redacted]"
    )


def test_query_credentials_are_replaced_and_the_rest_kept_as_sent():
    query = "api-version=2025-04-01&api-key=abc123&deployment=gpt%20rt&token=t"
    assert redact_query(query) == (
        "api-version=2025-04-01&api-key=%5Bredacted%5D&deployment=gpt%20rt&token=%5Bredacted%5D"
    )
    assert redact_query("") == ""
    assert redact_query("model=gpt-realtime") == "model=gpt-realtime"


def test_request_secrets_are_the_values_presented():
    found = request_secrets(
        [("Authorization", "Bearer sk-abcdefghijkl"), ("api-key", "azure-0123456789")],
        ["realtime", "openai-insecure-api-key.sk-browser-0123456"],
        "api-key=query-0123456789&model=x",
    )
    assert found == {
        "sk-abcdefghijkl",
        "azure-0123456789",
        "sk-browser-0123456",
        "query-0123456789",
    }


def test_gemini_credentials_are_secrets():
    headers = [("x-goog-api-key", "AIzaSyKEY0123456789"), ("X-Goog-Api-Client", "genai-py")]
    assert redact_headers(headers) == {
        "x-goog-api-key": "[redacted]",
        "x-goog-api-client": "genai-py",
    }
    query = "key=AIzaSyKEY0123456789&alt=json&access_token=auth_tokens/eph0123456789"
    assert redact_query(query) == "key=%5Bredacted%5D&alt=json&access_token=%5Bredacted%5D"
    assert request_secrets(headers, [], query) == {
        "AIzaSyKEY0123456789",
        "auth_tokens/eph0123456789",
    }
