"""`rtrec export-parquet`: one database's sessions into a dataset, incrementally.

Each session is read in one snapshot and written as one part per table, first under
a hidden temporary name, then renamed over its previous part, if any.  So a session
re-exported because it changed replaces its rows in each table at once: a reader sees
the old rows or the new, never both, never neither; two runs never duplicate a row;
a killed run leaves complete parts only (its temporary files are removed by the next).
A session is exported again only when its fingerprint (last event, end, projector
version, columns) differs from the one in the manifest.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rtrec.errors import BadDate, DatabaseError
from rtrec.fleet import dataset
from rtrec.fleet.columns import Column, columns_digest, table_columns
from rtrec.fleet.manifest import Manifest, sessions_of_other_recorders
from rtrec.fleet.parts import PartWriter
from rtrec.store.paging import VIEW_PAGE_ROWS
from rtrec.store.reader import resolve_session
from rtrec.store.snapshot import VIEWS, DatabaseChanged, LogSnapshot, SessionInfo, SessionRead

ATTEMPTS = 3  # reads of a session that a writer keeps changing under an immutable open


@dataclass(frozen=True)
class ExportOptions:
    out_dir: Path
    recorder: str
    since: dt.date | None = None
    include_open: bool = False
    with_audio: bool = False
    sessions: tuple[str, ...] = ()


@dataclass
class ExportResult:
    exported: list[int] = field(default_factory=list)
    unchanged: int = 0
    still_recording: list[int] = field(default_factory=list)
    rows: Counter[str] = field(default_factory=Counter)
    lost: Counter[str] = field(default_factory=Counter)  # "table.column" → values made NULL
    removed_temp: int = 0


def export_dataset(
    db_path: str,
    options: ExportOptions,
    progress: Callable[[int, int], None] | None = None,
) -> ExportResult:
    root = options.out_dir
    recorder = dataset.check_recorder_name(options.recorder)
    snapshot = LogSnapshot(db_path)
    try:
        tables = {
            view: table_columns(view, snapshot.view_columns(view), with_audio=options.with_audio)
            for view in VIEWS
        }
        chosen = _chosen_sessions(snapshot, options)
        dataset.prepare_root(root)
        busy = f"another export-parquet run is writing recorder {recorder} into {root}"
        with dataset.locked(
            root / dataset.MANIFEST_DIR / f"{recorder}.lock", wait=False, busy=busy
        ):
            return _export_locked(snapshot, options, recorder, tables, chosen, progress)
    finally:
        snapshot.close()


def _chosen_sessions(snapshot: LogSnapshot, options: ExportOptions) -> list[SessionInfo]:
    sessions = snapshot.sessions()
    if options.sessions:
        wanted = {resolve_session(snapshot.conn, ref).id for ref in options.sessions}
        sessions = [s for s in sessions if s.id in wanted]
    if options.since is not None:
        since = options.since.isoformat()
        sessions = [s for s in sessions if s.date >= since]
    return sessions


def _export_locked(
    snapshot: LogSnapshot,
    options: ExportOptions,
    recorder: str,
    tables: dict[str, list[Column]],
    chosen: list[SessionInfo],
    progress: Callable[[int, int], None] | None,
) -> ExportResult:
    root = options.out_dir
    result = ExportResult()
    dataset.merge_schema(root, tables)
    manifest = Manifest(root, recorder)
    elsewhere = sessions_of_other_recorders(root, recorder)
    for info in chosen:
        if info.uuid in elsewhere:
            raise dataset.DatasetError(
                f"session {info.id} ({info.uuid[:8]}) of {snapshot.path} is already in {root} "
                f"as recorder {elsewhere[info.uuid]}; export this database with "
                f"--recorder {elsewhere[info.uuid]}"
            )
    result.removed_temp = dataset.remove_temp_parts(root, recorder)
    database = str(Path(snapshot.path).resolve())
    manifest.note_database(database, snapshot.schema_version)
    digest = columns_digest(tables)
    try:
        for done, info in enumerate(chosen):
            if progress is not None:
                progress(done, len(chosen))
            if info.recording and not options.include_open:
                result.still_recording.append(info.id)
                continue
            if manifest.unchanged(info.uuid, _fingerprint(info, digest)):
                result.unchanged += 1
                continue
            exported = _export_session(snapshot, info.id, tables, options, recorder, manifest)
            manifest.record(
                exported.info.uuid,
                database=database,
                session_id=exported.info.id,
                date=exported.info.date,
                fingerprint=_fingerprint(exported.info, digest),
                rows=exported.rows,
            )
            result.exported.append(info.id)
            result.rows.update(exported.rows)
            result.lost.update(exported.lost)
    finally:
        manifest.save()
    return result


def _fingerprint(info: SessionInfo, digest: str) -> dict[str, object]:
    return {
        **info.fingerprint(),
        "columns": digest,
        "schema_version": dataset.SCHEMA_VERSION,
    }


@dataclass
class _Exported:
    info: SessionInfo
    rows: dict[str, int]
    lost: Counter[str]


def _export_session(
    snapshot: LogSnapshot,
    session_id: int,
    tables: dict[str, list[Column]],
    options: ExportOptions,
    recorder: str,
    manifest: Manifest,
) -> _Exported:
    for attempt in range(ATTEMPTS):
        staged: dict[str, PartWriter] = {}
        try:
            with snapshot.session(session_id) as read:
                info = read.info
                for table, columns in tables.items():
                    writer = _write_table(read, table, columns, options, recorder)
                    if writer is not None:
                        staged[table] = writer
        except DatabaseChanged:
            for writer in staged.values():
                writer.path.unlink(missing_ok=True)
            if attempt == ATTEMPTS - 1:
                raise DatabaseError(
                    f"{snapshot.path} kept changing while session {session_id} was read"
                ) from None
            snapshot.reopen()
            continue
        except BaseException:
            for writer in staged.values():
                writer.path.unlink(missing_ok=True)
            raise
        _publish(options.out_dir, info, staged, tables, recorder, manifest)
        lost: Counter[str] = Counter()
        for table, writer in staged.items():
            lost.update({f"{table}.{name}": n for name, n in writer.lost.items()})
        return _Exported(info, {t: w.rows for t, w in staged.items()}, lost)
    raise AssertionError("unreachable")


def _write_table(
    read: SessionRead,
    table: str,
    columns: Sequence[Column],
    options: ExportOptions,
    recorder: str,
) -> PartWriter | None:
    """The session's rows of one table in a temporary part; None when it has none."""
    info = read.info
    final = dataset.partition_dir(options.out_dir, table, info.date, recorder) / (
        dataset.part_name(info.uuid)
    )
    names = {c.name for c in columns}
    derived = {"wall_at": "wall_ns"} if "wall_at" in names else {}
    writer: PartWriter | None = None
    try:
        for page in _table_rows(read, table, options):
            if writer is None:
                final.parent.mkdir(parents=True, exist_ok=True)
                metadata = {
                    "rtrec": json.dumps(
                        {
                            "format": dataset.FORMAT,
                            "version": dataset.SCHEMA_VERSION,
                            "table": table,
                            "session_uuid": info.uuid,
                            "date": info.date,
                            "recorder": recorder,
                        }
                    )
                }
                writer = PartWriter(
                    dataset.temp_path(final),
                    columns,
                    metadata,
                    constants={"session_uuid": info.uuid},
                    derived=derived,
                )
            writer.write(page)
        if writer is not None:
            writer.close()
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    return writer


def _table_rows(
    read: SessionRead, table: str, options: ExportOptions
) -> Iterator[list[tuple[object, ...]]]:
    """Pages of the view's rows (for events, each followed by its audio with --with-audio)."""
    if table == "events":
        yield from read.event_rows(VIEW_PAGE_ROWS, with_audio=options.with_audio)
    else:
        yield from read.rows(table, VIEW_PAGE_ROWS)


def _publish(
    root: Path,
    info: SessionInfo,
    staged: dict[str, PartWriter],
    tables: dict[str, list[Column]],
    recorder: str,
    manifest: Manifest,
) -> None:
    """Rename each staged part over the session's old one; drop parts it no longer has."""
    previous = manifest.sessions.get(info.uuid)
    old_date = previous.get("date") if previous is not None else None
    for table in tables:
        final = dataset.partition_dir(root, table, info.date, recorder) / dataset.part_name(
            info.uuid
        )
        writer = staged.get(table)
        if writer is not None:
            dataset.publish(writer.path, final)
        else:
            final.unlink(missing_ok=True)
        if old_date not in (None, info.date):
            old = dataset.partition_dir(root, table, str(old_date), recorder)
            (old / dataset.part_name(info.uuid)).unlink(missing_ok=True)


def check_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise BadDate("since", text) from None
