"""Headless Chromium for the page tests: Debian's browser driven by Playwright for Python.

Playwright cannot download browsers here; it drives /usr/bin/chromium (`apt-get install
chromium`).  Screenshots are test artefacts: saved beside the test's files and, when
RTREC_ARTIFACTS names a directory, copied there too.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Tests press play without a user gesture.
    "--autoplay-policy=no-user-gesture-required",
]
VIEWPORT = {"width": 1400, "height": 1100}
# Long enough for a loaded 2-core machine; the page's own work takes well under a second.
TIMEOUT_MS = 60_000


def launch_options() -> dict[str, Any]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(**launch_options())
        yield launched
        launched.close()


@dataclass
class Watched:
    """A page, and what went wrong in it."""

    page: Any
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


def watch(page: Any) -> Watched:
    watched = Watched(page)
    page.on(
        "console",
        lambda message: (
            watched.errors.append(f"console: {message.text}") if message.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: watched.errors.append(f"page error: {error}"))
    page.set_default_timeout(TIMEOUT_MS)
    return watched


def offline_page(browser: Any) -> Watched:
    """A page in a context with the network off, where every request but file: is refused
    (and remembered, so a test can say none was made)."""
    context = browser.new_context(viewport=VIEWPORT, offline=True)
    page = context.new_page()
    watched = watch(page)

    def refuse(route: Any) -> None:
        url = route.request.url
        if url.startswith(("file:", "data:", "blob:")):
            route.continue_()
        else:
            watched.requests.append(url)
            route.abort()

    context.route("**/*", refuse)
    return watched


def save_screenshot(page: Any, directory: Path, name: str) -> Path:
    path = directory / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    publish(path)
    return path


def publish(path: Path) -> None:
    """Copy an artefact to $RTREC_ARTIFACTS, when set."""
    artifacts = os.environ.get("RTREC_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(artifacts) / path.name)


def wait_ready(page: Any) -> None:
    """Until the page says it has drawn everything (or failed: then the errors say why)."""
    page.locator("html[data-state]").wait_for(state="attached")
    state = page.locator("html").get_attribute("data-state")
    assert state == "ready", f"the page did not load (data-state={state})"
