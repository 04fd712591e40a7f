"""PERFORMANCE.md's "Flag search: the fastest correct IREE profile per model and version" (`iree-matrix
tune`), only where no flag search judged the profiles (`search.py`): it picks the fastest median."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Optional

from iree_matrix.core import formats
from iree_matrix.core.formats import duration_ms as _ms
from iree_matrix.core.model.metrics.compile import CompileMetrics
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.results import Record, Status
from iree_matrix.findings import runs_view
from iree_matrix.report.markdown import github_table
from iree_matrix.report.sections import Document, Section
from iree_matrix.report.sections.search import judged

TITLE = "Flag search: the fastest correct IREE profile per model and version"


Group = tuple[str, str, str]  # model (with its exporter, when several), arch, IREE version
Tried = tuple[Record, Optional[Record]]  # a profile's compile and its run (None: none)

_BEST = ["model", "arch", "IREE", "best profile", "median", "default", "speed-up", "did not work"]
_EVERY = [
    "model",
    "IREE",
    "profile",
    "status",
    "median",
    "module",
    "compile",
    "compile peak",
    "run peak",
    "dispatches",
    "other load",
]


def render_tune(latest: Iterable[Record]) -> list[str]:
    """Per model, architecture and IREE version: every profile's result and the fastest correct one.
    A profile that failed to compile or gave wrong outputs is shown with why: that is a finding."""
    records = list(latest)
    runs = {r.cell: r for r in records if r.stage == "run" and r.label.own_runtime}
    groups = _groups(records)
    if not any(len({c.label.profile for c in cs}) > 1 for cs in groups.values()):
        return []  # one profile per model: nothing was tuned
    best_rows, detail_rows = [], []
    for group, compiles in sorted(
        groups.items(), key=lambda item: (*item[0][:2], runs_view.version_key(item[0][2]))
    ):
        tried = [(c, runs.get(c.cell)) for c in compiles]
        best_rows.append(_best_row(group, tried))
        detail_rows += [
            _detail_row(group, c, r) for c, r in sorted(tried, key=lambda cr: str(cr[0].label.profile))
        ]
    return [
        "## " + TITLE,
        "",
        "Every profile compiled and run on the same inputs; 'correct' means the outputs match torch. "
        "Speed-up is against the `default` profile (host CPU, the version's default flags).",
        "",
        github_table(best_rows, _BEST),
        "",
        "### Every profile",
        "",
        "Module size as compiled (the `stripped` profile shows it without debug information); peak "
        "memory is the resident set of iree-compile and of iree-run-module; other load is how many "
        "cores other programs kept busy during the timed run (both on the venv backend only).",
        "",
        github_table(detail_rows, _EVERY),
        "",
    ]


def _groups(records: Sequence[Record]) -> dict[Group, list[Record]]:
    """The compiles by model, arch and IREE version: the profiles one row compares."""
    compiles = {r.cell: r for r in records if r.stage == "compile"}
    # several torch / turbine versions: keep their results apart
    apart = len({c.label.exporter for c in compiles.values()}) > 1
    return runs_view.grouped_by(
        ((c.label.model + (f" ({c.label.exporter})" if apart else ""), c.label.arch, c.label.compiler), c)
        for c in compiles.values()
    )


def _best_row(group: Group, tried: Sequence[Tried]) -> list[str]:
    """The fastest correct profile of a group, against `default`, and what did not work."""
    timed = [
        (ms, c)
        for c, r in tried
        if r is not None and r.status is Status.OK and (ms := r.metric.of(RunMetrics).latency_median)
    ]
    failed = "; ".join(f"{c.label.profile}: {why}" for c, r in tried if (why := _why(c, r)))
    if not timed:
        return [*group, "none correct", "", "", "", failed]
    best_ms, best = min(timed, key=lambda t: t[0])
    default_ms = next((ms for ms, c in timed if c.label.profile == "default"), None)
    speedup = formats.ratio(default_ms / best_ms) if default_ms else ""
    return [*group, best.label.profile, _ms(best_ms), _ms(default_ms) if default_ms else "", speedup, failed]


def _detail_row(group: Group, compiled: Record, run: Optional[Record]) -> list[str]:
    model, _, compiler = group
    ran = run.metric.of(RunMetrics) if run is not None else RunMetrics()
    made = compiled.metric.of(CompileMetrics)
    return [
        model,
        compiler,
        compiled.label.profile,
        _why(compiled, run) or "ok",
        _ms(run_ms) if (run_ms := ran.latency_median) else "",
        formats.size_or(made.module_bytes),
        formats.seconds(made.seconds) if made.seconds is not None else "",
        formats.size_or(made.peak_memory_bytes),
        formats.size_or(ran.peak_memory_bytes),
        *("" if value is None else str(value) for value in (made.dispatch_count, ran.other_load)),
    ]


def _why(compiled: Record, run: Optional[Record]) -> str:
    """'' when the profile ran correctly; otherwise what stopped it, in a few words."""
    for record in filter(None, (compiled, run)):
        if record.status is Status.SKIP:
            return "skipped: " + (record.message or "").splitlines()[0][:90] if record.message else "skipped"
        if record.status not in (Status.OK, Status.NOT_RUN):
            return f"{record.status.value} ({record.error_class})"
    if run is None:
        return "not run"
    if run.status is Status.NOT_RUN:
        return f"not run ({run.message})" if run.message else "not run"
    return "" if run.metric.of(RunMetrics).latency_median else "no latency"


SECTION = Section(
    "tune",
    Document.PERFORMANCE,
    70,
    TITLE,
    ("compile", "run"),
    lambda view: [] if judged(view.records) else render_tune(view.records),
)
