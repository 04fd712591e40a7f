"""`iree-matrix advise MODEL` of a model it has never seen tries the kernel library unasked (issue 92):
a real sitting (torch, IREE 3.13.0, ONNX Runtime, Zig's clang) of a model with a depthwise convolution
and a softmax, its gap profiled, and the shipped library's kernels that say they compute its leading
kinds (`op_kinds`; their specs written by the tool from `replaces = { op = ... }`) swapped in and sat
again beside the answer, each with its verdict said. (One sitting: a second model whose time is one
wide softmax cost CI 4-6 minutes more and showed nothing this one does not.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from .conftest import REPO, iree_matrix

pytestmark = [pytest.mark.integration, pytest.mark.shared_tmp]

DATA = REPO / "tests" / "data" / "kernels"


def _advise(model: str, cache: Path, results: Path) -> tuple[str, dict]:
    """`advise MODEL` with the shipped library (no --library): its stdout and the function's entry, after
    checking that every kernel the library tried is said with its verdict. The gap is read from the
    library's line: the answer's gap after a kernel is taken is its new pick's (profiled again, or none
    where the kernel closed it)."""
    done = iree_matrix(
        "advise", model, "--release", "3.13.0", "--picks", "default", "--no-proof", "--rounds", "6",
        "--repetitions", "1", "--backend", "venv", cache=cache, results=results, timeout=1200,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    (kept,) = results.glob("advice-*.json")
    (entry,) = json.loads(kept.read_text())["functions"]
    said = r"the kernel library: trying (.*) against the op kinds that hold the gap \((.*?)\), each"
    ((trying, held),) = re.findall(said, done.stderr)
    entry["tried"] = dict(re.findall(r"(\w+) \((\w+); for main\)", trying))  # {kernel: the kind of the gap}
    entry["held"] = dict(re.findall(r"(\w+): ([\w, ]+)", held))["main"].split(", ")  # the kinds holding it
    for kernel in entry["tried"]:  # what the answer says of each (kernel/findings/kernel_trials.kernel_text)
        verdict = rf"^    kernel `{kernel}` with `default`: .*(taken|faster still|never taken \(.*\))$"
        assert re.search(verdict, done.stdout, re.M), (kernel, done.stdout)
    return done.stdout, entry


def test_advise_tries_the_depthwise_and_softmax_kernels_on_a_model_it_never_saw(
    warm_cache: Path, tmp_path: Path
):
    """A depthwise convolution + BatchNorm and a softmax over a rank-3 tensor's last axis: each kernel
    declared by op (kernels/depthwise3x3_nchw, kernels/softmax: its row the input's last dimension)
    for a kind that holds this CPU's gap has its spec written from this model's IR, applies, matches
    torch, and is said with its verdict. The depthwise convolution holds the gap on every CPU seen (IREE
    ~5x ONNX Runtime's time); the softmax did on a Zen 3 (its kernel 0.76x default's time there), not on
    a Zen 4, where IREE's softmax beats ONNX Runtime's: the library tries it exactly where it holds."""
    model = f"{DATA}/depthwise_softmax_model.py:depthwise_softmax"
    out, entry = _advise(model, warm_cache, tmp_path / "advise")
    assert "depthwise" in entry["held"] and entry["tried"]["depthwise3x3_nchw"] == "depthwise", entry
    assert ("softmax" in entry["tried"]) == ("softmax" in entry["held"]), entry
    # the library's kernels, unasked: sat again beside the answer, their verdicts in the answer
    assert entry["sat_again"].startswith("with the kernel library's "), entry.get("sat_again")
    arms = {a["name"]: a for a in entry["arms"]}
    for kernel in entry["tried"]:
        tried = arms[f"default+k:{kernel}"]
        assert tried["applied"] is True and tried["matches"] is True, (kernel, tried)
    assert "inverted_residual" not in entry["tried"]  # MobileNetV2's own: not for this model
