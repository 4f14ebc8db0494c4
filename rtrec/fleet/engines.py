"""The optional engines (`rtrec[fleet]`): pyarrow writes the dataset, DuckDB queries it."""

from __future__ import annotations

import importlib
from types import ModuleType

from rtrec.errors import RtrecError

INSTALL_HINT = 'python3 -m pip install -e ".[fleet]"'


def require(module: str, command: str) -> ModuleType:
    """The module, or one clear RtrecError naming the extra that brings it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package = module.split(".")[0]
        raise RtrecError(
            f"{command} needs {package}, from the fleet extra: {INSTALL_HINT}"
        ) from exc
