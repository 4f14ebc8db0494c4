"""The simulated GPT-Live assistant: replies, barge-in, and delegated work.

A reply starts on a 200 ms boundary a seeded few hundred ms after the user's speech
ended (never over its own speech).  When the user talks over it, it stops.  Work it
delegates goes where the session's `delegation` says:

- `client`: `session.delegation.created` (target client); the assistant acknowledges
  aloud and speaks the result the client appends as commentary naming the delegation
  (thinking and instructions are silent context);
- `responses`: the delegation names a Responses response, whose stream arrives in
  `response.event`s: a call of the session's function tool; the client sends the
  tool's output (`response.item.create`) and `response.create`; the backend answers
  in text, and the assistant speaks it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rtrec.sim.live.clock import Event, SessionClock, Utterance
from rtrec.sim.live.replies import Plan, plan_reply, speak_result
from rtrec.sim.live.resource import LiveConfig
from rtrec.sim.live.speech import CHUNK_MS, ceil_window, transcript_deltas, voice

REPLY_DELAYS_MS = (0, 200, 200, 400, 600)
BARGE_IN_REACTIONS_MS = (200, 300, 400)  # the assistant hears the user, then stops
RESULT_GAP_MS = 1000  # a result is a message of its own, not the acknowledgement's tail


class RequestError(Exception):
    """A client request the server rejects: (message, code, param)."""

    def __init__(self, message: str, code: str, param: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.param = param


@dataclass
class Delegation:
    id: str
    target: str
    plan: Plan
    ack: Utterance | None = None
    response_id: str | None = None
    call_id: str | None = None
    output: Any = None
    sequence: int = 0


@dataclass
class Assistant:
    clock: SessionClock
    config: LiveConfig
    rng: random.Random
    new_id: Callable[[str], str]
    delegations: dict[str, Delegation] = field(default_factory=dict)
    calls: dict[str, str] = field(default_factory=dict)  # call_id → delegation id

    # -- speech -------------------------------------------------------------------

    def say(self, text: str, not_before_ms: int) -> Utterance:
        start = ceil_window(max(not_before_ms, self.clock.clock_ms, self.clock.speech_end()))
        fmt = self.config.fmt
        utterance = Utterance(start, voice(text, fmt), transcript_deltas(text, start), fmt)
        self.clock.say(utterance)
        return utterance

    def user_speaks(self, at_ms: int) -> None:
        """Barge-in: stop saying anything, a moment after the user started speaking."""
        cut = max(at_ms + self.rng.choice(BARGE_IN_REACTIONS_MS), self.clock.clock_ms)
        cut = -(-cut // CHUNK_MS) * CHUNK_MS
        for utterance in self.clock.speech:
            if utterance.end_ms > cut:
                utterance.cut_ms = max(utterance.start_ms, cut)

    def heard(self, said: str, end_ms: int, heard_ms: int) -> None:
        """The user said `said`, ending at `end_ms`; the server knows it at `heard_ms`."""
        plan = plan_reply(said, self.config.function_names())
        reply_at = end_ms + self.rng.choice(REPLY_DELAYS_MS)
        if plan.kind == "say":
            self.say(plan.text, reply_at)
            return
        kind = self.config.delegation_kind
        delegation = Delegation(
            self.new_id("item_"), kind if kind != "decisions" else "client", plan
        )
        self.delegations[delegation.id] = delegation
        if delegation.target == "responses":
            delegation.response_id = self.new_id("resp_")
        shown = {"id": delegation.id, "type": "delegation", "target": delegation.target}
        if delegation.response_id is not None:
            shown["response_id"] = delegation.response_id
        self.clock.at(
            heard_ms,
            lambda: {
                "type": "session.delegation.created",
                "offset_ms": end_ms,
                "delegation": shown,
            },
        )
        delegation.ack = self.say(plan.text, reply_at)
        if delegation.target == "responses":
            self._backend_turn(delegation, heard_ms)

    def _result(self, delegation: Delegation, content: Any) -> None:
        after_ack = delegation.ack.end_ms + RESULT_GAP_MS if delegation.ack else 0
        self.say(speak_result(content), max(after_ack, self.clock.clock_ms + self._delay()))
        self.delegations.pop(delegation.id, None)

    def _delay(self) -> int:
        return self.rng.choice(REPLY_DELAYS_MS)

    # -- client delegation ------------------------------------------------------------

    def context(self, kind: str, delegation_id: Any, content: Any) -> None:
        """Commentary, thinking or instructions the client appended (RequestError if not)."""
        if not isinstance(content, str):
            raise RequestError(
                "Missing required parameter: 'content'.", "missing_required_parameter", "content"
            )
        if delegation_id is None:
            return  # general context: nothing to answer
        if self.config.delegation_kind == "responses":
            raise RequestError(
                "Delegation ids are not accepted with Responses delegation.",
                "invalid_value",
                "delegation_id",
            )
        delegation = self.delegations.get(delegation_id) if isinstance(delegation_id, str) else None
        if delegation is None:
            raise RequestError(
                f"Unknown delegation: {delegation_id!r}.", "invalid_value", "delegation_id"
            )
        if kind == "commentary":
            self._result(delegation, content)

    # -- Responses delegation ---------------------------------------------------------

    def response_item(self, item: Any) -> None:
        self._need_responses()
        if not isinstance(item, dict) or item.get("type") != "function_call_output":
            return  # other input items join the backend's conversation; nothing to say
        call_id = item.get("call_id")
        delegation_id = self.calls.get(call_id) if isinstance(call_id, str) else None
        if delegation_id is None or delegation_id not in self.delegations:
            raise RequestError(
                f"No tool call found with call_id {item.get('call_id')!r}.",
                "invalid_value",
                "item.call_id",
            )
        self.delegations[delegation_id].output = item.get("output")

    def response_create(self) -> None:
        self._need_responses()
        for delegation in list(self.delegations.values()):
            if delegation.output is not None:
                self._backend_answer(delegation, self.clock.clock_ms)
                return
        raise RequestError("No delegated response is waiting for tool results.", "invalid_request")

    def _need_responses(self) -> None:
        if self.config.delegation_kind != "responses":
            raise RequestError(
                "This command requires Responses delegation.", "invalid_request", "type"
            )

    def _backend_turn(self, delegation: Delegation, at_ms: int) -> None:
        """The backend's first response: a call of the session's tool (or a text answer)."""
        plan = delegation.plan
        if not plan.tool:
            self._backend_answer(delegation, at_ms)
            return
        delegation.call_id = self.new_id("call_")
        self.calls[delegation.call_id] = delegation.id
        item_id = self.new_id("fc_")
        call = {
            "id": item_id,
            "type": "function_call",
            "status": "in_progress",
            "arguments": "",
            "call_id": delegation.call_id,
            "name": plan.tool,
        }
        done = {**call, "status": "completed", "arguments": plan.arguments}
        response = self._response(delegation, "in_progress", [])
        self._stream(
            delegation,
            at_ms,
            [
                {"type": "response.created", "response": response},
                {"type": "response.output_item.added", "output_index": 0, "item": call},
                {
                    "type": "response.function_call_arguments.delta",
                    "item_id": item_id,
                    "output_index": 0,
                    "delta": plan.arguments,
                },
                {
                    "type": "response.function_call_arguments.done",
                    "item_id": item_id,
                    "output_index": 0,
                    "arguments": plan.arguments,
                },
                {"type": "response.output_item.done", "output_index": 0, "item": done},
                {
                    "type": "response.completed",
                    "response": self._response(delegation, "completed", [done]),
                },
            ],
        )

    def _backend_answer(self, delegation: Delegation, at_ms: int) -> None:
        text = (
            speak_result(delegation.output)
            if delegation.output is not None
            else "Everything looks fine."
        )
        delegation.response_id = self.new_id("resp_")
        message_id = self.new_id("msg_")
        part = {"type": "output_text", "text": text, "annotations": []}
        message = {"id": message_id, "type": "message", "role": "assistant", "status": "completed"}
        self._stream(
            delegation,
            at_ms,
            [
                {
                    "type": "response.created",
                    "response": self._response(delegation, "in_progress", []),
                },
                {
                    "type": "response.output_item.added",
                    "output_index": 0,
                    "item": {**message, "status": "in_progress", "content": []},
                },
                {
                    "type": "response.output_text.delta",
                    "item_id": message_id,
                    "output_index": 0,
                    "content_index": 0,
                    "delta": text,
                },
                {
                    "type": "response.output_item.done",
                    "output_index": 0,
                    "item": {**message, "content": [part]},
                },
                {
                    "type": "response.completed",
                    "response": self._response(
                        delegation, "completed", [{**message, "content": [part]}]
                    ),
                },
            ],
        )
        self._result(delegation, delegation.output if delegation.output is not None else text)

    def _response(self, delegation: Delegation, status: str, output: list[Any]) -> dict[str, Any]:
        backend = self.config.delegation.get("responses")
        model = backend.get("model") if isinstance(backend, dict) else None
        usage = {"input_tokens": 120, "output_tokens": 18, "total_tokens": 138}
        return {
            "id": delegation.response_id,
            "object": "response",
            "status": status,
            "model": model or "gpt-5",
            "output": output,
            **({"usage": usage} if status == "completed" else {}),
        }

    def _stream(self, delegation: Delegation, at_ms: int, nested: list[Event]) -> None:
        for event in nested:
            event["sequence_number"] = delegation.sequence
            delegation.sequence += 1
            wrapped: Event = {"type": "response.event", "delegation_id": delegation.id}
            wrapped["event"] = event
            self.clock.at(at_ms, _constant(wrapped))


def _constant(event: Event) -> Callable[[], Event]:
    return lambda: event
