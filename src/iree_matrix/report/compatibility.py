"""`results/COMPATIBILITY.md`: the matrix results as a document a user can pick versions from, from
the newest record per job. `render_compatibility` is pure (no clock, no file system), so the document
is reproducible from the log; it is a head, then every section by rank (report/sections/)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Callable, Optional

from iree_matrix.core import shipped
from iree_matrix.core.atomic_files import write_atomically
from iree_matrix.core.errors import UserError
from iree_matrix.core.model.results import LOG, Record, Status, latest_by_job
from iree_matrix.findings import advice, identities, results_folder, runs_view
from iree_matrix.findings.results_folder import Results
from iree_matrix.report import (
    by_model,
    exporters,
    failures,
    gpu,
    loads,
    machine,
    markdown,
    performance,
    published,
    release_answers,
)
from iree_matrix.report import sections as registry
from iree_matrix.report.numbering import NOISY_MARK, REFUSED_MARK, Numbering, status_text
from iree_matrix.report.published import BENCH_SETS, PUBLISHED_SET
from iree_matrix.report.sections import Document, Section, Setting, View

SOURCE = f"results/{LOG}"


def render_compatibility(
    records: Iterable[Record], source: Optional[Path] = None, setting: Optional[Setting] = None
) -> str:
    """The Markdown of `results/COMPATIBILITY.md` for `records` (newest record per job wins), read from
    `source`, rendered for `setting` (none: a published set's; its `stage_order` is passed by the
    command, since this module does not load the stages)."""
    all_records = list(records)
    view = View.of(latest_by_job(all_records).values(), setting=setting or Setting())
    parts = [
        *_header(view, total=len(all_records), source=source),
        *registry.render(Document.COMPATIBILITY, view, OWN),
    ]
    # Record text (a tool's message, a name) shown as text: its HTML escaped outside code, once here
    return markdown.no_html("\n".join(parts).rstrip("\n") + "\n")


def write_compatibility(
    results_path: Path,
    out_path: Path,
    stage_order: Sequence[str] = (),
    answers: Optional[Mapping[str, Any]] = None,
    results: Optional[Results] = None,
) -> Path:
    """Render `results_path` into `out_path` atomically, from what the caller read (else read here)."""
    results = results or results_folder.load(Path(results_path).parent)
    records = results.records
    if not records:
        raise UserError(f"{results_path}: no results yet; run `nox -s matrix` first")
    speed, name = results.published_speed(BENCH_SETS, PUBLISHED_SET)
    own = not results.is_published  # a run's own report, not a published set's
    advised = _answers_here(results.gathered, records) if own else ()
    tool = shipped.command() if own else "iree-matrix"
    setting = Setting(tuple(stage_order), own, tuple(advised), tuple(speed), name, tool, answers)
    return write_atomically(Path(out_path), render_compatibility(records, Path(results_path), setting))


def _answers_here(found: Sequence[advice.Advice], records: Sequence[Record]) -> tuple[advice.Chosen, ...]:
    """For each model the records ran, the one answer `query model` gives on this machine."""
    from iree_matrix.core.model import host_identity

    about = host_identity.here()
    ran = dict.fromkeys(row.model for row in machine.rows(latest_by_job(records).values()))
    return tuple(chosen for model in ran if (chosen := advice.answer(found, model, about)) is not None)


def generated_by(source: Optional[Path], tool: str = "iree-matrix") -> tuple[str, str]:
    """(the results log, the command that renders it) as a reader can repeat them: relative to the
    working directory where under it, `nox -s report` for the published results."""
    if source is None:
        return SOURCE, "nox -s report"
    shown = Path(os.path.relpath(source)) if not os.path.relpath(source).startswith("..") else Path(source)
    command = "nox -s report" if str(shown) == SOURCE else f"{tool} report --results-dir {shown.parent}"
    return str(shown), command


def _header(view: View, total: int, source: Optional[Path] = None) -> list[str]:
    hosts = _hosts(view.records)
    finished = max((r.finished for r in view.records if r.finished), default=None)
    shown, command = generated_by(source, view.setting.tool)
    note = (
        f"_Generated from `{shown}` by `{command}` (do not edit by hand); {len(view.records)} records (the "
        f"newest per job, of {total} in the log); hosts: {'; '.join(hosts) or 'unknown'}"
        + (f"; newest result finished {finished}" if finished else "")
        + "._"
    )
    legend = (
        "**Legend.** ✅ ok: the stage succeeded (a run cell shows the median latency of the compiled "
        "module); ❌ fail: the tool failed in the stage the cell names; ⚠️ mismatch: the module ran but its "
        "outputs differ from torch beyond the model's tolerance (numerically wrong); ⏱ timeout: the stage "
        "ran out of time; ➖ skip: the stage does not apply to this cell; ⛔ not run: a stage it depends on "
        f"did not succeed, and the cell names that stage; {REFUSED_MARK} refused: a runtime would not load "
        "another release's module — an answer to whether it can, not a failure. `[F3]` points to failure F3 "
        f"under [{failures.FAILURES}](#failures-and-their-reasons), `[R2]` to refusal R2 under "
        f"[{failures.REFUSALS}](#refusals-and-the-runtimes-reasons). `{NOISY_MARK}` before a time marks a "
        f"noisy figure: other programs kept at least {runs_view.NOISY_LOAD} cores busy while it was "
        f"measured, or its repetitions spread by more than {runs_view.NOISY_SPREAD:.0%} of the median; "
        "compare such figures with care, or re-measure them with `--retime`."
    )
    found = view.setting
    # A run's own report opens with what to take and its flags: an 80x24 screen showed the legend
    # (984 characters) and the header, and the flags sat two screens down.
    first = machine.first_screen(view.records, found.advised, found.tool) if found.own else []
    return ["# IREE compatibility matrix", "", *first, legend, "", note, ""]


def _hosts(records: Sequence[Record]) -> list[str]:
    """Each CPU identity the records were made on, as a reader names it (family / model and LLVM's
    name where recorded: two machines whose model name is "AMD EPYC" read as two), with its system."""
    seen = {identities.of(r): r for r in reversed(records) if r.host.known}  # reversed: the first one wins
    where = {i: ", ".join(filter(None, (r.host.machine, r.host.system))) for i, r in seen.items()}
    return sorted(f"{identities.label(records, i)} ({where[i] or 'unknown system'})" for i in seen)


def _environments_section(view: View) -> list[str]:
    ix = view.numbered
    out = ["## Environments", ""]
    if not ix.index.installs:
        return [*out, "No install records.", ""]
    installs = sorted(
        ix.index.installs, key=lambda r: (r.label.kind, runs_view.natural_key(_environment_id(r)))
    )
    rows = [_environment_row(ix, r) for r in installs]
    return [*out, markdown.table(["environment", "kind", "python", "status", "packages", "note"], rows), ""]


def _environment_id(record: Record) -> str:
    return record.label.env or str(record.env.get("id") or record.cell)


def _environment_row(ix: Numbering, record: Record) -> list[str]:
    packages = record.env.get("packages")
    count = str(len(packages)) if isinstance(packages, Mapping) and packages else ""
    if record.status is Status.OK:
        note = str(record.env.get("backend") or "")
    elif record.status is Status.NOT_RUN:
        note = f"blocked by {record.blocked_by or 'a failed dependency'}"
    else:
        note = runs_view.clip(runs_view.first_line(record.message), failures.MAX_NOTE_CHARS)
        note += ix.ref(record.job)
    status = status_text(record.status)
    return [_environment_id(record), record.label.kind, record.label.python, status, count, note]


def _own(
    name: str, rank: int, title: str, stages: tuple[str, ...], render: Callable[[View], list[str]]
) -> Section:
    return Section(name, Document.COMPATIBILITY, rank, title, stages, render)


def _machine(view: View) -> list[str]:
    found = view.setting
    return machine.render_machine(view.records, found.advised, found.tool) if found.own else []


def _against_published(view: View) -> list[str]:
    found = view.setting
    if not found.published:
        return []
    return published.render_against_published(list(view.records), found.published, found.published_name)


def _performance(view: View) -> list[str]:
    # A run's own report compares by one signal (its machine section): the wall-time table of the
    # peers stays in published sets and in PERFORMANCE.md (`iree-matrix report --performance`).
    return [] if view.setting.own else performance.render_performance(view.records)


_TIMED, _BUILT = ("export", "run", "peer"), ("export", "compile", "run")
# COMPATIBILITY.md's sections no stage owns, and the ranks the stages' are placed between
# (report/sections/: the Cortex-M firmware 120). A run's own report leads with this machine's answer.
OWN = (
    _own("machine", 10, machine.TITLE, _TIMED, _machine),
    _own("answers", 20, release_answers.TITLE, ("compile", "run"), release_answers.section),
    _own("published", 30, published.TITLE, _TIMED, _against_published),
    _own("exporters", 40, exporters.TITLE, _BUILT, lambda view: exporters.render(view.records)),
    _own("by_model", 50, by_model.TITLE, _BUILT, by_model.section),
    _own("performance", 60, performance.PEERS, ("run", "peer"), _performance),
    _own("failures", 70, failures.FAILURES, ("install", *_BUILT, "peer"), failures.failures_section),
    _own("load", 80, loads.LOAD, ("run",), loads.load_section),
    _own("refusals", 90, failures.REFUSALS, ("run",), failures.refusals_section),
    _own("runtimes", 100, loads.RUNTIMES, ("run",), loads.runtimes_section),
    _own("runtime_builds", 110, loads.BUILDS, ("runtime-build",), loads.builds_section),
    _own("gpu", 130, gpu.TITLE, ("compile", "run"), lambda view: gpu.gpu_section(view.records)),
    _own("environments", 140, "Environments", ("install",), _environments_section),
)


def sections() -> tuple[Section, ...]:
    """COMPATIBILITY.md's sections, in order: its own (`OWN`) and the stages' (report/sections/)."""
    return registry.of(Document.COMPATIBILITY, OWN)
