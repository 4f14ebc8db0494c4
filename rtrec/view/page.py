"""The HTML of a session page: the static front end inlined, with the session's data.

One file, no network: styles, scripts (the vendored uPlot included), the model as
JSON, and the audio, peaks and event log as base64 in inert `<script>` elements
the page's script reads.  `rtrec ui` serves the same page with no data inline: the
page then asks the server for it (`source`).  Written to a temporary name beside
the target and renamed when complete.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from collections.abc import Callable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import IO, Any

from rtrec.errors import RtrecError
from rtrec.view.audio import TRACKS
from rtrec.view.build import PageParts

STYLES = ("vendor/uplot/uPlot.min.css", "css/page.css")
SCRIPTS = (
    "vendor/uplot/uPlot.iife.min.js",
    "js/util.js",
    "js/glob.js",
    "js/data.js",
    "js/player.js",
    "js/waveform.js",
    "js/timeline.js",
    "js/transcript.js",
    "js/eventlog.js",
    "js/charts.js",
    "js/header.js",
    "js/main.js",
)
LIST_STYLES = ("css/page.css", "css/list.css")
LIST_SCRIPTS = ("js/util.js", "js/list.js")
_CHUNK = 3 * 256 * 1024  # a multiple of 3: base64 of each chunk joins without padding


@cache
def static_text(name: str) -> str:
    return resources.files("rtrec.view").joinpath("static", name).read_text(encoding="utf-8")


def _styles(names: tuple[str, ...]) -> str:
    return "".join(f"<style>\n{static_text(n)}\n</style>\n" for n in names)


def _scripts(names: tuple[str, ...]) -> str:
    # A script's text must not close its own element early.
    bodies = (static_text(n).replace("</script", "<\\/script") for n in names)
    return "".join(f"<script>\n{body}\n</script>\n" for body in bodies)


def json_for_script(value: Any) -> str:
    """JSON safe inside a <script> element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _template(name: str, title: str, styles: str, data: str, scripts: str) -> tuple[str, str]:
    """The page's text before and after the data (the data is streamed in between)."""
    html = static_text(name)
    html = html.replace("<!--rtrec:title-->", _escape(title)).replace("<!--rtrec:styles-->", styles)
    head, _, tail = html.partition("<!--rtrec:data-->")
    return head + data, tail.replace("<!--rtrec:scripts-->", scripts)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def page_title(model: dict[str, Any]) -> str:
    session = model["session"]
    return f"rtrec · session {session['session_id']} · {session.get('started_at') or ''}"


def shell_page(source: dict[str, Any], title: str) -> str:
    """The session page with no data inline: it fetches it as `source` says (rtrec ui)."""
    data = f'<script type="application/json" id="rtrec-source">{json_for_script(source)}</script>\n'
    head, tail = _template("page.html", title, _styles(STYLES), data, _scripts(SCRIPTS))
    return head + tail


def list_page(source: dict[str, Any]) -> str:
    data = f'<script type="application/json" id="rtrec-source">{json_for_script(source)}</script>\n'
    head, tail = _template(
        "list.html", "rtrec · sessions", _styles(LIST_STYLES), data, _scripts(LIST_SCRIPTS)
    )
    return head + tail


def write_page(parts: PageParts, path: Path) -> int:
    """Write the self-contained page to `path` (atomically); returns its size in bytes."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=directory)
    except OSError as exc:
        raise RtrecError(f"cannot write {path}: {exc.strerror or exc}") from exc
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            write_inline_page(parts, out.write)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise RtrecError(f"cannot write {path}: {exc.strerror or exc}") from exc
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return path.stat().st_size


def write_inline_page(parts: PageParts, write: Callable[[str], object]) -> None:
    source = {"mode": "inline"}
    data = (
        f'<script type="application/json" id="rtrec-source">{json_for_script(source)}</script>\n'
        f'<script type="application/json" id="rtrec-model">{json_for_script(parts.model)}'
        "</script>\n"
    )
    head, tail = _template(
        "page.html", page_title(parts.model), _styles(STYLES), data, _scripts(SCRIPTS)
    )
    write(head)
    if parts.audio is not None:
        user, assistant = parts.audio.peaks
        _blob(write, "rtrec-peaks-user", user)
        _blob(write, "rtrec-peaks-assistant", assistant)
        for track, file in zip(TRACKS, parts.audio.files, strict=True):
            _stream_blob(write, f"rtrec-audio-{track}", file, mime=parts.audio.codec.mime)
    events = parts.events
    if events.index is not None and events.payloads is not None:
        _stream_blob(write, "rtrec-events", events.index, mime="application/gzip")
        _stream_blob(write, "rtrec-payloads", events.payloads, mime="application/gzip")
    write(tail)


def _blob(write: Callable[[str], object], element_id: str, data: bytes) -> None:
    write(f'<script type="application/octet-stream" id="{element_id}">')
    write(base64.b64encode(data).decode("ascii"))
    write("</script>\n")


def _stream_blob(
    write: Callable[[str], object], element_id: str, stream: IO[bytes], *, mime: str
) -> None:
    write(f'<script type="application/octet-stream" id="{element_id}" data-mime="{mime}">')
    stream.seek(0)
    while chunk := stream.read(_CHUNK):
        write(base64.b64encode(chunk).decode("ascii"))
    write("</script>\n")
