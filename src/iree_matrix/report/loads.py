"""COMPATIBILITY.md's runtime sections: "Can runtime B load a module built by compiler A?" (a
compiler × runtime table per module, and all models at once), "One module, several runtimes" (a
wheel's, one built here, each HAL driver) and "IREE runtimes built from source"."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Optional, TypeVar

from iree_matrix.core import formats
from iree_matrix.core.formats import size
from iree_matrix.core.model import refusals
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.metrics.runtime_build import RuntimeBuildMetrics
from iree_matrix.core.model.records import runtime_name
from iree_matrix.core.model.results import CompileKey, Record, RunKey, Status
from iree_matrix.findings import load_windows, runs_view
from iree_matrix.findings.runs_view import clip, first_line, natural_key, refusal_reason, sorted_versions
from iree_matrix.report import by_model, markdown
from iree_matrix.report.failures import MAX_NOTE_CHARS
from iree_matrix.report.numbering import FAILURE_STATUSES, REFUSED_MARK, Numbering, status_text
from iree_matrix.report.sections import View

LOAD = "Can runtime B load a module built by compiler A?"
RUNTIMES = "One module, several runtimes"
BUILDS = "IREE runtimes built from source"
T = TypeVar("T")


def _load_cell(ix: Numbering, run: Record | None) -> str:
    if run is None:
        return ""
    if run.status is Status.OK:
        return "✅ loads"
    if run.status is Status.MISMATCH:
        return f"⚠️ loads, mismatch{ix.ref(run.job)}"
    if run.status is Status.FAIL:
        icon = REFUSED_MARK if refusals.is_answer(run) else "❌"
        return f"{icon} {refusal_reason(run.message)}{ix.ref(run.job)}"
    if run.status is Status.SKIP:
        return f"➖ {clip(first_line(run.message, ()), runs_view.MAX_REASON_CHARS)}".rstrip()
    return ix.stage_outcome(run)


def load_section(view: View) -> list[str]:
    ix = view.numbered
    out = [
        f"## {LOAD}",
        "",
        "Rows: the IREE compiler that built the module; columns: the IREE runtime that loaded "
        "it. An empty cell is a pair the matrix did not include.",
        "",
    ]
    # The (model, exporter, profile, arch) groups with at least one cross cell: a group whose
    # modules were only run by their own runtime is in the per-model tables already.
    crossed = {_load_group(k) for k in ix.index.runs if k.compiler != k.runtime}
    groups = sorted(crossed, key=lambda g: tuple(natural_key(p) for p in g))
    if not ix.index.runs:
        return [*out, "No run results yet.", ""]
    if len({_load_group(k) for k in ix.index.runs}) > 1:
        by_pair = runs_view.grouped_by(((k.compiler, k.runtime), r) for k, r in ix.index.runs.items())
        out += ["### All models", "", _cross(by_pair, _combined_load_cell), ""]
    return out + [line for group in groups for line in _load_group_table(ix, group)]


def _load_group(key: RunKey) -> tuple[str, str, str, str]:
    """A load table's group: the module's model, exporter, profile and target (every compiler and runtime)."""
    return (key.model, key.exporter, key.profile, key.arch)


def _load_group_table(ix: Numbering, group: tuple[str, str, str, str]) -> list[str]:
    model, exporter, profile, arch = group
    runs = {(k.compiler, k.runtime): r for k, r in ix.index.runs.items() if _load_group(k) == group}
    versions = load_windows.module_versions(runs_view.Runs(ix.index, profile=profile or "default"))
    table = _cross(
        runs, lambda run: _load_cell(ix, run), lambda release: _release_with_versions(release, versions)
    )
    scope = ", ".join(
        [f"`{exporter}`", *(f"{k} `{v}`" for k, v in (("profile", profile), ("arch", arch)) if v)]
    )
    return [f"### {model}", "", scope, "", table, ""]


def _cross(
    by_pair: Mapping[tuple[str, str], T],
    cell: Callable[[Optional[T]], str],
    named: Callable[[str], str] = str,
) -> str:
    """A table of compiler ↓ runtime →: each release as `named` says it, each pair's cell as `cell` does."""
    compilers, runtimes = (sorted_versions(pair[side] for pair in by_pair) for side in (0, 1))
    rows = [[named(c), *(cell(by_pair.get((c, rt))) for rt in runtimes)] for c in compilers]
    return markdown.table(["compiler ↓ runtime →", *map(named, runtimes)], rows)


def _release_with_versions(release: str, versions: Mapping[str, Mapping[str, str]]) -> str:
    """`3.9.0 (bc 15.0, hal 6)`: a compiler's modules ask for these; the runtime of the same release
    accepts them (its own modules)."""
    v = versions.get(release) or {}
    parts = ([f"bc {v['bytecode']}"] if "bytecode" in v else []) + ([f"hal {v['hal']}"] if "hal" in v else [])
    return f"{release} ({', '.join(parts)})" if parts else release


def _combined_load_cell(runs: Optional[list[Record]]) -> str:
    """✅ only if every model's module loaded; otherwise the most common refusal."""
    if not runs:
        return ""
    if not (tried := [r for r in runs if r.status in (*FAILURE_STATUSES, Status.OK)]):
        return "⛔ not run"
    if refused := [r for r in tried if r.status in (Status.FAIL, Status.TIMEOUT)]:
        reasons = Counter(
            "timeout" if r.status is Status.TIMEOUT else refusal_reason(r.message) for r in refused
        )
        failed = [r for r in refused if r.status is Status.FAIL]
        icon = "⏱" if not failed else REFUSED_MARK if all(refusals.is_answer(r) for r in failed) else "❌"
        share = f" ({len(refused)} of {len(tried)} cells)" if len(refused) < len(tried) else ""
        return f"{icon} {reasons.most_common(1)[0][0]}{share}"
    if (mismatched := sum(r.status is Status.MISMATCH for r in tried)) == len(tried):
        return "⚠️ loads, mismatch"
    return "✅ loads" + (f" ({mismatched} of {len(tried)} cells mismatch)" if mismatched else "")


def builds_section(view: View) -> list[str]:
    ix = view.numbered
    builds = sorted((r for r in ix.index.by_job.values() if r.stage == "runtime-build"), key=lambda r: r.job)
    if not builds:
        return []
    rows = []
    for r in builds:
        m = r.metric.of(RuntimeBuildMetrics)
        head = [r.label.runtime or r.label.arch, r.label.arch, r.label.linkage]
        if r.status is not Status.OK:
            rows.append(
                [*head, status_text(r.status), *[""] * 4, clip(first_line(r.message), MAX_NOTE_CHARS)]
            )
            continue
        sizes = []
        for tool in ("iree-run-module", "iree-benchmark-module"):
            full, stripped = m.tool_bytes(tool), m.tool_bytes(tool, stripped=True)
            sizes.append(f"{size(full)} ({size(stripped)} stripped)" if full and stripped else "")
        rows.append(
            [
                *head,
                formats.seconds(m.build_seconds) if m.build_seconds else "",
                *sizes,
                ", ".join(m.needed) or "none (static)",
                ", ".join(m.glibc_versions) or "—",
                m.cflags,
            ]
        )
    headers = [
        "runtime",
        "target",
        "linkage",
        "build",
        "iree-run-module",
        "iree-benchmark-module",
        "NEEDED",
        "GLIBC versions",
        "flags / note",
    ]
    sources = sorted(
        {r.label.runtime_source or r.metric.of(RuntimeBuildMetrics).source for r in builds} - {""}
    )
    intro = (
        "IREE's runtime built here from source with cmake (a `src:<release>` runtime, or `nox -s "
        "armv6_smoke` for the Pi Zero: IREE publishes no 32-bit ARM runtime), from "
        + ", ".join(f"`{source_name(s)}`" for s in sources)
        + " (a tarball is IREE's tree at the release's tag with its submodules: docs/arm.md, \"Getting IREE's"
        " source\"). A cross build uses the native build's host tools. What a dynamic build needs from the "
        "target's C library is its NEEDED list and GLIBC symbol versions; a static build needs nothing."
    )
    return [f"## {BUILDS}", "", intro, "", markdown.table(headers, rows), ""]


def source_name(source: str) -> str:
    """A local tarball or directory by its name (where it lay on the publishing machine tells a
    reader nothing); a git URL as it is."""
    return Path(source).name if source.startswith("/") else source


def runtimes_section(view: View) -> list[str]:
    ix = view.numbered
    groups: dict[CompileKey, dict[str, Record]] = {}
    for key, run in ix.index.runs.items():
        groups.setdefault(key.compiled, {})[key.runtime] = run
    shown = {k: g for k, g in groups.items() if sum(r.status is Status.OK for r in g.values()) >= 2}
    if not shown:
        return []
    rows = []
    for (model, _exporter, profile, arch, compiler), runs in sorted(
        shown.items(), key=lambda kv: tuple(natural_key(p) for p in kv[0])
    ):
        for runtime in sorted_versions(runs):
            run = runs[runtime]
            binary = run.metric.of(RunMetrics).iree_run_module_bytes
            rows.append(
                [
                    model,
                    compiler,
                    arch,
                    profile,
                    runtime_name(run.label.runtime),
                    run.metric.of(RunMetrics).device or run.label.device or "local-task",
                    by_model.run_cell(ix, run),
                    size(binary) if binary else "",
                ]
            )
    intro = (
        "Each module run by every runtime the matrix gave it that loaded it: a wheel's, one built here "
        "from source (`src:<release>`, its variants), and each HAL driver (`local-task`: IREE's task "
        "system; `local-sync`: everything on the calling thread). `iree-run-module` is the tool's "
        "own binary on disk (a wheel's is the one its launcher runs)."
    )
    headers = ["model", "compiler", "arch", "profile", "runtime", "device", "latency", "iree-run-module"]
    return [f"## {RUNTIMES}", "", intro, "", markdown.table(headers, rows), ""]
