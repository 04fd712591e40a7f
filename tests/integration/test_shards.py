"""Shards of the smoke matrix, each run from an empty store, merged: the same statuses, keys and
module bytes as one serial run (the CI workflow's shard jobs and merge job, on one machine).

Every run uses the same cache path, its store emptied in between: a module embeds the path of the
MLIR it was compiled from (IREE's source locations), so byte-identical modules need the store at the
same path — as on CI runners, where it is always ~/.cache/iree-matrix."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from iree_matrix.core.model.results import ResultsLog, Status

from .conftest import SMOKE, iree_matrix, module_digests, records

pytestmark = pytest.mark.integration


def test_two_shards_merged_equal_the_serial_run(cache: Path, tmp_path: Path) -> None:
    serial = tmp_path / "serial"
    done = iree_matrix("matrix", "--matrix", str(SMOKE), cache=cache, results=serial)
    assert done.returncode == 0, done.stderr
    modules = module_digests(records(serial), [cache])
    assert len(modules) == 2 and all(modules.values())

    shard_dirs = []
    for k in (1, 2):
        shutil.rmtree(cache / "store")  # a separate CI job: nothing stored
        out = tmp_path / f"shard-{k}"
        run = iree_matrix("matrix", "--matrix", str(SMOKE), "--shard", f"{k}/2", cache=cache, results=out)
        assert run.returncode == 0, run.stderr
        assert "reused from earlier runs" in run.stdout and " 0 reused" in run.stdout.replace(",", "")
        for job, digest in module_digests(records(out), [cache]).items():
            assert digest == modules[job], job  # the same bytes as the serial run's module
        shard_dirs.append(out)
    ran = [{j for j in records(d) if j.startswith("run:")} for d in shard_dirs]
    assert ran[0] and ran[1] and not ran[0] & ran[1]

    merged = tmp_path / "merged"
    argv = [sys.executable, "-m", "iree_matrix", "merge", *map(str, shard_dirs), "--to", str(merged)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "(the same result in two inputs)" in done.stdout  # the installs both shards ran

    expected = records(serial)
    got = records(merged)
    assert {j: r.status for j, r in got.items()} == {j: r.status for j, r in expected.items()}
    assert {j: r.key for j, r in got.items()} == {j: r.key for j, r in expected.items()}
    assert Status.OK in {r.status for r in got.values()} and Status.FAIL in {r.status for r in got.values()}
    # One record per job: the installs and the export both shards ran are one result each.
    assert len(list(ResultsLog(merged / "results.jsonl"))) == len(expected) == 12
    assert (merged / "COMPATIBILITY.md").is_file() and (merged / "compat.json").is_file()
