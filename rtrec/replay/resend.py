"""`rtrec replay --to URL`: the recorded client side, re-sent to a live server, recorded anew.

The recorded client frames go out on the recorded timeline (scaled by --speed, gaps
capped by --idle-limit), while everything the live server sends is recorded.  Both
directions land in a new session in the same database, `source = 'replay'` and
`parent_id` = the original, so `rtrec show` (or SQL) can put the two side by side.

The server's answers are not waited for (the recorded timeline is the pacing), so
a server that is slower than the original may still be answering an earlier event
when the next one is sent, and ids the server makes up (item ids, call ids) differ
from the recorded ones a client event may name.  After the last recorded event the
replay waits until the server has been quiet for `settle_s`, then closes as the
original client did.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus

from rtrec.capture.session import Request, answered, new_session
from rtrec.capture.writer_link import WriterLink
from rtrec.dial import REDIRECT_STATUSES, DialRefused, Endpoint, dial, url_from_parts
from rtrec.errors import BadHeader, BadURL, HandshakeRefused, RtrecError
from rtrec.handshake import DEFAULT_MAX_FRAME, recorded_subprotocols
from rtrec.net import UNREACHABLE, unreachable_reason
from rtrec.replay.clock import now_ns, sleep_until
from rtrec.replay.feed import Feed
from rtrec.replay.session import ReplayOptions
from rtrec.replay.source import RecordedSession, ReplaySource
from rtrec.replay.timeline import Timeline
from rtrec.secrets import REDACTED, query_without_secrets, redact_query
from rtrec.store.session import LiveSession

DEFAULT_PATH = "/v1/realtime"
REPLAY_TARGET = "replay target"  # BadURL's role for the URL a replay goes to
SETTLE_S = 1.0
MAX_SETTLE_S = 30.0
OPEN_TIMEOUT_S = 10.0
# Request headers worth carrying over from the original handshake: they change
# what the server speaks (OpenAI-Beta selects the beta protocol).
CARRIED_HEADERS = ("openai-beta",)
# Where OPENAI_API_KEY may go without being named in --header: OpenAI itself, and
# this machine (the simulator, a local compatible server).  Anywhere else (Azure, xAI,
# a third party) the key would be a gift: it takes an explicit --header.
OPENAI_KEY_HOSTS = frozenset({"api.openai.com"})
# And the Gemini key (as google-genai reads it) only to Google's Live endpoint, or here.
GEMINI_KEY_HOSTS = frozenset({"generativelanguage.googleapis.com"})
GEMINI_KEY_ENV = ("GOOGLE_API_KEY", "GEMINI_API_KEY")


@dataclass(frozen=True)
class ResendResult:
    session_id: int
    uuid: str
    client_events_sent: int
    server_events_received: int
    end_reason: str
    close_code: int | None
    close_reason: str | None


def target_url(url: str, recorded: RecordedSession) -> str:
    """The URL to connect to; a bare origin gets the original session's path and query.

    BadURL (role REPLAY_TARGET) when `url` is not a WebSocket URL rtrec can dial.
    """
    try:
        endpoint = Endpoint.from_url(url.strip())
    except ValueError as exc:
        raise BadURL(url, str(exc), REPLAY_TARGET) from exc
    parts = urlsplit(url.strip())
    if parts.fragment:
        raise BadURL(url, "no #fragment in a WebSocket URL", REPLAY_TARGET)
    path, query = parts.path, parts.query
    if path in ("", "/"):
        path = recorded.path or recorded.adapter.default_path or DEFAULT_PATH
        if not query:
            query = query_without_secrets(recorded.query or "")
            if not query and recorded.model:
                query = f"model={recorded.model}"
    try:
        return url_from_parts(endpoint, path, query)
    except DialRefused as exc:
        raise BadURL(url, str(exc), REPLAY_TARGET) from exc


def handshake_headers(
    given: Sequence[str], recorded: RecordedSession, env: Mapping[str, str], url: str = ""
) -> list[tuple[str, str]]:
    """`given` headers (`Name: value`, else BadHeader), the original's protocol headers,
    and auth from OPENAI_API_KEY.

    OPENAI_API_KEY is added only for api.openai.com and loopback (`url`'s host).
    """
    headers: list[tuple[str, str]] = []
    for text in given:
        name, sep, value = text.partition(":")
        if not sep or not name.strip() or any(c.isspace() for c in name.strip()):
            raise BadHeader(text)
        headers.append((name.strip(), value.strip()))
    names = {name.lower() for name, _ in headers}
    for name in CARRIED_HEADERS:
        carried = recorded.request_headers.get(name)
        if name not in names and carried and carried != REDACTED:
            headers.append((name, carried))
    # A Gemini session authenticates by its query instead (with_gemini_key): an OpenAI
    # key is never sent to it.
    key = env.get("OPENAI_API_KEY", "").strip() if recorded.protocol != "gemini" else ""
    if key and not names & {"authorization", "api-key"} and key_goes_to(url, OPENAI_KEY_HOSTS):
        headers.append(("Authorization", f"Bearer {key}"))
    return headers


def key_goes_to(url: str, hosts: frozenset[str]) -> bool:
    """Whether a key from the environment may go to this URL: its own hosts, or loopback."""
    try:
        endpoint = Endpoint.from_url(url)
    except ValueError:
        return False
    return endpoint.host in hosts or endpoint.is_loopback


def with_gemini_key(url: str, recorded: RecordedSession, env: Mapping[str, str]) -> str:
    """A Gemini session's URL with `key=` from GOOGLE_API_KEY or GEMINI_API_KEY (as
    google-genai reads them), unless the URL already carries credentials."""
    if recorded.protocol != "gemini":
        return url
    base, _, query = url.partition("?")
    given = {piece.partition("=")[0].lower() for piece in query.split("&") if piece}
    key = next((env[n].strip() for n in GEMINI_KEY_ENV if env.get(n, "").strip()), None)
    if key is None or given & {"key", "access_token"} or not key_goes_to(url, GEMINI_KEY_HOSTS):
        return url
    return f"{base}?{query + '&' if query else ''}key={quote(key, safe='')}"


async def resend(
    source: ReplaySource,
    options: ReplayOptions,
    url: str,
    headers: list[tuple[str, str]],
    *,
    settle_s: float = SETTLE_S,
    log: Callable[[str], None] | None = None,
) -> ResendResult:
    say = log or (lambda line: None)
    shown = _shown(url)
    # A writer process records the new session, as for `rtrec record`; it holds the
    # recorder's lock while the session is open, so that another process opening the
    # database meanwhile does not take it for a session cut by a crash.
    writer = WriterLink(source.db_path, warn=say)
    await writer.start()
    try:
        endpoint = Endpoint.from_url(url)
        offered = recorded_subprotocols(source.session.request_headers)
        ws = await _open(url, endpoint, shown, headers, offered)
        parts = urlsplit(url)
        session = new_session(
            Request(parts.path, parts.query, headers, offered),
            source="replay",
            parent_id=source.session.ref.id,
            upstream=endpoint.origin,
            protocol=source.session.protocol,
            model=source.session.model,
        )
        answered(session, ws.subprotocol, ws.response.headers.raw_items() if ws.response else None)
        writer.open_session(session)
        say(f"connected to {shown}; re-sending the client events of {source.session.label}")
        run = _Resend(ws, source, options, session, writer)
        await run.go(settle_s)
    finally:
        ok = await writer.close()
    if not ok or session.db_id is None:
        raise RtrecError(f"could not write the new session to {source.db_path}")
    return ResendResult(
        session.db_id,
        session.uuid,
        run.sent,
        run.received,
        session.end_reason or "",
        ws.close_code,
        ws.close_reason,
    )


def _shown(url: str) -> str:
    """The URL for messages: credentials in its query replaced."""
    base, sep, query = url.partition("?")
    return base + sep + redact_query(query)


async def _open(
    url: str,
    endpoint: Endpoint,
    shown: str,
    headers: list[tuple[str, str]],
    subprotocols: list[str],
) -> ClientConnection:
    try:
        return await dial(
            url,
            endpoint,
            additional_headers=headers,
            subprotocols=subprotocols or None,
            compression=None,
            max_size=DEFAULT_MAX_FRAME,
            open_timeout=OPEN_TIMEOUT_S,
        )
    except InvalidStatus as exc:
        response = exc.response
        status = response.status_code
        if status in REDIRECT_STATUSES:
            where = response.headers.get("Location", "elsewhere")
            raise HandshakeRefused(shown, status, location=where) from exc
        body = (response.body or b"").decode("utf-8", "replace").strip().replace("\n", " ")
        withheld = not key_goes_to(url, OPENAI_KEY_HOSTS)
        raise HandshakeRefused(shown, status, body=body[:200], key_withheld=withheld) from exc
    except DialRefused as exc:
        raise RtrecError(f"{exc}") from exc
    except UNREACHABLE as exc:
        reason = unreachable_reason(exc)
        raise RtrecError(f"cannot reach {shown}: {reason}") from exc


class _Resend:
    def __init__(
        self,
        ws: ClientConnection,
        source: ReplaySource,
        options: ReplayOptions,
        session: LiveSession,
        writer: WriterLink,
    ) -> None:
        self.ws = ws
        self.source = source
        self.options = options
        self.session = session
        self.writer = writer
        self.sent = 0
        self.received = 0
        self._last_heard_ns = now_ns()

    async def go(self, settle_s: float) -> None:
        receiver = asyncio.create_task(self._receive())
        sender = asyncio.create_task(self._send())
        reason = "client_closed"
        try:
            done, _ = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
            if sender in done:
                sender.result()
                if await self._settle(settle_s, receiver):
                    reason = "upstream_closed"
                else:
                    code, text = self._closing_code()
                    await self.ws.close(code, text)
            else:
                reason = "upstream_closed"
            await asyncio.gather(receiver, return_exceptions=True)
        finally:
            for task in (sender, receiver):
                task.cancel()
            await asyncio.gather(sender, receiver, return_exceptions=True)
            with contextlib.suppress(Exception):
                await self.ws.close()
            closed_with = self.ws.close_code
            self.session.client_close_code = closed_with if reason == "client_closed" else None
            self.session.upstream_close_code = closed_with
            self.session.upstream_close_reason = self.ws.close_reason
            self.session.end(reason)
            self.writer.update_session(self.session)

    def _closing_code(self) -> tuple[int, str]:
        recorded = self.source.session
        code = recorded.client_close_code
        if (
            recorded.end_reason == "client_closed"
            and code is not None
            and code
            not in (
                1005,
                1006,
                1015,
            )
        ):
            return code, recorded.client_close_reason or ""
        return 1000, ""

    async def _settle(self, settle_s: float, receiver: asyncio.Task[None]) -> bool:
        """Wait until the server has been quiet for settle_s; True if it closed meanwhile."""
        deadline_ns = now_ns() + round(MAX_SETTLE_S * 1e9)
        while not receiver.done():
            quiet_until_ns = min(self._last_heard_ns + round(settle_s * 1e9), deadline_ns)
            if now_ns() >= quiet_until_ns:
                return False
            await sleep_until(quiet_until_ns)
        return True

    async def _send(self) -> None:
        timeline = Timeline(self.options.speed, self.options.idle_limit_s)
        conn = self.source.connect()
        origin_ns = now_ns()
        try:
            feed = Feed(self.source.window_reader(conn))
            while (frame := feed.next()) is not None:
                due_ns = origin_ns + timeline.offset_ns(frame.t_ns)
                feed.top_up(due_ns)
                await sleep_until(due_ns)
                if frame.direction != "client":
                    continue  # the recorded answer: only its time matters here
                # Logged before it is sent, as the relay does: an answer can never be
                # recorded ahead of the event that caused it.
                self.writer.append(self.session, "client", frame.frame)
                try:
                    await self.ws.send(frame.frame)
                except ConnectionClosed:
                    return
                self.sent += 1
        finally:
            conn.close()

    async def _receive(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for message in self.ws:
                self._last_heard_ns = now_ns()
                self.writer.append(self.session, "server", message)
                self.received += 1
