"""`results/COMPATIBILITY.md`: the matrix results as a document a user can pick versions from.

Everything here is derived from the newest record per job, so re-running one cell updates the
document without rewriting history. `render_compatibility` is pure (records in, Markdown out, no
clock, no file system) so the document is reproducible from the log and testable without IREE.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Tuple

from tabulate import tabulate

from iree_matrix.answers import advice, release_verdicts
from iree_matrix.core import excerpts, formats, refusals, shipped, stats
from iree_matrix.core.atomic_files import write_atomically
from iree_matrix.core.errors import UserError
from iree_matrix.core.records import Metrics
from iree_matrix.core.results import CompileKey, ExportKey, Index, Record, RunKey, Status, latest_by_job
from iree_matrix.iree import compile_errors, hints
from iree_matrix.matrix import export_recipes as recipes
from iree_matrix.report import markdown, sections
from iree_matrix.report.exporters import render as exporters_section
from iree_matrix.report.gpu import gpu_section
from iree_matrix.report.machine import Figure as CpuFigure
from iree_matrix.report.machine import render_machine
from iree_matrix.report.performance import render_performance
from iree_matrix.report.published import BENCH_SETS, PUBLISHED_SET, render_against_published

SOURCE = "results/results.jsonl"
ICONS = {
    Status.OK: "✅",
    Status.FAIL: "❌",
    Status.MISMATCH: "⚠️",
    Status.TIMEOUT: "⏱",
    Status.SKIP: "➖",
    Status.NOT_RUN: "⛔",
}
# A runtime that would not load another release's module (refusals.is_answer): an answer, never a
# failure — its own mark, its own list (R1, R2 …) apart from the failures (F1 …).
REFUSED_MARK = "🚫"
FAILURE_STATUSES = (Status.FAIL, Status.TIMEOUT, Status.MISMATCH)
NOISY_MARK = (
    "~"  # before a timed figure taken under load or with a wide spread (release_verdicts.Timing.noisy)
)
MAX_EXCERPT_LINES = 15
MAX_EXCERPT_LINE_CHARS = 240  # MLIR dumps put whole functions on one line
MAX_NOTE_CHARS = 120
MAX_LISTED_CELLS = 20
# The first line naming one of these is the runtime's actual refusal, not a traceback frame.

RowKey = Tuple[str, str, str]  # exporter, profile, arch


@dataclass
class _FailureGroup:
    fid: str
    stage: str
    status: Status
    error_class: str
    message: str
    records: list[Record] = field(default_factory=list)


@dataclass(frozen=True)
class _Document:
    """The records (`results.Index`) and the failures and refusals this document numbers."""

    index: Index
    failures: list[_FailureGroup]
    refused: list[_FailureGroup]  # cross cells a runtime refused: answers (R1 …), not failures
    failure_ids: dict[str, str]  # job -> "F3" (a failure) or "R2" (a refusal)
    stage_order: tuple[str, ...]  # the pipeline's stages, in order (render_compatibility)

    @classmethod
    def of(cls, records: Iterable[Record], stage_order: Sequence[str] = ()) -> _Document:
        records = list(records)
        index = Index.of(records)
        order = tuple(stage_order) or tuple(dict.fromkeys(r.stage for r in records))
        latest = list(index.by_job.values())
        failures = _failure_groups((r for r in latest if not refusals.is_answer(r)), order, "F")
        refused = _failure_groups((r for r in latest if refusals.is_answer(r)), order, "R")
        ids = {r.job: g.fid for g in (*failures, *refused) for r in g.records}
        return cls(index, failures, refused, ids, order)


# ---------------------------------------------------------------------------------------------
# public API


def render_compatibility(
    records: Iterable[Record],
    source: Optional[Path] = None,
    published: Sequence[Record] = (),
    published_name: str = PUBLISHED_SET,
    stage_order: Sequence[str] = (),
    machine: bool = False,
    advised: Optional[advice.Chosen] = None,
) -> str:
    """The Markdown of `results/COMPATIBILITY.md` for `records` (newest record per job wins);
    `source` is the results log they were read from, named in the header with the command;
    `published` the published speed figures a run's own are related to (none for a published set);
    `stage_order` the pipeline's stages in order (`stages.names()`, which the command passes: this
    module renders records and does not load the stages), failures and skips listed in it; without
    it, the order the records' stages first appear in; `machine` a run's own report (not a published
    set's): IREE against torch eager and the peers on this machine, first (report/machine.py), with
    `advised` the published answers for this CPU or the nearest identity measured."""
    all_records = list(records)
    ix = _Document.of(all_records, stage_order)
    parts = [
        *_header(ix, total=len(all_records), source=source),
        *_answers_section(ix),
        *(render_machine(ix.index.by_job.values(), advised) if machine else []),
        *(
            render_against_published(list(ix.index.by_job.values()), published, published_name)
            if published
            else []
        ),
        *exporters_section(all_records),
        *_same_version_section(ix),
        # A run's own report compares by one signal (the machine section): the wall-time table of the
        # peers stays in published sets and in PERFORMANCE.md (`iree-matrix report --performance`).
        *([] if machine else render_performance(ix.index.by_job.values())),
        *_failures_section(ix),
        *_load_section(ix),
        *_refusals_section(ix),
        *_runtimes_section(ix),
        *_runtime_builds_section(ix),
        # the stages' own (report/sections/), by rank
        *sections.render(sections.Document.COMPATIBILITY, sections.View.of(ix.index.by_job.values())),
        *gpu_section(ix.index.by_job.values()),
        *_environments_section(ix),
    ]
    # Record text (a tool's message, a name) shown as text: its HTML escaped outside code, once here
    return markdown.no_html("\n".join(parts).rstrip("\n") + "\n")


def write_compatibility(
    results_path: Path,
    out_path: Path,
    records: Optional[Sequence[Record]] = None,
    stage_order: Sequence[str] = (),
) -> Path:
    """Render `results_path` into `out_path`; readers never see a half-written document. `records`:
    the log as `release_verdicts.read` gave it, when the caller has read it already; `stage_order`: as
    `render_compatibility`'s."""
    records = list(records) if records is not None else release_verdicts.read(Path(results_path))
    if not records:
        raise UserError(f"{results_path}: no results yet; run `nox -s matrix` first")
    published, name = _published_speed(Path(results_path))
    machine = not _is_published(Path(results_path))
    advised = _published_answers() if machine else None
    text = render_compatibility(records, Path(results_path), published, name, stage_order, machine, advised)
    return write_atomically(Path(out_path), text)


def _published_answers() -> Optional[advice.Chosen]:
    """The published answers (results/answers) of this CPU's identity, else of the nearest one."""
    from iree_matrix.core import host

    return advice.nearest(advice.published(shipped.results_dir() / advice.DIRNAME), host.describe())


def _is_published(results_path: Path) -> bool:
    """Whether `results_path` is a published set's log (results/…), not a run's."""
    return shipped.results_dir().resolve() in results_path.resolve().parents


def _published_speed(results_path: Path) -> tuple[list[Record], str]:
    """The published speed figures (results/bench*) a run's report relates its own to: the set made
    on this machine's CPU identity when one is published, else the reference set (PUBLISHED_SET, an
    identified one) — none when rendering a published set itself, or where the package carries none."""
    from iree_matrix.answers import identities
    from iree_matrix.core import host

    published_root = shipped.results_dir().resolve()
    if _is_published(results_path):
        return [], PUBLISHED_SET
    found: list[Record] = []
    for log in sorted(published_root.glob(f"{BENCH_SETS}/results.jsonl")):
        records = list(latest_by_job(release_verdicts.read(log)).values())
        if identities.main_identity(records) == host.identity():
            return records, log.parent.name
        if log.parent.name == PUBLISHED_SET:
            found = records
    return found, PUBLISHED_SET


# ---------------------------------------------------------------------------------------------
# indexing


def _failure_groups(
    records: Iterable[Record], stage_order: Sequence[str], prefix: str
) -> list[_FailureGroup]:
    failed = sorted(
        (r for r in records if r.status in FAILURE_STATUSES),
        key=lambda r: (_stage_rank(r.stage, stage_order), _natural_key(r.job)),
    )
    groups: dict[tuple[str, Status, str, str], _FailureGroup] = {}
    for r in failed:
        key = (r.stage, r.status, r.error_class or "", (r.message or "").strip())
        if key not in groups:
            groups[key] = _FailureGroup(f"{prefix}{len(groups) + 1}", *key)
        groups[key].records.append(r)
    return list(groups.values())


# ---------------------------------------------------------------------------------------------
# formatting helpers


def _stage_rank(stage: str, order: Sequence[str]) -> int:
    return order.index(stage) if stage in order else len(order)


_version_key, _sorted_versions, _median = (
    release_verdicts.version_key,
    release_verdicts.sorted_versions,
    release_verdicts.median,
)
_natural_key = release_verdicts.natural_key
_duration_ms, _size = formats.duration_ms, formats.size
_clip = release_verdicts.clip


def _cell(value: Any) -> str:
    """Table-safe text: a newline or a bare `|` would end the row or add a column."""
    text = " ⏎ ".join(line.strip() for line in str(value).strip().splitlines())
    return re.sub(r"(?<!\\)\|", r"\\|", text)


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    return tabulate(
        [[_cell(v) for v in row] for row in rows],
        headers=[_cell(h) for h in headers],
        tablefmt="github",
        disable_numparse=True,  # "3.10" is a version, not the float 3.1
    )


def _status_text(status: Status) -> str:
    return f"{ICONS[status]} {status.value.replace('_', ' ')}"


_first_line = release_verdicts.first_line


def _ref(ix: _Document, job: str | None) -> str:
    fid = ix.failure_ids.get(job or "")
    return f" [{fid}]" if fid else ""


def _stage_outcome(ix: _Document, record: Record) -> str:
    """`❌ compile [F2]`, `⛔ export [F1]`: which stage stopped this cell and how."""
    if record.status is Status.NOT_RUN:
        blocker = ix.index.root_blocker(record)
        stage = blocker.split(":", 1)[0] if blocker else "dependency"
        return f"⛔ {stage}{_ref(ix, blocker)}"
    return f"{ICONS[record.status]} {record.stage}{_ref(ix, record.job)}"


def _error_metrics(metric: Metrics) -> str:
    values = [("max abs err", metric.max_abs_err), ("max rel err", metric.max_rel_err), ("atol", metric.atol),
              ("rtol", metric.rtol)]  # fmt: skip
    return ", ".join(f"{label} {v:.1e}" for label, v in values if v is not None)


# ---------------------------------------------------------------------------------------------
# header


def generated_by(source: Optional[Path]) -> tuple[str, str]:
    """(the results log, the command that renders it) as a reader can repeat them: a path relative
    to the working directory where it is under it, and `nox -s report` for the published results."""
    if source is None:
        return SOURCE, "nox -s report"
    shown = Path(os.path.relpath(source)) if not os.path.relpath(source).startswith("..") else Path(source)
    folder = shown.parent
    command = "nox -s report" if str(shown) == SOURCE else f"iree-matrix report --results-dir {folder}"
    return str(shown), command


def _header(ix: _Document, total: int, source: Optional[Path] = None) -> list[str]:
    hosts = _hosts(list(ix.index.by_job.values()))
    finished = max((r.finished for r in ix.index.by_job.values() if r.finished), default=None)
    shown, command = generated_by(source)
    note = (
        f"_Generated from `{shown}` by `{command}` (do not edit by hand); "
        f"{len(ix.index.by_job)} records (the newest per job, of {total} in the log); "
        f"hosts: {'; '.join(hosts) or 'unknown'}"
        + (f"; newest result finished {finished}" if finished else "")
        + "._"
    )
    legend = (
        "**Legend.** ✅ ok: the stage succeeded (a run cell shows the median latency of the "
        "compiled module); ❌ fail: the tool failed in the stage the cell names; ⚠️ mismatch: the "
        "module ran but its outputs differ from torch beyond the model's tolerance (numerically "
        "wrong); ⏱ timeout: the stage ran out of time; ➖ skip: the stage does not apply to this "
        "cell; ⛔ not run: a stage it depends on did not succeed, and the cell names that stage; "
        f"{REFUSED_MARK} refused: a runtime would not load another release's module — an answer "
        "to whether it can, not a failure. "
        "`[F3]` points to failure F3 under "
        "[Failures and their reasons](#failures-and-their-reasons), `[R2]` to refusal R2 under "
        "[Refusals and the runtimes' reasons](#refusals-and-the-runtimes-reasons). "
        f"`{NOISY_MARK}` before a time marks a noisy figure: other programs kept at least "
        f"{release_verdicts.NOISY_LOAD} cores busy while it was measured, or its repetitions spread by "
        "more than "
        f"{release_verdicts.NOISY_SPREAD:.0%} of the median; compare such figures with care, or "
        "re-measure them "
        "with `--retime`."
    )
    return ["# IREE compatibility matrix", "", legend, "", note, ""]


def _hosts(records: Sequence[Record]) -> list[str]:
    """Each CPU identity the records were made on, as a reader names it (family / model and LLVM's
    name where recorded: two machines whose model name is "AMD EPYC" read as two), with its system."""
    from iree_matrix.answers import identities

    seen: dict[str, Record] = {}
    for r in records:
        if r.host:
            seen.setdefault(identities.of(r), r)
    where = {
        i: ", ".join(str(r.host[k]) for k in ("machine", "system") if r.host.get(k)) for i, r in seen.items()
    }
    return sorted(f"{identities.label(records, i)} ({where[i] or 'unknown system'})" for i in seen)


# ---------------------------------------------------------------------------------------------
# same-version tables


def _models(ix: _Document) -> list[str]:
    keys: list[ExportKey | CompileKey | RunKey] = [*ix.index.exports, *ix.index.compiles, *ix.index.runs]
    return sorted({k.model for k in keys}, key=_natural_key)


def _built(ix: _Document) -> list[CompileKey | RunKey]:
    """The keys of every compile and run: what a model's rows and columns are made of."""
    return [*ix.index.compiles, *ix.index.runs]


def _model_rows(ix: _Document, model: str) -> list[RowKey]:
    rows = {(k.exporter, k.profile, k.arch) for k in _built(ix) if k.model == model}
    covered = {row[0] for row in rows}
    # An exporter whose export never got as far as a compile still needs its row.
    rows |= {(e, "", "") for (m, e) in ix.index.exports if m == model and e not in covered}
    return sorted(rows, key=lambda row: tuple(_natural_key(part) for part in row))


def _model_compilers(ix: _Document, model: str) -> list[str]:
    own = {k.compiler for k in _built(ix) if k.model == model}
    # A model whose export failed everywhere has no compile records; show the matrix's columns.
    return _sorted_versions(own or {k.compiler for k in _built(ix)}) or ["(none)"]


def _same_version_cell(ix: _Document, model: str, row: RowKey, compiler: str) -> str:
    exporter, profile, arch = row
    export = ix.index.exports.get(ExportKey(model, exporter))
    if export is not None and export.status is not Status.OK:
        return _stage_outcome(ix, export)
    key = CompileKey(model, exporter, profile, arch, compiler)
    compiled = ix.index.compiles.get(key)
    by_runtime = {k.runtime: r for k, r in ix.index.runs.items() if k.compiled == key}
    run = release_verdicts.own_run(by_runtime, compiler) or _dir_run(ix, key)
    if run is not None and run.status is not Status.NOT_RUN:
        stand_in = release_verdicts.stand_in_of(run)
        return _run_cell(ix, run) + (f" (rt {stand_in})" if stand_in else "")
    if compiled is not None and compiled.status is not Status.OK:
        return _stage_outcome(ix, compiled)
    if run is not None:
        return _stage_outcome(ix, run)
    return "✅ compile only" if compiled is not None else ""


def _dir_run(ix: _Document, compile_key: CompileKey) -> Record | None:
    """A board with no runtime wheel runs on the user's runtime directory: that is its
    same-version run (a runtime built from some IREE source the tool cannot name)."""
    for key, run in ix.index.runs.items():
        if (
            key.compiled == compile_key
            and release_verdicts.is_built_here(key.runtime)
            and not run.label.device
        ):
            return run
    return None


def _run_cell(ix: _Document, run: Record) -> str:
    if run.status is Status.OK:
        latency = run.metric.latency_median
        # qemu's speed is not the board's: such figures are marked and never compared with native ones.
        emulated = " (emulated)" if run.metric.emulated else ""
        figure = release_verdicts.timing(run)
        noisy = NOISY_MARK if figure is not None and figure.noisy else ""
        return f"✅ {noisy}{_duration_ms(latency)}{emulated}" if latency is not None else "✅ run"
    if run.status is Status.MISMATCH:
        err = run.metric.max_abs_err
        detail = f" (max err {err:.1e})" if err is not None else ""
        return f"⚠️ run{detail}{_ref(ix, run.job)}"
    return _stage_outcome(ix, run)


def _same_version_section(ix: _Document) -> list[str]:
    out = ["## Results by model (each module run by the runtime of its own compiler version)", ""]
    models = _models(ix)
    if not models:
        return [*out, "No export, compile or run results yet.", ""]
    for model in models:
        out += _model_section(ix, model)
    return out


@dataclass(frozen=True)
class _RowLayout:
    """Profile and arch get columns only when they vary; otherwise the heading names them."""

    profiles: list[str]
    arches: list[str]

    @property
    def headers(self) -> list[str]:
        return ["exporter"] + ["profile"] * (len(self.profiles) > 1) + ["arch"] * (len(self.arches) > 1)

    def left(self, row: RowKey) -> list[str]:
        exporter, profile, arch = row
        return [exporter] + [profile] * (len(self.profiles) > 1) + [arch] * (len(self.arches) > 1)

    def scope(self) -> str:
        parts = [f"profile `{self.profiles[0]}`"] if len(self.profiles) == 1 else []
        parts += [f"arch `{self.arches[0]}`"] if len(self.arches) == 1 else []
        return f"{', '.join(parts)}. " if parts else ""


def _model_section(ix: _Document, model: str) -> list[str]:
    rows = _model_rows(ix, model)
    compilers = _model_compilers(ix, model)
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
        _table(layout.headers + compilers, table_rows),
        "",
        *_stand_in_lines(ix, model),
        *_baseline_lines(ix, model),
        *_compile_stats(ix, model, rows, compilers, layout),
    ]


def _stand_in_lines(ix: _Document, model: str) -> list[str]:
    """Says which compilers' modules ran on another release's runtime (`release_verdicts.own_run`)."""
    used = {}
    for key in {k.compiled for k in ix.index.runs if k.model == model}:
        by_runtime = {k.runtime: r for k, r in ix.index.runs.items() if k.compiled == key}
        run = release_verdicts.own_run(by_runtime, key.compiler)
        stand_in = release_verdicts.stand_in_of(run) if run is not None else None
        if stand_in:
            used[key.compiler] = stand_in
    return [
        f"- compiler {c} has no runtime release of its own (no `iree-base-runtime {c}` on PyPI): "
        f"its modules ran on runtime {used[c]}, the newest of its release line (`rt {used[c]}`)."
        for c in _sorted_versions(used)
    ] + ([""] if used else [])


def _baseline_lines(ix: _Document, model: str) -> list[str]:
    lines = []
    exporters = sorted((e for (m, e) in ix.index.exports if m == model), key=_natural_key)
    for exporter in exporters:
        metric = ix.index.exports[ExportKey(model, exporter)].metric
        eager, seconds, mlir = metric.eager_median, metric.seconds, metric.mlir_bytes
        extras = ([f"export {formats.seconds(seconds)}"] if seconds is not None else []) + (
            [f"MLIR {_size(mlir)}"] if mlir is not None else []
        )
        if eager is None and not extras:
            continue
        export = ix.index.exports[ExportKey(model, exporter)]
        text = _timing_text(release_verdicts.timing(export, eager=True))
        # One thread's CPU time first, the figure 'Your machine' compares: a loaded wall time read 1.83 s
        # for a call of 10 ms of CPU (issue #52).
        cpu = CpuFigure.of(export.metric.raw.get("eager_cpu_ms"))
        if cpu is not None:
            span = f" ({_duration_ms(cpu.low)}–{_duration_ms(cpu.high)})" if cpu.low and cpu.high else ""
            text = (
                f"{cpu.text()} per call, one thread's CPU time{span}; on the matrix's threads, wall: {text}"
            )
        lines.append(f"- torch eager: {text} ({exporter}{'; ' + ', '.join(extras) if extras else ''})")
    return [*lines, ""] if lines else []


def _timing_text(figure: release_verdicts.Timing | None) -> str:
    """`13.5 ms (12.9–14.2 ms, other load 0.03)`, marked and explained when noisy."""
    if figure is None:
        return "n/a"
    detail = []
    if figure.low is not None and figure.high is not None:
        detail.append(f"{_duration_ms(figure.low)}–{_duration_ms(figure.high)}")
    if figure.other_load is not None:
        detail.append(f"other load {figure.other_load:.2g} cores")
    text = f"{_duration_ms(figure.median)}" + (f" ({', '.join(detail)})" if detail else "")
    if figure.noisy:
        text = f"{NOISY_MARK}{text} — noisy: {figure.why_noisy()}; re-measure on a quiet machine (`--retime`)"
    return text


def _compile_stats(
    ix: _Document, model: str, rows: list[RowKey], compilers: list[str], layout: _RowLayout
) -> list[str]:
    cells = [
        [_compile_stat_cell(ix.index.compiles.get(CompileKey(model, *row, c))) for c in compilers]
        for row in rows
    ]
    if not any(any(row) for row in cells):
        return []
    table_rows = [layout.left(row) + row_cells for row, row_cells in zip(rows, cells)]
    return ["Compile time and module size:", "", _table(layout.headers + compilers, table_rows), ""]


def _compile_stat_cell(compiled: Record | None) -> str:
    if compiled is None:
        return ""
    seconds, size = compiled.metric.seconds, compiled.metric.module_bytes
    parts = ([formats.seconds(seconds)] if seconds is not None else []) + (
        [_size(size)] if size is not None else []
    )
    return ", ".join(parts)


# ---------------------------------------------------------------------------------------------
# failures


def _failures_section(ix: _Document) -> list[str]:
    out = ["## Failures and their reasons", ""]
    if not ix.failures:
        out += ["No stage failed, timed out or produced wrong numbers.", ""]
    for group in ix.failures:
        out += _failure_block(group)
    return out + _skipped_block(ix)


def _refusals_section(ix: _Document) -> list[str]:
    """The cross cells a runtime refused, grouped by its words: answers to "can runtime B load
    compiler A's module?" (the tables above), listed apart from the failures and never called one."""
    if not ix.refused:
        return []
    cells = sum(len(g.records) for g in ix.refused)
    out = [
        "## Refusals and the runtimes' reasons",
        "",
        f"{cells} cross cell{'s' if cells != 1 else ''} where a runtime would not load a module "
        "built by another release's compiler, in the runtime's own words. Each is an answer (this "
        "pair does not work), not a failure of the tool or of the model.",
        "",
    ]
    for group in ix.refused:
        out += _failure_block(group)
    return out


def _failure_block(group: _FailureGroup) -> list[str]:
    answer = refusals.is_answer(group.records[0])
    status = f"{REFUSED_MARK} refused" if answer else _status_text(group.status)
    title = f"### {group.fid}: {group.stage} {status}"
    if group.error_class:
        title += f" (`{group.error_class}`)"
    cells = [_cell_mention(r) for r in group.records]
    shown = cells[:MAX_LISTED_CELLS]
    more = len(cells) - len(shown)
    affects = f"Affects {len(cells)} cell{'s' if len(cells) != 1 else ''}: " + ", ".join(shown)
    affects += f", … and {more} more" if more else ""
    excerpt = _excerpt(group.message, group.stage)
    fence = "`" * max(3, _longest_backtick_run(excerpt) + 1)
    named = next((n for r in group.records if r.stage == "compile" for n in [_first_error(r)] if n), None)
    first = (
        [f"First error: `{named.message}`" + (f", on `{named.op}`." if named.op else "."), ""]
        if named
        else []
    )
    # A cross cell's refusal is an answer (the load tables say it): what to do is for failures.
    found = None if answer else release_verdicts.hint(group.records[0])
    todo = [f"What to do: {found.advice}.", ""] if found is not None else []
    return [title, "", *first, *todo, affects + ".", "", f"{fence}text", excerpt, fence, ""]


def _first_error(record: Record) -> Optional[compile_errors.FirstError]:
    return compile_errors.of_record(record.metrics, record.message)


def _cell_mention(record: Record) -> str:
    if record.status is Status.MISMATCH:
        detail = _error_metrics(record.metric)
        return f"`{record.cell}`" + (f" ({detail})" if detail else "")
    return f"`{record.cell}`"


def _longest_backtick_run(text: str) -> int:
    return max((len(m) for m in re.findall(r"`+", text)), default=0)


def _excerpt(message: str, stage: Optional[str] = None) -> str:
    """At most ~15 lines of the tool's words, starting near the first line that says "error"; the
    telling line — the one a known failure signature matches (iree/hints.py) — is always among them,
    whole, with a line either side, wherever it is in the message. Host paths are reduced to their
    file names (`model.mlir:89:5`): the words say the same on every machine."""
    message = excerpts.without_paths(message)
    raw = message.strip("\n").splitlines()
    if not raw:
        return "(no message recorded)"
    found = hints.find(message, stage)
    telling = next((i for i, ln in enumerate(raw) if found is not None and ln.strip() == found.line), None)
    lines = [
        ln.rstrip() if i == telling else _clip(ln.rstrip(), MAX_EXCERPT_LINE_CHARS)
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
            gap = i - previous - 1
            out.append(f"… ({gap} lines omitted)")
        out.append(lines[i])
        previous = i
    if previous < len(lines) - 1:
        out.append(f"… ({len(lines) - 1 - previous} more lines omitted)")
    return "\n".join(out)


def _skipped_block(ix: _Document) -> list[str]:
    reasons: dict[tuple[str, str], list[str]] = {}
    skipped = sorted(
        (r for r in ix.index.by_job.values() if r.status is Status.SKIP),
        key=lambda r: (_stage_rank(r.stage, ix.stage_order), _natural_key(r.job)),
    )
    for r in skipped:
        reasons.setdefault((r.stage, _first_line(r.message, ()) or "no reason given"), []).append(
            f"`{r.cell}`"
        )
    if not reasons:
        return []
    out = ["### Skipped", ""]
    for (stage, reason), cells in reasons.items():
        listed = ", ".join(cells[:MAX_LISTED_CELLS])
        listed += f", … and {len(cells) - MAX_LISTED_CELLS} more" if len(cells) > MAX_LISTED_CELLS else ""
        out.append(f"- ➖ {stage}: {_clip(reason, MAX_NOTE_CHARS)} ({listed})")
    return [*out, ""]


# ---------------------------------------------------------------------------------------------
# runtime x compiler load tables


_refusal_reason = release_verdicts.refusal_reason


def _load_cell(ix: _Document, run: Record | None) -> str:
    if run is None:
        return ""
    if run.status is Status.OK:
        return "✅ loads"
    if run.status is Status.MISMATCH:
        return f"⚠️ loads, mismatch{_ref(ix, run.job)}"
    if run.status is Status.FAIL:
        icon = REFUSED_MARK if refusals.is_answer(run) else "❌"
        return f"{icon} {_refusal_reason(run.message)}{_ref(ix, run.job)}"
    if run.status is Status.SKIP:
        return f"➖ {_clip(_first_line(run.message, ()), release_verdicts.MAX_REASON_CHARS)}".rstrip()
    return _stage_outcome(ix, run)


def _load_groups(ix: _Document) -> list[tuple[str, str, str, str]]:
    """The (model, exporter, profile, arch) groups with at least one cross cell: a group whose
    modules were only run by their own runtime is in the per-model tables already."""
    crossed = {_load_group(k) for k in ix.index.runs if k.compiler != k.runtime}
    return sorted(crossed, key=lambda g: tuple(_natural_key(p) for p in g))


def _load_section(ix: _Document) -> list[str]:
    out = [
        "## Can runtime B load a module built by compiler A?",
        "",
        "Rows: the IREE compiler that built the module; columns: the IREE runtime that loaded "
        "it. An empty cell is a pair the matrix did not include.",
        "",
    ]
    groups = _load_groups(ix)
    if not ix.index.runs:
        return [*out, "No run results yet.", ""]
    if len({_load_group(k) for k in ix.index.runs}) > 1:
        out += ["### All models", "", _combined_load_table(ix), ""]
    for group in groups:
        out += _load_group_table(ix, group)
    return out


def _load_group(key: RunKey) -> tuple[str, str, str, str]:
    """A load table's group: the module's model, exporter, profile and target (every compiler and runtime)."""
    return (key.model, key.exporter, key.profile, key.arch)


def _load_group_table(ix: _Document, group: tuple[str, str, str, str]) -> list[str]:
    model, exporter, profile, arch = group
    runs = {(k.compiler, k.runtime): r for k, r in ix.index.runs.items() if _load_group(k) == group}
    compilers = _sorted_versions(c for c, _ in runs)
    runtimes = _sorted_versions(rt for _, rt in runs)
    versions = release_verdicts.module_versions(release_verdicts.Runs(ix.index, profile=profile or "default"))
    rows = [
        [_release_with_versions(c, versions), *(_load_cell(ix, runs.get((c, rt))) for rt in runtimes)]
        for c in compilers
    ]
    runtimes = [_release_with_versions(rt, versions) for rt in runtimes]
    scope = ", ".join(
        [f"`{exporter}`"]
        + ([f"profile `{profile}`"] if profile else [])
        + ([f"arch `{arch}`"] if arch else [])
    )
    table = _table(["compiler ↓ runtime →", *runtimes], rows)
    return [f"### {model}", "", scope, "", table, ""]


def _release_with_versions(release: str, versions: Mapping[str, Mapping[str, str]]) -> str:
    """`3.9.0 (bc 15.0, hal 6)`: a compiler's modules ask for these; the runtime of the same release
    accepts them (its own modules)."""
    v = versions.get(release) or {}
    parts = ([f"bc {v['bytecode']}"] if "bytecode" in v else []) + ([f"hal {v['hal']}"] if "hal" in v else [])
    return f"{release} ({', '.join(parts)})" if parts else release


def _combined_load_table(ix: _Document) -> str:
    by_pair: dict[tuple[str, str], list[Record]] = {}
    for key, run in ix.index.runs.items():
        by_pair.setdefault((key.compiler, key.runtime), []).append(run)
    compilers = _sorted_versions(c for c, _ in by_pair)
    runtimes = _sorted_versions(rt for _, rt in by_pair)
    rows = [[c, *(_combined_load_cell(by_pair.get((c, rt), [])) for rt in runtimes)] for c in compilers]
    return _table(["compiler ↓ runtime →", *runtimes], rows)


def _combined_load_cell(runs: list[Record]) -> str:
    """✅ only if every model's module loaded; otherwise the most common refusal."""
    if not runs:
        return ""
    tried = [r for r in runs if r.status in (*FAILURE_STATUSES, Status.OK)]
    if not tried:
        return "⛔ not run"
    refused = [r for r in tried if r.status in (Status.FAIL, Status.TIMEOUT)]
    if refused:
        reasons = Counter(
            "timeout" if r.status is Status.TIMEOUT else _refusal_reason(r.message) for r in refused
        )
        failed = [r for r in refused if r.status is Status.FAIL]
        icon = "⏱" if not failed else REFUSED_MARK if all(refusals.is_answer(r) for r in failed) else "❌"
        share = f" ({len(refused)} of {len(tried)} cells)" if len(refused) < len(tried) else ""
        return f"{icon} {reasons.most_common(1)[0][0]}{share}"
    mismatched = sum(r.status is Status.MISMATCH for r in tried)
    if mismatched == len(tried):
        return "⚠️ loads, mismatch"
    return "✅ loads" + (f" ({mismatched} of {len(tried)} cells mismatch)" if mismatched else "")


# ---------------------------------------------------------------------------------------------
# environments


def _environments_section(ix: _Document) -> list[str]:
    out = ["## Environments", ""]
    if not ix.index.installs:
        return [*out, "No install records.", ""]
    rows = [_environment_row(ix, r) for r in sorted(ix.index.installs, key=_environment_sort_key)]
    headers = ["environment", "kind", "python", "status", "packages", "note"]
    return [*out, _table(headers, rows), ""]


def _environment_sort_key(record: Record) -> tuple[Any, ...]:
    return (record.label.kind, _natural_key(_environment_id(record)))


def _environment_id(record: Record) -> str:
    return record.label.env or str(record.env.get("id") or record.cell)


def _environment_row(ix: _Document, record: Record) -> list[str]:
    packages = record.env.get("packages")
    count = str(len(packages)) if isinstance(packages, Mapping) and packages else ""
    if record.status is Status.OK:
        note = str(record.env.get("backend") or "")
    elif record.status is Status.NOT_RUN:
        note = f"blocked by {record.blocked_by or 'a failed dependency'}"
    else:
        note = _clip(_first_line(record.message), MAX_NOTE_CHARS) + _ref(ix, record.job)
    status = _status_text(record.status)
    return [
        _environment_id(record),
        record.label.kind,
        record.label.python,
        status,
        count,
        note,
    ]


# ---------------------------------------------------------------------------------------------
# answers: windows, recommendations, regressions, identical exports (derived in answers.py)


def _answers_section(ix: _Document) -> list[str]:
    runs = release_verdicts.Runs(ix.index)
    out = ["## Answers", ""]
    out += _windows_block(runs)
    out += _recommendations_block(runs)
    out += _regressions_block(runs)
    out += _identical_block(runs)
    return out


def _versions_text(versions: Mapping[str, str] | None) -> str:
    if not versions:
        return "not read"
    names = {"bytecode": "bytecode", "hal": "hal ≥", "features": "features"}
    return ", ".join(
        f"{names[k]} {versions[k]}".replace("≥ ", "≥")
        for k in ("bytecode", "hal", "features")
        if k in versions
    )


def _windows_block(runs: release_verdicts.Runs) -> list[str]:
    # A runtime no run reached (its install failed, e.g. a compiler release without a runtime
    # release of the same version) has no window: the failures list says why.
    windows = [w for w in release_verdicts.windows(runs) if w.loads or w.refuses]
    if not windows:
        return []
    versions = release_verdicts.module_versions(runs)
    rows = []
    for w in windows:
        refused = ", ".join(w.refuses) or "—"
        rows.append([
            w.runtime,
            _versions_text(versions.get(w.runtime)),
            f"{w.low}–{w.high}" if w.loads and w.low != w.high else (w.low or "none"),
            refused,
            "; ".join(w.contradictions) or "none",
        ])  # fmt: skip
    intro = (
        "**Can runtime B load a module built by compiler A?** Each runtime release was given the "
        "modules of every compiler release (the functions in the cross tables below). A window is "
        "the range from the oldest to the newest compiler whose modules the runtime loaded; every "
        "cell that contradicts a contiguous range is listed. A runtime's own modules say what it "
        "expects (VM bytecode version, HAL module version, feature bits), read from the .vmfb."
    )
    headers = ["runtime", "its own modules", "loads modules from compilers", "refuses", "contradictions"]
    return [intro, "", _table(headers, rows), ""]


def _recommendations_block(runs: release_verdicts.Runs) -> list[str]:
    recs = [r for r in release_verdicts.recommendations(runs) if r.releases]
    if not recs:
        return []
    rows = []
    for rec in recs:
        newest = rec.newest_passing
        fastest = "not decided (no paired rounds, no quiet sitting)"
        if rec.fastest is not None and rec.fastest_ratio is not None:
            speed = f"{formats.ratio(rec.fastest_ratio)} the newest's speed, {rec.fastest_basis}"
            fastest = f"{rec.fastest.compiler} ({speed})"
        elif rec.fastest_basis:
            fastest = f"no release faster than the newest ({rec.fastest_basis})"
        elif newest is None or newest.latency_ms is None:
            fastest = "—"
        rows.append([
            rec.model,
            f"{sum(r.passes for r in rec.releases)} of {len(rec.releases)}",
            newest.compiler if newest else "none",
            fastest,
            f"{rec.smallest.compiler} ({_size(rec.smallest.module_bytes)})"
            if rec.smallest and rec.smallest.module_bytes is not None
            else "—",
        ])  # fmt: skip
    every = _every_model_passes([r for r in recs if r.newest_passing is not None])
    never = [r.model for r in recs if r.newest_passing is None]
    intro = (
        "**Which IREE release should I use?** Per model (all its functions, its reference exporter, "
        "each module run by its own release's runtime): the newest release "
        "where every function compiles and matches torch; the fastest correct release, named only from "
        "paired rounds against the newest (`iree-matrix compare NEWEST OTHER`, kept beside the log) or "
        "from one quiet sitting's one-thread CPU times on one identified CPU where it beats the newest by "
        f"more than {release_verdicts.NOISE_RATIO}× (this machine's noise between sittings); the smallest "
        "module."
    )
    overall = f"Overall, the newest release where every model that passes anywhere passes: **{every}**"
    passing = {m: _passing_recipes(m, recs) for m in never}
    named = [
        f"`{m}` as exported (recipes that pass: {', '.join(r)})" if r else f"`{m}`"
        for m, r in passing.items()
    ]
    overall += "." + (
        f" No release passes {('; ' if any(passing.values()) else ', ').join(named)}." if never else ""
    )
    headers = ["model", "releases that pass", "newest passing", "fastest correct", "smallest module"]
    return [intro, "", _table(headers, rows), "", overall, ""]


def _passing_recipes(model: str, recs: Sequence[release_verdicts.Recommendation]) -> list[str]:
    """The export recipes of a model no release passes (MODEL~CHOICE, matrix/export_recipes.py) that
    pass in the same records, each with its oldest passing release: "no release passes
    `llama@transformers`" alone read as if nothing could run it, beside its `~eager+select-cache` row
    passing on 4 of 4."""
    found = []
    for rec in recs:
        base, recipe = recipes.split(rec.model)
        if base == model and recipe and rec.newest_passing is not None:
            oldest = release_verdicts.sorted_versions({r.compiler for r in rec.releases if r.passes})[0]
            found.append(f"`{rec.model}` from {oldest}")
    return found


def _every_model_passes(recs: Sequence[release_verdicts.Recommendation]) -> str:
    passing = [{r.compiler for r in rec.releases if r.passes} for rec in recs]
    common = set.intersection(*passing) if passing else set()
    return release_verdicts.sorted_versions(common)[-1] if common else "none"


def _regressions_block(runs: release_verdicts.Runs) -> list[str]:
    found = release_verdicts.regressions(runs)
    intro = (
        "**Regressions between consecutive releases** (each module run by its own runtime): a function "
        "that passed and then fails; slower by the paired test where the two releases were timed in "
        "interleaved rounds (`iree-matrix compare OLDER NEWER`, kept beside the log: it decides over the "
        f"medians); else, for two figures of one identified CPU, a latency up by more than "
        f"{release_verdicts.NOISE_RATIO}× where neither figure is noisy, or — with a noisy one — where "
        "the newer "
        f"release's fastest repetition is over {release_verdicts.LOADED_RATIO:g}× the older's slowest "
        "(more than "
        "contention explains), or more instructions per call; a timing of a record that names no CPU "
        f"family/model, or of fewer than {stats.MIN_REPETITIONS} repetitions (too few for an interval), "
        f"decides nothing; a module more than {release_verdicts.SIZE_RATIO - 1:.0%} larger."
    )
    if not found:
        return [intro, "", "None found.", ""]
    rows = [[g.subject, f"{g.older} → {g.newer}", g.kind, g.detail, f"`{g.evidence[1]}`"] for g in found]
    return [intro, "", _table(["function", "releases", "kind", "what", "evidence"], rows), ""]


def _identical_block(runs: release_verdicts.Runs) -> list[str]:
    groups = [g for g in release_verdicts.identical_exports(runs) if len(g.exporters) > 1]
    exported = {f for (f, _) in runs.exports}
    many = {f for f in exported if sum(1 for (g, _) in runs.exports if g == f) > 1}
    if not many:
        return []
    lines = [
        "**Exporters that write the same MLIR.** Byte-identical exports share one compile and one run "
        "per compiler (the store keys them by content), so their rows agree by construction:",
        "",
    ]
    for function in sorted(many):
        same = [g for g in groups if g.function == function]
        if not same:
            lines.append(f"- `{function}`: every exporter wrote different MLIR.")
        for g in same:
            lines.append(
                f"- `{function}`: {', '.join(f'`{e}`' for e in g.exporters)} (sha256 {g.sha256[:12]}…)"
            )
    return [*lines, ""]


# ---------------------------------------------------------------------------------------------
# IREE runtimes built from source (armv6-smoke)


def _runtime_builds_section(ix: _Document) -> list[str]:
    builds = sorted((r for r in ix.index.by_job.values() if r.stage == "runtime-build"), key=lambda r: r.job)
    if not builds:
        return []
    rows = []
    for r in builds:
        m = r.metric
        if r.status is not Status.OK:
            note = _clip(_first_line(r.message), MAX_NOTE_CHARS)
            rows.append([r.label.runtime or r.label.arch, r.label.arch, r.label.linkage,
                         _status_text(r.status), "", "", "", "", note])  # fmt: skip
            continue
        sizes = []
        for tool in ("iree-run-module", "iree-benchmark-module"):
            full, stripped = m.tool_bytes(tool), m.tool_bytes(tool, stripped=True)
            sizes.append(f"{_size(full)} ({_size(stripped)} stripped)" if full and stripped else "")
        seconds = m.build_seconds
        rows.append([
            r.label.runtime or r.label.arch, r.label.arch, r.label.linkage,
            formats.seconds(seconds) if seconds else "", *sizes,
            ", ".join(m.needed) or "none (static)",
            ", ".join(m.glibc_versions) or "—",
            m.cflags,
        ])  # fmt: skip
    headers = ["runtime", "target", "linkage", "build", "iree-run-module", "iree-benchmark-module", "NEEDED",
               "GLIBC versions", "flags / note"]  # fmt: skip
    sources = sorted({r.label.runtime_source or r.metric.source for r in builds} - {""})
    intro = (
        "IREE's runtime built here from source with cmake (a `src:<release>` runtime, or `nox -s "
        "armv6_smoke` for the Pi Zero: IREE publishes no 32-bit ARM runtime), from "
        + ", ".join(f"`{_source_name(s)}`" for s in sources)
        + " (a tarball is IREE's tree at the release's tag with its submodules: docs/arm.md, \"Getting IREE's"
        " source\"). A cross build uses the native build's host tools. What a dynamic build needs from the "
        "target's C library is its NEEDED list and GLIBC symbol versions; a static build needs nothing."
    )
    return ["## IREE runtimes built from source", "", intro, "", _table(headers, rows), ""]


# ---------------------------------------------------------------------------------------------
# one module, several runtimes (a wheel's and one built here; local-task and local-sync)


def _source_name(source: str) -> str:
    """A local tarball or directory by its name (where it lay on the publishing machine tells a
    reader nothing); a git URL as it is."""
    return Path(source).name if source.startswith("/") else source


def _runtimes_section(ix: _Document) -> list[str]:
    groups: dict[CompileKey, dict[str, Record]] = {}
    for key, run in ix.index.runs.items():
        groups.setdefault(key.compiled, {})[key.runtime] = run
    shown = {k: g for k, g in groups.items() if sum(r.status is Status.OK for r in g.values()) >= 2}
    if not shown:
        return []
    rows = []
    for (model, _exporter, profile, arch, compiler), runs in sorted(
        shown.items(), key=lambda kv: tuple(_natural_key(p) for p in kv[0])
    ):
        for runtime in _sorted_versions(runs):
            run = runs[runtime]
            size = run.metric.iree_run_module_bytes
            rows.append([
                model, compiler, arch, profile, release_verdicts.runtime_name(run.label.runtime),
                run.metric.device or run.label.device or "local-task",
                _run_cell(ix, run), _size(size) if size else "",
            ])  # fmt: skip
    intro = (
        "Each module run by every runtime the matrix gave it that loaded it: a wheel's, one built here "
        "from source (`src:<release>`, its variants), and each HAL driver (`local-task`: IREE's task "
        "system; `local-sync`: everything on the calling thread). `iree-run-module` is the tool's "
        "own binary on disk (a wheel's is the one its launcher runs)."
    )
    headers = ["model", "compiler", "arch", "profile", "runtime", "device", "latency", "iree-run-module"]
    return ["## One module, several runtimes", "", intro, "", _table(headers, rows), ""]
