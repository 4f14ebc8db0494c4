"""`rtrec record --otel`: each session's trace sent as it ends, from a thread of its own.

The recorder hands over a session id once the session has ended and its views are
complete (`submit`, which never blocks: the queue is bounded and a full queue drops
the id, loudly).  This thread reads the session through its own read-only
connection and sends it; a slow or absent backend only delays this thread, never the
relay.  A failure is one warning line naming the session; while the backend stays
down further failures are only counted, and the next success says which sessions
were missed, so they can be sent again with `rtrec otel`.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable

from rtrec.otel.export import Destination, ExportFailed, SpanSender
from rtrec.otel.session import traced_session
from rtrec.otel.spans import TraceOptions
from rtrec.store.connections import Connection
from rtrec.store.reader import session_ref
from rtrec.store.reading import open_reader
from rtrec.threads import yield_to_relay

DEFAULT_MAX_QUEUED = 1000
_STOP = -1


class TraceWorker:
    def __init__(
        self,
        db_path: str,
        destination: Destination,
        options: TraceOptions | None = None,
        *,
        max_queued: int = DEFAULT_MAX_QUEUED,
    ) -> None:
        self.db_path = db_path
        self.destination = destination
        self.options = options or TraceOptions()
        self._queue: queue.Queue[int] = queue.Queue(max_queued)
        self._sender = SpanSender(destination)  # a missing extra fails here, at startup
        self._warn: Callable[[str], None] = lambda message: None
        self._thread: threading.Thread | None = None
        self._unsent: list[int] = []  # sessions that failed while the backend was down
        self._dropped = 0
        self.sent = 0  # sessions the backend took

    def start(self, warn: Callable[[str], None]) -> None:
        """`warn` gets each warning line (from this worker's thread)."""
        self._warn = warn
        self._thread = threading.Thread(target=self._run, name="rtrec-otel", daemon=True)
        self._thread.start()

    def submit(self, session_id: int) -> None:
        """Send this session's trace soon; returns at once."""
        try:
            self._queue.put_nowait(session_id)
        except queue.Full:
            self._dropped += 1
            if self._dropped == 1:
                self._warn(
                    f"traces are queued faster than {self.destination.shown} takes them; "
                    f"session {session_id} and later ones are not sent"
                )

    def close(self, timeout: float = 30.0) -> None:
        """Send what is queued, for at most about `timeout` seconds (blocking)."""
        if self._thread is not None:
            with contextlib.suppress(queue.Full):
                self._queue.put(_STOP, timeout=timeout)
            self._thread.join(timeout)
        self._sender.close()  # also cuts short an export still retrying
        left = self._unsent + self._drain()
        if left:
            self._warn(f"traces of sessions {_ids(left)} were not sent: rtrec otel {_ids(left)}")

    def _drain(self) -> list[int]:
        left: list[int] = []
        while True:
            try:
                session_id = self._queue.get_nowait()
            except queue.Empty:
                return left
            if session_id != _STOP:
                left.append(session_id)

    def _run(self) -> None:
        yield_to_relay()
        conn: Connection | None = None
        try:
            while (session_id := self._queue.get()) != _STOP:
                if conn is None:
                    conn = open_reader(self.db_path)
                self._send(conn, session_id)
        except Exception as exc:  # the recording must outlive any trouble here
            self._warn(f"stopped sending traces: {exc}")
        finally:
            if conn is not None:
                conn.close()

    def _send(self, conn: Connection, session_id: int) -> None:
        ref = session_ref(conn, session_id)
        if ref is None:
            return
        try:
            with traced_session(conn, ref, self.options) as trace:
                self._sender.send(trace)
        except ExportFailed as exc:
            if not self._unsent:
                self._warn(f"{exc}; session {session_id} not sent (later sessions are still tried)")
            self._unsent.append(session_id)
            return
        self.sent += 1
        if self._unsent:
            missed, self._unsent = self._unsent, []
            self._warn(
                f"traces reach {self.destination.shown} again; not sent while it was down: "
                f"rtrec otel {_ids(missed)}"
            )


def _ids(session_ids: list[int]) -> str:
    return " ".join(str(s) for s in session_ids)
