"""The sound of sessions served by `rtrec ui`: mixes made in the background, kept in memory.

Mixing and compressing a long call takes a while (Opus runs at tens of times real
time), so a page gets its model at once and its audio when it is ready: the model
says `mix_state` ("ready", "pending", "none" for a session without audio) and, once
made, the mix's `key`.  A session still recording gets a fresh mix at most every
`refresh_s`; meanwhile the last one is served.  Nothing is written anywhere: the
compressed audio stays in memory, a few sessions at most.
"""

from __future__ import annotations

import io
import queue
import sys
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from rtrec.replay.wav.mix import as_heard_mix
from rtrec.store.event_log import last_logged_event
from rtrec.store.reading import reading
from rtrec.view.audio import TRACKS, encode_mix

KEEP_SESSIONS = 4
REFRESH_S = 15.0


@dataclass(frozen=True)
class ReadyMix:
    session_id: int
    last_seq: int
    key: str
    description: dict[str, Any] | None  # None: the session has no audio
    peaks: tuple[bytes, bytes]
    tracks: dict[str, bytes]  # user, assistant: compressed
    mime: str
    made_at: float


class MixCache:
    def __init__(
        self, db_path: str, *, keep: int = KEEP_SESSIONS, refresh_s: float = REFRESH_S
    ) -> None:
        self.db_path = db_path
        self.keep = keep
        self.refresh_s = refresh_s
        self._lock = threading.Lock()
        self._ready: OrderedDict[int, ReadyMix] = OrderedDict()
        self._queued: set[int] = set()
        self._jobs: queue.Queue[tuple[int, int] | None] = queue.Queue()
        self._worker = threading.Thread(target=self._run, name="rtrec-ui-mixes", daemon=True)
        self._worker.start()

    def state(self, session_id: int, last_seq: int, live: bool) -> tuple[ReadyMix | None, str]:
        """The session's latest mix (maybe older than `last_seq`), and the page's mix_state."""
        with self._lock:
            ready = self._ready.get(session_id)
            if ready is not None:
                self._ready.move_to_end(session_id)
            current = ready is not None and ready.last_seq >= last_seq
            due = ready is None or (
                not current and (not live or time.monotonic() - ready.made_at >= self.refresh_s)
            )
            if due and session_id not in self._queued:
                self._queued.add(session_id)
                self._jobs.put((session_id, last_seq))
            pending = session_id in self._queued
        if ready is None:
            return None, "pending"
        if ready.description is None:
            return ready, "pending" if pending else "none"
        return ready, "pending" if pending and not live else "ready"

    def by_key(self, session_id: int, key: str) -> ReadyMix | None:
        with self._lock:
            ready = self._ready.get(session_id)
        return ready if ready is not None and ready.key == key else None

    def close(self) -> None:
        self._jobs.put(None)

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            session_id, last_seq = job
            try:
                made = self._make(session_id, last_seq)
            except Exception as exc:  # one bad session must not stop the others' audio
                print(f"rtrec ui: cannot mix session {session_id}: {exc}", file=sys.stderr)
                made = _no_audio(session_id, last_seq, "", time.monotonic())
            with self._lock:
                self._queued.discard(session_id)
                self._ready[session_id] = made
                self._ready.move_to_end(session_id)
                while len(self._ready) > self.keep:
                    self._ready.popitem(last=False)

    def _make(self, session_id: int, last_seq: int) -> ReadyMix:
        with reading(self.db_path, short_lived=True) as conn:
            last = last_logged_event(conn, session_id)
            seq = last[0] if last is not None else -1
            mix = as_heard_mix(conn, session_id)
            encoded = encode_mix(mix, io.BytesIO) if mix is not None else None
        made_at = time.monotonic()
        key = f"{session_id}.{max(seq, last_seq)}.{int(made_at * 1000)}"
        if encoded is None:
            return _no_audio(session_id, max(seq, last_seq), key, made_at)
        tracks = {name: file.read() for name, file in zip(TRACKS, encoded.files, strict=True)}
        description = {**encoded.describe(), "key": key}
        encoded.close()
        return ReadyMix(
            session_id,
            max(seq, last_seq),
            key,
            description,
            encoded.peaks,
            tracks,
            encoded.codec.mime,
            made_at,
        )


def _no_audio(session_id: int, last_seq: int, key: str, made_at: float) -> ReadyMix:
    return ReadyMix(session_id, last_seq, key, None, (b"", b""), {}, "", made_at)
