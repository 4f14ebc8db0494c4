"""Response events: lifecycle, output items and parts, streamed text, transcripts and audio.

A response's times are the arrival (at the recorder) of `response.created`, of its
first text delta (`response.output_text.delta`, beta `response.text.delta`, or the
audio's transcript delta, whichever comes first), of its first audio transcript
delta, of its first audio delta, and of `response.done`.
Audio deltas are counted from the row (`length(event.audio)`), never decoded, and
timed at the response's own output format when `response.created` states one.  Pure.
"""

from __future__ import annotations

from typing import Any

import msgspec

from rtrec.projector.event_row import EventRow
from rtrec.projector.projection import Projection
from rtrec.projector.spec import Handlers, spec
from rtrec.projector.state import ItemState, ResponseState
from rtrec.protocols.media import AudioChunk
from rtrec.protocols.realtime import events as ev
from rtrec.protocols.realtime.config import response_format, response_voice
from rtrec.protocols.realtime.content import (
    append_text,
    append_transcript,
    as_text,
    merge_part,
    set_text,
    set_transcript,
)
from rtrec.protocols.realtime.decoding import decoded
from rtrec.protocols.realtime.items import merge
from rtrec.protocols.realtime.session import take_request
from rtrec.protocols.realtime.turns import attach_response, first_output
from rtrec.protocols.realtime.work import RealtimeWork


class _Extras(msgspec.Struct):
    """Response fields the event model leaves out: format, voice, modalities."""

    audio: Any = None
    output_audio_format: Any = None
    voice: Any = None
    output_modalities: Any = None
    modalities: Any = None


class _ExtrasEnvelope(msgspec.Struct):
    response: _Extras | None = None


_extras_decoder = msgspec.json.Decoder(_ExtrasEnvelope)


def _extras(frame: str | bytes | None) -> dict[str, Any]:
    if frame is None:
        return {}
    try:
        extras = _extras_decoder.decode(frame).response
    except (msgspec.ValidationError, *ev.UNPARSABLE):
        return {}
    return msgspec.structs.asdict(extras) if extras is not None else {}


def _lifecycle(p: Projection, row: EventRow, event: ev.ResponseLifecycle) -> ResponseState | None:
    r = event.response or ev.Response()
    response_id = r.id or row.response_id
    if not response_id:
        p.session.malformed_events += 1
        return None
    response = p.response(response_id, row.t_ns)
    if r.status:
        response.status = r.status
    if r.conversation_id:
        response.conversation_id = r.conversation_id
    if r.metadata is not None:
        response.metadata = as_text(r.metadata)
    extras = _extras(row.frame)
    fmt = response_format(extras)
    if fmt is not None:
        response.output_format = str(fmt)
    response.voice = response_voice(extras) or response.voice
    modalities = extras.get("output_modalities") or extras.get("modalities")
    if modalities is not None:
        response.modalities = as_text(modalities)
    return response


def on_created(p: Projection, row: EventRow, event: ev.ResponseCreated) -> None:
    response = _lifecycle(p, row, event)
    if response is None or response.created_ns is not None:
        return
    response.created_ns = row.t_ns
    if response.output_format is None:
        response.output_format = str(
            p.work_of(RealtimeWork).media.output_format(response.response_id)
        )
    request = take_request(p, response.conversation_id)
    if request is not None:
        response.requested_ns = request.t_ns
        response.request_event_id = request.event_id
    if request is not None and request.conversation == "none":
        response.conversation = "none"
    elif response.conversation_id or (request is not None and request.conversation):
        response.conversation = "auto"
    if response.conversation != "none":
        attach_response(p, response)


def on_done(p: Projection, row: EventRow, event: ev.ResponseDone) -> None:
    response = _lifecycle(p, row, event)
    if response is None:
        return
    r = event.response or ev.Response()
    response.done_ns = row.t_ns
    if r.status_details is not None:
        response.status_details = as_text(r.status_details)
    if r.usage is not None:
        response.usage = as_text(r.usage)
    for out in r.output or ():
        if out.id:
            merge(p, _output_item(p, row, out.id, response), out)
    if response.conversation != "auto":
        return
    for item_id in response.output_item_ids:
        item = p.items[item_id]
        # A server that never announced the item in the conversation: append it now.
        if not item.in_conversation:
            p.conversation.insert(item, None)
            item.added_ns = row.t_ns


def _output_item(
    p: Projection, row: EventRow, item_id: str, response: ResponseState, index: int | None = None
) -> ItemState:
    item = p.item(item_id, row.t_ns)
    item.source = item.source or "response"
    if item.response_id is None:
        item.response_id = response.response_id
    ids = response.output_item_ids
    if item_id not in ids:
        if index is not None and 0 <= index < len(ids):
            ids.insert(index, item_id)
        else:
            ids.append(item_id)
    return item


def on_output_item(p: Projection, row: EventRow, event: ev.OutputItemAdded) -> None:
    snapshot = event.item or ev.Item()
    response_id = event.response_id or row.response_id
    if not snapshot.id or not response_id:
        p.session.malformed_events += 1
        return
    response = p.response(response_id, row.t_ns)
    item = _output_item(p, row, snapshot.id, response, event.output_index)
    merge(p, item, snapshot)
    if row.type == "response.output_item.done" and item.done_ns is None:
        item.done_ns = row.t_ns


def _content_item(p: Projection, row: EventRow, event: ev.OutputPosition) -> ItemState | None:
    item_id = event.item_id or row.item_id
    if item_id is None:
        return None
    item = p.item(item_id, row.t_ns)
    response_id = event.response_id or row.response_id
    if item.response_id is None and response_id is not None:
        item.response_id = response_id
    return item


def on_content_part(p: Projection, row: EventRow, event: ev.ContentPartAdded) -> None:
    item = _content_item(p, row, event)
    if item is None or event.part is None:
        return
    unknown = merge_part(item, event.content_index, event.part)
    if unknown is not None:
        p.count_unknown(f"content:{unknown}", event=False)


def _streaming(
    p: Projection, row: EventRow, event: ev.OutputPosition
) -> tuple[ItemState | None, ResponseState | None]:
    item = _content_item(p, row, event)
    response_id = event.response_id or row.response_id
    response = p.response(response_id, row.t_ns) if response_id else None
    return item, response


def on_text_delta(p: Projection, row: EventRow, event: ev.TextDelta) -> None:
    item, response = _streaming(p, row, event)
    if item is not None:
        append_text(item, event.content_index, event.delta or "")
    if response is not None and response.first_text_ns is None:
        response.first_text_ns = row.t_ns
        first_output(p, response, audio=False)


def on_text_done(p: Projection, row: EventRow, event: ev.TextDone) -> None:
    item, _ = _streaming(p, row, event)
    if item is not None:
        set_text(item, event.content_index, event.text)


def on_transcript_delta(p: Projection, row: EventRow, event: ev.AudioTranscriptDelta) -> None:
    item, response = _streaming(p, row, event)
    if item is not None:
        append_transcript(item, event.content_index, event.delta or "", "output_audio")
    if response is not None and response.first_transcript_ns is None:
        response.first_transcript_ns = row.t_ns
        if response.first_text_ns is None:  # the first words, spoken or written
            response.first_text_ns = row.t_ns
            first_output(p, response, audio=False)


def on_transcript_done(p: Projection, row: EventRow, event: ev.AudioTranscriptDone) -> None:
    item, _ = _streaming(p, row, event)
    if item is not None:
        set_transcript(item, event.content_index, event.transcript, "output_audio")


def on_audio_delta(p: Projection, row: EventRow, _: None) -> None:
    n = sum(fact.nbytes for fact in p.facts if isinstance(fact, AudioChunk))
    ms = p.count_audio()
    response = p.response(row.response_id, row.t_ns) if row.response_id else None
    if response is not None:
        response.audio_bytes += n
        response.audio_ms += ms
        if response.first_audio_ns is None:
            response.first_audio_ns = row.t_ns
            first_output(p, response, audio=True)
    if row.item_id is not None:
        item = p.item(row.item_id, row.t_ns)
        item.audio_bytes += n
        item.audio_ms = (item.audio_ms or 0.0) + ms
        if item.response_id is None:
            item.response_id = row.response_id


HANDLERS: Handlers = {
    "response.created": spec(on_created, decoded(ev.ResponseCreated), "server"),
    "response.done": spec(on_done, decoded(ev.ResponseDone), "server"),
    "response.output_item.added": spec(on_output_item, decoded(ev.OutputItemAdded), "server"),
    "response.output_item.done": spec(on_output_item, decoded(ev.OutputItemDone), "server"),
    "response.content_part.added": spec(on_content_part, decoded(ev.ContentPartAdded), "server"),
    "response.content_part.done": spec(on_content_part, decoded(ev.ContentPartDone), "server"),
    "response.output_text.delta": spec(on_text_delta, decoded(ev.TextDelta), "server"),
    "response.text.delta": spec(on_text_delta, decoded(ev.BetaTextDelta), "server"),
    "response.output_text.done": spec(on_text_done, decoded(ev.TextDone), "server"),
    "response.text.done": spec(on_text_done, decoded(ev.BetaTextDone), "server"),
    "response.output_audio_transcript.delta": spec(
        on_transcript_delta, decoded(ev.AudioTranscriptDelta), "server"
    ),
    "response.audio_transcript.delta": spec(
        on_transcript_delta, decoded(ev.BetaAudioTranscriptDelta), "server"
    ),
    "response.output_audio_transcript.done": spec(
        on_transcript_done, decoded(ev.AudioTranscriptDone), "server"
    ),
    "response.audio_transcript.done": spec(
        on_transcript_done, decoded(ev.BetaAudioTranscriptDone), "server"
    ),
    "response.output_audio.delta": spec(on_audio_delta, None, "server"),
    "response.audio.delta": spec(on_audio_delta, None, "server"),
}
