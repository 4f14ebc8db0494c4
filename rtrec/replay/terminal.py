"""The readable live view of a replay: frames in, terminal text out.  Pure: no I/O.

One line per event: recorded time, direction, type and the detail that matters, as
the session's protocol adapter describes it.  Two kinds of event would flood that
view, so they are folded:

- text deltas (assistant text and transcripts, user transcripts, function call
  arguments) grow one line per item, fragment by fragment, as they arrive; the line
  stays open (no newline) while the same item keeps growing;
- audio deltas print nothing as they arrive; their duration adds up per item (per
  direction for the user's appends) and is printed as one summary line before the
  next ordinary event line.

Everything is appended, never rewritten, so the output reads the same piped into a
file as on a terminal; `colour` only adds ANSI colours.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from rtrec.protocols import adapter_named
from rtrec.protocols.base import Adapter, AudioChunk, MediaFact, MediaFold, MediaRow
from rtrec.protocols.describe import Audio, Grow
from rtrec.store.reader import RecordedFrame

# Streams interrupted by another line continue on a new line marked "…"; remembering
# the last few is enough to tell a continuation from a new stream.
_RECENT_STREAMS = 32

# The media facts of a frame: its audio chunks with their formats.  A replay that
# shows every frame can fold them as it goes; one that starts mid-session or hides
# some frames asks a reader that walked the whole session (rtrec/replay/source.py).
MediaLookup = Callable[[RecordedFrame], list[MediaFact]]
_COLOURS = {"client": "36", "server": "35", "time": "2", "text": "1", "audio": "33", "error": "31"}


@dataclass
class _AudioRun:
    first_t_ns: int
    direction: str
    label: str
    item_id: str | None
    unit: str
    ms: float = 0.0
    deltas: int = 0


def format_time(t_ns: int) -> str:
    """m:ss.mmm (h:mm:ss.mmm from an hour on) of recorded time."""
    ms_total = max(0, t_ns) // 1_000_000
    seconds, ms = divmod(ms_total, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}.{ms:03d}"
    return f"{minutes}:{seconds:02d}.{ms:03d}"


class FoldAsShown:
    """Media facts from the frames the view is shown, folded in order."""

    def __init__(self, adapter: Adapter) -> None:
        self._types = adapter.media_types
        self._fold: MediaFold = adapter.media()

    def __call__(self, frame: RecordedFrame) -> list[MediaFact]:
        if frame.type not in self._types:  # untyped binary frames among them
            return []
        row = MediaRow(frame.seq, frame.t_ns, frame.direction, frame.type, frame=frame.frame)
        return self._fold.feed(row, decode=False)


class TerminalView:
    def __init__(
        self,
        adapter: Adapter | None = None,
        media: MediaLookup | None = None,
        *,
        colour: bool = False,
    ) -> None:
        self.adapter = adapter or adapter_named(None)
        self.media = media or FoldAsShown(self.adapter)
        self.colour = colour
        self._open_stream: tuple[str, str | None, int | None] | None = None
        self._recent_streams: deque[tuple[str, str | None, int | None]] = deque(
            maxlen=_RECENT_STREAMS
        )
        self._audio: dict[tuple[str, str | None], _AudioRun] = {}

    def feed(self, frame: RecordedFrame) -> str:
        """The text to write for this frame (possibly empty, possibly without a newline)."""
        facts = self.media(frame)
        text = frame.frame
        if isinstance(text, bytes):
            if frame.type is None:
                return self._line(frame, "binary frame", f"{len(text)} bytes")
            text = text.decode("utf-8", "replace")  # JSON the adapter typed (Gemini)
        shown = self.adapter.describe(frame.type, text)
        if isinstance(shown, Audio):
            self._add_audio(frame, shown, facts)
            return ""
        if isinstance(shown, Grow):
            return self._grow(frame, shown)
        detail = self._paint("error", shown.detail) if shown.error else shown.detail
        return self._line(frame, shown.name, detail)

    def finish(self) -> str:
        return self._close_stream() + self._flush_audio()

    # -- folding ------------------------------------------------------------------

    def _add_audio(self, frame: RecordedFrame, shown: Audio, facts: list[MediaFact]) -> None:
        key = (frame.direction, shown.key)
        run = self._audio.get(key)
        if run is None:
            run = self._audio[key] = _AudioRun(
                frame.t_ns, frame.direction, shown.label, shown.key, shown.unit
            )
        run.ms += sum(f.duration_ms for f in facts if isinstance(f, AudioChunk))
        run.deltas += 1

    def _flush_audio(self) -> str:
        lines = []
        for run in self._audio.values():
            plural = "s" if run.deltas > 1 else ""
            detail = f"{run.ms / 1000:.2f} s in {run.deltas} {run.unit}{plural}"
            if run.item_id:
                detail += f"  {run.item_id}"
            lines.append(
                self._prefix(run.first_t_ns, run.direction)
                + self._paint("audio", run.label)
                + "  "
                + detail
                + "\n"
            )
        self._audio.clear()
        return "".join(lines)

    def _grow(self, frame: RecordedFrame, shown: Grow) -> str:
        label = shown.label
        key = (label, *shown.key)
        fragment = _one_line(shown.fragment)
        if self._open_stream == key:
            return self._paint("text", fragment)
        head = self._close_stream()
        self._open_stream = key
        continued = "…" if key in self._recent_streams else ""
        if not continued:
            self._recent_streams.append(key)
        item = f" {key[1]}" if key[1] else ""
        return (
            head
            + self._prefix(frame.t_ns, frame.direction)
            + f"{label}{item}: {continued}"
            + self._paint("text", fragment)
        )

    def _close_stream(self) -> str:
        if self._open_stream is None:
            return ""
        self._open_stream = None
        return "\n"

    # -- lines --------------------------------------------------------------------

    def _line(self, frame: RecordedFrame, name: str, detail: str) -> str:
        text = self._close_stream() + self._flush_audio()
        text += self._prefix(frame.t_ns, frame.direction) + name
        return text + (f"  {detail}" if detail else "") + "\n"

    def _prefix(self, t_ns: int, direction: str) -> str:
        return (
            self._paint("time", format_time(t_ns).rjust(9))
            + "  "
            + self._paint(direction, direction.ljust(6))
            + "  "
        )

    def _paint(self, role: str, text: str) -> str:
        if not self.colour or not text:
            return text
        return f"\x1b[{_COLOURS.get(role, '0')}m{text}\x1b[0m"


def _one_line(text: str) -> str:
    return text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ").replace("\t", " ")
