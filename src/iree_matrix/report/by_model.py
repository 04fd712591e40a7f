"""COMPATIBILITY.md's "Results by model": per function, a table of exporter environment × compiler
release (each module run by its own release's runtime), torch eager's figure beside it, and each
compile's time and module size."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

from iree_matrix.core import formats
from iree_matrix.core.formats import duration_ms, size
from iree_matrix.core.model.metrics.compile import CompileMetrics
from iree_matrix.core.model.metrics.export import ExportMetrics
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.results import CompileKey, ExportKey, Record, RunKey, Status
from iree_matrix.findings import behaviour, runs_view
from iree_matrix.findings.runs_view import Timing as CpuFigure
from iree_matrix.report import markdown
from iree_matrix.report.numbering import NOISY_MARK, Numbering
from iree_matrix.report.sections import View

TITLE = "Results by model (each module run by the runtime of its own compiler version)"
RowKey = Tuple[str, str, str]  # exporter, profile, arch
natural_key, sorted_versions = runs_view.natural_key, runs_view.sorted_versions


def _models(ix: Numbering) -> list[str]:
    return sorted({k.model for k in (*ix.index.exports, *_built(ix))}, key=natural_key)


def _built(ix: Numbering) -> list[CompileKey | RunKey]:
    """The keys of every compile and run: what a model's rows and columns are made of."""
    return [*ix.index.compiles, *ix.index.runs]


def _same_version_cell(ix: Numbering, model: str, row: RowKey, compiler: str) -> str:
    exporter, profile, arch = row
    export = ix.index.exports.get(ExportKey(model, exporter))
    if export is not None and export.status is not Status.OK:
        return ix.stage_outcome(export)
    key = CompileKey(model, exporter, profile, arch, compiler)
    compiled = ix.index.compiles.get(key)
    by_runtime = {k.runtime: r for k, r in ix.index.runs.items() if k.compiled == key}
    # A board with no runtime wheel runs on the user's runtime directory: that is its same-version
    # run (a runtime built from some IREE source the tool cannot name).
    built_here = (r for rt, r in by_runtime.items() if runs_view.is_built_here(rt) and not r.label.device)
    run = runs_view.own_run(by_runtime, compiler) or next(built_here, None)
    if run is not None and run.status is not Status.NOT_RUN:
        stand_in = runs_view.stand_in_of(run)
        return run_cell(ix, run) + (f" (rt {stand_in})" if stand_in else "")
    if compiled is not None and compiled.status is not Status.OK:
        return ix.stage_outcome(compiled)
    if run is not None:
        return ix.stage_outcome(run)
    return "✅ compile only" if compiled is not None else ""


def run_cell(ix: Numbering, run: Record) -> str:
    if run.status is Status.OK:
        latency = run.metric.of(RunMetrics).latency_median
        # qemu's speed is not the board's: such figures are marked and never compared with native ones.
        emulated = " (emulated)" if run.metric.of(RunMetrics).emulated else ""
        figure = runs_view.timing(run)
        noisy = NOISY_MARK if figure is not None and figure.noisy else ""
        if latency is None:
            return "✅ run"
        n = run.metric.of(RunMetrics).budgeted_n
        return f"✅ {noisy}{duration_ms(latency)}{f' (n={n})' if n else ''}{emulated}"
    if run.status is Status.MISMATCH:
        err = run.metric.of(RunMetrics).max_abs_err
        return f"⚠️ run{f' (max err {err:.1e})' if err is not None else ''}{ix.ref(run.job)}"
    return ix.stage_outcome(run)


def section(view: View) -> list[str]:
    ix = view.numbered
    out = [f"## {TITLE}", ""]
    if not (models := _models(ix)):
        return [*out, "No export, compile or run results yet.", ""]
    return out + [line for model in models for line in _model_section(ix, model)]


@dataclass(frozen=True)
class _RowLayout:
    """Profile and arch get columns only when they vary; otherwise the heading names them."""

    profiles: list[str]
    arches: list[str]

    @property
    def headers(self) -> list[str]:
        return self.left(("exporter", "profile", "arch"))

    def left(self, row: RowKey) -> list[str]:
        exporter, profile, arch = row
        return [exporter] + [profile] * (len(self.profiles) > 1) + [arch] * (len(self.arches) > 1)

    def scope(self) -> str:
        parts = [f"profile `{self.profiles[0]}`"] if len(self.profiles) == 1 else []
        parts += [f"arch `{self.arches[0]}`"] if len(self.arches) == 1 else []
        return f"{', '.join(parts)}. " if parts else ""


def _model_section(ix: Numbering, model: str) -> list[str]:
    found = {(k.exporter, k.profile, k.arch) for k in _built(ix) if k.model == model}
    covered = {row[0] for row in found}
    # An exporter whose export never got as far as a compile still needs its row.
    found |= {(e, "", "") for (m, e) in ix.index.exports if m == model and e not in covered}
    rows = sorted(found, key=lambda row: tuple(natural_key(part) for part in row))
    own = {k.compiler for k in _built(ix) if k.model == model}
    # A model whose export failed everywhere has no compile records; show the matrix's columns.
    compilers = sorted_versions(own or {k.compiler for k in _built(ix)}) or ["(none)"]
    layout = _RowLayout(sorted({r[1] for r in rows if r[1]}), sorted({r[2] for r in rows if r[2]}))
    intro = "Rows: exporter environment; columns: IREE compiler (= runtime) version."
    table_rows = [
        layout.left(row) + [_same_version_cell(ix, model, row, c) for c in compilers] for row in rows
    ]
    return [
        f"### {model}",
        "",
        layout.scope() + intro,
        "",
        markdown.table(layout.headers + compilers, table_rows),
        "",
        *_stand_in_lines(ix, model),
        *_behaviour_lines(ix, model),
        *_baseline_lines(ix, model),
        *_compile_stats(ix, model, rows, compilers, layout),
    ]


def _stand_in_lines(ix: Numbering, model: str) -> list[str]:
    """Says which compilers' modules ran on another release's runtime (`runs_view.own_run`)."""
    used = {}
    for key in {k.compiled for k in ix.index.runs if k.model == model}:
        by_runtime = {k.runtime: r for k, r in ix.index.runs.items() if k.compiled == key}
        run = runs_view.own_run(by_runtime, key.compiler)
        if run is not None and (stand_in := runs_view.stand_in_of(run)):
            used[key.compiler] = stand_in
    return [
        f"- compiler {c} has no runtime release of its own (no `iree-base-runtime {c}` on PyPI): "
        f"its modules ran on runtime {used[c]}, the newest of its release line (`rt {used[c]}`)."
        for c in sorted_versions(used)
    ] + ([""] if used else [])


def _behaviour_lines(ix: Numbering, model: str) -> list[str]:
    """What the model itself does (findings/behaviour.py), as `query model` says it."""
    records = [
        *(r for (m, _), r in ix.index.exports.items() if m == model),
        *(r for k, r in ix.index.runs.items() if k.model == model),
    ]
    said = behaviour.line(records, {model})
    return [f"- {said}", ""] if said else []


def _baseline_lines(ix: Numbering, model: str) -> list[str]:
    lines = []
    for exporter in sorted((e for (m, e) in ix.index.exports if m == model), key=natural_key):
        export = ix.index.exports[ExportKey(model, exporter)]
        metric = export.metric.of(ExportMetrics)
        extras = [f"export {formats.seconds(metric.seconds)}"] if metric.seconds is not None else []
        extras += [f"MLIR {size(metric.mlir_bytes)}"] if metric.mlir_bytes is not None else []
        if metric.eager_median is None and not extras:
            continue
        text = timing_text(runs_view.timing(export, eager=True))
        # One thread's CPU time first, the figure 'Your machine' compares: a loaded wall time read 1.83 s
        # for a call of 10 ms of CPU.
        if (cpu := CpuFigure.of(metric.eager_cpu_ms)) is not None:
            span = f" ({duration_ms(cpu.low)}–{duration_ms(cpu.high)})" if cpu.low and cpu.high else ""
            text = (
                f"{cpu.text()} per call, one thread's CPU time{span}; on the matrix's threads, wall: {text}"
            )
        lines.append(f"- torch eager: {text} ({exporter}{'; ' + ', '.join(extras) if extras else ''})")
    return [*lines, ""] if lines else []


def timing_text(figure: runs_view.Timing | None) -> str:
    """`13.5 ms (12.9–14.2 ms, other load 0.03)`, marked and explained when noisy."""
    if figure is None:
        return "n/a"
    detail = []
    if figure.low is not None and figure.high is not None:
        detail.append(f"{duration_ms(figure.low)}–{duration_ms(figure.high)}")
    if figure.other_load is not None:
        detail.append(f"other load {figure.other_load:.2g} cores")
    text = f"{duration_ms(figure.median)}" + (f" ({', '.join(detail)})" if detail else "")
    if figure.noisy:
        text = f"{NOISY_MARK}{text} — noisy: {figure.why_noisy()}; re-measure on a quiet machine (`--retime`)"
    return text


def _compile_stats(
    ix: Numbering, model: str, rows: list[RowKey], compilers: list[str], layout: _RowLayout
) -> list[str]:
    cells = [
        [_compile_stat_cell(ix.index.compiles.get(CompileKey(model, *row, c))) for c in compilers]
        for row in rows
    ]
    if not any(any(row) for row in cells):
        return []
    table_rows = [layout.left(row) + row_cells for row, row_cells in zip(rows, cells)]
    return ["Compile time and module size:", "", markdown.table(layout.headers + compilers, table_rows), ""]


def _compile_stat_cell(compiled: Record | None) -> str:
    if compiled is None:
        return ""
    m = compiled.metric.of(CompileMetrics)
    parts = [formats.seconds(m.seconds)] if m.seconds is not None else []
    return ", ".join(parts + ([size(m.module_bytes)] if m.module_bytes is not None else []))
