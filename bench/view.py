"""rtrec view of a generated one-hour call: page size, and how fast it draws and moves.

The call (bench/view_call.py) has a turn every 20 s: speech both ways, VAD, transcripts,
usage, a truncated reply every tenth turn; written through the real row encoding.  Figures:

- page size, against the raw PCM of the same as-heard mix (what the audio would weigh
  uncompressed);
- `rtrec view` wall time, process start included;
- time until the page has drawn (navigation start to the page's `data-state=ready`: the
  file parsed, audio and peaks decoded, the event log inflated, every lane drawn), best
  of three, in headless Chromium with the network off; baseline the same file with its
  scripts removed (parsing and laying out the bytes alone);
- the cost of a frame while zooming the timeline and scrolling the event log (each step
  awaited to the next animation frame), against one idle animation frame.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import Result
from bench.export_wav import generate_session
from bench.view_call import call_frames

NAME = "view"
DESCRIPTION = "rtrec view of a generated call with turns: page size, build, draw, frame cost"

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Each step's own work: the change, its script and a forced layout, timed without the wait
# for the next frame (headless Chromium paces frames by its own clock).
FRAME_STEPS = """async () => {
  const page = window.rtrecPage;
  const frame = () => new Promise((done) => requestAnimationFrame(done));
  const box = document.getElementById("event-log");
  const extent = page.model.extent_ms;
  let zoom = 0;
  let scroll = 0;
  for (let i = 0; i < 60; i++) {
    const span = extent / Math.pow(1.25, i % 30);
    const at = (extent - span) * ((i * 37) % 60) / 60;
    let t0 = performance.now();
    page.timeline.setView(at, at + span);
    page.timeline.render();
    document.body.offsetHeight;
    zoom += performance.now() - t0;
    await frame();
    t0 = performance.now();
    box.scrollTop = (box.scrollHeight - box.clientHeight) * ((i * 29) % 60) / 60;
    page.log.render();
    document.body.offsetHeight;
    scroll += performance.now() - t0;
    await frame();
  }
  return { zoom: zoom / 60, scroll: scroll / 60, events: page.log.count };
}"""


def _draw_times(page_path: Path, bare_path: Path, repeats: int) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    best: dict[str, float] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for _ in range(repeats):
            context = browser.new_context(viewport={"width": 1400, "height": 1000}, offline=True)
            page = context.new_page()
            page.set_default_timeout(300_000)
            page.goto(page_path.as_uri())
            page.locator("html[data-state='ready']").wait_for(state="attached")
            drawn = page.evaluate("() => window.rtrecPage.readyMs")
            best["draw"] = min(best.get("draw", float("inf")), drawn)
            costs = page.evaluate(FRAME_STEPS)
            for key in ("zoom", "scroll"):
                best[key] = min(best.get(key, float("inf")), costs[key])
            best["events"] = costs["events"]
            context.close()
            context = browser.new_context(offline=True)
            page = context.new_page()
            page.goto(bare_path.as_uri(), wait_until="load")
            loaded = page.evaluate(
                "() => performance.getEntriesByType('navigation')[0].loadEventEnd"
            )
            best["bare"] = min(best.get("bare", float("inf")), loaded)
            context.close()
        browser.close()
    return best


def _measure(root: Path, seconds: int, repeats: int) -> dict[str, float]:
    label = _label(seconds)
    db_path = str(root / f"call-{seconds}.db")
    started = time.perf_counter()
    session_id = generate_session(db_path, seconds, call_frames(seconds))
    print(f"   generated a {label} call in {time.perf_counter() - started:.1f} s", flush=True)
    page_path = root / f"page-{seconds}.html"
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "rtrec",
            "view",
            str(session_id),
            "--db",
            db_path,
            "-o",
            str(page_path),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    build_s = time.perf_counter() - started
    html = page_path.read_text()
    bare_path = root / f"bare-{seconds}.html"
    bare_path.write_text(re.sub(r"<script>.*?</script>", "", html, flags=re.DOTALL))
    figures = _draw_times(page_path, bare_path, repeats)
    figures.update(
        size=len(html.encode()),
        build_s=build_s,
        pcm=int(re.search(r'"frames":(\d+)', html)[1]) * 4,  # type: ignore[index]
        audio_b64=sum(len(m) for m in re.findall(r'id="rtrec-audio-\w+"[^>]*>([^<]*)<', html)),
    )
    print(f"   {label}: {figures}", flush=True)
    return figures


def _label(seconds: int) -> str:
    return f"{seconds // 60} min" if seconds < 3600 else f"{seconds / 3600:g} h"


def run(quick: bool) -> list[Result]:
    short_s, long_s = (60, 360) if quick else (360, 3600)
    repeats = 1 if quick else 3
    with tempfile.TemporaryDirectory(prefix="rtrec-bench-view-") as tmp:
        root = Path(tmp)
        short = _measure(root, short_s, repeats)
        long = _measure(root, long_s, repeats)
    label, short_label = _label(long_s), _label(short_s)
    frame = "<= 16.7 ms (60 fps)"
    return [
        Result(
            NAME,
            f"page size, {label} call",
            long["size"] / 1e6,
            "MB",
            baseline=long["pcm"] / 1e6,
            baseline_name="raw PCM of the same stereo mix",
            note=f"audio {long['audio_b64'] / 1e6:.1f} MB of it (base64 Opus); "
            f"{long['events']:,.0f} events",
        ),
        Result(
            NAME,
            f"rtrec view, {label} call",
            long["build_s"],
            "s",
            baseline=long_s,
            baseline_name="the call's duration",
            note="process start included",
        ),
        Result(
            NAME,
            f"time to drawn page, {label} call",
            long["draw"],
            "ms",
            baseline=long["bare"],
            baseline_name="same file, scripts removed (load)",
            note=f"best of {repeats}, headless Chromium, network off",
        ),
        Result(
            NAME,
            f"time to drawn page, {label} vs {short_label} call",
            long["draw"],
            "ms",
            baseline=short["draw"],
            baseline_name=f"{short_label} call",
        ),
        Result(
            NAME,
            f"work per timeline zoom step, {label} call",
            long["zoom"],
            "ms",
            baseline=short["zoom"],
            baseline_name=f"{short_label} call",
            target=frame,
            met=long["zoom"] <= 16.7,
        ),
        Result(
            NAME,
            f"work per event log scroll step, {label} call",
            long["scroll"],
            "ms",
            baseline=short["scroll"],
            baseline_name=f"{short_label} call",
            target=frame,
            met=long["scroll"] <= 16.7,
        ),
    ]
