"""What a run of a plan ends with: executed (execution/workflow.py), its report rendered in its
results directory (only if quick when interrupted), this machine's lines printed, and its exit code:
a failed cell is a recorded result (exit 0), unless `--strict`."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Optional, TextIO

from iree_matrix import stages
from iree_matrix.core import console
from iree_matrix.core.model.results import folder_log
from iree_matrix.execution import workflow
from iree_matrix.report import machine
from iree_matrix.report.documents import write_report

if TYPE_CHECKING:
    from iree_matrix.execution.summary import Summary
    from iree_matrix.matrix.plan import Plan

logger = console.logger(__name__)


def run_plan(
    loaded: workflow.Loaded, options: workflow.RunOptions, cache: Path, *, out: TextIO, advising: bool = False
) -> tuple[int, Summary]:
    """Execute a plan into its results folder's log, print the summary (on `out`), keep manifests,
    write the report: (exit code, summary). `advising`: the plan is `advise`'s sitting, whose lines
    suggest no `advise`."""
    results_dir = loaded.results_dir
    results = folder_log(results_dir)
    summary = workflow.execute(loaded, options, cache, results, results_dir, out)
    if summary.interrupted:  # out within 2 s: the report only if it renders at once
        if any(True for _ in results):
            _write_report_if_quick(results_dir, out)
        return workflow.EXIT_INTERRUPTED, summary
    if any(True for _ in results):
        write_report(results_dir, lambda said: print(said, file=out), if_changed=True)
        here = None if advising else workflow.where(loaded.path, results_dir, cache)
        # How IREE compares with torch eager and the peers on this machine, one line per function: the
        # rows of the report's 'Your machine' section (report/machine.py), so the two never disagree; the
        # `advise` lines only for the models this run ran, whose settings `here` are.
        ran = {r.label.source_model or r.label.model or "" for r in summary.records.values()}
        report = str(results_dir / "COMPATIBILITY.md")
        if lines := machine.console_lines(results.latest().values(), report, where=here, ran=ran):
            print("\n".join(lines), file=out)
    if failed := summary.failures():
        print(
            f"{len(failed)} stage(s) failed, timed out or mismatched (recorded results, listed above); "
            + ("exit 1 (--strict)" if options.strict else "exit 0 (pass --strict to exit 1)"),
            file=out,
        )
        return (1 if options.strict else 0), summary
    if summary.answers():
        print("no failures (the refusals above are answers; --strict exits 1 only on failures)", file=out)
    return 0, summary


def listed(
    loaded: workflow.Loaded, out: TextIO, head: Optional[str] = None, plan: Optional[Plan] = None
) -> int:
    """`--list`: `head`, the plan's jobs (`plan`, default the loaded one) and the settings that are
    not the defaults; exit 0."""
    said = [head] if head is not None else []
    lines = [*said, stages.describe(plan or loaded.plan), workflow.listed_settings(loaded)]
    print("\n".join(lines), file=out)
    return 0


# An interrupted run exits within 2 s (README): the report, site and answers are rendered only if they
# take less than this, in a thread left behind otherwise (every file is written atomically).
QUICK_REPORT_SECONDS = 0.5


def _write_report_if_quick(results_dir: Path, out: TextIO) -> None:
    said: list[str] = []
    done = threading.Event()

    def render() -> None:
        write_report(results_dir, said.append)
        done.set()

    threading.Thread(target=render, name="report", daemon=True).start()
    if done.wait(QUICK_REPORT_SECONDS):
        print("\n".join(said), file=out)
    else:
        logger.warning(
            "report not rendered (interrupted); render it with: "
            f"iree-matrix report --results-dir {results_dir}"
        )
