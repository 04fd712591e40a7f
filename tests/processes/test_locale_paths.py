"""A results folder whose name is not ASCII, under an ASCII locale with Python's UTF-8 mode off (bad
inputs, sixth round): the path reaches Python as surrogates, and writing COMPATIBILITY.md raised
UnicodeEncodeError, a traceback after the run had finished (its report lost)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.processes  # a real `iree-matrix report` in another locale

ROOT = Path(__file__).resolve().parents[2]


def test_report_into_a_non_ascii_folder_under_the_c_locale(tmp_path: Path) -> None:
    folder = tmp_path / "runs lang ü"
    folder.mkdir()
    shutil.copy(ROOT / "tests" / "data" / "site" / "results.jsonl", folder / "results.jsonl")
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-m", "iree_matrix", "report", "--results-dir", os.fsencode(folder)],
        env=env, capture_output=True, timeout=300,
    )  # fmt: skip
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 0 and b"Traceback" not in done.stderr, err
    written = (folder / "COMPATIBILITY.md").read_bytes()
    assert str(folder).encode() in written  # the folder's own bytes, UTF-8 as on disk
