"""`torch.cdist` by the recipe `fx+rewrite` (issue #86): the kNN block (tests/data/routes/knn_cdist.py)
fails by the default export with the cdist hint, which says each route this run took (`~fx+rewrite`
first) passes; by `~fx+rewrite` (p=2 by matmul, no code of the user's) it compiles, runs and
matches torch on IREE 3.13.0 with real torch and wheels; a slow pass by `~fx+decompose` leads on to
`~fx+rewrite` while that has not run, and never once it has."""

from __future__ import annotations

import shlex

import pytest

from iree_matrix.core import pasted
from iree_matrix.core.model.results import Status
from iree_matrix.matrix import models
from iree_matrix.report import machine

from .conftest import REPO, iree_matrix, records, shared_cache

pytestmark = pytest.mark.integration

CELL = "iree3.13.0/x86_64/default"
PLAIN = "py3.11-torch2.13.0-turbine3.9.0"


def test_cdist_passes_by_the_rewrite_recipe_its_hint_names_first(tmp_path):
    cache = shared_cache(tmp_path / "cache")
    knn = REPO / "tests" / "data" / "routes" / "knn_cdist.py"
    matrix = tmp_path / "cdist.toml"
    matrix.write_text(
        'python = ["3.11"]\ntorch = ["2.13.0"]\nturbine = ["3.9.0"]\ncompiler = ["3.13.0"]\n'
        f'runtime = "same"\narch = ["x86_64"]\nprofiles = ["default"]\npeers = ["onnxruntime"]\n'
        f'models = ["{knn}:build", "{knn}:build~fx+rewrite", "{knn}:build~fx+decompose"]\n'
        "\n[benchmark]\nrepetitions = 1\n"
    )
    results = tmp_path / "results"
    done = iree_matrix("matrix", "--matrix", str(matrix), "--backend", "venv", cache=cache, results=results)
    assert done.returncode == 0, done.stderr
    got = records(results)
    assert got[f"compile:knn_cdist/{PLAIN}/{CELL}"].status is Status.FAIL
    ran = got[f"run:knn_cdist~fx+rewrite/{PLAIN}/{CELL}"]
    assert ran.status is Status.OK, (ran.status, ran.message)
    # Both routes ran in this run: the hint says each was tried and passes, the one it ranks first
    # first, and offers neither again as a command (matrix/tried.py)
    lines = done.stdout.splitlines()
    said = [x.strip() for x in lines if x.strip().startswith("tried:") and "knn_cdist~fx+" in x]
    assert [x.split("`")[1] for x in said] == ["knn_cdist~fx+rewrite", "knn_cdist~fx+decompose"], said
    assert all("passes on 3.13.0 here" in x for x in said), said
    assert not any("run it:" in x and "knn_cdist.py:build~fx+" in x for x in lines), lines
    want = ["--model", f"{knn}:build~fx+rewrite", "--matrix", str(matrix), "--results-dir", str(results)]
    # A slow `~fx+decompose` leads on (report/machine.py): to the recipe the real cdist hint ranks
    # first, with this run's settings, while it has not run; here it ran (the command being run),
    # so it is never offered again (the two took 0.127 ms each on this block: neither is faster)
    here = pasted.Where(matrix, results, cache)
    for kept in ([r for r in got.values() if "~fx+rewrite" not in r.job], list(got.values())):
        rows = {row.function: row for row in machine.rows(kept)}
        slow, known = rows["knn_cdist~fx+decompose"], models.references(kept)
        said = machine._faster_recipe(kept, list(rows.values()), slow, known, "iree-matrix", here)
        if "knn_cdist~fx+rewrite" not in rows:  # not run: the hint's first recipe, as `run it:`
            assert len(said) == 1 and "fx+rewrite first in its failure's hint, not run" in said[0], said
            assert shlex.split(said[0].split("`")[1])[2:] == [*want, "--cache", str(cache)], said
        else:
            assert not any("run it:" in x for x in said), said
    assert not any(
        x.startswith("  knn_cdist~fx+decompose: IREE") and "run it:" in x for x in done.stdout.splitlines()
    )
