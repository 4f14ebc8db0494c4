"""One recorded session as a trace, read from the database (and its audio, if asked)."""

from __future__ import annotations

import base64
import json
import sqlite3
import tempfile
from pathlib import Path

from rtrec.otel.spans import Trace, TraceOptions
from rtrec.otel.trace import build_trace
from rtrec.store.reader import SessionRef
from rtrec.store.trace_source import read_trace_source

AUDIO_MIME = "audio/wav"


def trace_session(conn: sqlite3.Connection, ref: SessionRef, options: TraceOptions) -> Trace:
    trace = build_trace(read_trace_source(conn, ref.id), options)
    if options.with_audio:
        attach_audio(conn, ref, trace)
    return trace


def attach_audio(conn: sqlite3.Connection, ref: SessionRef, trace: Trace) -> None:
    """Each user turn's and each reply's audio, as a WAV blob part of its span's messages.

    The audio is cut by rtrec's own WAV exporter (`export-wav --split response,item`)
    into a temporary directory, so a trace carries exactly what export-wav writes.
    """
    from rtrec.replay.wav.export import ExportOptions, NoAudioError, export_wav
    from rtrec.replay.wav.fold import safe_name

    with tempfile.TemporaryDirectory(prefix="rtrec-otel-") as tmp:
        out = Path(tmp) / "audio"
        try:
            result = export_wav(
                conn, ref, ExportOptions(out_dir=out, split=frozenset({"response", "item"}))
            )
        except NoAudioError:
            return
        files = [f.path for f in result.files if f.frames]
        for span in trace.spans:
            kind, _, key = span.key.partition(":")
            if kind == "speech":
                wanted, attribute, role = (
                    f"-user-{safe_name(key)}.",
                    "gen_ai.input.messages",
                    "user",
                )
            elif kind == "response":
                wanted, attribute, role = f"-{safe_name(key)}.", "gen_ai.output.messages", None
            else:
                continue
            prefix = "item-" if kind == "speech" else "response-"
            path = next((p for p in files if p.name.startswith(prefix) and wanted in p.name), None)
            if path is None:
                continue
            blob = {
                "type": "blob",
                "modality": "audio",
                "mime_type": AUDIO_MIME,
                "content": base64.b64encode(path.read_bytes()).decode("ascii"),
            }
            _add_part(span.attributes, attribute, role or "assistant", blob)


def _add_part(attributes: dict[str, object], name: str, role: str, part: dict[str, str]) -> None:
    """Add a part to the first message of `role` in a messages attribute (JSON text)."""
    existing = attributes.get(name)
    messages = json.loads(existing) if isinstance(existing, str) else []
    target = next((m for m in messages if m.get("role") == role), None)
    if target is None:
        target = {"role": role, "parts": []}
        messages.append(target)
    target["parts"].append(part)
    attributes[name] = json.dumps(messages, ensure_ascii=False, separators=(",", ":"))
