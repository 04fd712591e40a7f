"""`iree-matrix advise MODEL` of a model it has never seen tries the kernel library unasked (issue 92):
a real sitting (torch, IREE 3.13.0, ONNX Runtime, Zig's clang) of a model whose time is one wide
softmax trails ONNX Runtime, its gap is profiled and names `softmax`, and the shipped library's kernel
that says it computes a softmax (kernels/softmax: `op_kinds`; its spec written by the tool from
`replaces = { op = "aten.softmax" }`) is swapped in and sat again beside the answer, with its verdict
said; and on a model with a depthwise convolution too, the depthwise kernel declared by op."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from iree_matrix.findings import advice

from .conftest import REPO, iree_matrix

pytestmark = [pytest.mark.integration, pytest.mark.shared_tmp]

DATA = REPO / "tests" / "data" / "kernels"


def _advise(model: str, cache: Path, results: Path) -> tuple[str, str, dict]:
    """`advise MODEL` with the shipped library (no --library): its stdout, stderr and the function's entry."""
    done = iree_matrix(
        "advise", model, "--release", "3.13.0", "--picks", "default", "--no-proof", "--rounds", "6",
        "--repetitions", "1", "--backend", "venv", cache=cache, results=results, timeout=1200,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    (kept,) = results.glob("advice-*.json")
    document = json.loads(kept.read_text())
    (entry,) = document["functions"]
    (answer,) = advice.derive(document)  # its gap as the answer reads it: each side at its paired scale
    assert answer.gap is not None, entry.get("gap_error")
    return done.stdout, done.stderr, {**entry, "leading": [k.kind for k in answer.gap.leading()]}


# what the answer says of each kernel it tried (findings/kernel_trials.kernel_text), one line each
VERDICT = r"kernel `{}` with `default`: .*(taken|slower: not taken|not taken|faster still)$"


def test_advise_tries_the_librarys_kernel_on_the_kind_that_holds_the_gap(warm_cache: Path, tmp_path: Path):
    out, err, entry = _advise(f"{DATA}/wide_softmax_model.py:wide_softmax", warm_cache, tmp_path / "advise")
    assert entry["leading"][0] == "softmax", entry["leading"]
    # the library's kernel, unasked: sat again beside the answer, its verdict in the answer
    assert entry["sat_again"].startswith("with the kernel library's softmax"), entry.get("sat_again")
    arms = {a["name"]: a for a in entry["arms"]}
    tried = arms["default+k:softmax"]
    assert tried["applied"] is True and tried["matches"] is True and len(tried["ms"]) == 6
    assert "softmax (softmax; for main)" in err and "the kernel library: trying " in err
    assert re.search(VERDICT.format("softmax"), out, re.M), out


def test_advise_tries_the_depthwise_and_softmax_kernels_on_a_model_it_never_saw(
    warm_cache: Path, tmp_path: Path
):
    """A depthwise convolution + BatchNorm and a softmax over a rank-3 tensor's last axis: each kernel
    declared by op (kernels/depthwise3x3_nchw, kernels/softmax: its row the input's last dimension)
    has its spec written from this model's IR, applies, matches torch, and is said with its verdict."""
    model = f"{DATA}/depthwise_softmax_model.py:depthwise_softmax"
    out, err, entry = _advise(model, warm_cache, tmp_path / "advise")
    assert {"depthwise", "softmax"} <= set(entry["leading"]), entry["leading"]
    assert "depthwise3x3_nchw (depthwise; for main)" in err and "softmax (softmax; for main)" in err
    arms = {a["name"]: a for a in entry["arms"]}
    for kernel in ("depthwise3x3_nchw", "softmax"):
        tried = arms[f"default+k:{kernel}"]
        assert tried["applied"] is True and tried["matches"] is True, (kernel, tried)
        assert re.search(VERDICT.format(kernel), out, re.M), (kernel, out)
    assert "depthwise3x3_generated" not in err  # MobileNetV2's own: not for this model
