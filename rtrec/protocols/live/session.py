"""Session-level GPT-Live events: configuration, audio, usage, the close, errors.  Pure.

The configuration comes from the client's `session.start` (the model is only there,
never in the URL) and the server's resolved snapshots in `session.started` and
`session.updated`, each of which is a row of `session_updates`.  The provider's own
id (`live_…`) is `session.started`'s `session.id`.  Usage is cumulative billed
seconds: every `session.usage.updated` replaces the last, and `session.closed` holds
the final figure and the reason the session ended.
"""

from __future__ import annotations

from typing import Any

import msgspec

from rtrec.projector.event_row import EventRow
from rtrec.projector.projection import Projection
from rtrec.projector.spec import Handlers, spec
from rtrec.protocols.live import events as ev
from rtrec.protocols.live.config import merge_session, with_format
from rtrec.protocols.live.decoding import decoded
from rtrec.protocols.live.work import LiveWork


def on_start(p: Projection, row: EventRow, event: ev.SessionStart) -> None:
    """The client's configuration: the model, format and voice it asked for."""
    config = merge_session(p.session.config, event.session)
    p.session.config = with_format(config, p.work_of(LiveWork).media.fmt)


def on_snapshot(p: Projection, row: EventRow, event: ev.SessionSnapshot) -> None:
    """The server's resolved configuration (session.started, session.updated)."""
    config = merge_session(p.session.config, event.session)
    p.record_config(row, with_format(config, p.work_of(LiveWork).media.fmt), event.session)


def on_audio(p: Projection, row: EventRow, _: None) -> None:
    p.count_audio()


def on_usage(p: Projection, row: EventRow, event: ev.UsageUpdated) -> None:
    _take_usage(p, event.usage)


def on_closed(p: Projection, row: EventRow, event: ev.SessionClosed) -> None:
    _take_usage(p, event.usage)
    if isinstance(event.reason, str):
        p.session.closed_reason = event.reason


def _take_usage(p: Projection, usage: ev.Usage | None) -> None:
    seconds = usage.seconds if usage is not None else None
    if isinstance(seconds, int | float) and not isinstance(seconds, bool):
        p.session.usage_seconds = float(seconds)


def on_error(p: Projection, row: EventRow, event: ev.Error) -> None:
    info = event.error or ev.ErrorInfo()
    client_event_id = _text(info.client_event_id) or event.client_event_id
    p.record_error(
        row,
        type=_text(info.type),
        code=_text(info.code),
        message=_text(info.message),
        param=_text(info.param),
        client_event_id=client_event_id,
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else msgspec.json.encode(value).decode()


HANDLERS: Handlers = {
    "session.start": spec(on_start, decoded(ev.SessionStart), "client"),
    "session.started": spec(on_snapshot, decoded(ev.SessionStarted), "server"),
    "session.updated": spec(on_snapshot, decoded(ev.SessionUpdated), "server"),
    # The client's audio; on a sideband, the server's copy of it.
    "session.input_audio.append": spec(on_audio, None, "both"),
    "session.output_audio.delta": spec(on_audio, None, "server"),
    "session.usage.updated": spec(on_usage, decoded(ev.UsageUpdated), "server"),
    "session.closed": spec(on_closed, decoded(ev.SessionClosed), "server"),
    "error": spec(on_error, decoded(ev.Error), "server"),
}
