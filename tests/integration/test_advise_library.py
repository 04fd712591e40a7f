"""`iree-matrix advise MODEL` of a model it has never seen tries the kernel library unasked (issue 92):
a real sitting (torch, IREE 3.13.0, ONNX Runtime, Zig's clang) of a model whose time is one wide
softmax trails ONNX Runtime, its gap is profiled and names `softmax`, and the library's kernel that
says it computes a softmax (`op_kinds`; its spec written by the tool from `replaces = { op =
"aten.softmax" }`) is swapped in and sat again beside the answer, with its verdict said."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from iree_matrix.findings import advice

from .conftest import REPO, iree_matrix

pytestmark = [pytest.mark.integration, pytest.mark.shared_tmp]

DATA = REPO / "tests" / "data" / "kernels"


def test_advise_tries_the_librarys_kernel_on_the_kind_that_holds_the_gap(warm_cache: Path, tmp_path: Path):
    library = tmp_path / "library"
    shutil.copytree(DATA / "softmax", library / "softmax")
    toml = library / "softmax" / "kernel.toml"
    toml.write_text(toml.read_text() + 'op_kinds = ["softmax"]\n')
    results = tmp_path / "advise"
    done = iree_matrix(
        "advise", f"{DATA}/wide_softmax_model.py:wide_softmax", "--release", "3.13.0", "--picks", "default",
        "--no-proof", "--rounds", "6", "--repetitions", "1", "--library", str(library), "--backend", "venv",
        cache=warm_cache, results=results, timeout=1200,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    (kept,) = results.glob("advice-*.json")
    document = json.loads(kept.read_text())
    (entry,) = document["functions"]
    (answer,) = advice.derive(document)  # its gap as the answer reads it: each side at its paired scale
    assert answer.gap is not None, entry.get("gap_error")
    assert answer.gap.leading()[0].kind == "softmax", answer.gap
    # the library's kernel, unasked: sat again beside the answer, its verdict in the answer
    assert entry["sat_again"].startswith("with the kernel library's softmax"), entry.get("sat_again")
    arms = {a["name"]: a for a in entry["arms"]}
    tried = arms["default+k:softmax"]
    assert tried["applied"] is True and tried["matches"] is True and len(tried["ms"]) == 6
    assert "the kernel library: trying softmax (softmax; for main)" in done.stderr
    assert "kernel `softmax` with `default`" in done.stdout
