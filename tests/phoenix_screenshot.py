"""Make README's picture of a trace in Phoenix: `python -m tests.phoenix_screenshot OUT.png`.

Records the demo call into a temporary database, sends it with `rtrec otel
--with-content` to a Phoenix started on loopback (tests/phoenix.py), and photographs
the trace with one inference span open, in headless Chromium driven by Playwright
(`pip install playwright`; the browser is Debian's /usr/bin/chromium).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from tests.phoenix import INSTALL_HINT, Phoenix, phoenix_executable

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PROJECT = "voice-agent"


def rtrec(*args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "rtrec", *args], capture_output=True, text=True, env=env, check=True
    )
    return result.stdout


def main(out: Path) -> None:
    from playwright.sync_api import sync_playwright

    executable = phoenix_executable()
    if executable is None:
        raise SystemExit(f"Phoenix is not installed: {INSTALL_HINT}")
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "demo.db")
        rtrec("demo", "--db", db)
        phoenix = Phoenix(executable, Path(tmp) / "phoenix")
        phoenix.start()
        try:
            env = {
                "PATH": "/usr/bin:/bin",
                "OTEL_RESOURCE_ATTRIBUTES": f"openinference.project.name={PROJECT}",
            }
            sent = rtrec(
                "otel", "--db", db, "last", "--with-content", "--endpoint", phoenix.url, env=env
            )
            trace_id = sent.split("trace ")[-1].strip()
            phoenix.wait_for_spans(PROJECT, 2)
            with urllib.request.urlopen(f"{phoenix.url}/v1/projects/{PROJECT}") as answer:
                project_id = json.load(answer)["data"]["id"]
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1600, "height": 1000})
                page.goto(
                    f"{phoenix.url}/projects/{project_id}/traces/{trace_id}",
                    wait_until="networkidle",
                )
                # The first turn's second reply: the one its latency is measured to.
                page.get_by_text("realtime_inference").nth(1).click()
                page.wait_for_load_state("networkidle")
                page.locator("h3", has_text="Attributes").click()  # open the attribute table
                page.get_by_text("gen_ai.usage.input_tokens").first.wait_for()
                page.screenshot(path=str(out))
                browser.close()
        finally:
            phoenix.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/phoenix-trace.png"))
