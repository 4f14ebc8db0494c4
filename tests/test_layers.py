"""The layer rules, checked by reading every module's imports (ast, not grep).

- Only rtrec/store talks to SQLite: nothing outside it imports sqlite3 or aiosqlite,
  except `rtrec sql` (it runs the user's query) and the modules listed as not moved yet.
- The pure cores import no asyncio, aiosqlite or websockets, not even through the rtrec
  modules they import (a package's __init__ counts: importing a module runs it).
- rtrec/recorder and rtrec/replay do not import each other.

Every import counts, at the top of a file or inside a function.  Imports by name
(importlib) are not seen; rtrec uses them only to load commands and adapters.
"""

from __future__ import annotations

import ast
from collections import deque
from pathlib import Path

import rtrec

PACKAGE = Path(rtrec.__file__).resolve().parent

STORE = "rtrec.store"
SQLITE = frozenset({"sqlite3", "aiosqlite"})
# Runs the user's query on the connection open_reader gives it.
SQLITE_USER_QUERY = "rtrec.cli.sql"

ASYNC_IO = frozenset({"asyncio", "aiosqlite", "websockets"})
PURE_PACKAGES = ("rtrec.protocols", "rtrec.projector")
PURE_MODULES = (
    "rtrec.audio_format",
    "rtrec.capture.session",
    "rtrec.handshake",
    "rtrec.diff",
    "rtrec.g711",
    "rtrec.jsonl",
    "rtrec.secrets",
    "rtrec.timefmt",
    "rtrec.otel.spans",
    "rtrec.otel.trace",
    "rtrec.replay.cues",
    "rtrec.replay.selection",
    "rtrec.replay.strict",
    "rtrec.replay.timeline",
    "rtrec.replay.wav.fold",
    "rtrec.replay.wav.pcm",
    "rtrec.store.frames",
    "rtrec.store.paging",
    "rtrec.store.projection_rows",
    "rtrec.view.model",
    "rtrec.view.stats",
)

DIALER = "rtrec.dial"
RECORDER = "rtrec.recorder"
REPLAY = "rtrec.replay"


# -- reading the imports ---------------------------------------------------------------


def module_files(package_dir: Path) -> dict[str, Path]:
    """Every module of the package in `package_dir`, by dotted name."""
    root = package_dir.parent
    modules = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The dotted names this module imports (for `from a import b`, a.b too if a module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                origin = ".".join([*base, node.module] if node.module else base)
            else:
                origin = node.module or ""
            found.add(origin)
            found.update(
                f"{origin}.{alias.name}"
                for alias in node.names
                if f"{origin}.{alias.name}" in modules
            )
    return found


def import_graph(package_dir: Path) -> dict[str, set[str]]:
    modules = module_files(package_dir)
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def _runs(imported: str, graph: dict[str, set[str]]) -> list[str]:
    """The package's modules that importing `imported` runs: it and its parent packages."""
    parts = imported.split(".")
    return [m for i in range(1, len(parts) + 1) if (m := ".".join(parts[:i])) in graph]


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _top(name: str) -> str:
    return name.partition(".")[0]


# -- the rules -------------------------------------------------------------------------


def sqlite_outside_store(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Modules outside the store that import SQLite's modules, with what they import."""
    return {
        name: found
        for name, imported in graph.items()
        if not _within(name, STORE) and (found := {i for i in imported if _top(i) in SQLITE})
    }


def impure(graph: dict[str, set[str]], core: str) -> list[str] | None:
    """A chain of imports from `core` to asyncio, aiosqlite or websockets, or None."""
    came_from: dict[str, str | None] = {core: None}
    queue = deque([core])
    while queue:
        name = queue.popleft()
        for imported in sorted(graph[name]):
            if _top(imported) in ASYNC_IO:
                chain = [imported, name]
                while (step := came_from[chain[-1]]) is not None:
                    chain.append(step)
                return chain[::-1]
            for module in _runs(imported, graph):
                if module not in came_from:
                    came_from[module] = name
                    queue.append(module)
    return None


def crossings(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    """(importer, imported) where one of recorder and replay imports the other."""
    found = set()
    for name, imported in graph.items():
        for other in imported:
            for a, b in ((RECORDER, REPLAY), (REPLAY, RECORDER)):
                if _within(name, a) and _within(other, b):
                    found.add((name, other))
    return found


def pure_cores(graph: dict[str, set[str]]) -> list[str]:
    cores = [n for n in graph if any(_within(n, p) for p in PURE_PACKAGES)]
    return sorted({*cores, *PURE_MODULES})


def websocket_dialers(package_dir: Path) -> set[str]:
    """Modules that open WebSocket client connections with websockets' own `connect`."""
    found = set()
    for name, path in module_files(package_dir).items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and _top(node.module or "") == "websockets":
                if any(alias.name == "connect" for alias in node.names):
                    found.add(name)
            elif (
                isinstance(node, ast.Attribute)
                and node.attr == "connect"
                and isinstance(node.value, ast.Name)
                and node.value.id == "websockets"
            ):
                found.add(name)
    return found


# -- on rtrec ----------------------------------------------------------------------------

GRAPH = import_graph(PACKAGE)


def test_only_the_store_imports_sqlite():
    found = sqlite_outside_store(GRAPH)
    leaks = {name: sorted(what) for name, what in found.items() if name != SQLITE_USER_QUERY}
    assert not leaks, f"only rtrec/store talks to SQLite (add a read to rtrec/store): {leaks}"


def test_every_websocket_dial_goes_through_rtrec_dial():
    # dial() holds the rules of what may be reached (this host only, no redirects, no
    # proxy for loopback): a client opened any other way would skip them.
    assert websocket_dialers(PACKAGE) == {DIALER}


def test_the_pure_cores_import_no_asyncio_aiosqlite_or_websockets():
    missing = [name for name in PURE_MODULES if name not in GRAPH]
    assert not missing, f"pure cores listed here that do not exist: {missing}"
    assert len(pure_cores(GRAPH)) > 40  # the protocol adapters and projector are found
    chains = {core: chain for core in pure_cores(GRAPH) if (chain := impure(GRAPH, core))}
    assert not chains, "pure cores reaching I/O: " + "; ".join(
        " -> ".join(chain) for chain in chains.values()
    )


def test_recorder_and_replay_do_not_import_each_other():
    found = crossings(GRAPH)
    assert found == set(), f"recorder and replay import each other: {sorted(found)}"


# -- the checks can fail -----------------------------------------------------------------


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    package = tmp_path / "rtrec"
    for relative, text in {"__init__.py": "", **files}.items():
        path = package / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if path.parent != package and not (path.parent / "__init__.py").exists():
            (path.parent / "__init__.py").write_text("", encoding="utf-8")
    return package


def test_a_bad_import_is_found(tmp_path):
    graph = import_graph(
        _package(
            tmp_path,
            {
                "store/reader.py": "import sqlite3\n",
                "view/page.py": "def f():\n    from sqlite3 import connect\n",
                "ui/app.py": "import aiosqlite.core\n",
                "net.py": "import asyncio\n",
                "helpers.py": "from . import net\n",
                "protocols/__init__.py": "",
                "protocols/base.py": "from ..helpers import thing\n",
                "protocols/quiet.py": "from rtrec.store import reader\n",
                "recorder/__init__.py": "import websockets\n",
                "projector/fold.py": "from rtrec.recorder import upstream\n",
                "recorder/upstream.py": "",
                "replay/resend.py": "from rtrec.recorder.upstream import model\n",
                "recorder/relay.py": "from ..replay import resend\n",
            },
        )
    )
    assert sqlite_outside_store(graph) == {
        "rtrec.view.page": {"sqlite3"},
        "rtrec.ui.app": {"aiosqlite.core"},
    }
    assert impure(graph, "rtrec.protocols.base") == [
        "rtrec.protocols.base",
        "rtrec.helpers",
        "rtrec.net",
        "asyncio",
    ]
    # Importing rtrec.recorder.upstream runs rtrec/recorder/__init__.py.
    assert impure(graph, "rtrec.projector.fold") == [
        "rtrec.projector.fold",
        "rtrec.recorder",
        "websockets",
    ]
    assert impure(graph, "rtrec.protocols.quiet") is None  # sqlite3 is I/O, but not async
    assert crossings(graph) == {
        ("rtrec.replay.resend", "rtrec.recorder.upstream"),
        ("rtrec.recorder.relay", "rtrec.replay"),
        ("rtrec.recorder.relay", "rtrec.replay.resend"),
    }


def test_a_dial_around_rtrec_dial_is_found(tmp_path):
    package = _package(
        tmp_path,
        {
            "dial.py": "from websockets.asyncio.client import connect\n",
            "sim/script.py": "from websockets.asyncio.client import ClientConnection, connect\n",
            "replay/resend.py": "import websockets\nws = websockets.connect('ws://x')\n",
            "recorder/upstream.py": "from websockets.asyncio.client import ClientConnection\n",
        },
    )
    assert websocket_dialers(package) == {"rtrec.dial", "rtrec.sim.script", "rtrec.replay.resend"}
