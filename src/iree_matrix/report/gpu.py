"""COMPATIBILITY.md's GPU targets (docs/gpu.md): per model, GPU target and compiler, did it compile,
and its run by the runtime (torch's answer, or "not run" and why); and the site's GPU page. Nothing
when the records hold no GPU target."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Optional

from iree_matrix.core import formats
from iree_matrix.core.model import refusals
from iree_matrix.core.model.metrics.compile import CompileMetrics
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.results import Record, Status, latest_by_job
from iree_matrix.findings import gpu as answers_gpu
from iree_matrix.findings import runs_view
from iree_matrix.iree import targets
from iree_matrix.report import markup
from iree_matrix.report.figures import Square, heatmap, legend
from iree_matrix.report.markdown import github_table

TITLE = "GPU targets"
PAGE = "Does my model compile for Vulkan / CUDA / ROCm, and run there?"
_Key = tuple[str, str, str, str]  # function (the label `model`), target, compiler, profile


def _gathered(records: Iterable[Record]) -> tuple[dict[_Key, Record], dict[_Key, list[Record]]]:
    """The GPU targets' compile records by cell, and each cell's runs on any runtime."""
    latest = latest_by_job(records).values()
    chosen = [r for r in latest if r.stage in ("compile", "run") and targets.is_gpu(r.label.arch)]
    compiles = {_cell(r): r for r in chosen if r.stage == "compile"}
    return compiles, runs_view.grouped_by((_cell(r), r) for r in chosen if r.stage == "run")


def gpu_section(records: Iterable[Record]) -> list[str]:
    compiles, runs = _gathered(records)
    if not compiles:
        return []
    rows = [
        [*cell[:3], run.label.runtime if run else "", *_compiled(compiles[cell]), _run(run)]
        for cell in sorted(compiles, key=lambda c: (c[0], c[1], runs_view.version_key(c[2]), c[3]))
        for run in sorted(runs.get(cell, []), key=lambda r: runs_view.version_key(r.label.runtime)) or (None,)
    ]
    headers = ["model", "target", "compiler", "runtime", "compile", "module", "compile time", "run"]
    intro = (
        "Each compiler's module for a GPU backend (`--iree-hal-target-backends=vulkan-spirv`, `cuda` "
        "with `--iree-cuda-target`, `rocm` with the release's `--iree-hip-target` / `--iree-rocm-target`), "
        "run by the runtime on its HAL driver (`vulkan`, `cuda`, `hip`) where the runtime lists a device "
        "of that kind (docs/gpu.md). A Vulkan run on a software device (Mesa's lavapipe, or SwiftShader "
        "for the runtimes that hide lavapipe) is checked "
        'against torch like every cell; its time is the CPU\'s, marked emulated. "not run" is the '
        "runtime's answer on this machine (no such device, or a runtime that hides the only one), never "
        "a failure: on a machine with the device the same cells run."
    )
    return [f"## {TITLE}", "", intro, "", github_table(rows, headers), ""]


def _cell(r: Record) -> _Key:
    return (r.label.model, r.label.arch, r.label.compiler, r.label.profile)


def _compiled(r: Record) -> list[str]:
    m = r.metric.of(CompileMetrics)
    if r.status is Status.OK:
        return ["✅", formats.size_or(m.module_bytes), f"{m.seconds:.1f} s" if m.seconds is not None else ""]
    return [("➖ " if r.status is Status.SKIP else "❌ ") + answers_gpu.compile_words(r, limit=160), "", ""]


def _run(r: Optional[Record]) -> str:
    if r is None:
        return ""
    m = r.metric.of(RunMetrics)
    if r.status is Status.SKIP:
        return runs_view.clip(runs_view.first_line(r.message or ""), 200)
    if r.status is Status.NOT_RUN:
        return "not run (the compile did not succeed)"
    if r.status in (Status.OK, Status.MISMATCH):
        check = "matches torch" if r.status is Status.OK else "differs from torch"
        err = f" (max abs err {m.max_abs_err:.2g})" if m.max_abs_err is not None else ""
        time = f", {formats.duration_ms(m.latency_median)}" if m.latency_median is not None else ""
        on = f" on {m.timing.split(': ', 1)[-1][:-1]}" if m.emulated and m.timing and ": " in m.timing else ""
        return f"{'✅' if r.status is Status.OK else '⚠️'} {check}{err}{time}{on}"
    return f"❌ {r.status.value}: {runs_view.clip(runs_view.first_line(r.message or ''), 160)}"


# --- the site's GPU page: one heatmap per target (function × compiler), and the runtime cross -----


@dataclasses.dataclass(frozen=True)
class Heat(Square):
    """A square of a GPU heatmap (its `title`: the cell's words), and the heatmap it is in (`target`)."""

    target: str = ""


def own_runtime_cells(records: Iterable[Record]) -> list[Heat]:
    """Per target, function and compiler: run on its own release's runtime (torch's answer), compiled
    but not run here (no such device: a compile is an answer on its own), or the compile's failure."""
    compiles, runs = _gathered(records)
    out = []
    for key, compiled in compiles.items():
        function, target, compiler, profile = key
        row = function if profile == "default" else f"{function} [{profile}]"
        run = answers_gpu.own_runtime_run(compiler, runs.get(key, []))
        if compiled.status is not Status.OK:
            words = "compile " + answers_gpu.compile_words(compiled, limit=160)
            state, job = compiled.status.value, compiled.job
        elif run is None or run.status in (Status.SKIP, Status.NOT_RUN):
            why = _run(run) if run is not None else "no run recorded"
            built = ", ".join(x for x in _compiled(compiled)[1:3] if x)
            state, words, job = "compiled", f"compiles ({built}); {why}", compiled.job
        else:
            state, words, job = run.status.value, _run(run), run.job
        out.append(Heat(row, compiler, state, words, job, target))
    return out


def cross_cells(records: Iterable[Record]) -> list[Heat]:
    """Compiler × runtime per target where the records hold the cross, refusals in their own words."""
    _compiles, runs = _gathered(records)
    subjects = runs_view.grouped_by(
        ((target, function), r) for (function, target, _, _), rs in runs.items() for r in rs
    )
    # A subject whose every module ran only on its own release's runtime has no cross to draw.
    pairs = [
        r
        for rs in subjects.values()
        if len({(r.label.compiler, r.label.runtime) for r in rs}) > len({r.label.compiler for r in rs})
        for r in rs
    ]
    out = []
    for r in pairs:
        state = answers_gpu.cross_state(r)
        words = f"{state}: {refusals.reason(r.message)}" if state == answers_gpu.REFUSES else _run(r)
        subject = f"{r.label.arch} · {r.label.model}"
        out.append(Heat(r.label.compiler, r.label.runtime, state, words, r.job, subject))
    return out


def html_body(records: Sequence[Record]) -> list[str]:
    """The GPU page: per target, function × compiler on its own runtime, then the runtime cross."""
    crossed, cross = cross_cells(records), "Which runtime loads which compiler's module: "
    return [
        "<p class=lead>Each compiler's module for the target, run on its own release's runtime where "
        "a device of that kind is here (on a machine without a GPU, a software Vulkan device: Mesa's "
        "lavapipe, or SwiftShader for the runtimes that hide lavapipe; the hover says which) and "
        "checked against torch. ○ compiled, not run here: no device of that kind — on a machine with "
        "the device the same cells run. A time on a software device is the CPU's, not a GPU's.</p>",
        legend(gpu=True),
        *_heat_figures(own_runtime_cells(records), "gpu", "", sorted, "IREE compiler release", "function"),
        *_heat_figures(crossed, "cross", cross, runs_view.sorted_versions, "runtime", "compiler"),
    ]


def _heat_figures(
    heats: Sequence[Heat],
    prefix: str,
    heading: str,
    order_rows: Callable[[Iterable[str]], list[str]],
    xlabel: str,
    ylabel: str,
) -> list[str]:
    """A GPU heatmap (its heading, `heading` and the target, and figure) per target; columns are releases."""
    out = []
    for target in sorted({h.target for h in heats}):
        mine = [h for h in heats if h.target == target]
        fid = f"{prefix}-" + re.sub(r"[^a-z0-9]+", "-", target.lower())
        rows, cols = order_rows({h.row for h in mine}), runs_view.sorted_versions({h.col for h in mine})
        figure = heatmap(mine, rows, cols, fid, xlabel=xlabel, ylabel=ylabel)
        out += [f"<h2 id={fid}>{heading}{markup.e(target)}</h2>", figure]
    return out
