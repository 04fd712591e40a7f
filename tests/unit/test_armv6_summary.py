"""The armv6 smoke run's summary prints a runtime's refusal as the answer it is (issue #30), with
the runtime's reason, and a real failure as a failure."""

from __future__ import annotations

from iree_matrix.core.model.results import Record, Status
from iree_matrix.tasks.pi_zero_session import _compile_text, _run_text

REFUSAL = (
    "iree/runtime/src/iree/vm/bytecode/verifier.c:40: INVALID_ARGUMENT; bytecode version mismatch; "
    "runtime supports 16.0, module has 17.0"
)


def _run(status: Status, error_class: str, message: str) -> Record:
    cell = "tiny_cnn/e/iree3.13.0/armv6-arm1176jzf-s/default/rtsrc3.9.0+static"
    return Record(f"run:{cell}", "run", cell, "k", status, {}, error_class=error_class, message=message)


def test_a_refusal_is_an_expected_answer_with_the_runtimes_reason():
    text = _run_text(_run(Status.FAIL, "incompatible-module", REFUSAL))
    assert text.startswith("refused (expected answer): ") and "bytecode version mismatch" in text


def test_a_crash_is_still_a_failure():
    text = _run_text(_run(Status.FAIL, "empty-function-call", "the module's kernels make 19 call(s) to fmaf"))
    assert text.startswith("fail empty-function-call: ")


def test_a_failure_with_no_message_is_a_row_not_a_crash():
    # A stage killed before it said anything leaves "" (or blank lines): the table still prints.
    assert _run_text(_run(Status.FAIL, "killed", "")) == "fail killed: "
    compiled = _run(Status.FAIL, "killed", " \n ")
    assert _compile_text(compiled) == "fail killed: "
