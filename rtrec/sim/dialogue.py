"""What the simulated assistant says: a tool call when one fits, else a short answer.  Pure."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Reply:
    kind: str  # "message" | "function_call"
    text: str = ""
    name: str = ""
    arguments: str = ""


STORY = (
    "Once upon a time, a small robot lived in a lighthouse by the sea. Every night it "
    "counted the ships, polished the great lamp, and listened to the waves telling stories "
    "of distant harbours, until one morning a seagull asked it to come along."
)


def user_text(item: dict[str, Any]) -> str:
    parts = item.get("content") or []
    texts = [p.get("text") or p.get("transcript") or "" for p in parts if isinstance(p, dict)]
    return " ".join(t for t in texts if t)


def choose_reply(conversation: list[dict[str, Any]], functions: set[str]) -> Reply:
    last = conversation[-1] if conversation else None
    if last is not None and last.get("type") == "function_call_output":
        return Reply("message", text=_describe_output(last.get("output")))
    said = ""
    for item in reversed(conversation):
        if item.get("type") == "message" and item.get("role") == "user":
            said = user_text(item)
            break
    lowered = said.lower()
    if "weather" in lowered and "get_weather" in functions:
        return Reply(
            "function_call", name="get_weather", arguments=json.dumps({"city": _city(said)})
        )
    if "story" in lowered:
        return Reply("message", text=STORY)
    if not said:
        return Reply("message", text="Hello! How can I help you today?")
    return Reply("message", text=f"You said: {said.rstrip('.!?')}. Got it, happy to help.")


def _city(text: str) -> str:
    match = re.search(r"\bin ([A-Z][a-zA-Z]+)", text)
    return match[1] if match else "Paris"


def _describe_output(output: Any) -> str:
    if isinstance(output, str):
        try:
            data = json.loads(output)
        except ValueError:
            return f"Here is what I found: {output}"
        if isinstance(data, dict) and {"city", "forecast"} <= data.keys():
            return f"In {data['city']} it is {data['forecast']} right now."
    return f"Here is what I found: {output}"
