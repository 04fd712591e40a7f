"""COMPATIBILITY.md's "Failures and their reasons" (with the skipped cells) and "Refusals and the
runtimes' reasons": each numbered group (report/numbering.py) with the tool's own words, the first
error and the op it names, and what to do where a known failure signature matches (iree/hints.py)."""

from __future__ import annotations

import re
from typing import Optional

from iree_matrix.core import excerpts
from iree_matrix.core.model import refusals
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.results import Record, Status
from iree_matrix.findings import release_choice, runs_view
from iree_matrix.iree import compile_errors, hints, miscompiled
from iree_matrix.report.numbering import REFUSED_MARK, FailureGroup, Numbering, stage_rank, status_text
from iree_matrix.report.sections import View

MAX_EXCERPT_LINES = 15
MAX_EXCERPT_LINE_CHARS = 240  # MLIR dumps put whole functions on one line
MAX_NOTE_CHARS = 120
MAX_LISTED_CELLS = 20
FAILURES = "Failures and their reasons"
REFUSALS = "Refusals and the runtimes' reasons"


def failures_section(view: View) -> list[str]:
    numbered = view.numbered
    out = [f"## {FAILURES}", ""]
    if not numbered.failures:
        out += ["No stage failed, timed out or produced wrong numbers.", ""]
    return out + [line for group in numbered.failures for line in _block(group)] + _skipped(numbered)


def refusals_section(view: View) -> list[str]:
    """The cross cells a runtime refused, grouped by its words: answers, listed apart from failures."""
    if not (refused := view.numbered.refused):
        return []
    cells = sum(len(g.records) for g in refused)
    out = [
        f"## {REFUSALS}",
        "",
        f"{cells} cross cell{'s' if cells != 1 else ''} where a runtime would not load a module "
        "built by another release's compiler, in the runtime's own words. Each is an answer (this "
        "pair does not work), not a failure of the tool or of the model.",
        "",
    ]
    return out + [line for group in refused for line in _block(group)]


def _block(group: FailureGroup) -> list[str]:
    answer = refusals.is_answer(group.records[0])
    status = f"{REFUSED_MARK} refused" if answer else status_text(group.status)
    title = f"### {group.fid}: {group.stage} {status}"
    if group.error_class:
        title += f" (`{group.error_class}`)"
    count = len(group.records)
    affects = f"Affects {count} cell{'s' if count != 1 else ''}: " + _listed(
        [_mention(r) for r in group.records]
    )
    said = excerpt(group.message, group.stage)
    fence = "`" * max(3, max((len(m) for m in re.findall(r"`+", said)), default=0) + 1)
    compiled = [r for r in group.records if r.stage == "compile"]
    named = next((n for r in compiled if (n := compile_errors.of_record(r.metrics, r.message))), None)
    first: list[str] = []
    if named:
        on = f", on `{named.op}`." if named.op else "."
        in_model = f" In the model: `{named.source_line}`." if named.source_line else ""
        first = [f"First error: `{named.message}`{on}{in_model}", ""]
    # A cross cell's refusal is an answer (the load tables say it): what to do is for failures.
    found = None if answer else release_choice.hint(group.records[0])
    todo = [f"What to do: {found.advice}.", ""] if found is not None else []
    first_run = group.records[0]
    if found is None and not answer and first_run.stage == "run" and first_run.status is Status.MISMATCH:
        if miscompiled.bisectable(first_run.label):  # a mismatch no known op explains: where it leaves torch
            todo = [f"What to do: {miscompiled.bisect_offer(first_run.job)}.", ""]
    return [title, "", *first, *todo, affects + ".", "", f"{fence}text", said, fence, ""]


def _listed(cells: list[str]) -> str:
    more = len(cells) - MAX_LISTED_CELLS
    return ", ".join(cells[:MAX_LISTED_CELLS]) + (f", … and {more} more" if more > 0 else "")


def error_metrics(record: Record) -> str:
    """`max abs err 2.0e-03, atol 1.0e-05`: how far a mismatching cell's outputs were off."""
    metric = record.metric.of(RunMetrics)
    values = [
        ("max abs err", metric.max_abs_err),
        ("max rel err", metric.max_rel_err),
        ("atol", metric.atol),
        ("rtol", metric.rtol),
    ]
    return ", ".join(f"{label} {v:.1e}" for label, v in values if v is not None)


def _mention(record: Record) -> str:
    detail = error_metrics(record) if record.status is Status.MISMATCH else ""
    return f"`{record.cell}`" + (f" ({detail})" if detail else "")


def excerpt(message: str, stage: Optional[str] = None) -> str:
    """At most ~15 lines of the tool's words from near the first "error", always with the telling line
    (iree/hints.py) whole; host paths cut to file names, so the words read the same on every machine."""
    message = excerpts.without_paths(message)
    if not (raw := message.strip("\n").splitlines()):
        return "(no message recorded)"
    found = hints.find(message, stage)
    telling = next((i for i, ln in enumerate(raw) if found is not None and ln.strip() == found.line), None)
    lines = [
        ln.rstrip() if i == telling else runs_view.clip(ln.rstrip(), MAX_EXCERPT_LINE_CHARS)
        for i, ln in enumerate(raw)
    ]
    if len(lines) <= MAX_EXCERPT_LINES:
        return "\n".join(lines)
    first_error = next((i for i, ln in enumerate(lines) if "error" in ln.lower()), 0)
    start = max(0, min(first_error - 1, len(lines) - MAX_EXCERPT_LINES))
    shown = set(range(start, start + MAX_EXCERPT_LINES))
    if telling is not None and telling not in shown:  # the window's last lines give way to it
        around = set(range(max(0, telling - 1), min(len(lines), telling + 2)))
        shown = set(range(start, start + MAX_EXCERPT_LINES - len(around))) | around
    out: list[str] = []
    previous = -1
    for i in sorted(shown):
        if i > previous + 1:
            out.append(f"… ({i - previous - 1} lines omitted)")
        out.append(lines[i])
        previous = i
    if previous < len(lines) - 1:
        out.append(f"… ({len(lines) - 1 - previous} more lines omitted)")
    return "\n".join(out)


def _skipped(numbered: Numbering) -> list[str]:
    skipped = sorted(
        (r for r in numbered.index.by_job.values() if r.status is Status.SKIP),
        key=lambda r: (stage_rank(r.stage, numbered.stage_order), runs_view.natural_key(r.job)),
    )
    reasons = runs_view.grouped_by(
        ((r.stage, runs_view.first_line(r.message, ()) or "no reason given"), f"`{r.cell}`") for r in skipped
    )
    if not reasons:
        return []
    out = ["### Skipped", ""]
    for (stage, reason), cells in reasons.items():
        out.append(f"- ➖ {stage}: {runs_view.clip(reason, MAX_NOTE_CHARS)} ({_listed(cells)})")
    return [*out, ""]
