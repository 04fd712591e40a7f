"""mypy over src/ with pyproject.toml's [tool.mypy]: zero errors. Here as well as in `nox -s lint`
so that the CI, which runs `nox -s tests`, type-checks every change."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.processes
def test_mypy_finds_no_error_in_src():
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(ROOT / ".mypy_cache")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
