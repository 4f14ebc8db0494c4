"""The export as a fold: session events in, file operations out.  Pure: no I/O.

The session's protocol adapter reads each event (its media fold says which track a
chunk belongs to, in which format, and what ends an item or a reply); this fold turns
those facts into operations: append whole samples to a named file ("stem"), close,
rename or discard one, hand out finished timeline frames, or warn.  The sinks carry
them out.  Routing:

- every user chunk → `user`; every assistant chunk → `assistant`; a chunk with a media
  time (GPT-Live sideband copies) is placed there, the gap before it silence;
- with split by response: the response's own file; by item: the item's own file.  A
  user item's audio is what the client sent since the previous commit or clear, named
  once the commit gives it an item id;
- with a timeline: the chunk placed by `timeline` on the left (user) or right
  (assistant) channel.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from rtrec.audio_format import AudioFormat
from rtrec.protocols.base import (
    AssistantFlushed,
    AudioChunk,
    ItemAudioDone,
    MediaFold,
    MediaRow,
    ReplyDone,
    UserCleared,
    UserCommitted,
)
from rtrec.replay.wav.fifo import SpillFactory
from rtrec.replay.wav.pcm import LinearResampler, SampleAligner, to_int16
from rtrec.replay.wav.timeline import (
    ASSISTANT,
    USER,
    HeardAudio,
    PlaybackQueue,
    StereoMixer,
    frame_at,
)

USER_STEM = "user"
ASSISTANT_STEM = "assistant"
PENDING_USER_ITEM = ".pending-user-item"


@dataclass(frozen=True, slots=True)
class WriteAudio:
    stem: str
    fmt: AudioFormat
    data: bytes  # whole samples in fmt's encoding


@dataclass(frozen=True, slots=True)
class CloseFile:
    stem: str


@dataclass(frozen=True, slots=True)
class RenameFile:
    stem: str
    new_stem: str


@dataclass(frozen=True, slots=True)
class DiscardFile:
    stem: str


@dataclass(frozen=True, slots=True)
class TimelineFrames:
    """Finished timeline frames, as (n, 2) int16 blocks: user left, assistant right.

    The blocks are made as they are taken (a long silence is never built in memory),
    so take them in order, before the next event is fed.
    """

    blocks: Iterator[np.ndarray]


@dataclass(frozen=True, slots=True)
class Notice:
    message: str


Op = WriteAudio | CloseFile | RenameFile | DiscardFile | TimelineFrames | Notice


@dataclass(frozen=True, slots=True)
class FoldOptions:
    split_responses: bool = False
    split_items: bool = False
    timeline_rate: int | None = None  # None: no timeline
    # Where the timeline keeps audio queued far ahead of time (see `fifo`); None: memory.
    spill: SpillFactory | None = None


def silence(fmt: AudioFormat, samples: int) -> bytes:
    """`samples` of silence in the format's own encoding."""
    if fmt.encoding == "pcm16":
        return bytes(2 * samples)
    return (b"\xff" if fmt.encoding == "g711_ulaw" else b"\xd5") * samples


def safe_name(text: str | None) -> str:
    """An id as a file-name part: anything but [A-Za-z0-9_.-] becomes '_'."""
    if not text:
        return "unknown"
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)[:80]


class _Timeline:
    """Placement and mixing of the stereo timeline."""

    def __init__(self, rate: int, cuts: Mapping[str, int], spill: SpillFactory | None) -> None:
        self.rate = rate
        self.mixer = StereoMixer(spill=spill)
        self.queues = (PlaybackQueue(), PlaybackQueue())
        self.heard = HeardAudio(cuts)
        self.now_ns = 0
        self.now_frame = 0
        self.resamplers: list[LinearResampler | None] = [None, None]

    def advance(self, t_ns: int, out: list[Op]) -> None:
        # Imported sessions may step back in time; the timeline never does.
        if t_ns > self.now_ns:
            self.now_ns = t_ns
            self.now_frame = frame_at(t_ns, self.rate)
            if self.mixer.ready(self.now_frame):
                out.append(TimelineFrames(self.mixer.release(self.now_frame)))

    def restart(self, channel: int, fmt: AudioFormat) -> None:
        self.resamplers[channel] = LinearResampler(fmt.rate, self.rate)

    def place(self, channel: int, samples: np.ndarray, media_ms: float | None = None) -> None:
        resampler = self.resamplers[channel]
        if resampler is not None:
            samples = resampler.feed(samples)
        arrival = self.now_frame
        if media_ms is not None:
            # A copy that says where it belongs on the session clock; never before what
            # was already written.
            arrival = max(self.mixer.written, round(media_ms * self.rate / 1000))
        start = self.queues[channel].place(arrival, len(samples))
        self.mixer.place(channel, start, samples)

    def flush(self, channel: int) -> None:
        """Playback of the channel stopped now: queued audio past this moment is dropped."""
        self.mixer.cut(channel, self.now_frame)
        self.queues[channel].flush(self.now_frame)

    def finish(self, out: list[Op]) -> None:
        out.append(TimelineFrames(self.mixer.finish()))


class AudioFold:
    """Routes a session's audio, event by event, into file operations."""

    def __init__(
        self, media: MediaFold, options: FoldOptions, cuts: Mapping[str, int] | None = None
    ) -> None:
        self.options = options
        self.media = media
        self.chunks = 0  # audio chunks exported
        self.skipped = 0  # audio chunks that could not be decoded
        self._user = SampleAligner()
        self._user_fmt: AudioFormat | None = None
        self._user_pending = False
        self._assistant = SampleAligner()
        self._assistant_stream: tuple[str | None, AudioFormat] | None = None
        # Where each track's file has got to on the session clock (media-timed chunks).
        self._written_ms = {"user": 0.0, "assistant": 0.0}
        self._items = 0
        self._responses = 0
        self._response_stems: dict[str | None, str] = {}
        self._item_stems: dict[str | None, tuple[str, str | None]] = {}
        self._out: list[Op] = []  # the operations of the event being folded
        self._timeline = (
            _Timeline(options.timeline_rate, cuts or {}, options.spill)
            if options.timeline_rate is not None
            else None
        )

    def feed(self, row: MediaRow) -> list[Op]:
        """The operations for one event, in order."""
        out: list[Op] = []
        self._out = out
        if self._timeline is not None:
            self._timeline.advance(row.t_ns, out)
        for fact in self.media.feed(row):
            if isinstance(fact, AudioChunk):
                if fact.track == "user":
                    self._user_audio(row, fact)
                else:
                    self._assistant_audio(row, fact)
            elif isinstance(fact, ItemAudioDone):
                self._end_item(fact.item_id)
            elif isinstance(fact, UserCommitted):
                self._commit_user_item(fact.item_id)
            elif isinstance(fact, UserCleared) and self._user_pending:
                self._user_pending = False
                self._out.append(DiscardFile(PENDING_USER_ITEM))
            elif isinstance(fact, ReplyDone):
                self._end_response(fact.response_id)
            elif isinstance(fact, AssistantFlushed) and self._timeline is not None:
                self._timeline.flush(ASSISTANT)
        return out

    def finish(self) -> list[Op]:
        """The operations that end the export."""
        out: list[Op] = []
        self._out = out
        self._dangling("user audio", self._user.reset())
        self._dangling("assistant audio", self._assistant.reset())
        if self._user_pending:
            self._user_pending = False
            self._out.append(RenameFile(PENDING_USER_ITEM, self._item_stem("user", "uncommitted")))
        if self._timeline is not None:
            self._timeline.finish(out)
        return out

    # -- the user's side ----------------------------------------------------------

    def _user_audio(self, row: MediaRow, chunk: AudioChunk) -> None:
        if chunk.data is None:
            self._skip(row, chunk)
            return
        fmt = chunk.fmt
        if fmt != self._user_fmt:
            self._dangling("user audio", self._user.reset(), row)
            self._user_fmt = fmt
            if self._timeline is not None:
                self._timeline.restart(USER, fmt)
        data = self._user.feed(chunk.data, fmt.bytes_per_sample)
        self.chunks += 1
        if not data:
            return
        self._pad_to(USER_STEM, "user", chunk, fmt, len(data))
        self._out.append(WriteAudio(USER_STEM, fmt, data))
        if self.options.split_items:
            self._user_pending = True
            self._out.append(WriteAudio(PENDING_USER_ITEM, fmt, data))
        if self._timeline is not None:
            self._timeline.place(USER, to_int16(data, fmt), chunk.media_ms)

    def _commit_user_item(self, item_id: str | None) -> None:
        if self._user_pending:
            self._user_pending = False
            self._out.append(RenameFile(PENDING_USER_ITEM, self._item_stem("user", item_id)))

    # -- the assistant's side -------------------------------------------------------

    def _assistant_audio(self, row: MediaRow, chunk: AudioChunk) -> None:
        if chunk.data is None:
            self._skip(row, chunk)
            return
        fmt = chunk.fmt
        item_id, response_id = chunk.item_id, chunk.response_id
        stream = (item_id, fmt)
        if stream != self._assistant_stream:
            self._dangling("assistant audio", self._assistant.reset(), row)
            self._assistant_stream = stream
            if self._timeline is not None:
                self._timeline.restart(ASSISTANT, fmt)
        data = self._assistant.feed(chunk.data, fmt.bytes_per_sample)
        self.chunks += 1
        if not data:
            return
        self._pad_to(ASSISTANT_STEM, "assistant", chunk, fmt, len(data))
        self._out.append(WriteAudio(ASSISTANT_STEM, fmt, data))
        if self.options.split_responses:
            stem = self._response_stems.get(response_id)
            if stem is None:
                self._responses += 1
                stem = f"response-{self._responses:03d}-{safe_name(response_id)}"
                self._response_stems[response_id] = stem
            self._out.append(WriteAudio(stem, fmt, data))
        if self.options.split_items:
            entry = self._item_stems.get(item_id)
            if entry is None:
                entry = (self._item_stem("assistant", item_id), response_id)
                self._item_stems[item_id] = entry
            self._out.append(WriteAudio(entry[0], fmt, data))
        if self._timeline is not None:
            width = fmt.bytes_per_sample
            heard = self._timeline.heard.keep(item_id, fmt.rate, len(data) // width)
            if heard:
                self._timeline.place(
                    ASSISTANT, to_int16(data[: heard * width], fmt), chunk.media_ms
                )

    def _pad_to(self, stem: str, track: str, chunk: AudioChunk, fmt: AudioFormat, n: int) -> None:
        """Before a media-timed chunk, the silence since the track's last audio."""
        if chunk.media_ms is None:
            return
        gap_ms = chunk.media_ms - self._written_ms[track]
        samples = round(gap_ms * fmt.rate / 1000)
        if samples > 0:
            self._out.append(WriteAudio(stem, fmt, silence(fmt, samples)))
        self._written_ms[track] = max(chunk.media_ms, self._written_ms[track]) + (
            fmt.duration_ms(n)
        )

    def _end_item(self, item_id: str | None) -> None:
        if self._assistant_stream is not None and self._assistant_stream[0] == item_id:
            self._dangling("assistant audio", self._assistant.reset())
            self._assistant_stream = None
        entry = self._item_stems.pop(item_id, None)
        if entry is not None:
            self._out.append(CloseFile(entry[0]))

    def _end_response(self, response_id: str | None) -> None:
        stem = self._response_stems.pop(response_id, None)
        if stem is not None:
            self._out.append(CloseFile(stem))
        for item_id, (item_stem, owner) in list(self._item_stems.items()):
            if owner == response_id:
                del self._item_stems[item_id]
                self._out.append(CloseFile(item_stem))

    # -- shared -------------------------------------------------------------------------

    def _item_stem(self, role: str, item_id: str | None) -> str:
        self._items += 1
        return f"item-{self._items:03d}-{role}-{safe_name(item_id)}"

    def _skip(self, row: MediaRow, chunk: AudioChunk) -> None:
        self.skipped += 1
        self._out.append(Notice(f"seq {row.seq} ({row.type}): {chunk.problem}; chunk skipped"))

    def _dangling(self, what: str, dropped: int, row: MediaRow | None = None) -> None:
        if dropped:
            where = f"before seq {row.seq}" if row is not None else "at the end"
            self._out.append(
                Notice(
                    f"{what}: {dropped} dangling byte of an odd-length pcm16 stream dropped {where}"
                )
            )
