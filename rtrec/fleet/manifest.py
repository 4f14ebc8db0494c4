"""What one recorder has exported into a dataset, and from which database.

`DIR/_rtrec_manifest/NAME.json`, one file per recorder, so recorders exporting into
one directory (or syncing theirs into one bucket) never write the same file.  Per
session: the database it came from, its partition, the fingerprint of what was
exported and the rows per table.  A session whose fingerprint is unchanged is not
exported again.  The file is saved atomically every few seconds during a run and at
its end; a run killed in between exports the sessions since the last save again,
replacing their parts with identical ones.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rtrec import __version__
from rtrec.fleet.dataset import MANIFEST_DIR, DatasetError, write_json_atomically

FORMAT = "rtrec-parquet-manifest"
VERSION = 1
SAVE_EVERY_S = 5.0


class Manifest:
    def __init__(self, root: Path, recorder: str) -> None:
        self.path = root / MANIFEST_DIR / f"{recorder}.json"
        self.recorder = recorder
        self.data: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "recorder": recorder,
            "databases": {},
            "sessions": {},
        }
        self._saved_at = time.monotonic()
        self._dirty = False
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            raise DatasetError(f"cannot read {self.path}: {exc}") from exc
        if not isinstance(loaded, dict) or loaded.get("format") != FORMAT:
            raise DatasetError(f"{self.path} is not an rtrec manifest")
        if loaded.get("version", 0) > VERSION:
            raise DatasetError(f"{self.path} was written by a newer rtrec; upgrade rtrec")
        self.data.update(loaded)

    @property
    def sessions(self) -> dict[str, dict[str, Any]]:
        return self.data["sessions"]

    def unchanged(self, session_uuid: str, fingerprint: Mapping[str, object]) -> bool:
        entry = self.sessions.get(session_uuid)
        return entry is not None and entry.get("fingerprint") == dict(fingerprint)

    def note_database(self, path: str, schema_version: int) -> None:
        self.data["databases"][path] = {
            "schema_version": schema_version,
            "rtrec": __version__,
            "exported_at": _now(),
        }
        self._dirty = True

    def record(
        self,
        session_uuid: str,
        *,
        database: str,
        session_id: int,
        date: str,
        fingerprint: Mapping[str, object],
        rows: Mapping[str, int],
    ) -> None:
        self.sessions[session_uuid] = {
            "database": database,
            "session_id": session_id,
            "date": date,
            "fingerprint": dict(fingerprint),
            "rows": dict(rows),
            "exported_at": _now(),
        }
        self._dirty = True
        if time.monotonic() - self._saved_at >= SAVE_EVERY_S:
            self.save()

    def save(self) -> None:
        if self._dirty or not self.path.exists():
            write_json_atomically(self.path, self.data)
        self._saved_at = time.monotonic()
        self._dirty = False


def sessions_of_other_recorders(root: Path, recorder: str) -> dict[str, str]:
    """session uuid → recorder name, for every other recorder's manifest in DIR."""
    found: dict[str, str] = {}
    for path in sorted((root / MANIFEST_DIR).glob("*.json")):
        if path.stem == recorder:
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # another recorder's problem, reported when it runs
        for session_uuid in data.get("sessions", {}):
            found[session_uuid] = path.stem
    return found


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
