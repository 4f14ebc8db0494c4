"""The package type-checks: `python -m mypy rtrec` (configured in pyproject.toml) reports
no errors, so `python -m pytest` checks types as CI does.  Slow (a cold mypy cache takes
about a minute); marked `typecheck`, so `-m "not typecheck"` leaves it out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.typecheck

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_reports_no_errors() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "rtrec"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    report = result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout, report
    assert result.returncode == 0, report
