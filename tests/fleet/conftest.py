"""The fleet every dataset test reads: three recorders' databases, exported into one DIR.

Built once per test run; tests that change a database or a dataset work on copies.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fleet.support import RECORDERS, demo_db, export, fixtures_db, relay_db


@pytest.fixture(scope="session")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """recorder name → its database."""
    root = tmp_path_factory.mktemp("fleet")
    dbs = {name: root / f"{name}.db" for name in RECORDERS}
    demo_db(dbs["host-a"])
    fixtures_db(dbs["host-b"])
    relay_db(dbs["host-c"])
    return dbs


@pytest.fixture(scope="session")
def dataset(fleet: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All three exported into one dataset, as three hosts sharing a directory would."""
    out = tmp_path_factory.mktemp("dataset") / "fleet"
    for name, db in fleet.items():
        export(db, out, name)
    return out
