"""What `rtrec ui` answers: the session list, the session page, and the data the page asks for.

Each request reads the database through a connection of its own that cannot write
(`open_reader`), so a recorder appending at the same time is never held up and
every answer is current.  The page is the same page `rtrec view` writes, with its data
fetched from here instead of inline.  No HTTP in this module: `server` carries it.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rtrec.errors import RtrecError, SessionNotFound
from rtrec.store.event_log import iter_logged_events, last_logged_event, logged_event
from rtrec.store.overview import session_overviews
from rtrec.store.projected import read_projection
from rtrec.store.reader import resolve_session
from rtrec.store.reading import one_snapshot, reading
from rtrec.ui.mixes import MixCache
from rtrec.view.events import shown_payload
from rtrec.view.model import build_model
from rtrec.view.page import list_page, shell_page
from rtrec.view.stats import percentile

EVENTS_PER_REQUEST = 20_000
_SESSION_PAGE = re.compile(r"^/s/([^/]+)$")
_SESSION_API = re.compile(r"^/api/s/(\d+)/(model|events|payload|peaks|audio)$")


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)


def json_response(value: Any, status: int = 200) -> Response:
    body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(status, body, "application/json")


def text_response(status: int, text: str) -> Response:
    return Response(status, (text + "\n").encode())


class UiApp:
    def __init__(self, db_path: str, mixes: MixCache) -> None:
        self.db_path = db_path
        self.mixes = mixes

    def handle(self, path: str, query: Mapping[str, str], range_header: str | None) -> Response:
        try:
            return self._route(path, query, range_header)
        except SessionNotFound as exc:
            return text_response(404, str(exc))
        except RtrecError as exc:
            return text_response(503, f"rtrec ui: {exc}")

    def _route(self, path: str, query: Mapping[str, str], range_header: str | None) -> Response:
        if path in ("/", "/index.html"):
            return Response(200, list_page({"mode": "list"}).encode(), "text/html; charset=utf-8")
        if path == "/api/sessions":
            return json_response(self.sessions())
        page = _SESSION_PAGE.match(path)
        if page:
            return self.session_page(page[1])
        api = _SESSION_API.match(path)
        if not api:
            return text_response(404, "not found")
        session_id, what = int(api[1]), api[2]
        if what == "model":
            return json_response(self.model(session_id))
        if what == "events":
            return json_response(self.events(session_id, _int(query.get("after"), -1)))
        if what == "payload":
            return json_response(self.payload(session_id, _int(query.get("seq"), -1)))
        ready = self.mixes.by_key(session_id, query.get("key", ""))
        if ready is None or ready.description is None:
            return text_response(404, "no such mix (it may have been replaced: reload the model)")
        if what == "peaks":
            user, assistant = ready.peaks
            return json_response(
                {
                    "user": base64.b64encode(user).decode(),
                    "assistant": base64.b64encode(assistant).decode(),
                }
            )
        track = ready.tracks.get(query.get("track", ""))
        if track is None:
            return text_response(404, "no such track (user or assistant)")
        return _ranged(track, ready.mime, range_header)

    # -- the answers ------------------------------------------------------------------

    def sessions(self) -> list[dict[str, Any]]:
        with reading(self.db_path, short_lived=True) as conn, one_snapshot(conn):
            rows = session_overviews(conn)
        listed = []
        for row in rows:
            latencies = [v for v in row["turn_latencies_ms"] if v is not None]
            listed.append(
                {
                    "session_id": row["session_id"],
                    "uuid": row.get("uuid"),
                    "started_at": row.get("started_at"),
                    "ended_at": row.get("ended_at"),
                    "live": row.get("ended_at") is None,
                    "model": row.get("model"),
                    "protocol": row.get("protocol"),
                    "end_reason": row.get("end_reason"),
                    "duration_ms": row.get("duration_ms"),
                    "event_count": row.get("event_count"),
                    "turns": len(row["turn_latencies_ms"]),
                    "latency_p50_ms": percentile(latencies, 50),
                    "latency_p95_ms": percentile(latencies, 95),
                    "errors": row.get("errors") or 0,
                }
            )
        return listed

    def session_page(self, ref: str) -> Response:
        with reading(self.db_path, short_lived=True) as conn:
            session = resolve_session(conn, ref)
        if ref != str(session.id):
            return Response(302, headers=[("Location", f"/s/{session.id}")])
        source = {"mode": "server", "base": f"/api/s/{session.id}"}
        html = shell_page(source, f"rtrec · session {session.id}")
        return Response(200, html.encode(), "text/html; charset=utf-8")

    def model(self, session_id: int) -> dict[str, Any]:
        with reading(self.db_path, short_lived=True) as conn:
            resolve_session(conn, str(session_id))
            with one_snapshot(conn):
                projection = read_projection(conn, session_id)
                last = last_logged_event(conn, session_id)
        last_seq, last_ms = last if last is not None else (-1, None)
        live = projection["session"].get("ended_at") is None
        ready, state = self.mixes.state(session_id, last_seq, live)
        model = build_model(
            projection,
            audio=ready.description if ready is not None else None,
            last_event_ms=last_ms,
        )
        model["mix_state"] = state
        model["events"] = {"count": last_seq + 1, "last_seq": last_seq}
        return model

    def events(self, session_id: int, after_seq: int) -> dict[str, Any]:
        with reading(self.db_path, short_lived=True) as conn:
            rows = [
                [e.seq, round(e.t_ms, 3), e.direction, e.type, e.frame_size]
                for e in iter_logged_events(
                    conn, session_id, after_seq=after_seq, limit=EVENTS_PER_REQUEST
                )
            ]
        return {"rows": rows, "more": len(rows) == EVENTS_PER_REQUEST}

    def payload(self, session_id: int, seq: int) -> dict[str, Any]:
        with reading(self.db_path, short_lived=True) as conn:
            event = logged_event(conn, session_id, seq)
        return {"seq": seq, "payload": shown_payload(event.payload) if event else None}


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def _ranged(data: bytes, mime: str, range_header: str | None) -> Response:
    """The audio, or the byte range asked for (browsers seek media by ranges)."""
    size = len(data)
    headers = [("Accept-Ranges", "bytes"), ("Cache-Control", "no-store")]
    found = re.fullmatch(r"bytes=(\d*)-(\d*)", (range_header or "").strip())
    if not found or (not found[1] and not found[2]):
        return Response(200, data, mime, headers)
    if found[1]:
        start = int(found[1])
        end = min(size - 1, int(found[2])) if found[2] else size - 1
    else:
        start, end = max(0, size - int(found[2])), size - 1
    if start >= size or start > end:
        return Response(416, b"", mime, [*headers, ("Content-Range", f"bytes */{size}")])
    headers.append(("Content-Range", f"bytes {start}-{end}/{size}"))
    return Response(206, data[start : end + 1], mime, headers)
