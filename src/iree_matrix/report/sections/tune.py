"""PERFORMANCE.md's "Flag search: the fastest correct IREE profile per model and version": per model,
architecture and IREE version, every profile's compile and run (`iree-matrix tune`) and the fastest
correct one. Only where no flag search judged the profiles (`search.py`): this table picks the
fastest median, noise or not."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Optional

from tabulate import tabulate

from iree_matrix.answers import answers
from iree_matrix.core import formats
from iree_matrix.core.formats import duration_ms as _ms
from iree_matrix.core.records import Metrics
from iree_matrix.core.results import Record, Status
from iree_matrix.report.sections import Document, Section, View
from iree_matrix.report.sections.search import judged
from iree_matrix.report.timed import same_runtime

TITLE = "Flag search: the fastest correct IREE profile per model and version"


def _size(value: Optional[float]) -> str:
    return formats.size(value) if value is not None else ""


def render_tune(latest: Iterable[Record]) -> list[str]:
    """Per model, architecture and IREE version: every profile's result and the fastest correct one.
    A profile that failed to compile or gave wrong outputs is shown with why: that is a finding."""
    records = list(latest)
    compiles = {r.cell: r for r in records if r.stage == "compile"}
    runs = {r.cell: r for r in records if r.stage == "run" and same_runtime(r)}
    groups: dict[tuple[str, str, str], list[Record]] = {}
    exporters = {c.label.exporter for c in compiles.values()}
    for compiled in compiles.values():
        label = compiled.label
        model = label.model
        if len(exporters) > 1:  # several torch / turbine versions: keep their results apart
            model += f" ({label.exporter})"
        groups.setdefault((model, label.arch, label.compiler), []).append(compiled)
    if not any(len({c.label.profile for c in cs}) > 1 for cs in groups.values()):
        return []  # one profile per model: nothing was tuned
    best_rows, detail_rows = [], []
    for (model, arch, compiler), group in sorted(groups.items(), key=_version_order):
        outcomes = [(c, runs.get(c.cell)) for c in group]
        timed = [
            (c, r) for c, r in outcomes if r is not None and r.status is Status.OK and r.metric.latency_median
        ]
        default = next((r for c, r in timed if c.label.profile == "default"), None)
        best = min(timed, key=lambda cr: cr[1].metric.latency_median or float("inf"), default=None)
        failed = [f"{c.label.profile}: {why}" for c, r in outcomes if (why := _why(c, r))]
        if best is not None:
            best_ms = best[1].metric.latency_median
            default_ms = default.metric.latency_median if default is not None else None
            speedup = formats.ratio(default_ms / best_ms) if default_ms and best_ms else ""
            best_rows.append(
                [model, arch, compiler, best[0].label.profile, _ms(best_ms) if best_ms else "",
                 _ms(default_ms) if default_ms else "", speedup, "; ".join(failed)]
            )  # fmt: skip
        else:
            best_rows.append([model, arch, compiler, "none correct", "", "", "", "; ".join(failed)])
        for c, r in sorted(outcomes, key=lambda cr: str(cr[0].label.profile)):
            status = _why(c, r) or "ok"
            ran = r.metric if r is not None else Metrics({})
            detail_rows.append(
                [model, compiler, c.label.profile, status,
                 _ms(run_ms) if (run_ms := ran.latency_median) else "",
                 _size(c.metric.module_bytes), _seconds(c.metric.seconds),
                 _size(c.metric.peak_memory_bytes), _size(ran.peak_memory_bytes),
                 _text(c.metric.dispatch_count), _text(ran.other_load)]
            )  # fmt: skip
    return [
        "## " + TITLE,
        "",
        "Every profile compiled and run on the same inputs; 'correct' means the outputs match torch. "
        "Speed-up is against the `default` profile (host CPU, the version's default flags).",
        "",
        tabulate(
            best_rows,
            headers=[
                "model",
                "arch",
                "IREE",
                "best profile",
                "median",
                "default",
                "speed-up",
                "did not work",
            ],
            tablefmt="github",
            disable_numparse=True,
        ),
        "",
        "### Every profile",
        "",
        "Module size as compiled (the `stripped` profile shows it without debug information); peak "
        "memory is the resident set of iree-compile and of iree-run-module; other load is how many "
        "cores other programs kept busy during the timed run (both on the venv backend only).",
        "",
        tabulate(
            detail_rows,
            headers=[
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
            ],
            tablefmt="github",
            disable_numparse=True,
        ),
        "",
    ]


def _version_order(item: tuple[tuple[str, str, str], Any]) -> tuple:
    (model, arch, compiler), _ = item
    return (model, arch, answers.version_key(compiler))


def _text(value: Optional[float]) -> str:
    """A figure as it was stored ("" when there is none)."""
    return "" if value is None else str(value)


def _seconds(value: Optional[float]) -> str:
    return formats.seconds(value) if value is not None else ""


def _why(compiled: Record, run: Optional[Record]) -> str:
    """'' when the profile ran correctly; otherwise what stopped it, in a few words."""
    for record in (compiled, run):
        if record is None:
            continue
        if record.status is Status.SKIP:
            return "skipped: " + (record.message or "").splitlines()[0][:90] if record.message else "skipped"
        if record.status not in (Status.OK, Status.NOT_RUN):
            return f"{record.status.value} ({record.error_class})"
    if run is None:
        return "not run"
    if run.status is Status.NOT_RUN:
        return f"not run ({run.message})" if run.message else "not run"
    return "" if run.metric.latency_median else "no latency"


def _unless_searched(view: View) -> list[str]:
    return [] if judged(view.records) else render_tune(view.records)


SECTION = Section(
    name="tune",
    document=Document.PERFORMANCE,
    rank=70,
    title=TITLE,
    stages=("compile", "run"),
    render=_unless_searched,
)
