"""What every simulated protocol does with frames: ids, compact JSON, client frames read,
error bodies.  Pure.
"""

from __future__ import annotations

import json
import secrets
import string
from dataclasses import dataclass
from typing import Any

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 21) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def encode_json(event: dict[str, Any]) -> str:
    """JSON as the OpenAI servers write it: no spaces, UTF-8 left as it is."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


def error_body(
    message: str, *, code: str | None, param: str | None = None, kind: str = "invalid_request_error"
) -> dict[str, Any]:
    """The `error` object of an OpenAI error event, its keys in the servers' order."""
    return {"type": kind, "code": code, "message": message, "param": param}


@dataclass(frozen=True)
class FrameProblem:
    """Why a client frame is not an event: what the server's error says."""

    message: str
    code: str
    param: str | None = None


def read_client_event(message: str | bytes, *, missing_type: str) -> dict[str, Any] | FrameProblem:
    """A client frame as a JSON event with a string `type`, or the problem with it.

    `missing_type` is the wording of the error for an event without a type (the
    protocols word it differently).
    """
    if isinstance(message, bytes):
        return FrameProblem("Binary frames are not supported.", "invalid_frame")
    try:
        event = json.loads(message)
    except ValueError as exc:
        return FrameProblem(f"Invalid JSON: {exc}", "invalid_json")
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return FrameProblem(missing_type, "missing_required_parameter", "type")
    return event
