"""The simulated GPT-Live server's ids and JSON, as the real server writes them.  Pure."""

from __future__ import annotations

import base64

from rtrec.sim.frames import encode_json, new_id

__all__ = ["b64", "encode_event", "new_id"]

encode_event = encode_json


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
