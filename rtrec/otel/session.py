"""One recorded session as a trace, read from the database (and its audio, if asked).

Audio stays on disk until it is sent: `--with-audio` cuts the session's audio with
rtrec's own WAV exporter (`export-wav --split response,item`) into a temporary
directory, each span keeps the path of its file, and the sender reads a file only
when the request holding its span is built.  A long call's audio never sits in
memory whole.
"""

from __future__ import annotations

import base64
import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rtrec.otel.spans import AttributeValue, AudioPart, SpanSpec, Trace, TraceOptions
from rtrec.otel.trace import build_trace
from rtrec.store.connections import Connection
from rtrec.store.reader import SessionRef
from rtrec.store.trace_source import read_trace_source

AUDIO_MIME = "audio/wav"


@contextmanager
def traced_session(conn: Connection, ref: SessionRef, options: TraceOptions) -> Iterator[Trace]:
    """The session's trace; with audio, valid (its files kept) until the block ends."""
    trace = build_trace(read_trace_source(conn, ref.id), options)
    if not options.with_audio:
        yield trace
        return
    with tempfile.TemporaryDirectory(prefix="rtrec-otel-") as tmp:
        _attach_audio(conn, ref, trace, Path(tmp) / "audio")
        yield trace


def _attach_audio(conn: Connection, ref: SessionRef, trace: Trace, out: Path) -> None:
    from rtrec.replay.wav.export import ExportOptions, NoAudioError, export_wav
    from rtrec.replay.wav.fold import safe_name

    try:
        result = export_wav(
            conn, ref, ExportOptions(out_dir=out, split=frozenset({"response", "item"}))
        )
    except NoAudioError:
        return
    files = [f.path for f in result.files if f.frames]
    for span in trace.spans:
        kind, _, key = span.key.partition(":")
        if kind == "speech":  # item-NNN-user-<item id>.wav
            prefix, infix = "item-", f"-user-{safe_name(key)}."
            attribute, role = "gen_ai.input.messages", "user"
        elif kind == "response":  # response-NNN-<response id>.wav
            prefix, infix = "response-", f"-{safe_name(key)}."
            attribute, role = "gen_ai.output.messages", "assistant"
        else:
            continue
        path = next((p for p in files if p.name.startswith(prefix) and infix in p.name), None)
        if path is not None:
            span.audio.append(AudioPart(attribute, role, path))


def attributes_with_audio(span: SpanSpec) -> dict[str, AttributeValue]:
    """The span's attributes, its audio files read in as blob parts of its messages."""
    if not span.audio:
        return span.attributes
    attributes = dict(span.attributes)
    for part in span.audio:
        existing = attributes.get(part.attribute)
        messages = json.loads(existing) if isinstance(existing, str) else []
        target = next((m for m in messages if m.get("role") == part.role), None)
        if target is None:
            target = {"role": part.role, "parts": []}
            messages.append(target)
        target["parts"].append(
            {
                "type": "blob",
                "modality": "audio",
                "mime_type": AUDIO_MIME,
                "content": base64.b64encode(part.path.read_bytes()).decode("ascii"),
            }
        )
        attributes[part.attribute] = json.dumps(messages, ensure_ascii=False, separators=(",", ":"))
    return attributes
