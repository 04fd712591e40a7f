"""A failed compile's first error and the op it names, from iree-compile's own words."""

from __future__ import annotations

import dataclasses

from iree_matrix.core.model.outcome import Outcome, record
from iree_matrix.core.model.results import Status
from iree_matrix.findings import runs_view
from iree_matrix.iree import compile_errors

# IREE 3.13.0 on a 2-layer GRU classifier exported by iree-turbine 3.9.0 / torch 2.13.0 (issue #30;
# the same text is produced in tests/integration/test_user_models.py).
GRU = """<store>/export/ab12/model.mlir:35:13: error: failed to legalize operation 'torch.operator' that was explicitly marked illegal: %22:2 = "torch.operator"(%arg0, %12, %21, %4, %10, %3, %9, %9, %4) <{name = "torch.aten.gru.input"}> : (!torch.vtensor<[1,20,16],f32>, !torch.vtensor<[2,1,32],f32>, !torch.list<vtensor>, !torch.bool, !torch.int, !torch.float, !torch.bool, !torch.bool, !torch.bool) -> (!torch.vtensor<[1,20,32],f32>, !torch.vtensor<[2,1,32],f32>)
    %11:2 = torch.operator "torch.aten.gru.input"(%arg0, %1, %10, %true, %int2_0, %float0.000000e00, %false_1, %false_2, %true_3) : (!torch.vtensor<[1,20,16],f32>) -> (!torch.vtensor<[1,20,32],f32>)
            ^
<store>/export/ab12/model.mlir:35:13: note: see current operation: %22:2 = "torch.operator"(%arg0) <{name = "torch.aten.gru.input"}> : (!torch.vtensor<[1,20,16],f32>) -> (!torch.vtensor<[1,20,32],f32>)
"""  # noqa: E501

STACK = (
    "<store>/export/cd34/model.mlir:120:5: error: 'func.func' op exceeded stack allocation limit of "
    "32768 bytes "
    "for function. Got 64704 bytes\n    func.func @main$async_dispatch_12(...)\n"
)


def test_the_first_error_and_the_torch_op_behind_torch_operator():
    found = compile_errors.first_error(GRU)
    assert found is not None
    assert found.message == "failed to legalize operation 'torch.operator' that was explicitly marked illegal"
    assert found.op == "torch.aten.gru.input"
    assert found.text().endswith("(op: torch.aten.gru.input)")
    assert found.metrics() == {"first_error": found.message, "failing_op": "torch.aten.gru.input"}


def test_an_op_the_message_quotes_and_no_error_at_all():
    found = compile_errors.first_error(STACK)
    assert found is not None and found.op == "func.func"
    assert found.message.endswith("Got 64704 bytes")  # uncut
    assert "(op:" not in found.text()  # already named in the message
    assert compile_errors.first_error("Killed\n") is None


def test_why_a_compile_failed_comes_from_the_record_or_its_older_message():
    labels = {"model": "gru_clf", "compiler": "3.13.0"}
    stored = record(
        "compile:gru",
        "compile",
        "gru",
        labels,
        Outcome(
            Status.FAIL,
            metrics=compile_errors.first_error(GRU).metrics(),
            message="(excerpt)",
            error_class="compile-error",
        ),
    )  # noqa: E501
    older = record(
        "compile:gru",
        "compile",
        "gru",
        labels,
        Outcome(Status.FAIL, message=GRU, error_class="compile-error"),
    )  # noqa: E501
    for r in (stored, older):
        assert runs_view.why(r) == (
            "compile: failed to legalize operation 'torch.operator' that was explicitly marked illegal "
            "(op: torch.aten.gru.input)"
        )


def test_query_model_names_the_failing_stage_and_the_op_not_the_runs_never_run():
    import dataclasses

    from iree_matrix.findings import query
    from tests.unit.test_answers import _compile, _run

    named = compile_errors.first_error(GRU)
    failed = dataclasses.replace(_compile("gru_clf", "3.13.0", status=Status.FAIL), metrics=named.metrics())
    never = dataclasses.replace(_run("gru_clf", "3.13.0", status=Status.NOT_RUN), blocked_by=failed.job)
    records = [failed, never, _compile("gru_clf", "3.9.0"), _run("gru_clf", "3.9.0")]
    answer = query.model(records, "gru_clf")
    text = answer.text()
    assert text.splitlines()[0].startswith("gru_clf: passes on 1 of 2")  # the name once
    assert (
        "  fails:  3.13.0: compile: failed to legalize operation 'torch.operator' that was explicitly "
        "marked illegal (op: torch.aten.gru.input)"
    ) in text
    assert f"evidence: {failed.job}" in text and never.job not in text


# iree-compile 3.13.0 crashing on a kNN model's `dist.scatter(-1, argmin, float("inf"))` (issue #69,
# third newcomer): no `error:` line, only the banner and a backtrace (frames cut here).
CRASH = "\n".join(
    [
        "Please report issues to https://github.com/iree-org/iree/issues and include the crash backtrace.",
        "Stack dump:",
        "0.\tProgram arguments: /venv/bin/iree-compile model.mlir --iree-hal-target-backends=llvm-cpu",
        " #4 0x00007f72c2ecbc62 __memcpy_avx512_unaligned_erms ./string/../sysdeps/x86_64/multiarch/"
        "memmove-vec-unaligned-erms.S:765:0",
        "#16 0x00007f1f41dc3b2d void llvm::function_ref<void ()>::callback_fn<mlir::PatternApplicator::"
        "matchAndRewrite(mlir::Operation*, mlir::PatternRewriter&)::$_0>(long) PatternApplicator.cpp:0:0",
        "#12 0x00007f1f3e11938e mlir::torch::(anonymous namespace)::ConvertAtenScatterOp<mlir::torch::Torch::"
        "AtenScatterSrcOp>::matchAndRewrite(mlir::torch::Torch::AtenScatterSrcOp, mlir::torch::Torch::"
        "AtenScatterSrcOpAdaptor, mlir::ConversionPatternRewriter&) const TorchToTMTensor.cpp:0:0",
    ]
)


def test_a_compiler_crash_is_said_to_be_one_with_the_torch_op_it_was_lowering():
    """The summary said `compile-error: #16 0x00007f1f41dc3b2d void llvm::function_ref<…` (a frame of
    the backtrace): the crash, and the op whose rewrite pattern crashed, are the telling words."""
    named = compile_errors.first_error(CRASH)
    assert named is not None and named.op == ""
    assert named.text().startswith(
        "iree-compile crashed while lowering torch's AtenScatterSrcOp (TorchToTMTensor.cpp)"
    )
    assert "compiler bug" in named.text()
    # a crash with no torch pattern in its backtrace is still said to be a crash
    bare = compile_errors.first_error(
        "Stack dump:\n0.\tProgram arguments: iree-compile m.mlir\n#0 0x1 abort\n"
    )
    assert bare is not None and bare.text().startswith("iree-compile crashed: a compiler bug")
    assert compile_errors.first_error("warning: slow\nno crash here\n") is None


def test_a_cpu_llvm_does_not_know_is_said_as_the_cause():
    """Bad inputs, fourth round: a profile's misspelt target_cpu (`bundle --cpu nonsense`) failed each
    compile with LLVM's "64-bit code requested on a subtarget that doesn't support it!", naming no CPU."""
    output = (
        "Unknown CPU for target architecture x86_64.\nList of accepted CPUs: nocona, core2, znver4\n"
        "'nonsense' is not a recognized processor for this target (ignoring processor)\n"
        * 2
        + "LLVM ERROR: 64-bit code requested on a subtarget that doesn't support it!\n"
    )
    named = compile_errors.first_error(output)
    assert named is not None and named.op == ""
    assert named.message.startswith("iree-compile does not know the CPU 'nonsense' (LLVM: not a recognized")


# A code-generation error names a lowered op and a line of the compiled file; that line of the exported
# MLIR holds the model's torch op (issue #69's fourth newcomer round, nc_stft: stft(center=True)'s
# reflect pad of 64, which IREE 3.10.0-3.13.0 cannot lower).
CODEGEN = (
    "model.mlir:15:10: error: 'linalg.generic' op inferred input/output operand #0 has shape's dimension "
    "#0 to be greater than or equal to 64, but found 57\n"
    "model.mlir:15:10: error: failed to run translation of source executable to target executable\n"
)
EXPORTED = (
    "module @module {\n" + "    %int1 = torch.constant.int 1\n" * 11
    + '    %str = torch.constant.str "reflect"\n    %none = torch.constant.none\n'
    + "    %3 = torch.aten.pad %1, %2, %str, %none : !torch.vtensor<[1,1,800],f32>, !torch.list<int>, "
    + "!torch.str, !torch.none -> !torch.vtensor<[1,1,928],f32>\n"
)  # fmt: skip


def test_a_code_generation_error_names_the_models_op_on_its_line(tmp_path):
    from iree_matrix.stages import compile as compile_stage

    named = compile_errors.first_error(CODEGEN)
    assert named is not None and named.op == "linalg.generic" and named.where == "model.mlir:15:10"
    mlir = tmp_path / "model.mlir"
    mlir.write_text(EXPORTED)
    outcome = compile_stage._failed(RuntimeError("compile-error"), CODEGEN, ["iree-compile"], mlir)
    assert outcome.metrics.get("source_op") == "torch.aten.pad"
    assert outcome.metrics.get("failing_op") == "linalg.generic"
    said = compile_errors.of_record(outcome.metrics, None)
    assert said is not None and said.text().endswith(
        "(op: linalg.generic, lowered from the model's torch.aten.pad)"
    )
    # a line with no torch op (a constant, past the end, another file) names none
    assert (
        compile_stage._failed(RuntimeError("x"), CODEGEN.replace(":15:", ":2:"), [], mlir).metrics.get(
            "source_op"
        )
        is None
    )
    assert (
        compile_stage._failed(RuntimeError("x"), CODEGEN.replace(":15:", ":99:"), [], mlir).metrics.get(
            "source_op"
        )
        is None
    )
    assert (
        compile_stage._failed(RuntimeError("x"), CODEGEN, [], tmp_path / "other.mlir").metrics.get(
            "source_op"
        )
        is None
    )
    assert compile_errors.source_op('    %7:2 = torch.operator "torch.aten.lstm.input"(%0) : ') == (
        "torch.aten.lstm.input"
    )


# IREE 3.13.0 on a model calling torch.logsumexp (tests/data/routes' CRF), as printed: the error names
# a constant the op took, at no line; `--mlir-print-ir-after-failure` then prints the function as the
# failed pass left it (abridged).
CONSTANT_ERROR = (
    "<unknown>:0: error: failed to legalize operation 'torch.constant.int': %12 = \"torch.constant.int\"() "
    "<{value = 1 : i64}> : () -> !torch.int\n"
    '<unknown>:0: note: see current operation: %12 = "torch.constant.int"() <{value = 1 : i64}> : () '
    "-> !torch.int\n"
)
AFTER_FAILURE = (
    "// -----// IR Dump After FinalizingBackendTypeConversion Failed: "
    "torch-finalizing-backend-type-conversion //----- //\n"
    "  %int1 = torch.constant.int 1\n"
    "  %16 = torch.prim.ListConstruct %int1 : (!torch.int) -> !torch.list<int>\n"
    "  %17 = torch.aten.logsumexp %15, %16, %false : !torch.vtensor<[2,6,6],f32>, !torch.list<int>, "
    "!torch.bool -> !torch.vtensor<[2,6],f32>\n"
)  # fmt: skip


def test_an_error_naming_a_constant_names_the_op_left_unlowered_and_its_line(tmp_path):
    from iree_matrix.stages import compile as compile_stage

    named = compile_errors.first_error(CONSTANT_ERROR)
    assert compile_errors.names_a_constant(named) and not compile_errors.names_a_constant(
        compile_errors.first_error(CODEGEN)
    )
    assert compile_errors.unlowered_op(AFTER_FAILURE) == "torch.aten.logsumexp"
    assert compile_errors.unlowered_op("  %int1 = torch.constant.int 1\n") == ""
    mlir = tmp_path / "model.mlir"
    mlir.write_text(
        "func.func @main(%arg0: !torch.vtensor<[2,6,6],f32>) {\n"
        "  %int1 = torch.constant.int 1\n"
        "  %0 = torch.aten.logsumexp %arg0, %1, %false : !torch.vtensor<[2,6,6],f32> -> "
        "!torch.vtensor<[2,6],f32>\n"
    )
    (tmp_path / "model.where.json").write_text(
        '{"frames": {"3": "/home/u/crf.py:12"}, "code": {"/home/u/crf.py:12": "s = torch.logsumexp(x, 1)"}}'
    )
    outcome = compile_stage._failed(RuntimeError("x"), CONSTANT_ERROR, [], mlir, "torch.aten.logsumexp")
    assert outcome.metrics.get("source_op") == "torch.aten.logsumexp"
    assert outcome.metrics.get("source_line") == "crf.py:12: s = torch.logsumexp(x, 1)"
    said = compile_errors.of_record(outcome.metrics, None)
    assert said is not None and said.text() == (
        "failed to legalize operation 'torch.constant.int' (left unlowered: the model's "
        "torch.aten.logsumexp), at crf.py:12: s = torch.logsumexp(x, 1)"
    )
    # bytecode (no text line holds it): the op is still named, with no line
    (tmp_path / "b.mlir").write_bytes(b"ML\xefR\x00bytecode")
    bytecode = compile_stage._failed(
        RuntimeError("x"), CONSTANT_ERROR, [], tmp_path / "b.mlir", "torch.aten.logsumexp"
    )
    assert (
        bytecode.metrics.get("source_op") == "torch.aten.logsumexp" and "source_line" not in bytecode.metrics
    )
    # no op found: the constant's error as it was
    assert "source_op" not in compile_stage._failed(RuntimeError("x"), CONSTANT_ERROR, [], mlir).metrics


def test_the_second_compile_that_finds_the_unlowered_op_never_replaces_the_first_ones_answer():
    """The compile again with --mlir-print-ir-after-failure only adds the op: where it runs out of time,
    the cell's record is still the first compile's error (a Timeout would have made it a timeout)."""
    from iree_matrix.core.system import processes
    from iree_matrix.core.system.process_request import ProcessRequest
    from iree_matrix.stages import compile as compile_stage

    class Stalls:
        def run(self, request):
            raise processes.Timeout(request.argv, 1.0, "")

    class Dumps:
        def run(self, request):
            assert tuple(request.argv[-2:]) == compile_errors.AFTER_FAILURE_FLAGS
            return processes.Completed(request.argv, 1, AFTER_FAILURE, "", 0.1, None, None)

    failed = processes.Completed(("iree-compile",), 1, CONSTANT_ERROR, "", 0.1, None, None)
    request = ProcessRequest(("iree-compile", "model.mlir"))
    assert compile_stage._unlowered(Stalls(), request, failed) == ""
    assert compile_stage._unlowered(Dumps(), request, failed) == "torch.aten.logsumexp"
    # a compile that failed otherwise is not compiled again
    other = dataclasses.replace(failed, stdout=CODEGEN)
    assert compile_stage._unlowered(Stalls(), request, other) == ""
