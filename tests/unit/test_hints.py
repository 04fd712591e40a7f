"""Hints for failures (issue #39 item 3): the known signatures, on the tools' own words as recorded
(real messages: the published results, and a tiny LSTM / quantized user model run through
`iree-matrix matrix --model` on IREE 3.9.0 and 3.13.0), shown in the report, the site, `query` and
the run's summary, with the telling line never cut."""

from __future__ import annotations

import dataclasses
import io
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from iree_matrix.core.model.results import Record, Status
from iree_matrix.findings import query, release_choice, runs_view
from iree_matrix.iree import hints
from iree_matrix.matrix import models
from iree_matrix.report import compatibility, failures, site
from tests.unit.builders import FakeSummary
from tests.unit.test_answers import EXP, _compile, _run

ROOT = Path(__file__).resolve().parents[2]
HF = "py3.11-torch2.13.0-turbine3.9.0+transformers5.23.0"  # the transformers models' exporter
HF_SET = "results/transformers/results.jsonl"

# Recorded by `iree-matrix matrix --matrix rnn.toml` (a user model file with an nn.LSTM, an nn.GRU,
# an nn.LSTMCell loop, the LSTM written out of its gates and a quantize_dynamic MLP; torch 2.13.0,
# iree-turbine 3.9.0, IREE 3.13.0), the compile record's message and metrics as stored.
LSTM_MESSAGE = (
    "model.mlir:33:13: error: failed to legalize operation 'torch.operator' that was explicitly marked "
    'illegal: %11:3 = "torch.operator"(%arg0, %9, %10, %1, %7, %0, %6, %6, %1) <{name = '
    '"torch.aten.lstm.input"}> : (!torch.vtensor<[1,5,8],f32>, !torch.list<vtensor>, '
    "!torch.list<vtensor>, !torch.bool, !torch.int, !torch.float, !torch.bool, !torch.bool, !torch.bool) "
    "-> (!torch.vtensor<[1,5,16],f32>, !torch.vtensor<[1,1,16],f32>, !torch.vtensor<[1,1,16],f32>)"
)
LSTM_METRICS = {
    "failing_op": "torch.aten.lstm.input",
    "first_error": "failed to legalize operation 'torch.operator' that was explicitly marked illegal",
}
# The export record's message of the quantize_dynamic MLP (error.json: the exception's own words).
QUANTIZED_MESSAGE = """\
Unsupported: Failed to convert args/kwargs to proxy
  Explanation: Missing `as_proxy()` implementation for some arg/kwarg.


  Developer debug context: call_function args: TensorVariable() LazyVariableTracker(realized: \
UserDefinedObjectVariable(ScriptObject)) ConstantVariable(bool: True)

 For more details about this graph break, please visit: \
https://meta-pytorch.github.io/compile-graph-break-site/gb/gb0055.html

from user code:
   File "/root/.cache/iree-matrix/envs/venv/py3.11-torch2.13.0-turbine3.9.0-5f19bda7b85db648/lib/\
python3.11/site-packages/torch/_dynamo/functional_export.py", line 232, in forward
    res = self._export_root(*args, **kwargs)
          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/tmp/hfx/models/rnn_nets.py", line 50, in forward
    return self.fc2(torch.relu(self.fc1(x)))
                               ^^^^^^^^^^^^^
  File "/root/.cache/iree-matrix/envs/venv/py3.11-torch2.13.0-turbine3.9.0-5f19bda7b85db648/lib/\
python3.11/site-packages/torch/ao/nn/quantized/dynamic/modules/linear.py", line 58, in forward
    Y = torch.ops.quantized.linear_dynamic(
        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^

Set TORCHDYNAMO_VERBOSE=1 for the internal stack trace (please do this especially if you're \
reporting a bug to PyTorch). For even more developer context, set TORCH_LOGS="+dynamo"
"""

# The export record of `if x.sum() > 0: return x * 2` (the first lines of its message).
DATA_DEPENDENT_MESSAGE = """\
Unsupported: Data-dependent branching
  Explanation: Detected data-dependent branching (e.g. `if my_tensor.sum() > 0:`). Dynamo does not \
support tracing dynamic control flow.

      The branch condition involves a tensor computed as follows:
        # File "/tmp/hfx/models/dyn_net.py", line 8, in forward, code: if x.sum() > 0:  # data-dependent \
control flow
        gt = gt(sum_1, 0)
"""


WEIGHT_NORM_WORDS = '%5 = "torch.operator"(%1, %2, %c2) <{name = "torch.aten._weight_norm"}> : ('


def _failed(stage: str, function: str, compiler: str, message: str, metrics: Any = None, **kw) -> Record:
    exporter = kw.pop("exporter", EXP)
    cell = f"{function}/{exporter}" + ("" if stage == "export" else f"/iree{compiler}/x86_64/default")
    labels = {"model": function, "source_model": function.split(".")[0], "exporter": exporter}
    if stage != "export":
        labels.update(compiler=compiler, arch="x86_64", profile="default")
    error_class = kw.pop("error_class", f"{stage}-error")
    return Record(
        f"{stage}:{cell}", stage, cell, "k", Status.FAIL, labels, metrics or {}, message=message,
        error_class=error_class,
    )  # fmt: skip


def test_an_lstm_compile_failure_carries_the_unroll_hint():
    record = _failed("compile", "net.lstm", "3.13.0", LSTM_MESSAGE, LSTM_METRICS, error_class="compile-error")
    found = release_choice.hint(record)
    assert found is not None and found.name == "recurrent-op"
    assert "`aten.lstm`" in found.advice and "out of its gates" in found.advice
    # The op is only in the compile stage's metrics when a stage cut its message: still found.
    cut = _failed(
        "compile", "net.lstm", "3.13.0", "model.mlir:33:13: error: failed to legalize", LSTM_METRICS
    )
    assert release_choice.hint(cut) is not None
    for op in ("torch.aten.gru.input", "torch.aten.lstm_cell", "torch.aten.rnn_tanh.input"):
        assert hints.find(f'<{{name = "{op}"}}>', "compile").name == "recurrent-op"  # type: ignore[union-attr]


def test_a_quantized_export_failure_names_the_op_and_says_export_the_float_model():
    record = _failed("export", "net.quantized", "", QUANTIZED_MESSAGE)
    found = release_choice.hint(record)
    assert found is not None and found.name == "quantized-op" and "export the float model" in found.advice
    assert hints.telling_line(QUANTIZED_MESSAGE) == "Y = torch.ops.quantized.linear_dynamic("
    assert "torch.ops.quantized.linear_dynamic" in runs_view.why(record)  # not "Unsupported: …" alone


def test_a_data_dependent_branch_says_torch_cond():
    found = release_choice.hint(_failed("export", "net.branchy", "", DATA_DEPENDENT_MESSAGE))
    assert found is not None and found.name == "data-dependent-shape" and "torch.cond" in found.advice


def test_the_telling_line_is_never_behind_lines_omitted_in_the_report():
    excerpt = failures.excerpt(QUANTIZED_MESSAGE, "export")
    assert "torch.ops.quantized.linear_dynamic" in excerpt
    assert "/root/.cache" not in failures.excerpt(
        LSTM_MESSAGE.replace("model.mlir", "/root/.cache/iree-matrix/store/export/ab/model.mlir")
    )
    # A long message whose telling line is its 40th: the window moves to it.
    long = "\n".join(
        [f"warning: noise {i}" for i in range(39)] + ["  File x.py, in forward", *["    at y"] * 30]
    )
    long = long.replace("  File x.py, in forward", "    Y = torch.ops.quantized.linear_dynamic(")
    shown = failures.excerpt(long, "export")
    assert "torch.ops.quantized.linear_dynamic" in shown and "lines omitted" in shown


# The export's words (scripts/export_reference.py traced_words) for a forward() that branches on tracing
TRACED_WORDS = (
    "the model's forward() computes something else while traced (max abs err 3.18 between torch.export's "
    "program and eager on output0, atol 1e-05): a branch on torch.compiler.is_compiling() or on tracing "
    "state, or random numbers drawn in forward()? IREE compiles the traced program"
)


def test_every_hint_formats_and_names_its_source():
    samples = {
        "recurrent-op": '"torch.operator"(%a) <{name = "torch.aten.lstm.input"}>',
        "quantized-op": "Y = torch.ops.quantized.linear_dynamic(",
        "data-dependent-shape": "symbolic_shapes.GuardOnDataDependentSymNode: Could not guard",
        "stack-limit": "op exceeded stack allocation limit of 32768 bytes for function. Got 55488 bytes",
        "armv6-fmaf": "the module's kernels make 19 call(s) to a function with no code, just past the end",
        "armv6-libgcc": "undefined symbols at link: __aeabi_f2lz",
        "armv6-libm": "undefined symbols at link: logf",
        "bytecode-version": "bytecode version mismatch; runtime supports 16.0, module has 15.0",
        "runtime-abi": "required module 'hal' version mismatch; have 5 but require 6",
        "assert-tensor-metadata": "error: custom op 'torch.aten._assert_tensor_metadata' is unknown",
        "traced-differs": TRACED_WORDS,
        "model-build-timeout": "your model did not return within 180 s, the export stage's limit, while the "
        "model was being built",
        "model-timeout": "your model did not return within 180 s, the export stage's limit",
        "module-timeout": "your compiled model did not return within 120 s, the run stage's limit",
        "stage-timeout": "iree-compile did not finish within 900 s, the compile stage's limit",
        "kernel-build-timeout": "the kernel's C did not build within 300 s, the kernel stage's limit",
        "sdpa-scale": "error: failed to legalize operation 'torch.aten.scaled_dot_product_attention' that",
        "global-scatter": "error: 'linalg.generic' op write affecting operations on global resources are "
        "restricted to workgroup distributed contexts.",
        "sdpa-scale-ignored": "outputs differ from torch: max abs err 0.0571, max rel err 0.0123",
        "bool-literal": "model.mlir:109:11: error: failed to legalize operation 'torch.vtensor.literal': "
        '%11 = "torch.vtensor.literal"() <{value = dense<true> : tensor<i1>}> : () -> !torch.vtensor<[],i1>',
        "packed-sequence-diff": "model.mlir:60:11: error: failed to legalize operation 'torch.aten.diff' "
        "that was explicitly marked illegal",
        "weight-norm": '%5 = "torch.operator"(%1, %2, %c2) <{name = "torch.aten._weight_norm"}> : (',
        "squeeze-dims": '%30 = "torch.operator"(%25, %29) <{name = "torch.aten.squeeze.dims"}> : (',
        "diff-op": '%39 = "torch.operator"(%36, %24) <{name = "torch.aten.diff"}> : (!torch.vtensor',
        "affine-grid": '%40 = "torch.operator"(%38, %39, %11) <{name = "torch.aten.affine_grid_generator"}>',
        "cdist": '%21 = "torch.operator"(%arg0, %arg0, %17, %16) <{name = "torch.aten.cdist"}> : (',
        "fft": '%12 = "torch.operator"(%arg0, %8, %11, %8) <{name = "torch.aten.fft_fft2"}> : (',
        "index-add": '%37 = "torch.operator"(%36, %19, %26, %35, %18) <{name = "torch.aten.index_add"}>',
        "embedding-bag": "model.mlir:28:56: error: failed to legalize operation "
        "'torch.aten.embedding_bag.padding_idx' that was explicitly marked illegal",
        "scatter-src-crash": "iree-compile crashed while lowering torch's AtenScatterSrcOp "
        "(TorchToTMTensor.cpp): a compiler bug, not an error in the model",
        "reflect-pad-1d": "'linalg.generic' op inferred input/output operand #0 has shape's dimension #0 to "
        "be greater than or equal to 64, but found 57",
        "searchsorted": '%151 = "torch.operator"(%137, %150, %39, %12, %43, %43) <{name = '
        '"torch.aten.searchsorted.Tensor"}> : (',
        "bool-and": "model.mlir:16:10: error: failed to legalize operation 'torch.aten.__and__.Tensor': %47",
        "unnamed-op": "<unknown>:0: error: failed to legalize operation 'torch.constant.int': %15 = "
        '"torch.constant.int"() <{value = 2 : i64}> : () -> !torch.int',
        "large-vector": "model.mlir:1268:12: error: One or more operations with large vector sizes "
        "(32768 bytes) were found:",
        "window-function": '%4 = "torch.operator"(%int32, %none) <{name = "torch.aten.hann_window"}> : (',
        "sort-select": "failed to legalize operation 'torch.operator' that was explicitly marked illegal "
        "(op: torch.aten.median.dim)",
        "linalg-op": "failed to legalize operation 'torch.operator' that was explicitly marked illegal "
        "(op: torch.aten.linalg_inv)",
        "vdot": '%9 = "torch.operator"(%7, %8) <{name = "torch.aten.vdot"}> : (',
        "float64": "model.mlir:5:10: error: 'arith.constant' op failed to verify that all of {value, result} "
        "have same type",
        "antialias": "failed to legalize operation 'torch.operator' that was explicitly marked illegal "
        "(op: torch.aten._upsample_bilinear2d_aa.vec)",
        "det-alias": "failed to legalize operation 'torch.operator' that was explicitly marked illegal "
        "(op: torch.aten.slogdet), at nc_glow.py:32: logdet = logdet + torch.slogdet(self.weight)[1]",
        "det-no-avx2": "the model has an op IREE computes wrongly: torch.aten.linalg_slogdet compiled for a "
        "CPU without AVX2 (target-cpu=generic), at nc_glow.py:33: logdet = logdet + slogdet(self.weight)[1]",
        "negative-pad": "outputs differ from torch: max abs err 0.161, max rel err 0.0697 (atol 0.0001, "
        "rtol 0.0001); the model has an op IREE computes wrongly: torch.aten.pad with a negative padding "
        "[0, 0, 1, -1], at nc_rwkv.py:33: prev = F.pad(x, (0, 0, 1, -1))",
    }
    assert set(samples) == {h.name for h in hints.HINTS}
    for hint in hints.HINTS:
        made = hints.Made(HF if hint.exporters else "", hint.releases[0] if hint.releases else "")
        found = hints.find(samples[hint.name], hint.stages[0] if hint.stages else None, made)
        assert found is not None and found.name == hint.name, hint.name
        assert "{" not in found.advice and hint.source
    assert hints.find(
        "'func.func' op exceeded stack allocation limit of 32768 bytes for function. Got 55488 bytes"
    )
    assert "=65536" in hints.find(samples["stack-limit"]).advice  # type: ignore[union-attr]
    assert hints.find("error: 'linalg.generic' op writes into a global resource") is None
    large = hints.find(samples["large-vector"], "compile")
    assert large is not None and "(32768 bytes)" in large.advice
    assert "--iree-llvmcpu-fail-on-large-vector=false" in large.advice


def test_the_op_surveys_hints_take_their_ops_and_leave_the_ones_that_compile():
    """The order statistics and matrix factorizations IREE 3.13.0 cannot lower (measured, one tiny
    module each) get their hints; det and slogdet, which compile, get none."""
    failed = "failed to legalize operation 'torch.operator' that was explicitly marked illegal (op: {})"
    for op, name in (
        ("torch.aten.kthvalue", "sort-select"), ("torch.aten.nanmedian", "sort-select"),
        ("torch.aten.linalg_solve", "linalg-op"), ("torch.aten._linalg_eigh", "linalg-op"),
        ("torch.aten.linalg_solve_triangular", "linalg-op"), ("torch.aten.linalg_svdvals", "linalg-op"),
        ("torch.aten.linalg_cholesky", "linalg-op"), ("torch.aten.blackman_window", "window-function"),
    ):  # fmt: skip
        found = hints.find(failed.format(op), "compile")
        assert found is not None and found.name == name, (op, found)
    kth = hints.find("'tm_tensor.topk' op region block must end with a linalg_ext.yield i1!", "compile")
    assert (
        kth is not None and kth.name == "sort-select" and ".sort(dim).values.select(dim, k - 1)" in kth.advice
    )
    for op in ("torch.aten.linalg_det", "torch.aten.linalg_slogdet", "torch.aten.linalg_vector_norm"):
        assert hints.find(failed.format(op), "compile") is None, op
    # torch.slogdet / det / logdet, and fx+decompose's _linalg_slogdet, fail where torch.linalg's compile
    for op in ("torch.aten.slogdet", "torch.aten.det", "torch.aten.logdet", "torch.aten._linalg_slogdet"):
        found = hints.find(failed.format(op), "compile")
        assert found is not None and found.name == "det-alias" and "torch.linalg.slogdet(W)" in found.advice


def test_an_exporter_scoped_hint_needs_its_exporter_whatever_the_model_is_called():
    """ "outputs differ from torch" has a known cause only in transformers' sdpa attention, on the
    releases before the fix: an export made without transformers, or one whose exporter is not
    known, gets no hint rather than that guess; a user's model exported with transformers gets the
    hint the built-in one gets, whatever its name."""
    words = "outputs differ from torch: max abs err 0.107, max rel err 0.0678 (atol 2e-05, rtol 1e-05)"
    assert hints.find(words, "run") is None
    assert hints.find(words, "run", hints.Made(EXP, "3.9.0")) is None
    found = hints.find(words, "run", hints.Made(HF, "3.9.0"))
    assert found is not None and found.name == "sdpa-scale-ignored"
    assert 'attn_implementation="eager"' in found.advice and "3.12.0" in found.advice
    assert hints.find(words, "run", hints.Made(HF, "3.12.0")) is None  # the release fixed it
    assert hints.find(words, "compile", hints.Made(HF, "3.9.0")) is None  # a run's words only
    # an old compiler's SDPA failure on a plain model is not transformers' `scale=`
    sdpa = "error: failed to legalize operation 'torch.aten.scaled_dot_product_attention' that was"
    assert hints.find(sdpa, "compile", hints.Made(EXP, "20240828.999")) is None
    assert hints.find(sdpa, "compile", hints.Made(HF, "3.10.0")).name == "sdpa-scale"  # type: ignore[union-attr]
    cls = "numeric-mismatch"
    for model in ("whisper_tiny@transformers.encoder", "hf_models-whisper"):
        mismatch = _failed("run", model, "3.9.0", words, error_class=cls, exporter=HF)
        found = release_choice.hint(dataclasses.replace(mismatch, status=Status.MISMATCH))
        assert found is not None and found.name == "sdpa-scale-ignored", model
    other = _failed("run", "whisper_tiny.encoder", "3.9.0", words, error_class=cls)
    assert release_choice.hint(dataclasses.replace(other, status=Status.MISMATCH)) is None


def test_transformers_packed_sequence_diff_says_how_to_call_the_model():
    words = "model.mlir:60:11: error: failed to legalize operation 'torch.aten.diff' that was explicitly"
    user = _failed("compile", "hf_models-gpt2", "3.13.0", words, exporter=HF)
    found = release_choice.hint(user)
    assert found is not None and found.name == "packed-sequence-diff"
    assert "fx+decompose" in found.advice and "torch.arange(n)" in found.advice
    # the chain: the 2-D mask's next failure is named up front, with the hint that covers it
    assert (
        "Next known failure" in found.advice
        and "tensor<i1>" in found.advice
        and "bool-literal" in found.advice
    )
    bool_literal = next(h for h in hints.HINTS if h.name == "bool-literal")
    assert "causal" in bool_literal.advice and "fx+decompose" in bool_literal.advice
    # torch.diff in a model of one's own: not transformers' cause, the plain op's route
    plain = release_choice.hint(_failed("compile", "net", "3.13.0", words))
    assert plain is not None and plain.name == "diff-op" and "`fx+gaps`" in plain.advice


FOREIGN = "/work/other-box/store/export/ab"


def test_query_model_site_and_report_show_the_hint_and_never_a_foreign_path():
    records = [
        _compile("net.lstm", "3.13.0", status=Status.FAIL),
        _run("net.lstm", "3.13.0", status=Status.NOT_RUN),
    ]
    records[0] = _failed(
        "compile", "net.lstm", "3.13.0", LSTM_MESSAGE.replace("model.mlir", FOREIGN + "/model.mlir"),
        LSTM_METRICS, error_class="compile-error",
    )  # fmt: skip
    records[1] = Record(
        records[1].job, "run", records[1].cell, "", Status.NOT_RUN, records[1].labels, {},
        message=f"not run because {records[0].job} ended 'fail'", blocked_by=records[0].job,
    )  # fmt: skip
    export = _failed("export", "net.quantized", "", QUANTIZED_MESSAGE)
    blocked = _compile("net.quantized", "3.13.0")
    records += [
        export,
        Record(
            blocked.job, "compile", blocked.cell, "", Status.NOT_RUN, blocked.labels, {},
            message=f"not run because {export.job} ended 'fail'", blocked_by=export.job,
        ),
    ]  # fmt: skip
    answer = query.model(records, "net")
    text = answer.text()
    assert "what to do: IREE has no lowering for torch's recurrent op `aten.lstm`" in text
    assert "/work/other-box" not in text
    pages = site.render(records)
    page = pages[site.page_name("net")]
    assert "export the float model" in page and "out of its gates" in page
    assert "/root/.cache" not in page and "/work/other-box" not in page and "/tmp/hfx" not in page
    document = compatibility.render_compatibility(records)
    assert "What to do: IREE has no lowering for torch's recurrent op `aten.lstm`" in document
    assert "torch.ops.quantized.linear_dynamic" in document and "/work/other-box" not in document


def test_the_run_summary_prints_what_to_do(capsys):
    from iree_matrix.execution import workflow

    record = _failed("compile", "net.lstm", "3.13.0", LSTM_MESSAGE, LSTM_METRICS, error_class="compile-error")

    summary = FakeSummary([record], [record])
    workflow.print_summary(summary, Path("/tmp/c"), Path("/tmp/r"), sys.stdout)  # type: ignore[arg-type]
    out = capsys.readouterr().out
    assert "(op: torch.aten.lstm.input)" in out
    assert "what to do: IREE has no lowering for torch's recurrent op `aten.lstm`" in out
    # The same advice for a second job is referred to, not repeated.
    other = _failed("compile", "net.lstm", "3.9.0", LSTM_MESSAGE, LSTM_METRICS, error_class="compile-error")
    summary.ran.append(other)
    summary.problems.append(other)
    workflow.print_summary(summary, Path("/tmp/c"), Path("/tmp/r"), sys.stdout)  # type: ignore[arg-type]
    out = capsys.readouterr().out
    assert out.count("IREE has no lowering") == 1 and f"what to do: as for {record.job}" in out


def _summary_of(*records: Record) -> str:
    from iree_matrix.execution import workflow

    problems = [r for r in records if r.status in (Status.FAIL, Status.TIMEOUT, Status.MISMATCH)]
    out = io.StringIO()
    summary = FakeSummary([*records], problems)
    workflow.print_summary(summary, Path("/tmp/c"), Path("/tmp/r"), out)  # type: ignore[arg-type]
    return out.getvalue()


def test_the_summary_spells_out_the_hints_route_for_a_users_model():
    """Issue #69's newcomer: the hint said `--model FILE:FACTORY~fx+gaps`, a placeholder, not a
    command; the summary now prints the command that runs this model by the hint's recipe."""
    failed = _failed("compile", "kws", "3.13.0", LSTM_MESSAGE, LSTM_METRICS, error_class="compile-error")
    export = dataclasses.replace(
        failed, job=f"export:kws/{EXP}", stage="export", status=Status.OK, message=None,
        command=("python", "export_model.py", "--file", "/home/me/nets/kws.py", "--factory", "build"),
    )  # fmt: skip
    out = _summary_of(failed, export)
    settings = "--results-dir /tmp/r --cache /tmp/c"  # the run's (test_the_summarys_route_keeps_...)
    assert f"run it: `iree-matrix matrix --model '/home/me/nets/kws.py:build~fx+gaps' {settings}`" in out, out
    # the same model exported by the hint's route and still failing: the route's other recipes only
    routed = dataclasses.replace(
        failed, job=f"compile:kws~fx+gaps/{EXP}/iree3.13.0/x86_64/default",
        message="error: failed to legalize operation 'torch.aten.squeeze.dims'", metrics={},
        labels={**failed.labels, "model": "kws~fx+gaps", "source_model": "kws~fx+gaps"},
    )  # fmt: skip
    routed_export = dataclasses.replace(
        export, job=f"export:kws~fx+gaps/{EXP}", command=(*export.command, "--recipe", "fx+gaps"),
        labels={**export.labels, "model": "kws~fx+gaps", "source_model": "kws~fx+gaps"},
    )  # fmt: skip
    out = _summary_of(routed, routed_export)
    assert f"run it: `iree-matrix matrix --model '/home/me/nets/kws.py:build~fx+decompose' {settings}`" in out
    # a built-in model (no FILE:FACTORY in its export's command) gets the advice alone
    assert "run it:" not in _summary_of(failed)
    # `query model` says the same under its what to do
    answer = "\n".join(query.model([failed, export], "kws").lines)
    assert "run it: `iree-matrix matrix --model '/home/me/nets/kws.py:build~fx+gaps'`" in answer, answer


def test_query_says_what_the_summary_says_of_a_failed_export():
    """An export that failed (no release compiled the model) got no what-to-do from `query model`
    while the run's summary gave one: the same hint and its route for known words, and the recipe
    search for unknown ones (issue #69's tidy)."""
    command = ("python", "export_model.py", "--file", "/home/me/nets/wn.py", "--factory", "build")
    known = dataclasses.replace(
        _failed("export", "wn", "3.13.0", "error: " + WEIGHT_NORM_WORDS), command=command
    )
    summary, answer = _summary_of(known), query.model([known], "wn").text()
    route = "run it: `iree-matrix matrix --model '/home/me/nets/wn.py:build~fx+gaps'"  # + the run's settings
    found = release_choice.hint(known)
    assert found is not None and found.name == "weight-norm"
    for said in (summary, answer):
        assert f"what to do: {found.advice}" in said, said
        assert route in said, said
        assert "search-recipes" not in said, said  # a known signature: its hint, not the search
    assert "fails:  export (export-error)" in answer, answer
    # a built-in model (no FILE:FACTORY in its export's command): the advice, no route, in both
    builtin = dataclasses.replace(known, command=("python", "export_model.py", "--model", "wn"))
    for said in (_summary_of(builtin), query.model([builtin], "wn").text()):
        assert f"what to do: {found.advice}" in said and "run it:" not in said, said


def test_every_recipe_a_hint_names_is_in_its_recipes_and_a_real_one():
    from iree_matrix.matrix import export_recipes

    for hint in hints.HINTS:
        named = set(re.findall(r"the recipe `([\w+-]+)`(?: or `([\w+-]+)`)?", hint.advice))
        said = {r for pair in named for r in pair if r}
        assert said <= set(hint.recipes), (hint.name, said, hint.recipes)
        for recipe in hint.recipes:
            assert export_recipes.parse(recipe), (hint.name, recipe)


@pytest.mark.parametrize("line", ["bytecode version mismatch; runtime supports 17.0, module has 15.0"])
def test_a_refusal_hint_points_at_query_load(line: str):
    found = hints.find(line, "run")
    assert found is not None and "query load" in found.advice and "17.0" in found.advice


def test_every_failing_transformers_cell_says_what_to_do():
    """Issue #50 item 4: in the published transformers set, every failed or mismatched compile and
    run has a hint, and `query model` prints a "what to do" under every failing release group."""
    from iree_matrix.core.model.results import ResultsLog

    log = ROOT / HF_SET
    failing = [
        r
        for r in ResultsLog(log)
        if r.stage in ("compile", "run") and r.status in (Status.FAIL, Status.MISMATCH)
    ]
    assert len(failing) >= 20
    unexplained = [r.job for r in failing if release_choice.hint(r) is None]
    assert not unexplained
    for model in ("bert_tiny", "vit_tiny", "gpt2_tiny", "llama", "whisper_tiny"):
        text = query.model(list(ResultsLog(log)), f"{model}@transformers").text()
        groups = [i for i, line in enumerate(text.splitlines()) if line.lstrip().startswith("fails:")]
        assert groups, model
        lines = text.splitlines()
        for i in groups:
            assert lines[i + 1].lstrip().startswith("what to do:"), (model, lines[i])


def test_the_summary_offers_the_recipe_search_for_a_users_model_in_unknown_words():
    """Issue #69's second newcomer: a spatial transformer's compile failed at
    `aten.affine_grid_generator` before any hint knew it, and the run's summary said nothing to do,
    while `query model` offered the recipe search; the summary now says the same line, once per
    model, and not for a built-in model or one already exported by a recipe."""
    words = "failed to legalize operation 'torch.operator' (op: torch.aten.some_new_op)"
    failed = _failed("compile", "warp", "3.13.0", words, {"failing_op": "torch.aten.some_new_op"})
    export = dataclasses.replace(
        failed, job=f"export:warp/{EXP}", stage="export", status=Status.OK, message=None,
        command=("python", "export_model.py", "--file", "/home/me/nets/warp.py", "--factory", "build"),
    )  # fmt: skip
    offer = "`iree-matrix search-recipes --model /home/me/nets/warp.py:build"
    out = _summary_of(failed, export)
    said = f"what to do: no known failure signature matches these words; {offer} --results-dir /tmp/r"
    assert said in out, out  # with the run's settings
    answer = "\n".join(query.model([failed, export], "warp").lines)
    assert offer + "`" in answer, answer  # `query model` says the same (of a published set: no run's)
    other = dataclasses.replace(failed, job=f"compile:warp/{EXP}/iree3.12.0/x86_64/default")
    assert _summary_of(failed, other, export).count("search-recipes") == 1  # then "as for" the first
    assert "search-recipes" not in _summary_of(failed)  # a built-in model: no FILE:FACTORY
    routed = dataclasses.replace(
        failed, job=f"compile:warp~fx+gaps/{EXP}/iree3.13.0/x86_64/default",
        labels={**failed.labels, "model": "warp~fx+gaps"},
    )  # fmt: skip
    routed_export = dataclasses.replace(
        export, job=f"export:warp~fx+gaps/{EXP}", command=(*export.command, "--recipe", "fx+gaps"),
        labels={**export.labels, "model": "warp~fx+gaps"},
    )  # fmt: skip
    assert "search-recipes" not in _summary_of(routed, routed_export)  # a recipe's own failure


def test_the_recipe_search_is_offered_only_where_another_export_could_get_past():
    """Issue #69 (tidy): the recipe search was offered for a mismatch too, which no export recipe
    fixes honestly (each is checked against the same torch outputs). Offered for a failed export,
    compile or run in unknown words; not for a mismatch, a timeout or a runtime's refusal to load."""
    from iree_matrix.core.model import refusals

    words = "model.mlir:9:11: error: something no signature knows"
    command = ("python", "export_model.py", "--file", "/home/me/nets/warp.py", "--factory", "build")
    export = dataclasses.replace(
        _failed("export", "warp", "3.13.0", words), status=Status.OK, message=None, command=command
    )
    compiled = _compile("warp", "3.13.0")
    failed_run = dataclasses.replace(
        _run("warp", "3.13.0", status=Status.FAIL, error_class="run-error"), message=words
    )
    cases = {  # the failure, and the records of the stages before it
        "export": (dataclasses.replace(_failed("export", "warp", "3.13.0", words), command=command), ()),
        "compile": (_failed("compile", "warp", "3.13.0", words), (export,)),
        "run": (failed_run, (export, compiled)),
    }
    assert set(cases) == set(models.ROUTABLE_STAGES)
    offer = "search-recipes --model /home/me/nets/warp.py:build"
    for stage, (failed, before) in cases.items():
        assert models.recipe_may_route(failed), stage
        assert offer in _summary_of(failed, *before), stage
        # `query model` makes the same offer, an export's failure (no release compiled) included
        assert offer in query.model([failed, *before], "warp").text(), stage
    mismatch = dataclasses.replace(
        failed_run, status=Status.MISMATCH, error_class="mismatch", message="max abs error 0.31 > 1e-4"
    )
    timeout = dataclasses.replace(cases["compile"][0], status=Status.TIMEOUT, error_class="timeout")
    refusal = dataclasses.replace(failed_run, error_class=refusals.INCOMPATIBLE)
    assert refusals.refused(refusal) and not refusals.is_answer(refusal)  # its own release's: a failure
    unroutable = ((mismatch, (export, compiled)), (timeout, (export,)), (refusal, (export, compiled)))
    for record, before in unroutable:
        assert not models.recipe_may_route(record), record.status
        summary, answer = _summary_of(record, *before), query.model([record, *before], "warp").text()
        assert "search-recipes" not in summary, summary
        assert "search-recipes" not in answer, answer
        assert "fails:" in answer, answer  # the failure is still said, only the offer is not


def test_a_kernels_failure_offers_the_kernels_steps_never_the_recipe_search():
    """Every kernel failure's `what to do` offered `search-recipes`, about exports (issue 94)."""
    words = "model.mlir:9:11: error: something no signature knows"
    command = ("python", "export_model.py", "--file", "/home/me/nets/warp.py", "--factory", "build")
    export = dataclasses.replace(
        _failed("export", "warp", "3.13.0", words), status=Status.OK, message=None, command=command
    )
    failed = _failed("compile", "warp", "3.13.0", words)
    with_kernel = dataclasses.replace(failed, labels={**failed.labels, "kernel": "negabs"})
    assert models.recipe_may_route(failed) and not models.recipe_may_route(with_kernel)
    for said in (_summary_of(with_kernel, export), query.model([with_kernel, export], "warp").text()):
        assert "search-recipes" not in said, said
    offer = models.search_offer("warp", {"warp": "/home/me/nets/warp.py:build"}, [with_kernel])
    assert "kernel 'negabs'" in offer and "iree-matrix kernel ir" in offer and "search-recipes" not in offer


def test_index_add_names_the_in_place_op_too_and_not_its_neighbours():
    """turbine's export names `aten.index_add`, the `fx` recipes `aten.index_add_` (the in-place op
    as the model wrote it): both get the hint, with the op as it was named; `index_add`'s
    neighbours (`index_put`, `index_select`) do not."""
    for op in ("index_add", "index_add_"):
        found = hints.find(f'%39 = "torch.operator"(%38) <{{name = "torch.aten.{op}"}}>', "compile")
        assert found is not None and found.name == "index-add", op
        assert f"`aten.{op}`" in found.advice and ".scatter_add(0, dst.unsqueeze(1)" in found.advice
    for other in ("index_put", "index_select", "index_add_x"):
        found = hints.find(f'<{{name = "torch.aten.{other}"}}>', "compile")
        assert found is None or found.name != "index-add", other


def test_a_timeout_says_what_the_export_was_doing_and_gets_that_hint():
    """A model file that hangs at import or in its factory was given the hint for a forward() that never
    returns: the export's phase note now follows the limit in the words, and the hints tell them apart."""
    from iree_matrix.core.model.outcome import from_exception
    from iree_matrix.core.system import processes

    building = processes.Timeout(["python"], 30.0, "")
    building.doing = "while the model was being built"
    said = from_exception(building, "export").message
    assert (
        said
        == "your model did not return within 30 s, the export stage's limit, while the model was being built"
    )
    found = hints.find(said, "export")
    assert found is not None and found.name == "model-build-timeout"
    running = processes.Timeout(["python"], 30.0, "")
    running.doing = "while the model's forward() ran"
    found = hints.find(from_exception(running, "export").message, "export")
    assert found is not None and found.name == "model-timeout"


def test_the_summarys_route_keeps_the_runs_settings(tmp_path):
    """Issue #86: the `run it:` line under a hint, pasted, runs on the run's matrix, results folder
    and cache (it fell back to the default matrix and wrote under the working directory)."""
    from iree_matrix.core import pasted
    from iree_matrix.execution import workflow

    failed = _failed("compile", "kws", "3.13.0", LSTM_MESSAGE, LSTM_METRICS, error_class="compile-error")
    export = dataclasses.replace(
        failed, job=f"export:kws/{EXP}", stage="export", status=Status.OK, message=None,
        command=("python", "export_model.py", "--file", "nets/kws.py", "--factory", "build"),
    )  # fmt: skip

    out = io.StringIO()
    here = pasted.Where(Path("lab.toml"), Path("runs/lab"), Path("/tmp/c"))
    summary = FakeSummary([failed, export], [failed])
    workflow.print_summary(summary, Path("/tmp/c"), Path("runs/lab"), out, here)  # type: ignore[arg-type]
    text = out.getvalue()
    assert (
        "run it: `iree-matrix matrix --model 'nets/kws.py:build~fx+gaps' --matrix lab.toml "
        "--results-dir runs/lab --cache /tmp/c`" in text
    ), text
    # `show` takes no matrix
    assert "iree-matrix show JOB --results-dir runs/lab --cache /tmp/c" in text


def test_a_kernel_that_matched_nothing_is_pointed_at_the_ir_its_spec_runs_on():
    """Issue #82: "its transform spec matched nothing" offered search-recipes (about exports); the
    summary now prints the command that shows the IR the spec had to match, in that cell."""
    failed = _failed(
        "compile", "kws", "3.13.0", "kernel 'k' was not applied: its transform spec matched nothing",
        {"custom_kernel": {"directory": "kernels/my k"}}, error_class="kernel-not-applied",
    )  # fmt: skip
    failed = dataclasses.replace(failed, labels={**failed.labels, "profile": "default+k:k", "kernel": "k"})
    export = dataclasses.replace(
        failed, job=f"export:kws/{EXP}", stage="export", status=Status.OK, message=None,
        command=("python", "export_model.py", "--file", "/home/me/nets/kws.py", "--factory", "build"),
    )  # fmt: skip
    out = _summary_of(failed, export)
    said = "iree-matrix kernel ir /home/me/nets/kws.py:build --release 3.13.0 --profile default"
    said += " --kernel 'kernels/my k'"
    assert f"what to do: see the IR its spec must match: {said}" in out and "search-recipes" not in out


def test_a_model_that_computes_otherwise_while_traced_is_told_to_fix_its_forward_not_to_search():
    """Issue 85 item 5: the traced check stores the model's `model-error` at export, but `query model`
    and the run's summary offered `search-recipes` for it (an export failing in unknown words), and
    no export recipe changes what a forward() branching on tracing computes. Both now say what to
    change in forward(), and neither offers the recipe search or `bisect`."""
    command = ("python", "export_model.py", "--file", "/home/me/nets/sly.py", "--factory", "build")
    failed = dataclasses.replace(
        _failed("export", "sly", "3.13.0", TRACED_WORDS, error_class="model-error"), command=command
    )
    assert models.recipe_may_route(failed)  # an export's failure: without the hint, the search was offered
    for said in (_summary_of(failed), query.model([failed], "sly").text()):
        assert "what to do: make forward() compute the same thing when torch.export traces it" in said, said
        assert "torch.compiler.is_compiling()" in said.split("what to do:", 1)[1], said
        assert "search-recipes" not in said and "run it:" not in said and "iree-matrix bisect" not in said, (
            said
        )


def test_a_kernel_build_that_runs_out_of_time_is_the_kernels_c_not_more_time():
    """Issue 94: a C macro bomb timed out as "python did not finish within 40 s" and was offered more
    time; the kernel stage's timeout names the kernel's C and points at what makes it endless."""
    from iree_matrix.core.model import outcome
    from iree_matrix.core.system import processes

    exc = processes.Timeout(["/venv/bin/python", "-m", "ziglang", "cc"], 40.0, "")
    said = outcome.from_exception(exc, "kernel").message
    assert said == "the kernel's C did not build within 40 s, the kernel stage's limit"
    found = hints.find(said, "kernel")
    assert found is not None and found.name == "kernel-build-timeout" and "macros" in found.advice
    assert outcome.from_exception(exc, "compile").message.startswith("python did not finish within 40 s")


def test_the_catalogue_refuses_an_entry_it_cannot_read(tmp_path: Path) -> None:
    """hints.toml is read once, at import: a newcomer's entry with a key `Hint` has not, a value of
    another type, a signature that is no expression or a `fields` name no function has fails here,
    naming the hint and the key, not later in a user's run."""
    good = 'name = "n"\nsignature = "x"\nadvice = "a"\nsource = "s"\n'
    bad = {
        "advise = 'typo'": "advise = 'typo' is no key of a hint",
        "recipes = 'fx'": "recipes = 'fx' is no key of a hint, or not its type",
        "stages = [1]": "stages holds strings only",
        "fields = 'none-such'": "fields = 'none-such' is none of ['next-power-of-two']",
        "releases = ['3.9.0']": "releases is [first, last]",
    }
    for extra, words in bad.items():
        path = tmp_path / "hints.toml"
        path.write_text(f"[[hint]]\n{good}{extra}\n", encoding="utf-8")
        with pytest.raises(ValueError, match=re.escape(f"hints.toml: hint 'n': {words}")):
            hints.read(path, hints.FIELDS)
    path.write_text('[[hint]]\nname = "n"\nsignature = "(x"\nadvice = "a"\nsource = "s"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="hint 'n': missing"):
        hints.read(path, hints.FIELDS)
    path.write_text(f"[[hint]]\n{good}fields = 'next-power-of-two'\nreleases = ['3.9.0', '3.13.0']\n")
    (hint,) = hints.read(path, hints.FIELDS)
    assert hint.fields is hints.FIELDS["next-power-of-two"] and hint.releases == ("3.9.0", "3.13.0")
    assert hints.HINTS == hints.read(Path(hints.__file__).with_name("hints.toml"), hints.FIELDS)
