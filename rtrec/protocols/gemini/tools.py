"""Tool calls: `toolCall.functionCalls[]`, answered by `toolResponse.functionResponses[]`.  Pure.

Each function call is a `function_call` item (its id is the call's `id`), entering
the conversation when the `toolCall` arrived: `call_id` = `id`, `arguments` = `args` as
compact JSON (`{}` when there are none), `output` = the matching function response's
`response` as compact JSON.  A `toolCallCancellation` marks the calls it names
`cancelled`.
"""

from __future__ import annotations

from rtrec.projector.event_row import EventRow
from rtrec.projector.projection import Projection
from rtrec.projector.state import ItemState
from rtrec.protocols.gemini.decoding import compact_json
from rtrec.protocols.gemini.messages import (
    FunctionResponse,
    ToolCallCancellationMessage,
    ToolCallMessage,
    ToolResponseMessage,
)
from rtrec.protocols.gemini.work import GeminiWork


def on_tool_call(p: Projection, row: EventRow, message: ToolCallMessage) -> None:
    media = p.work_of(GeminiWork).media
    reply_id = media.current_reply if media.open else None
    for index, call in enumerate(message.tool_call.function_calls):
        item_id = call.id or f"call-{row.seq}-{index}"
        item = p.item(item_id, row.t_ns)
        if item.in_conversation:
            continue  # the same call announced twice
        item.type = "function_call"
        item.call_id = call.id
        item.name = call.name
        item.arguments = compact_json(call.args if call.args is not None else {})
        item.status = "completed"
        item.source = "response"
        item.added_ns = item.done_ns = row.t_ns
        if reply_id is not None:
            item.response_id = reply_id
            p.response(reply_id, row.t_ns).output_item_ids.append(item_id)
        p.conversation.insert(item, None)


def on_tool_response(p: Projection, row: EventRow, message: ToolResponseMessage) -> None:
    for answer in message.tool_response.function_responses:
        item = _call_for(p, answer)
        if item is None:
            p.count_unknown("(toolResponse for an unknown call)", event=False)
            continue
        item.output = compact_json(answer.response) if answer.response is not None else None
        item.client_ns = row.t_ns
        p.dirty_items.add(item.item_id)


def on_cancellation(p: Projection, row: EventRow, message: ToolCallCancellationMessage) -> None:
    for call_id in message.tool_call_cancellation.ids:
        item = p.items.get(call_id)
        if item is not None and item.type == "function_call":
            item.status = "cancelled"
            p.dirty_items.add(call_id)


def _call_for(p: Projection, answer: FunctionResponse) -> ItemState | None:
    """The call a response answers: by id, else the latest unanswered call of that name."""
    if answer.id:
        item = p.items.get(answer.id)
        return item if item is not None and item.type == "function_call" else None
    waiting = [
        item
        for item in p.items.values()
        if item.type == "function_call" and item.output is None and item.name == answer.name
    ]
    return max(waiting, key=lambda item: item.ordinal or 0, default=None)
