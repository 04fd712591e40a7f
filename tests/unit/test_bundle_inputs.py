"""run.py's own options, checked before anything runs (bad inputs, sixth round)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from iree_matrix.bundle_runner import cli as runner_cli


def _bundle(root: Path, manifest: dict) -> None:
    root.mkdir()
    (root / "bundle.json").write_text(json.dumps(manifest))
    digest = hashlib.sha256((root / "bundle.json").read_bytes()).hexdigest()
    (root / "SHA256SUMS").write_text(f"{digest}  bundle.json\n")


@pytest.mark.parametrize("rounds", ["0", "-3", "5"])
def test_too_few_rounds_for_a_sitting_are_refused_before_any_cell_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rounds: str
) -> None:
    """An advise bundle's `--rounds 0` was refused only after every cell had been run and timed (7 s
    for the tiny CNN's two cells, hours for a big bundle), with nothing of the sitting done."""
    root, out = tmp_path / "b", tmp_path / "out"
    _bundle(root, {"schema": 1, "cells": [{"job": "run:x", "runtime": "3.13.0"}], "runtimes": [],
                   "sittings": [{"model": "tiny_cnn"}]})  # fmt: skip
    assert runner_cli.main(["--bundle", str(root), "--rounds", rounds, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == f"run.py: --rounds {rounds}: at least 6 (fewer decide nothing)\n"
    assert not out.exists(), "a cell ran (or its folder was made) before --rounds was refused"


def test_a_bundle_without_a_sitting_takes_any_rounds_as_before(tmp_path: Path, capsys) -> None:
    root = tmp_path / "b"
    _bundle(root, {"schema": 1, "cells": [{"job": "run:x", "runtime": "3.13.0", "device": "local-task"}],
                   "runtimes": []})  # fmt: skip
    assert runner_cli.main(["--bundle", str(root), "--rounds", "0", "--list"]) == 0
    assert capsys.readouterr().out == "run:x  [local-task]\n"


@pytest.mark.parametrize("under", ["", "sub"])
def test_an_out_that_is_a_file_is_refused_before_anything_runs(tmp_path: Path, capsys, under: str) -> None:
    """`--out FILE` was said after the modules were put together, as 'FILE: File exists; the records
    written so far are kept' when no record had been written."""
    root, afile = tmp_path / "b", tmp_path / "afile"
    _bundle(root, {"schema": 1, "cells": [{"job": "run:x", "runtime": "3.13.0"}], "runtimes": []})
    afile.write_text("")
    out = afile / under if under else afile
    assert runner_cli.main(["--bundle", str(root), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == f"run.py: --out {out}: {afile} is a file, not a folder; name a folder (made if missing)\n"
