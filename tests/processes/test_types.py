"""mypy over src/ with pyproject.toml's [tool.mypy]: zero errors. Here as well as in `nox -s lint`
so that the CI, which runs `nox -s tests`, type-checks every change."""

from __future__ import annotations

import os
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


@pytest.mark.processes
def test_a_renamed_record_field_is_a_type_error_at_its_reader(tmp_path):
    """Records are read through typed views (tests/unit/test_records.py): a reader of a field that
    is not there fails mypy, not a run."""
    reader = tmp_path / "reader.py"
    reader.write_text(
        "from iree_matrix.core.model.results import Record\n\n\n"
        "def compiler(record: Record) -> str:\n    return record.label.compiler_release\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache"), "--follow-imports=silent",
         "--config-file", str(ROOT / "pyproject.toml"), str(reader)],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "MYPYPATH": str(ROOT / "src")},
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert '"Labels" has no attribute "compiler_release"' in done.stdout
