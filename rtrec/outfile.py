"""Output files that appear only when complete.

A command's output file is written under a temporary name beside its target
(`.NAME.PID.partial`, in the same directory, so the final rename stays on one
filesystem and is atomic) and renamed over the target once everything is written.
If anything fails (a full disk, an error in the input, Ctrl-C), the partial file is
removed and an existing file of the target's name is left as it was.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from rtrec.errors import RtrecError


def staging_path(path: Path) -> Path:
    """Where `path` is written until it is complete."""
    return path.with_name(f".{path.name}.{os.getpid()}.partial")


@contextlib.contextmanager
def complete_or_nothing(
    path: str | os.PathLike[str], mode: str = "w", **kwargs: Any
) -> Iterator[IO[Any]]:
    """`open(path, mode)` for writing; `path` appears (or is replaced) only on success."""
    target = Path(path)
    if target.is_dir():
        raise RtrecError(f"cannot write {target}: it is a directory")
    if target.exists() and not target.is_file():
        # A device, a pipe, /dev/stdout: written as it is; a file beside it would be
        # wrong (and renaming over /dev/null, a disaster).
        yield from _written_directly(target, mode, **kwargs)
        return
    staged = staging_path(target)
    try:
        out = open(staged, mode, **kwargs)  # noqa: SIM115
    except OSError as exc:
        raise RtrecError(f"cannot write {target}: {exc.strerror or exc}") from exc
    try:
        with out:
            yield out
        os.replace(staged, target)
    except OSError as exc:
        _remove(staged)
        raise RtrecError(f"cannot write {target}: {exc.strerror or exc}; nothing written") from exc
    except BaseException:
        _remove(staged)
        raise


def _written_directly(target: Path, mode: str, **kwargs: Any) -> Iterator[IO[Any]]:
    try:
        out = open(target, mode, **kwargs)  # noqa: SIM115
    except OSError as exc:
        raise RtrecError(f"cannot write {target}: {exc.strerror or exc}") from exc
    try:
        with out:
            yield out
    except OSError as exc:
        raise RtrecError(f"cannot write {target}: {exc.strerror or exc}") from exc


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
