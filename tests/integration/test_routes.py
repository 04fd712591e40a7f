"""Every failure of a user's model gets a route that works (issue #69), through real torch, turbine,
iree-compile and iree-run-module on IREE 3.13.0: the small models of tests/data/routes, each
as written (it fails, and the record's hint is the one whose remedy follows), with the hint's remedy
applied by hand, and exported by the recipe the hint names (`FILE:FACTORY~RECIPE`, on the command
line as the tool prints it). One matrix run holds them all; each test reads its own rows.

- an nn.LSTM keyword spotter: `aten.lstm` -> `~fx+gaps` and `~fx+decompose` match torch (the core
  table alone stops at `aten.squeeze.dims`: test_core_table_alone_stops_at_squeeze_dims);
- wav2vec2's weight-normed positional convolution: `aten._weight_norm` -> `remove_parametrizations`
  and `~fx+decompose` match;
- an attention-mask builder with torch.diff: `aten.diff` -> `~fx+gaps` matches;
- a spatial transformer: `aten.affine_grid_generator` -> the grid built by hand compiles but
  IREE's grid_sample differs from torch at the border (the chain's next failure, named up front);
  the sampling by hand too matches;
- a point-cloud kNN block: `aten.cdist` -> the distances written out and `~fx+decompose` match;
- FNet-style mixing: `aten.fft_fft2` -> the DFT as matmuls matches, and so does `~fx+rewrite`;
- a graph network's message sum: `aten.index_add` -> `scatter_add` by hand and `~fx+decompose` match;
- a recommender's embedding bags: `aten.embedding_bag` (modes mean and max) -> those bags written out
  match;
- an audio front end's centring: a 1-D reflect padding by 64 fails in IREE's code generation ->
  the padding by slices and flips matches;
- a mixture-of-experts gate: iree-compile crashes on `scatter` of a tensor -> the gate as a one-hot
  sum matches;
- the tool's own rewrites (issue #86): the spatial transformer (border and zeros padding) and the
  gate pass by `~fx+rewrite` with no code of the user's, a reflection padding is left (and still
  differs from torch), and the gate's `run it:` line, pasted as printed, runs in the run's own folder;
- weights an op takes in a list (`einsum` of a parameter, an index by two buffers): `~fx` and
  `~fx+gaps` export them (through a copy) and match, where the importer stopped at "Heterogeneous
  lists are not supported";
- an LSTM after a BatchNorm: `~fx+gaps` and `~fx+decompose` decompose the eval BatchNorm too
  (`_native_batch_norm_legit_no_training`, which IREE does not lower) and match;
- from the op survey (one tiny module per common op on 3.13.0): a window made in `forward`
  (`aten.hann_window`) -> the window as a buffer; a median filter (`aten.median`) -> sort and select;
  a flow step's `torch.linalg.inv` of its weight -> the inverse as a buffer; spectral norm's
  `aten.vdot` -> the parametrization removed and `~fx+decompose`; a float64 MLP ("'arith.constant'
  op failed to verify …") -> float32; an antialiased resize -> `antialias=False`; each matches;
- NeRF's hierarchical sampling: `aten.searchsorted` -> the count of CDF values matches;
- a KAN layer's in-grid mask: `aten.__and__.Tensor` -> `torch.logical_and` and `~fx+decompose` match;
- a CRF's forward algorithm and a patch fold: `aten.logsumexp` and `aten.col2im`, whose errors name
  only a constant they take -> each written out and `~fx+decompose` match;
- an RWKV token shift by a negative padding: IREE's output differs from torch; the mismatch names
  the op and its line -> padded then sliced, it matches;
- a Glow flow step's `torch.slogdet`: `aten.slogdet` -> `torch.linalg.slogdet` matches; compiled for
  `generic` (no AVX2) it differs from torch, the mismatch names it, and as a buffer it matches;
- a tiny Qwen2 (transformers): no mask -> `aten.diff`; a 2-D mask -> the 0-d boolean literal (the
  chain's next failure, named up front); the 4-D causal mask and `~fx+decompose` match, the latter
  with its buffers frozen (it was run with a missing argument: "expected 2 arguments but passed 1").
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from iree_matrix.core.model.results import Record, Status
from iree_matrix.core.system.locks import file_lock
from iree_matrix.findings import release_choice
from iree_matrix.iree import hints

from .conftest import REPO, iree_matrix, records, shared_cache

pytestmark = pytest.mark.integration

MODELS = REPO / "tests" / "data" / "routes"
RELEASE = "3.13.0"
PLAIN = "py3.11-torch2.13.0-turbine3.9.0"
HF = f"{PLAIN}+transformers5.23.0"
CELL = f"iree{RELEASE}/x86_64/default"

# model reference (relative to MODELS) -> (the name its jobs carry, its exporter)
CASES = {
    "kws_lstm.py:build": ("kws_lstm", PLAIN),
    "kws_lstm.py:build~fx+gaps": ("kws_lstm~fx+gaps", PLAIN),
    "kws_lstm.py:build~fx+decompose": ("kws_lstm~fx+decompose", PLAIN),
    "wn_conv.py:build": ("wn_conv", PLAIN),
    "wn_conv.py:removed": ("wn_conv-removed", PLAIN),
    "wn_conv.py:build~fx+decompose": ("wn_conv~fx+decompose", PLAIN),
    "diff_mask.py:build": ("diff_mask", PLAIN),
    "diff_mask.py:build~fx+gaps": ("diff_mask~fx+gaps", PLAIN),
    "qwen2_tiny.py:build": ("qwen2_tiny", HF),
    "qwen2_tiny.py:mask2d": ("qwen2_tiny-mask2d", HF),
    "qwen2_tiny.py:mask4d": ("qwen2_tiny-mask4d", HF),
    "qwen2_tiny.py:build~fx+decompose": ("qwen2_tiny~fx+decompose", HF),
    "affine_warp.py:build": ("affine_warp", PLAIN),
    "affine_warp.py:grid_by_hand": ("affine_warp-grid_by_hand", PLAIN),
    "affine_warp.py:by_hand": ("affine_warp-by_hand", PLAIN),
    "knn_cdist.py:build": ("knn_cdist", PLAIN),
    "knn_cdist.py:by_hand": ("knn_cdist-by_hand", PLAIN),
    "knn_cdist.py:build~fx+decompose": ("knn_cdist~fx+decompose", PLAIN),
    "fft_mix.py:build": ("fft_mix", PLAIN),
    "fft_mix.py:by_hand": ("fft_mix-by_hand", PLAIN),
    "fft_mix.py:build~fx+rewrite": ("fft_mix~fx+rewrite", PLAIN),
    "gnn_index_add.py:build": ("gnn_index_add", PLAIN),
    "gnn_index_add.py:by_hand": ("gnn_index_add-by_hand", PLAIN),
    "gnn_index_add.py:build~fx+decompose": ("gnn_index_add~fx+decompose", PLAIN),
    "embedding_bags.py:build": ("embedding_bags", PLAIN),
    "embedding_bags.py:by_hand": ("embedding_bags-by_hand", PLAIN),
    "reflect_pad1d.py:build": ("reflect_pad1d", PLAIN),
    "reflect_pad1d.py:by_hand": ("reflect_pad1d-by_hand", PLAIN),
    "moe_gate.py:build": ("moe_gate", PLAIN),
    "moe_gate.py:by_hand": ("moe_gate-by_hand", PLAIN),
    "listed_constants.py:build~fx": ("listed_constants~fx", PLAIN),
    "listed_constants.py:build~fx+gaps": ("listed_constants~fx+gaps", PLAIN),
    "bn_lstm.py:build~fx+gaps": ("bn_lstm~fx+gaps", PLAIN),
    "bn_lstm.py:build~fx+decompose": ("bn_lstm~fx+decompose", PLAIN),
    "frame_window.py:build": ("frame_window", PLAIN),
    "frame_window.py:by_hand": ("frame_window-by_hand", PLAIN),
    "median_filter.py:build": ("median_filter", PLAIN),
    "median_filter.py:by_hand": ("median_filter-by_hand", PLAIN),
    "flow_inverse.py:build": ("flow_inverse", PLAIN),
    "flow_inverse.py:by_hand": ("flow_inverse-by_hand", PLAIN),
    "sn_critic.py:build": ("sn_critic", PLAIN),
    "sn_critic.py:removed": ("sn_critic-removed", PLAIN),
    "sn_critic.py:build~fx+decompose": ("sn_critic~fx+decompose", PLAIN),
    "f64_mlp.py:build": ("f64_mlp", PLAIN),
    "f64_mlp.py:as_float32": ("f64_mlp-as_float32", PLAIN),
    "resize_aa.py:build": ("resize_aa", PLAIN),
    "resize_aa.py:plain": ("resize_aa-plain", PLAIN),
    "searchsorted_bins.py:build": ("searchsorted_bins", PLAIN),
    "searchsorted_bins.py:by_hand": ("searchsorted_bins-by_hand", PLAIN),
    "kan_and.py:build": ("kan_and", PLAIN),
    "kan_and.py:by_hand": ("kan_and-by_hand", PLAIN),
    "kan_and.py:build~fx+decompose": ("kan_and~fx+decompose", PLAIN),
    "crf_lse.py:build": ("crf_lse", PLAIN),
    "crf_lse.py:by_hand": ("crf_lse-by_hand", PLAIN),
    "crf_lse.py:build~fx+decompose": ("crf_lse~fx+decompose", PLAIN),
    "patch_fold.py:build": ("patch_fold", PLAIN),
    "patch_fold.py:by_hand": ("patch_fold-by_hand", PLAIN),
    "patch_fold.py:build~fx+decompose": ("patch_fold~fx+decompose", PLAIN),
    "token_shift.py:build": ("token_shift", PLAIN),
    "token_shift.py:by_hand": ("token_shift-by_hand", PLAIN),
    "crop_pad.py:build": ("crop_pad", PLAIN),
    "crop_pad.py:by_hand": ("crop_pad-by_hand", PLAIN),
    "flow_slogdet.py:build": ("flow_slogdet", PLAIN),
    "flow_slogdet.py:linalg": ("flow_slogdet-linalg", PLAIN),
}


def _matrix(path: Path, references: list[str]) -> Path:
    listed = ", ".join(f'"{MODELS / ref}"' for ref in references)
    path.write_text(
        f'python = ["3.11"]\ntorch = ["2.13.0"]\nturbine = ["3.9.0"]\ncompiler = ["{RELEASE}"]\n'
        f'runtime = "same"\narch = ["x86_64"]\nmodels = [{listed}]\nprofiles = ["default"]\n\n'
        "[benchmark]\nrepetitions = 1\n"
    )
    return path


@pytest.fixture(scope="module")
def routed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Record]:
    """One run of every case on IREE 3.13.0 (export, compile, run; no timing beyond one call)."""
    # One folder for the whole pytest run: CI made this fixture on both xdist workers (819 s and
    # 812 s; the module's tests reach both). With --wait the second run waits for the first's cache
    # and finds every cell stored.
    base = tmp_path_factory.getbasetemp()
    tmp = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "routes"
    cache = tmp / "cache"
    tmp.mkdir(exist_ok=True)
    with file_lock(tmp / "setup.lock"):
        if not cache.exists():
            shared_cache(cache)
        matrix = _matrix(tmp / "routes.toml", list(CASES))
    done = iree_matrix(
        "matrix", "--matrix", str(matrix), "--backend", "venv", "--wait", cache=cache,
        results=tmp / "results", timeout=3600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return records(tmp / "results")


def _row(got: dict[str, Record], ref: str, stage: str) -> Record:
    name, exporter = CASES[ref]
    return got[f"{stage}:{name}/{exporter}" + ("" if stage == "export" else f"/{CELL}")]


def _fails_with_hint(got: dict[str, Record], ref: str, op: str, hint: str) -> hints.Found:
    """The compile of `ref` fails at `op` and the hint its record gets is `hint`; that hint."""
    compiled = _row(got, ref, "compile")
    assert compiled.status is Status.FAIL, (ref, compiled.message)
    said = [compiled.metrics.get(k) or "" for k in ("failing_op", "first_error")]  # a crash's op: first_error
    assert op in "".join(said) + (compiled.message or ""), compiled.message
    found = release_choice.hint(compiled)
    assert found is not None and found.name == hint, (ref, found)
    return found


def _matches(got: dict[str, Record], ref: str) -> None:
    ran = _row(got, ref, "run")
    assert ran.status is Status.OK, (ref, ran.status, ran.message)
    assert "arguments but passed" not in (ran.message or "")


# A model that fails as written -> the op its compile fails at (as its record names it), the hint it
# gets, what that hint's advice says, and the routes in its file (remedies by hand, recipes: FACTORY or
# FACTORY~RECIPE) that match torch.
ROUTES = {
    "kws_lstm.py:build": (
        "torch.aten.lstm", "recurrent-op", ("`fx+gaps`", "squeeze.dims"),
        ("build~fx+gaps", "build~fx+decompose"),
    ),
    "wn_conv.py:build": (
        "torch.aten._weight_norm", "weight-norm", ('remove_parametrizations(conv, "weight")',),
        ("removed", "build~fx+decompose"),
    ),
    "diff_mask.py:build": ("torch.aten.diff", "diff-op", (), ("build~fx+gaps",)),
    "qwen2_tiny.py:build": (
        "torch.aten.diff", "packed-sequence-diff", ("tensor<i1>", "fx+decompose"),
        ("mask4d", "build~fx+decompose"),
    ),
    # the first remedy's next failure is the one the first hint named
    "qwen2_tiny.py:mask2d": ("torch.vtensor.literal", "bool-literal", (), ()),
    # the next failure the hint names up front: IREE's grid_sample pads with zeros, not the border
    # (test_the_grid_by_hand_differs_at_the_border)
    "affine_warp.py:build": (
        "torch.aten.affine_grid_generator", "affine-grid",
        ("base @ theta.transpose(1, 2)", "Next known failure: `F.grid_sample`"), ("by_hand",),
    ),
    "knn_cdist.py:build": (
        "torch.aten.cdist", "cdist", (".square().sum(-1)", "`fx+decompose`"),
        ("by_hand", "build~fx+decompose"),
    ),
    "fft_mix.py:build": (
        "torch.aten.fft_fft2", "fft", ("C_rows @ x @ C_cols - S_rows @ x @ S_cols", "`fx+rewrite`"),
        ("by_hand", "build~fx+rewrite"),
    ),
    "gnn_index_add.py:build": (
        "torch.aten.index_add", "index-add", (".scatter_add(0, dst.unsqueeze(1)", "`fx+decompose`"),
        ("by_hand", "build~fx+decompose"),
    ),
    "embedding_bags.py:build": (
        "torch.aten.embedding_bag", "embedding-bag", ("masked_fill(~member.unsqueeze(-1)", 'mode "sum"'),
        ("by_hand",),
    ),
    "reflect_pad1d.py:build": (
        "but found 57", "reflect-pad-1d", ("x[..., 1:p + 1].flip(-1)", "center=False"), ("by_hand",),
    ),
    "moe_gate.py:build": ("AtenScatterSrcOp", "scatter-src-crash", ("F.one_hot(index, n)",), ("by_hand",)),
    "frame_window.py:build": (
        "torch.aten.hann_window", "window-function", ('register_buffer("window", torch.hann_window(n))',),
        ("by_hand",),
    ),
    "median_filter.py:build": ("torch.aten.median", "sort-select", ("(n - 1) // 2",), ("by_hand",)),
    "flow_inverse.py:build": (
        "torch.aten.linalg_inv", "linalg-op", ("torch.linalg.inv(W)", "`torch.linalg.slogdet` compile"),
        ("by_hand",),
    ),
    "sn_critic.py:build": (
        "torch.aten.vdot", "vdot", ("remove_parametrizations(layer",), ("removed", "build~fx+decompose"),
    ),
    "resize_aa.py:build": ("_upsample_bilinear2d_aa", "antialias", ("antialias=False",), ("plain",)),
    "searchsorted_bins.py:build": (
        "torch.aten.searchsorted", "searchsorted",
        ("(sorted_seq.unsqueeze(-2) < values.unsqueeze(-1)).sum(-1)",),
        ("by_hand",),
    ),
    "kan_and.py:build": (
        "torch.aten.__and__.Tensor", "bool-and", ("torch.logical_and(a, b)", "`fx+decompose`"),
        ("by_hand", "build~fx+decompose"),
    ),
    # logsumexp and col2im fail at a constant they take: the hint names both, and each remedy
    # (test_an_op_the_error_does_not_name_is_found_again)
    "crf_lse.py:build": (
        "'torch.constant.", "unnamed-op", ("`fx+decompose`",), ("by_hand", "build~fx+decompose"),
    ),
    "patch_fold.py:build": (
        "'torch.constant.", "unnamed-op",
        ("`fx+decompose`", "(x - m).exp().sum(d).log()", "F.conv_transpose2d("),
        ("by_hand", "build~fx+decompose"),
    ),
    # `F.pad(y, (0, 0, 0, -1))`, a crop: 3.13.0 refuses it ("slice along dimension 0 runs
    # out-of-bounds", lowered from torch.aten.pad); the compile's message names the negative padding
    # and the model's line
    "crop_pad.py:build": (
        "torch.aten.pad with a negative padding [0, 0, 0, -1], at crop_pad.py:", "negative-pad",
        ("`y[:, :-1]`",), ("by_hand",),
    ),
    "flow_slogdet.py:build": ("torch.aten.slogdet", "det-alias", ("torch.linalg.slogdet(W)",), ("linalg",)),
}  # fmt: skip


@pytest.mark.parametrize("ref", ROUTES)
def test_a_failure_has_a_hint_whose_routes_match(routed, ref):
    op, hint, says, routes = ROUTES[ref]
    found = _fails_with_hint(routed, ref, op, hint)
    for said in says:
        assert said in found.advice, (ref, said, found.advice)
    for route in routes:
        _matches(routed, f"{ref.split(':')[0]}:{route}")


def test_the_grid_by_hand_differs_at_the_border(routed):
    ran = _row(routed, "affine_warp.py:grid_by_hand", "run")
    assert ran.status is Status.MISMATCH and "outputs differ from torch" in (ran.message or ""), ran.message


@pytest.mark.parametrize("ref", ["crf_lse.py:build", "patch_fold.py:build"])
def test_an_op_the_error_does_not_name_is_found_again(routed, ref):
    """The op the error does not name, found by the compile again printing the IR after the
    failure, and the model's line it came from."""
    compiled = _row(routed, ref, "compile").metrics
    op = {"crf_lse.py:build": "torch.aten.logsumexp", "patch_fold.py:build": "torch.aten.col2im"}[ref]
    assert compiled.get("source_op") == op, compiled
    assert str(compiled.get("source_line") or "").startswith(ref.split(":")[0] + ":"), compiled


def test_a_float64_model_has_a_hint_whose_float32_model_matches(routed):
    compiled = _row(routed, "f64_mlp.py:build", "compile")
    assert compiled.status is Status.FAIL and "have same type" in (compiled.metrics.get("first_error") or "")
    found = release_choice.hint(compiled)
    assert found is not None and found.name == "float64" and "model.float()" in found.advice
    _matches(routed, "f64_mlp.py:as_float32")


@pytest.mark.parametrize(
    "ref",
    [
        # weights an op takes in a list: exported (through a copy) where the importer stopped
        "listed_constants.py:build~fx",
        "listed_constants.py:build~fx+gaps",
        # the recurrent-op hint's route on a model with a BatchNorm: both fx tables once left it as
        # `aten._native_batch_norm_legit_no_training` and failed to compile
        "bn_lstm.py:build~fx+gaps",
        "bn_lstm.py:build~fx+decompose",
    ],
)
def test_an_fx_route_exports_and_matches(routed, ref):
    exported = _row(routed, ref, "export")
    assert exported.status is Status.OK, (ref, exported.message)
    _matches(routed, ref)


def test_a_negative_padding_is_named_by_the_mismatch_and_its_slice_matches(routed):
    """An RWKV token shift, `F.pad(x, (0, 0, 1, -1))`: IREE runs it and differs from torch, a wrong
    answer without an error; the mismatch names the op and the model's line, and its hint's
    pad-then-slice matches."""
    ran = _row(routed, "token_shift.py:build", "run")
    assert ran.status is Status.MISMATCH, (ran.status, ran.message)
    assert "torch.aten.pad with a negative padding [0, 0, 1, -1], at token_shift.py:" in (ran.message or "")
    found = release_choice.hint(ran)
    assert found is not None and found.name == "negative-pad" and "[:, :-1]" in found.advice
    _matches(routed, "token_shift.py:by_hand")


def test_a_determinant_for_a_cpu_without_avx2_is_named_and_its_buffer_matches(tmp_path):
    """`torch.linalg.slogdet` compiles and matches for this CPU (the case above) but differs from
    torch compiled for `generic` (no AVX2): that mismatch names the op and the CPU, and hint
    `det-no-avx2`'s route, the log-determinant as a buffer, matches there."""
    matrix = _matrix(tmp_path / "generic.toml", ["flow_slogdet.py:linalg", "flow_slogdet.py:buffer"])
    matrix.write_text(matrix.read_text().replace('profiles = ["default"]', 'profiles = ["generic"]'))
    done = iree_matrix(
        "matrix", "--matrix", str(matrix), "--backend", "venv", cache=shared_cache(tmp_path / "cache"),
        results=tmp_path / "results", timeout=1800,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    got = records(tmp_path / "results")
    generic = f"iree{RELEASE}/x86_64/generic"
    ran = got[f"run:flow_slogdet-linalg/{PLAIN}/{generic}"]
    assert ran.status is Status.MISMATCH, (ran.status, ran.message)
    assert "torch.aten.linalg_slogdet compiled for a CPU without AVX2 (target-cpu=generic)" in (
        ran.message or ""
    )
    found = release_choice.hint(ran)
    assert found is not None and found.name == "det-no-avx2" and "register_buffer" in found.advice
    buffered = got[f"run:flow_slogdet-buffer/{PLAIN}/{generic}"]
    assert buffered.status is Status.OK, (buffered.status, buffered.message)


def test_core_table_alone_stops_at_squeeze_dims(routed, tmp_path):
    """What `squeeze-dims` is keyed on: the LSTM exported with torch's core table and no more (the
    fx route before it decomposed squeeze.dims) fails at `torch.aten.squeeze.dims` on 3.13.0."""
    exported = _row(routed, "kws_lstm.py:build~fx+gaps", "export")
    compiled = _row(routed, "kws_lstm.py:build~fx+gaps", "compile")
    python, compiler = Path(exported.command[0]), Path(compiled.command[0])  # the run's own
    assert python.is_file() and compiler.name == "iree-compile", (python, compiler)
    code = (
        "import sys, torch; sys.path[:0] = [sys.argv[1], sys.argv[2]]\n"
        "import kws_lstm\n"
        "from iree.compiler.extras.fx_importer import FxImporter\n"
        "spec = kws_lstm.build(0)\n"
        "with torch.no_grad(): p = torch.export.export(spec.module, spec.inputs).run_decompositions()\n"
        "i = FxImporter(); i.import_frozen_program(p, func_name='main'); print(i.module)\n"
    )
    mlir = tmp_path / "core.mlir"
    with mlir.open("w") as out:
        subprocess.run(
            [str(python), "-c", code, str(MODELS), str(REPO / "scripts")], stdout=out, check=True, timeout=600
        )
    done = subprocess.run(
        [str(compiler), str(mlir), "--iree-hal-target-device=local",
         "--iree-hal-local-target-device-backends=llvm-cpu", "-o", str(tmp_path / "m.vmfb")],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode != 0 and "torch.aten.squeeze.dims" in done.stderr, done.stderr[-2000:]
    from iree_matrix.iree import hints

    found = hints.find(done.stderr, "compile")
    assert found is not None and found.name == "squeeze-dims"


def test_search_recipes_suggestion_runs_as_printed(tmp_path):
    """End to end: `search-recipes` finds the route of the torch.diff mask builder and prints the
    commands that run it; the printed `matrix --model 'FILE:FACTORY~RECIPE'` runs (on this test's
    3.13.0-only matrix file) and its run matches torch, from the store the search filled."""
    cache = shared_cache(tmp_path / "cache")
    matrix = _matrix(tmp_path / "diff.toml", ["diff_mask.py:build"])
    searched = iree_matrix(
        "search-recipes", "--matrix", str(matrix), "--recipes", "fx+gaps", "--backend", "venv",
        cache=cache, results=tmp_path / "search",
    )  # fmt: skip
    assert searched.returncode == 0, searched.stderr
    # The search's own line (advise and matrix); the run summary above it may print a hint's
    # `run it:` line too (matrix only) for the default export's failure.
    line = next(x for x in searched.stdout.splitlines() if "run it:" in x and "advise" in x)
    printed = re.findall(r"`iree-matrix ([^`]+)`", line)
    model = shlex.quote(f"{MODELS / 'diff_mask.py'}:build~fx+gaps")
    settings = f"--matrix {matrix} --results-dir {tmp_path / 'search'} --cache {cache}"  # the search's
    assert f"advise {model} {settings}" in printed and f"matrix --model {model} {settings}" in printed, line
    argv = shlex.split(next(p for p in printed if p.startswith("matrix ")))
    done = subprocess.run(
        [sys.executable, "-m", "iree_matrix", *argv, "--backend", "venv"], capture_output=True, text=True,
        timeout=1800,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    ran = records(tmp_path / "search")[f"run:diff_mask~fx+gaps/{PLAIN}/{CELL}"]
    assert ran.status is Status.OK, ran.message
    assert "0 executed" in done.stdout, done.stdout  # as printed: the search's matrix, cache and folder


REWRITTEN = {  # issue #86: the rewrites hints asked of the user, as the recipe `fx+rewrite`
    "moe_gate.py:build": ("moe_gate", PLAIN),
    "moe_gate.py:build~fx+rewrite": ("moe_gate~fx+rewrite", PLAIN),
    "affine_warp.py:build~fx+rewrite": ("affine_warp~fx+rewrite", PLAIN),
    "affine_warp.py:zeros~fx+rewrite": ("affine_warp-zeros~fx+rewrite", PLAIN),
    "affine_warp.py:upsampled~fx+rewrite": ("affine_warp-upsampled~fx+rewrite", PLAIN),
    "affine_warp.py:reflection~fx+rewrite": ("affine_warp-reflection~fx+rewrite", PLAIN),
}


def test_the_rewrites_a_hint_asked_for_pass_by_a_recipe_and_its_printed_command(tmp_path):
    """The spatial transformer (border and zeros padding) and the mixture-of-experts gate pass by
    `FILE:FACTORY~fx+rewrite` with no code of the user's; a reflection padding, which the rewrite
    does not take, is left as exported and still differs from torch (never a pass it is not). The
    gate's hint says its recipe was tried in this run and passes, instead of offering it again
    (test_search_recipes_suggestion_runs_as_printed pastes a printed route and runs it)."""
    cache = shared_cache(tmp_path / "cache")
    matrix = _matrix(tmp_path / "rewrite.toml", list(REWRITTEN))
    results = tmp_path / "results"
    done = iree_matrix("matrix", "--matrix", str(matrix), "--backend", "venv", cache=cache, results=results)
    assert done.returncode == 0, done.stderr
    got = records(results)

    def row(ref: str, stage: str) -> Record:
        name, exporter = REWRITTEN[ref]
        return got[f"{stage}:{name}/{exporter}/{CELL}"]

    for ref in (
        "moe_gate.py:build~fx+rewrite",
        "affine_warp.py:build~fx+rewrite",
        "affine_warp.py:zeros~fx+rewrite",
        "affine_warp.py:upsampled~fx+rewrite",  # and an F.interpolate by a scale_factor after it
    ):
        ran = row(ref, "run")
        assert ran.status is Status.OK, (ref, ran.status, ran.message)
    # reflection is not rewritten (the export's log says so): IREE's grid_sampler pads with zeros
    left = row("affine_warp.py:reflection~fx+rewrite", "run")
    assert left.status is Status.MISMATCH, (left.status, left.message)
    # the default export's crash: its hint says the route was tried in this run and passes (a way
    # the run already took is said with its outcome, not offered again as a command to run)
    assert row("moe_gate.py:build", "compile").status is Status.FAIL
    line = next(x for x in done.stdout.splitlines() if "tried:" in x and "moe_gate~fx+rewrite" in x)
    assert f"passes on {RELEASE} here" in line, line
    assert not any("run it:" in x and "moe_gate.py:build~fx+rewrite" in x for x in done.stdout.splitlines())


def test_where_no_recipe_passes_the_search_compiles_with_the_hints_profile(tmp_path):
    """Issue 95's next route, on real compiles: a matrix whose `default` allows 32 bytes of stack,
    where tiny_cnn's convolutions need 64, so the default export and its recipe fail at the limit;
    the search compiles the default export with the hint's built-in profile next (`stack-1m`), it
    passes and matches torch, and the one printed `tune` command runs as printed from the store."""
    cache = shared_cache(tmp_path / "cache")
    matrix = _matrix(tmp_path / "stack.toml", [])
    matrix.write_text(
        matrix.read_text().replace("models = []", 'models = ["tiny_cnn"]')
        + '\n[profile.default]\nflags = ["--iree-llvmcpu-stack-allocation-limit=32"]\n'
    )
    results = tmp_path / "search"
    searched = iree_matrix(
        "search-recipes",
        "--matrix",
        str(matrix),
        "--recipes",
        "fx",
        "--backend",
        "venv",
        cache=cache,
        results=results,
    )
    assert searched.returncode == 0, searched.stderr
    got = records(results)
    for name in ("tiny_cnn", "tiny_cnn~fx"):
        failed = got[f"compile:{name}/{PLAIN}/{CELL}"]
        assert failed.status is Status.FAIL and "exceeded stack allocation limit" in (failed.message or "")
    assert f"compile:tiny_cnn~fx/{PLAIN}/iree{RELEASE}/x86_64/stack-1m" not in got  # one route, not each
    ran = got[f"run:tiny_cnn/{PLAIN}/iree{RELEASE}/x86_64/stack-1m"]
    assert ran.status is Status.OK and ran.metrics.get("matches") is True, ran.message
    assert f"passes via (default export) with profile stack-1m on {RELEASE}" in searched.stdout, (
        searched.stdout
    )
    said = searched.stdout.splitlines()  # the search's own line, under its "passes via" (not a hint's)
    line = said[1 + next(i for i, x in enumerate(said) if "passes via (default export)" in x)]
    argv = shlex.split(re.findall(r"`iree-matrix ([^`]+)`", line)[0])
    assert argv[:5] == ["tune", "--model", "tiny_cnn", "--profiles", "stack-1m"], line
    done = subprocess.run(
        [sys.executable, "-m", "iree_matrix", *argv, "--backend", "venv"],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0 and "0 executed" in done.stdout, done.stdout + done.stderr
    # advise on it: `default` fails at the limit, the hint's profile is timed beside the picks
    sitting = ("--no-proof", "--library", "none", "--rounds", "6", "--repetitions", "1", "--backend", "venv")
    advised = iree_matrix(
        "advise", "tiny_cnn", "--matrix", str(matrix), *sitting, cache=cache, results=results
    )
    assert advised.returncode == 0, advised.stdout + advised.stderr
    assert "default failed; its hint's profile stack-1m is timed too" in advised.stderr
    kept = json.loads(next(results.glob("advice-tiny_cnn.*.json")).read_text())
    arms = {a["name"]: a for a in kept["functions"][0]["arms"]}
    assert arms["stack-1m"].get("ms") and not arms["default"].get("ms"), arms
    assert "tiny_cnn: take IREE 3.13.0 with" in advised.stdout, advised.stdout
