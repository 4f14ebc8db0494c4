"""Delegations and the tool calls inside them.  Pure.

When the Live model hands work off it announces `session.delegation.created`
(`delegation.id`, `target` client / responses / decisions, `offset_ms` on the
session clock).  A delegation is kept as a record of type `delegation` outside the
conversation (it carries no words of its own), shown in the `tool_calls` view: its
`call_id` is the delegation id, its name the target, its output what the client
answered with (`session.commentary|thinking|instructions.append` naming it), and it
was answered when the first of those arrived.

A delegation to Responses streams the backend's events inside `response.event`;
its function calls (and MCP calls) become `function_call` (`mcp_call`) items of the
conversation under the server's item id, with `call_id`, `name`, `arguments`, and as
`output` what the client sent back with `response.item.create` of a
`function_call_output` (answered at `client_ns`).  Times here are arrival times.
"""

from __future__ import annotations

from typing import Any

import msgspec

from rtrec.projector.event_row import EventRow
from rtrec.projector.projection import Projection
from rtrec.projector.spec import Handlers, spec
from rtrec.projector.state import ItemState
from rtrec.protocols.live import events as ev
from rtrec.protocols.live.decoding import decoded
from rtrec.protocols.live.work import LiveWork, remember

DELEGATION = "delegation"
CALL_TYPES = frozenset({"function_call", "mcp_call"})


def on_delegation(p: Projection, row: EventRow, event: ev.DelegationCreated) -> None:
    delegation = event.delegation
    if delegation is None or not delegation.id:
        p.session.malformed_events += 1
        return
    item = p.item(delegation.id, row.t_ns)
    item.type = DELEGATION
    item.call_id = delegation.id
    item.name = delegation.target
    item.status = item.status or "in_progress"
    facts: dict[str, Any] = {}
    if event.offset_ms is not None:
        facts["offset_ms"] = event.offset_ms
    if delegation.response_id is not None:
        facts["response_id"] = delegation.response_id
    item.arguments = _json(facts) if facts else None
    if item.done_ns is None:
        item.done_ns = row.t_ns


def on_client_answer(p: Projection, row: EventRow, event: ev.ContextAppend) -> None:
    """Commentary, thinking or instructions the client appended for a delegation."""
    delegation_id = event.delegation_id
    item = p.items.get(delegation_id) if delegation_id else None
    if item is None or item.type != DELEGATION:
        return  # general context, or a delegation this log never saw
    content = event.content if isinstance(event.content, str) else _json(event.content)
    item.output = content if item.output is None else f"{item.output}\n{content}"
    item.status = "completed"
    if item.client_ns is None:
        item.client_ns = row.t_ns
    p.dirty_items.add(item.item_id)


def on_response_event(p: Projection, row: EventRow, event: ev.ResponseEvent) -> None:
    nested = event.event if isinstance(event.event, dict) else {}
    kind = nested.get("type")
    if kind in ("response.output_item.added", "response.output_item.done"):
        snapshot = nested.get("item")
        if isinstance(snapshot, dict) and snapshot.get("type") in CALL_TYPES:
            item = _call_item(p, row, snapshot, _response_id(nested))
            if item is not None and kind.endswith(".done") and item.done_ns is None:
                item.done_ns = row.t_ns
    elif kind == "response.function_call_arguments.delta":
        item = _known(p, nested.get("item_id"))
        if item is not None and isinstance(nested.get("delta"), str):
            item.arguments = (item.arguments or "") + nested["delta"]
    elif kind == "response.function_call_arguments.done":
        item = _known(p, nested.get("item_id"))
        if item is not None and isinstance(nested.get("arguments"), str):
            item.arguments = nested["arguments"]


def on_item_create(p: Projection, row: EventRow, event: ev.ResponseItemCreate) -> None:
    """The client's tool result for the Responses backend: the call's output."""
    sent = event.item if isinstance(event.item, dict) else {}
    if sent.get("type") != "function_call_output":
        return
    call_id = sent.get("call_id")
    item_id = p.work_of(LiveWork).calls.get(call_id) if isinstance(call_id, str) else None
    item = _known(p, item_id)
    if item is None:
        return
    output = sent.get("output")
    item.output = output if isinstance(output, str) else _json(output)
    if item.client_ns is None:
        item.client_ns = row.t_ns


def _call_item(
    p: Projection, row: EventRow, snapshot: dict[str, Any], response_id: str | None
) -> ItemState | None:
    call_id = snapshot.get("call_id")
    item_id = snapshot.get("id")
    if not isinstance(item_id, str) or not item_id:
        item_id = f"live-call-{call_id}" if isinstance(call_id, str) else None
    if item_id is None:
        p.session.malformed_events += 1
        return None
    item = p.item(item_id, row.t_ns)
    item.type = snapshot["type"]
    item.source = "response"
    item.response_id = item.response_id or response_id
    for field in ("call_id", "name", "server_label", "status"):
        value = snapshot.get(field)
        if isinstance(value, str):
            setattr(item, field, value)
    arguments = snapshot.get("arguments")
    if isinstance(arguments, str) and (arguments or item.arguments is None):
        item.arguments = arguments
    if item.type == "mcp_call":
        if snapshot.get("output") is not None:
            output = snapshot["output"]
            item.output = output if isinstance(output, str) else _json(output)
        if snapshot.get("error") is not None:
            item.mcp_error = _json(snapshot["error"])
    if not item.in_conversation:
        p.conversation.insert(item, None)
        item.added_ns = row.t_ns
    if isinstance(item.call_id, str):
        remember(p.work_of(LiveWork).calls, item.call_id, item_id)
    return item


def _known(p: Projection, item_id: Any) -> ItemState | None:
    if not isinstance(item_id, str) or item_id not in p.items:
        return None
    return p.item(item_id, 0)  # marks it changed


def _response_id(nested: dict[str, Any]) -> str | None:
    response_id = nested.get("response_id")
    if isinstance(response_id, str):
        return response_id
    response = nested.get("response")
    found = response.get("id") if isinstance(response, dict) else None
    return found if isinstance(found, str) else None


def _json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


HANDLERS: Handlers = {
    "session.delegation.created": spec(on_delegation, decoded(ev.DelegationCreated), "server"),
    "session.commentary.append": spec(on_client_answer, decoded(ev.CommentaryAppend), "client"),
    "session.thinking.append": spec(on_client_answer, decoded(ev.ThinkingAppend), "client"),
    "session.instructions.append": spec(on_client_answer, decoded(ev.InstructionsAppend), "client"),
    "response.event": spec(on_response_event, decoded(ev.ResponseEvent), "server"),
    "response.item.create": spec(on_item_create, decoded(ev.ResponseItemCreate), "client"),
}
