"""A cross cell the runtime refuses is an answer ("refused (expected answer)"), counted apart from
failures: in the progress line, the summary and the exit status (`--strict`)."""

from __future__ import annotations

import io

from iree_matrix.core.model import refusals
from iree_matrix.core.model.outcome import Outcome, record
from iree_matrix.core.model.results import Status
from iree_matrix.execution.progress import Progress
from iree_matrix.execution.summary import Summary
from iree_matrix.matrix.plan import EnvSpec, Job

ENV = EnvSpec("runtime", "3.11", (), "r")
BYTECODE = (
    "c/runtime/src/iree/vm/bytecode/verifier.c:180: INVALID_ARGUMENT; bytecode version mismatch; runtime "
    "supports 16.0, module has 15.0; loading bytecode module at 'm.vmfb'; creating run context"
)


def _run(
    compiler: str,
    runtime: str,
    status: Status = Status.FAIL,
    message: str = BYTECODE,
    error="incompatible-module",
):
    job = f"run:m/e/iree{compiler}/x86_64/default/rt{runtime}"
    labels = {"model": "m", "compiler": compiler, "runtime": runtime}
    return record(
        job, "run", job.split(":", 1)[1], labels, Outcome(status, message=message, error_class=error)
    )


def test_a_cross_refusal_is_an_answer_and_a_refusal_of_its_own_release_is_a_failure():
    assert refusals.is_answer(_run("3.8.0", "3.10.0"))
    assert refusals.is_answer(
        _run("3.8.0", "3.10.0", error="run-error")
    )  # stored before the phrase was known
    assert not refusals.is_answer(_run("3.10.0", "3.10.0"))
    assert not refusals.is_answer(_run("3.10.0", "src:3.10.0+static"))
    assert refusals.is_answer(_run("3.9.0", "src:3.10.0"))
    assert not refusals.is_answer(_run("3.8.0", "3.10.0", message="Segmentation fault", error="run-error"))
    assert not refusals.is_answer(_run("3.8.0", "3.10.0", status=Status.TIMEOUT))


def test_the_summary_counts_refusals_apart_from_failures():
    summary = Summary()
    rows = [
        _run("3.8.0", "3.10.0"),
        _run("3.10.0", "3.8.0"),
        _run("3.10.0", "3.10.0", status=Status.OK, message="", error=None),
        _run("3.9.0", "3.9.0", message="Segmentation fault", error="run-error"),
    ]
    summary.records = {r.job: r for r in rows}
    assert [r.job for r in summary.failures()] == [rows[3].job]
    assert len(summary.answers()) == 2
    assert summary.tally() == "1 ok, 2 refused (expected answers), 1 fail"


def test_the_progress_line_says_refused_expected_answer_with_the_runtimes_words():
    out = io.StringIO()
    progress = Progress(1, out=out, heartbeat=0, live=False)
    refused = _run("3.8.0", "3.10.0")
    job = Job("run", refused.cell, (), refused.labels, ENV)
    progress.started(job)
    progress.finished(job, refused)
    text = out.getvalue()
    assert "-> refused (expected answer)" in text and "FAIL" not in text
    assert "the runtime says: bytecode version mismatch; runtime supports 16.0, module has 15.0" in text


def test_list_calls_a_cross_refusal_refused_and_its_own_release_refusal_failed(tmp_path):
    from iree_matrix.execution.workflow import with_states

    cross, own = _run("3.8.0", "3.10.0"), _run("3.10.0", "3.10.0")
    log = tmp_path / "results.jsonl"
    log.write_text(cross.to_json() + "\n" + own.to_json() + "\n")
    listed = with_states(f"2 jobs: 2 run\n  {cross.job}\n  {own.job}", [cross, own], log)
    assert f"  {cross.job}  [refused]" in listed
    assert f"  {own.job}  [failed]" in listed
    assert listed.splitlines()[0].startswith("2 jobs: 2 run (1 refused, 1 failed, from ")
