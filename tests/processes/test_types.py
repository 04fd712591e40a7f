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


# The codes that mean a benchmark calls src as it no longer is (a removed name, a changed signature);
# the scripts' other strict-mode findings (untyped defs, bare generics) are allowed.
DRIFT = ("[call-arg]", "[attr-defined]", "[arg-type]", "[name-defined]")


@pytest.mark.processes
def test_benchmarks_call_src_as_it_is(tmp_path):
    """benchmarks/ are not run by the tests (minutes, a daemon, a board): mypy over them against src
    is what keeps them from drifting from src's API silently."""
    scripts = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "benchmarks").rglob("*.py"))
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache"), "--follow-imports=silent",
         "--ignore-missing-imports", "--check-untyped-defs",
         "--config-file", str(ROOT / "pyproject.toml"), *scripts],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "MYPYPATH": str(ROOT / "src")},
    )  # fmt: skip
    assert scripts and done.returncode in (0, 1), done.stdout + done.stderr  # 2: mypy itself failed
    drifted = [line for line in done.stdout.splitlines() if line.rstrip().endswith(DRIFT)]
    assert not drifted, "benchmarks/ call src as it no longer is:\n" + "\n".join(drifted)
