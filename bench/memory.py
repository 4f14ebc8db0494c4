"""Memory: RSS of `rtrec record` while hours of audio-session events pour through it.

A client streams 100 ms audio appends through `rtrec record` to an echo upstream that
answers each with an audio delta of the same size, and the RSS of the relay process and
of its writer process is sampled as the hours of audio go by.  Flat means the recorder
holds a bounded amount whatever the length: frames go to disk, not to RAM.  Baseline:
the bare relay's RSS in the same run.

The stream runs at 2,000 appends a second (and as many deltas back), the traffic of
about 200 realistic calls, time-compressed: ten hours of audio in three minutes.  Not as
fast as the relay takes frames: the relay no longer waits for its writer, so a client
faster than the writer would measure the spill file, and relays are not fed that way.
"""

from __future__ import annotations

import asyncio
import base64
import os
import tempfile
import time

from websockets.asyncio.client import connect

from bench.common import Result
from bench.relay import Peer, rss_mib, start_bare, start_echo, start_rtrec

NAME = "memory"
DESCRIPTION = "rtrec record RSS while hours of audio events pass (1, 5, 10 h)"

CHUNK_MS = 100
WINDOW = 32  # frames in flight
APPENDS_PER_S = 2000


async def pump(url: str, hours: list[float], pids: list[int | None]) -> dict[float, list[float]]:
    """Stream audio until each mark in `hours` is reached; RSS (MiB) of each pid there."""
    audio = base64.b64encode(os.urandom(CHUNK_MS * 48)).decode()
    frame = '{"type":"input_audio_buffer.append","audio":"' + audio + '"}'
    per_hour = 3600 * 1000 // CHUNK_MS
    marks = sorted(hours)
    samples: dict[float, list[float]] = {}
    async with connect(url + "/v1/realtime", max_size=None, compression=None) as ws:
        window = asyncio.Semaphore(WINDOW)
        total = int(marks[-1] * per_hour)

        async def reader() -> None:
            for _ in range(total):
                await ws.recv()
                window.release()

        read_task = asyncio.create_task(reader())
        started = time.monotonic()
        for n in range(1, total + 1):
            await window.acquire()
            ahead = started + n / APPENDS_PER_S - time.monotonic()
            if ahead > 0:
                await asyncio.sleep(ahead)
            await ws.send(frame)
            if marks and n >= marks[0] * per_hour:
                samples[marks.pop(0)] = [rss_mib(pid) for pid in pids]
        await read_task
    return samples


def run(quick: bool) -> list[Result]:
    hours = [0.25, 0.5, 1.0] if quick else [1.0, 5.0, 10.0]
    workdir = tempfile.mkdtemp(prefix="rtrec-bench-memory-")
    echo = start_echo()
    peers: list[Peer] = []
    try:
        bare = start_bare(echo.url, "uvloop")
        rtrec = start_rtrec(echo.url, "uvloop", workdir)
        peers += [bare, rtrec]
        writer = rtrec.writer_pid()
        start = time.monotonic()
        rtrec_rss = asyncio.run(pump(rtrec.url, hours, [rtrec.process.pid, writer]))
        elapsed = time.monotonic() - start
        bare_rss = asyncio.run(pump(bare.url, hours[:1], [bare.process.pid]))[hours[0]][0]
        peaks = rss_mib(rtrec.process.pid, "VmHWM"), rss_mib(writer, "VmHWM")
        db_mb = os.path.getsize(rtrec.db_path or "") / 1e6 if rtrec.db_path else 0
        results = []
        for h, (relay, writer_rss) in sorted(rtrec_rss.items()):
            results += [
                Result(
                    NAME,
                    f"relay process RSS after {h:g} h of audio",
                    relay,
                    "MiB",
                    baseline=bare_rss,
                    baseline_name=f"bare relay after {hours[0]:g} h",
                    target="<= 2x",
                    met=relay <= 2 * bare_rss,
                ),
                Result(NAME, f"writer process RSS after {h:g} h of audio", writer_rss, "MiB"),
            ]
        totals = {h: sum(rss) for h, rss in rtrec_rss.items()}
        growth = totals[hours[-1]] - totals[hours[0]]
        results.append(
            Result(
                NAME,
                f"total RSS growth {hours[0]:g} h → {hours[-1]:g} h (relay + writer)",
                growth,
                "MiB",
                target="flat (< 32 MiB)",
                met=growth < 32,
                note=f"total {totals[hours[0]]:.0f} → {totals[hours[-1]]:.0f} MiB; peak RSS "
                f"relay {peaks[0]:.0f} MiB, writer {peaks[1]:.0f} MiB; {hours[-1]:g} h of audio "
                f"both ways in {elapsed:.0f} s; database {db_mb:,.0f} MB",
            )
        )
        return results
    finally:
        for peer in peers:
            peer.stop()
        echo.stop()
