"""What the simulated GPT-Live assistant does with what the user said.  Pure.

A request to look something up ("weather", "check") is delegated, as the real
model does with a client or Responses delegation: it acknowledges aloud, hands the
task off, and speaks the result when it comes back.  A request for a story gets a
long answer (long enough to be talked over); anything else a short one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from rtrec.sim.dialogue import STORY

ACKNOWLEDGEMENT = "Okay, let me check that."
WEATHER = {"city": "Paris", "forecast": "sunny and 22 degrees"}


@dataclass(frozen=True)
class Plan:
    kind: str  # "say" | "delegate"
    text: str = ""  # what it says now (the acknowledgement, when delegating)
    tool: str = ""  # the function a Responses delegation calls
    arguments: str = ""


def plan_reply(said: str, functions: set[str]) -> Plan:
    lowered = said.lower()
    if "weather" in lowered or "check" in lowered:
        tool = "get_weather" if "get_weather" in functions else next(iter(sorted(functions)), "")
        arguments = json.dumps({"city": _city(said)}) if tool == "get_weather" else "{}"
        return Plan("delegate", ACKNOWLEDGEMENT, tool, arguments)
    if "story" in lowered:
        return Plan("say", STORY)
    if "thank" in lowered or "bye" in lowered:
        return Plan("say", "You're welcome. Goodbye!")
    if not said.strip():
        return Plan("say", "Sorry, I didn't catch that.")
    return Plan("say", f"You said: {said.rstrip('.!?')}. Got it.")


def speak_result(content: Any) -> str:
    """What the assistant says with a delegation's result (commentary, a tool output)."""
    if isinstance(content, str):
        try:
            data = json.loads(content)
        except ValueError:
            return content
    else:
        data = content
    if isinstance(data, dict) and {"city", "forecast"} <= data.keys():
        return f"In {data['city']} it is {data['forecast']} right now."
    return f"Here is what I found: {content}"


def _city(text: str) -> str:
    match = re.search(r"\bin ([A-Z][a-zA-Z]+)", text)
    return match[1] if match else "Paris"
