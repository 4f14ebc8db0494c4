"""Does keeping projections current slow the relay?  Round trips with and without the follower.

The recorder runs in its own process, as `rtrec record` does, with its writer
process's follower thread on or off; this process plays the clients and an echo
upstream.  The upstream
answers each `input_audio_buffer.append` at once with an audio transcript delta and
a `response.output_audio.delta` carrying the same audio, so each client frame
becomes three logged events for the follower to fold.  Several calls stream 40 ms
appends faster than real time; each measures the time from sending an append to
receiving its echo, through the relay both ways.  Rounds alternate on and off.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import statistics
import sys
import tempfile
import time
from typing import Any

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

AUDIO = base64.b64encode(bytes(1920)).decode()  # 40 ms of pcm16 at 24 kHz

RECORDER = """
import asyncio, json, sys
from rtrec.recorder.service import Recorder

async def main(db_path, upstream, project):
    async with Recorder(db_path, upstream=upstream, port=0, live_status=False,
                        project=project) as rec:
        print(rec.url, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    stats = rec.writer.stats
    print(json.dumps([stats.get("follower_cpu_s", 0.0), stats.get("events_folded", 0)]))

asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3] == "on"))
"""


async def _echo(ws: ServerConnection) -> None:
    await ws.send(json.dumps({"type": "session.created", "session": {"model": "bench"}}))
    where = {"response_id": "resp_bench", "item_id": "item_bench", "content_index": 0}
    async for message in ws:
        event = json.loads(message)
        if event.get("type") != "input_audio_buffer.append":
            continue
        await ws.send(
            json.dumps({"type": "response.output_audio_transcript.delta", **where, "delta": " w"})
        )
        await ws.send(
            json.dumps(
                {
                    "type": "response.output_audio.delta",
                    **where,
                    "delta": AUDIO,
                    "event_id": event.get("event_id"),
                }
            )
        )


async def _client(url: str, interval_s: float, until: float, rtts: list[float]) -> None:
    async with connect(f"{url}/v1/realtime?model=bench", max_size=None) as ws:
        await ws.recv()  # session.created
        sent: dict[str, float] = {}

        async def receive() -> None:
            async for message in ws:
                event: dict[str, Any] = json.loads(message)
                started = sent.pop(event.get("event_id") or "", None)
                if started is not None:
                    rtts.append(time.perf_counter() - started)

        receiver = asyncio.create_task(receive())
        n = 0
        next_at = time.perf_counter()
        while time.perf_counter() < until:
            tag = f"evt_{n}"
            n += 1
            sent[tag] = time.perf_counter()
            await ws.send(
                json.dumps({"type": "input_audio_buffer.append", "event_id": tag, "audio": AUDIO})
            )
            next_at += interval_s
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        await asyncio.sleep(0.3)  # the last echoes
        receiver.cancel()


async def _round(
    db_path: str, mode: str, calls: int, interval_s: float, seconds: float
) -> dict[str, float]:
    async with serve(_echo, "127.0.0.1", 0, max_size=None) as upstream:
        port = upstream.sockets[0].getsockname()[1]
        recorder = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            RECORDER,
            db_path,
            f"ws://127.0.0.1:{port}",
            mode,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert recorder.stdin is not None and recorder.stdout is not None
        url = (await recorder.stdout.readline()).decode().strip()
        rtts: list[float] = []
        started = time.perf_counter()
        until = started + seconds
        await asyncio.gather(*(_client(url, interval_s, until, rtts) for _ in range(calls)))
        wall = time.perf_counter() - started
        recorder.stdin.close()
        cpu_s, folded = json.loads((await recorder.stdout.readline()).decode())
        await recorder.wait()
    rtts.sort()
    return {
        "p50_ms": statistics.median(rtts) * 1000,
        "p99_ms": rtts[int(len(rtts) * 0.99)] * 1000,
        "count": len(rtts),
        "cpu_share": cpu_s / wall,
        "folded_per_s": folded / wall,
    }


def measure(quick: bool) -> dict[str, Any]:
    """Medians over alternating rounds: {"off": figures, "on": figures, "load": text}."""
    calls, interval_s = 10, 0.020  # ten calls at 2x real time: 1,500 logged events/s
    seconds, rounds = (2.0, 1) if quick else (5.0, 3)
    runs: dict[str, list[dict[str, float]]] = {"off": [], "on": []}
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(rounds):
            for mode in ("off", "on"):
                db_path = os.path.join(tmp, f"relay-{mode}-{n}.db")
                runs[mode].append(asyncio.run(_round(db_path, mode, calls, interval_s, seconds)))
    figures: dict[str, Any] = {
        mode: {key: statistics.median(r[key] for r in results) for key in results[0]}
        for mode, results in runs.items()
    }
    figures["load"] = f"{calls} calls, a 40 ms append every {interval_s * 1000:.0f} ms each"
    return figures
