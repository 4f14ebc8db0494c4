"""Arize Phoenix as a real OTLP receiver on loopback, and its REST API to read spans back.

Phoenix is a large application (a web server, its own database, many dependencies),
so it lives in a virtualenv of its own rather than in rtrec's: `.ci/run` makes
`.venv-phoenix` (see PHOENIX_VERSION there).  `RTREC_PHOENIX` may name another
`phoenix` executable.  Without one, the tests that need it skip, saying so.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
INSTALL_HINT = (
    "python3 -m venv .venv-phoenix && .venv-phoenix/bin/pip install arize-phoenix "
    "(or set RTREC_PHOENIX to a phoenix executable); .ci/run does this"
)
START_TIMEOUT_S = 120  # a loaded 2-core machine; Phoenix takes ~8 s when idle


def phoenix_executable() -> str | None:
    named = os.environ.get("RTREC_PHOENIX")
    if named:
        return named if os.access(named, os.X_OK) else None
    local = REPO / ".venv-phoenix" / "bin" / "phoenix"
    if os.access(local, os.X_OK):
        return str(local)
    return shutil.which("phoenix")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Phoenix:
    """`phoenix serve` on 127.0.0.1 with its data in `workdir`; stop() and start() again."""

    def __init__(self, executable: str, workdir: Path) -> None:
        self.executable = executable
        self.workdir = workdir
        self.port = free_port()
        self.grpc_port = free_port()
        self._process: subprocess.Popen[str] | None = None
        self._output: deque[str] = deque(maxlen=200)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def grpc_url(self) -> str:
        return f"http://127.0.0.1:{self.grpc_port}"

    def start(self, *, same_ports: bool = False) -> None:
        """Start Phoenix and wait until both its ports answer.

        A port picked free can be taken by another process before Phoenix binds it (the
        machine runs other suites too): a failed start is tried again, on new ports
        unless `same_ports` (a restart that clients already point at).
        """
        for attempt in range(3):
            try:
                self._start_once()
                return
            except RuntimeError:
                if attempt == 2:
                    raise
                if not same_ports:
                    self.port, self.grpc_port = free_port(), free_port()

    def _start_once(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PHOENIX_"))}
        env.update(
            PHOENIX_WORKING_DIR=str(self.workdir),
            PHOENIX_HOST="127.0.0.1",
            PHOENIX_PORT=str(self.port),
            PHOENIX_GRPC_PORT=str(self.grpc_port),
            # Loopback only: no usage telemetry, no assistant, no external page resources.
            PHOENIX_TELEMETRY_ENABLED="false",
            PHOENIX_DISABLE_AGENT_ASSISTANT="true",
            PHOENIX_ALLOW_EXTERNAL_RESOURCES="false",
        )
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._output.clear()
        self._process = subprocess.Popen(
            [self.executable, "serve"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        ready = threading.Event()
        reader = threading.Thread(target=self._read_output, args=(self._process, ready))
        reader.daemon = True
        reader.start()
        ready.wait(START_TIMEOUT_S)
        if not (self.alive and _answers(self.port) and _answers(self.grpc_port)):
            output = "\n".join(self._output)
            self.stop()
            raise RuntimeError(f"Phoenix did not start on {self.url}:\n{output}")

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _read_output(self, process: subprocess.Popen[str], ready: threading.Event) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self._output.append(line.rstrip())
            if "Uvicorn running on" in line:
                ready.set()
        ready.set()  # it exited: start() looks at the process

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    # -- reading spans back ---------------------------------------------------------------

    def spans(self, project: str) -> list[dict[str, Any]]:
        """Every span Phoenix holds for `project` (empty if it has no such project)."""
        spans: list[dict[str, Any]] = []
        cursor = None
        while True:
            query = {"limit": "1000", **({"cursor": cursor} if cursor else {})}
            path = f"/v1/projects/{urllib.parse.quote(project)}/spans"
            try:
                page = self._get(f"{path}?{urllib.parse.urlencode(query)}")
            except urllib.error.HTTPError as exc:
                if exc.code == 404:
                    return []
                raise
            spans.extend(page.get("data", []))
            cursor = page.get("next_cursor")
            if not cursor:
                return spans

    def wait_for_spans(
        self, project: str, count: int, timeout: float = 60.0
    ) -> list[dict[str, Any]]:
        """The project's spans once there are at least `count` (ingestion is asynchronous)."""
        deadline = time.monotonic() + timeout
        while True:
            spans = self.spans(project)
            if len(spans) >= count or time.monotonic() > deadline:
                return spans
            time.sleep(0.2)

    def _get(self, path: str) -> dict[str, Any]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=30) as response:
                return json.load(response)
        except urllib.error.URLError as exc:
            if isinstance(exc, urllib.error.HTTPError):
                raise
            state = "running" if self.alive else "exited"
            output = "\n".join(list(self._output)[-30:])
            raise RuntimeError(f"Phoenix ({state}) did not answer {path}: {exc}\n{output}") from exc


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            return True
    except OSError:
        return False
