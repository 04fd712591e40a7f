"""`query model NAME --target vulkan-spirv|cuda[:sm_80]|rocm[:gfx942]`: per compiler release, does
the model compile for the GPU target, and does its runtime run the module and match torch (or why
it was not run here); with the runtime cross where the records hold it (matrix/gpu-cross.toml)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, Optional

from iree_matrix.core import formats
from iree_matrix.core.errors import UserError
from iree_matrix.core.model import refusals
from iree_matrix.core.model.metrics.compile import CompileMetrics
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.results import Record, Status, latest_by_job
from iree_matrix.findings import advice, gpu_advice, load_windows, runs_view
from iree_matrix.findings import gpu_measured as measured
from iree_matrix.findings.query import NOT_MEASURED, UNKNOWN, Answer, grouped, version_listing
from iree_matrix.iree import compile_errors, targets


def known_targets() -> str:
    """The GPU targets a `--target` may name, as a matrix file spells them."""
    return ", ".join(f"{n}:<chip> ({', '.join(a.cpus)})" if a.cpus else n for n, a in targets.gpus().items())


def gpu_target(records: Sequence[Record], asked: str) -> tuple[str, list[str]]:
    """The target label `asked` names (`vulkan-spirv`, `cuda`, `cuda:sm_80`, `cuda-sm_80`) and the GPU
    targets the records hold; a backend without its chip matches the records' one chip for it, or the
    backend's default chip among several. Not a GPU target: a one-line error naming the known ones."""
    present = sorted(
        {r.label.arch for r in records if r.stage in ("compile", "run") and targets.is_gpu(r.label.arch)}
    )
    name = asked.strip().lower()
    backend = name.split(":", 1)[0]
    if backend not in targets.gpus() and not any(name.startswith(g + "-") for g in targets.gpus()):
        raise UserError(
            f"--target {asked}: not a GPU target; known: {known_targets()} "
            f"(these results hold: {', '.join(present) or 'no GPU target'}; a CPU target is --arch)"
        )
    if ":" not in name and "-" not in name.removeprefix("vulkan-spirv"):
        matches = [p for p in present if p == name or p.startswith(name + "-")]
        default = targets.parse(name).label  # the backend's default chip: cuda-sm_80, rocm-gfx942
        if len(matches) > 1 and default in matches:
            return default, present
        if len(matches) > 1:
            raise UserError(
                f"--target {asked}: these results hold several: {', '.join(matches)}; name the chip"
            )
        if matches:
            return matches[0], present
    try:
        return targets.parse(name).label, present
    except targets.UnknownTarget as exc:
        raise UserError(f"--target {asked}: {exc}") from None


def model(
    records: Iterable[Record], name: str, asked: str, bundled: Sequence[gpu_advice.GpuAnswer] = ()
) -> Answer:
    """Per compiler release: compiled for the GPU target or the first error; run by its runtime:
    torch's answer, or why not. Then the answer on a real GPU: a published run bundle's sitting on that
    chip (`bundled`: the chip to compile for there, what to take, how it compares with torch), else what
    was measured there outside the project (findings/gpu_measured.py): the chip to compile for where no
    release compiles the one asked (a decided "fails"), and this model's runs for this target there."""
    records = list(records)
    label, present = gpu_target(records, asked)
    found = _published(records, name, label, present)
    mine = gpu_advice.for_target(advice.matching(bundled, name), label)
    instead = [] if mine else measured.foreign_chip_runs(label)
    real = [] if mine else measured.runs(name, label)
    uncompiled = _no_release_compiles(records, name, label) if mine or instead else None
    if not mine and uncompiled is None and not real:
        return found
    lines, evidence, answer = list(found.lines), list(found.evidence), found.answer
    data: dict[str, Any] = dict(found.data or {"target": label})
    ran = [a for a in mine if a.answered and label in map(gpu_advice.label_of, a.targets)]
    if uncompiled is not None and answer == NOT_MEASURED:
        answer, lines, evidence = "fails", [f"{name} on {label}: {uncompiled[0]}"], uncompiled[1]
    elif answer == NOT_MEASURED and ran:  # no cell here for the target, a bundle's sitting on a real GPU
        releases = " and ".join(runs_view.sorted_versions({a.release for a in ran}))
        answer = "passes"
        lines = [f"{name} on {label}: IREE {releases} runs it and matches torch on a real GPU (below)"]
        lines += [f"  {line}" for line in found.lines]
    for a in mine:
        chips = [t.split(":", 1)[-1] for t in a.targets if gpu_advice.label_of(t) != label]
        if a.answered and chips and gpu_advice.label_of(a.target) != label:
            there = f"runs on {a.identity.label} (a run bundle's sitting there)"
            lines.append(f"  compile for {' or '.join(chips)}: {there}")
        else:
            lines.append(f"  on {a.identity.label} (a run bundle's sitting there):")
        lines += [f"    {line}" for line in gpu_advice.answer_lines(a)]
    if mine:
        data["bundled"] = [gpu_advice.as_json(a) for a in mine]
    if uncompiled is not None and instead:
        lines += _compile_instead(name, instead)
        data["compile_instead"] = {
            "chips": sorted(dict.fromkeys(r.chip for r in instead)),
            "family": instead[0].sitting.family,
            "runs": [_run_data(r) for r in instead],
            "measured": measured.PROVENANCE,
        }
    if real:
        lines += _on_a_real_gpu(real, records, name, label)
        data["real_gpu"] = [_run_data(r) for r in real]
    return Answer(found.question, answer, tuple(lines), tuple(dict.fromkeys(evidence)), data)


def _published(records: Sequence[Record], name: str, label: str, present: Sequence[str]) -> Answer:
    """The answer the records give alone."""
    question = f"does {name} compile for {label} and run there, with which IREE release?"
    if label not in present:
        return Answer.unmeasured(
            question, f"no {label} cell in these results (GPU targets: {', '.join(present) or 'none'})"
        )
    chosen = [r for r in records if r.stage in ("compile", "run") and r.label.arch == label]
    compiles = _by_cell([r for r in chosen if r.stage == "compile"])
    mine = {c: r for c, r in compiles.items() if name in (r.label.model, r.label.planned_model)}
    if not mine:
        models = sorted({r.label.model for r in compiles.values()})
        return Answer.unmeasured(
            question, f"no model {name!r} compiled for {label} (models: {', '.join(models) or 'none'})"
        )
    runs = _by_cell([r for r in chosen if r.stage == "run"])
    functions = sorted({r.label.model for r in mine.values()})
    if len(functions) > 1:  # a model of several functions (whisper_tiny): each counted on its own
        parts = [
            _one_function(question, f, label, {c: r for c, r in mine.items() if r.label.model == f}, runs)
            for f in functions
        ]
        worst = min((p.answer for p in parts), key=_STRENGTH.index)
        return Answer(
            question,
            worst,
            tuple(line for p in parts for line in p.lines),
            tuple(dict.fromkeys(e for p in parts for e in p.evidence)),
            {"functions": {f: p.data for f, p in zip(functions, parts)}},
        )
    return _one_function(question, name, label, mine, runs)


# A model of several functions answers with its weakest function's answer.
_STRENGTH = ["fails", UNKNOWN, "compiles", "passes"]


def own_runtime_run(compiler: str, ran: Sequence[Record]) -> Optional[Record]:
    """Of a module's runs, the one `runs_view.own_run` picks (as the CPU tables do), else the first."""
    return runs_view.own_run({r.label.run_runtime: r for r in ran}, compiler) or (ran[0] if ran else None)


def _one_function(
    question: str, name: str, label: str, mine: dict[str, Record], runs: dict[str, Record]
) -> Answer:
    rows = []
    crossed: list[tuple[Record, Record]] = []
    for compiled in mine.values():
        ran = [r for c, r in runs.items() if (c + "/").startswith(compiled.cell + "/")]
        rows.append((compiled, own_runtime_run(compiled.label.compiler, ran)))
        crossed += [(compiled, r) for r in ran]
    rows.sort(key=lambda row: runs_view.version_key(row[0].label.compiler))
    found = _answer(question, name, label, rows)
    if len({(c.cell, r.label.runtime) for c, r in crossed}) <= len(rows):
        return found  # each module on one runtime: no cross to tell
    lines, data = _cross(crossed)
    # Evidence of the cross: a module another release's runtime ran, and one it refused.
    across = [r for c, r in crossed if r.label.runtime != c.label.compiler]
    shown = [r.job for r in across if cross_state(r) == LOADS][:1] + [
        r.job for r in across if cross_state(r) == REFUSES
    ][:1]
    evidence = tuple(dict.fromkeys((*found.evidence, *shown)))
    return Answer(
        found.question, found.answer, (*found.lines, *lines), evidence, {**(found.data or {}), "cross": data}
    )


# A runtime-cross pair's outcome (`cross_state`), in `query load`'s words (load_windows.Load): the one
# vocabulary of this answer's lines and data and of the site's GPU page, whose colours these states key.
LOADS, REFUSES, NOT_RUN = load_windows.Load.LOADS.value, load_windows.Load.REFUSES.value, "not_run"


def cross_state(run: Record) -> str:
    """What runtime B did with compiler A's module: `LOADS`, `REFUSES`, `NOT_RUN` or the run's status."""
    if refusals.refused(run):
        return REFUSES
    if run.status is Status.OK:
        return LOADS
    # else the run's status: a str enum's value
    return NOT_RUN if run.status in (Status.SKIP, Status.NOT_RUN) else str(run.status.value)


def _cross(pairs: Sequence[tuple[Record, Record]]) -> tuple[list[str], dict[str, Any]]:
    """The runtime cross (compiler A's module on runtime B, every pair the records hold): the runtimes
    that ran it and matched torch, the refusals, the pairs not run here, and any other failure."""
    key = runs_view.version_key
    pairs = sorted(pairs, key=lambda p: (key(p[1].label.runtime), key(p[0].label.compiler)))
    # Per state, what the lines group by (a runtime, a reason) and what each group lists.
    told: dict[str, dict[str, list[str]]] = {LOADS: {}, REFUSES: {}, NOT_RUN: {}, "fails": {}}
    data: dict[str, list[list[str]]] = {state: [] for state in told}
    for compiled, run in pairs:
        a, b = compiled.label.compiler, run.label.runtime
        state, row = cross_state(run), [a, b]
        if state == LOADS:
            group, item = b, a
        elif state == REFUSES:
            group, item = refusals.reason(run.message), f"{a} on {b}"
            row.append(group)
        elif state == NOT_RUN:
            group, item = _unrun_words(run), b
        else:
            state, group, item = "fails", _run_words(run), f"{a} on {b}"
        told[state].setdefault(group, []).append(item)
        data[state].append(row)
    ran, refused, unrun, failed = told.values()
    lines = [
        f"  runtime cross ({len(pairs)} pairs, compiler A's module on runtime B): {len(data[LOADS])} load "
        f"and match torch, {len(data[REFUSES])} refused, {len(data[NOT_RUN])} not run here"
    ]
    lines += [f"    runtime {rt} loads the modules of {version_listing(cs)}" for rt, cs in ran.items()]
    lines += [f"    {REFUSES}: {_some(said)}: {why}" for why, said in list(refused.items())[:_MAX_GROUPS]]
    if len(refused) > _MAX_GROUPS:
        rest = sum(len(v) for v in list(refused.values())[_MAX_GROUPS:])
        lines.append(f"    {REFUSES}: {rest} more pairs, for {len(refused) - _MAX_GROUPS} other reasons")
    lines += [f"    not run on runtimes {version_listing(rts)}: {why}" for why, rts in unrun.items()]
    lines += [f"    run fails: {_some(said)}: {why}" for why, said in failed.items()]
    return lines, data


_MAX_GROUPS = 6


def _some(pairs: Sequence[str], limit: int = 3) -> str:
    """ "2.9.0 on 3.10.0, 3.0.0 on 3.10.0 … (12 pairs)": pairs in the order given (by runtime)."""
    return ", ".join(pairs) if len(pairs) <= limit else ", ".join(pairs[:limit]) + f" … ({len(pairs)} pairs)"


def _answer(question: str, name: str, label: str, rows: list[tuple[Record, Optional[Record]]]) -> Answer:
    gpu = targets.parse(label).gpu
    assert gpu is not None
    built = [(c, r) for c, r in rows if c.status is Status.OK]
    broken = [(c, r) for c, r in rows if c.status is not Status.OK]
    passing = [(c, r) for c, r in built if r is not None and r.status is Status.OK]
    unrun = [(c, r) for c, r in built if r is None or r.status in (Status.SKIP, Status.NOT_RUN)]
    wrong = [(c, r) for c, r in built if (c, r) not in passing + unrun]
    names: dict[str, Sequence[tuple[Record, Optional[Record]]]] = {
        "compiles": built,
        "does_not_compile": broken,
        "passing": passing,
        "run_fails": wrong,
        "not_run": unrun,
    }
    data: dict[str, Any] = {
        "target": label,
        **{k: [c.label.compiler for c, _ in v] for k, v in names.items()},
    }
    lines = [
        f"{name} on {label}: compiles with {len(built)} of {len(rows)} compiler releases; runs and matches "
        f"torch with {len(passing)} (each module on its own release's runtime, HAL driver {gpu.driver})",
        f"  compiles: {version_listing(data['compiles'])}" + _sizes(built),
        *grouped("  does not compile: ", ((compile_words(c), c.label.compiler) for c, _ in broken)),
        f"  runs: {version_listing(data['passing'])}",
        *grouped("  run fails: ", ((_run_words(r), c.label.compiler) for c, r in wrong if r is not None)),
        *grouped("  not run: ", ((_unrun_words(r), c.label.compiler) for c, r in unrun)),
    ]
    evidence: list[str] = []
    if passing:
        newest_c, newest_r = passing[-1]
        lines.append(f"  newest passing: {newest_c.label.compiler}{_latency(newest_r)}")
        evidence.append(newest_r.job)
    if built:
        evidence.append(built[-1][0].job)
    evidence += [c.job for c, _ in broken[:1]] + [r.job for _, r in wrong[:1] if r is not None]
    evidence += [r.job for _, r in unrun[:1] if r is not None]
    answer = "passes" if passing else "compiles" if built else "fails" if broken else UNKNOWN
    return Answer(question, answer, tuple(lines), tuple(dict.fromkeys(evidence)), data)


def _by_cell(records: Sequence[Record]) -> dict[str, Record]:
    return {r.cell: r for r in latest_by_job(records).values()}


def _sizes(built: Sequence[tuple[Record, Optional[Record]]]) -> str:
    made = [c.metric.of(CompileMetrics) for c, _ in built]
    sizes = [m.module_bytes for m in made if m.module_bytes is not None]
    seconds = [m.seconds for m in made if m.seconds is not None]
    if not sizes:
        return ""
    low, high = formats.size(min(sizes)), formats.size(max(sizes))
    size = low if low == high else f"{low}–{high}"  # "189 MiB", not "189 MiB–189 MiB"
    took = f", compile {min(seconds):.1f}–{max(seconds):.1f} s" if seconds else ""
    return f" (module {size}{took})"


def compile_words(r: Record, limit: int = runs_view.MAX_REASON_CHARS) -> str:
    """Why a GPU compile did not succeed, in words: "skipped: " and the skip's reason, else its status
    and first error (and its op), clipped to `limit` characters (the report's table allows more)."""
    if r.status is Status.SKIP:
        return "skipped: " + runs_view.clip(runs_view.first_line(r.message or ""), limit)
    found = compile_errors.of_record(r.metrics, r.message)
    words = found.text() if found is not None else runs_view.first_line(r.message or "") or r.status.value
    return f"{r.status.value}: {runs_view.clip(words, limit)}"


def _run_words(r: Record) -> str:
    """A failed run's status and first line; on a software device, which one (a reader weighs a
    mismatch on lavapipe against one on a real GPU)."""
    words = runs_view.first_line(r.message or "")
    on = f" on {_device(r)}" if r.metric.of(RunMetrics).emulated else ""
    return f"{r.status.value}{on}: {runs_view.clip(words, runs_view.MAX_REASON_CHARS)}"


def _unrun_words(r: Optional[Record]) -> str:
    if r is None:
        return "no run recorded"
    if r.status is Status.NOT_RUN:
        return "the compile's module was not run"
    words = runs_view.first_line(r.message or "").removeprefix("not run: ") or "skipped"
    return runs_view.clip(words, runs_view.MAX_REASON_CHARS)


def _latency(r: Record) -> str:
    if (ran := r.metric.of(RunMetrics)).latency_median is None:
        return ""
    on = f", {ran.timing}" if ran.emulated and ran.timing else ""
    return f" ({formats.duration_ms(ran.latency_median)}{on})"


def _no_release_compiles(records: Sequence[Record], name: str, label: str) -> Optional[tuple[str, list[str]]]:
    """Why no IREE release compiles for the CUDA chip `label`, and the cells that show it (None when
    one does, or nothing says): the model's own compiles for the chip, else every compile for its
    compute capability, and the compiles tried by hand outside the project."""
    capability = measured.compute_capability(label)
    if capability is None:
        return None
    same = [
        r for r in records if r.stage == "compile" and measured.compute_capability(r.label.arch) == capability
    ]
    compiled = list(_by_cell(same).values())
    own = [c for c in compiled if c.label.arch == label and name in (c.label.model, c.label.planned_model)]
    shown = own or compiled
    by_hand = [f for f in measured.COMPILE_FAILURES if f.target == label]
    if any(c.status is Status.OK for c in shown) or not (shown or by_hand):
        return None
    by_release = sorted(shown, key=lambda c: runs_view.version_key(c.label.compiler))
    groups = runs_view.grouped_by(((c.label.model, c.label.arch), c) for c in by_release)
    words = f"no IREE release compiles for {label.split('-', 1)[1]}"
    if not own:  # the headline of an answer these results alone leave "not measured"
        words += f": these results hold no {name} cell for {label}"
    if groups and not own:
        told = [
            f"{unit} for {arch} with all {len(cells)} releases "
            f"({cells[0].label.compiler}–{cells[-1].label.compiler}): "
            + "; ".join(dict.fromkeys(compile_words(c) for c in cells))
            for (unit, arch), cells in groups.items()
        ]
        words += f", and every compile for a compute capability {capability} chip they hold fails: "
        words += "; ".join(told)
    if by_hand:
        hand = "; ".join(f"{f.release}: {f.error}" for f in by_hand)
        words += f"; by hand outside the project, {label} fails too ({hand})"
    return words, [cells[-1].job for cells in groups.values()][:2]


def _compile_instead(name: str, instead: Sequence[measured.Run]) -> list[str]:
    """ "compile for sm_80 or sm_89: runs on Hopper (measured on an NVIDIA H200, driver …, 3.9.0
    and 3.13.0)", this model's runs there, and where the figures come from."""
    sitting = instead[0].sitting
    chips = sorted(dict.fromkeys(r.chip for r in instead))
    releases = runs_view.sorted_versions({r.release for r in instead})
    lines = [
        f"  compile for {' or '.join(chips)}: runs on {sitting.family} (measured on an {sitting.gpu}, "
        f"driver {sitting.driver}, {' and '.join(releases)})"
    ]
    if mine := [r for r in instead if r.model == name]:
        lines.append(f"    {name}: {_results(mine)}")
    else:
        models = ", ".join(dict.fromkeys(r.model for r in instead))
        lines.append(f"    {name} was not run there; the models that were: {models}")
    lines.append(
        f"    ({measured.PROVENANCE}: the modules' PTX JIT-compiled by the driver for compute "
        f'capability {sitting.compute_capability}; docs/gpu.md, "On a real GPU")'
    )
    return lines


def _on_a_real_gpu(
    real: Sequence[measured.Run], records: Sequence[Record], name: str, label: str
) -> list[str]:
    """This model's modules for this target run on a real GPU outside the project, beside what the published
    run of the same release says (a software device's mismatch that the GPU repeats is IREE's own)."""
    sitting = real[0].sitting
    capability = measured.compute_capability(label)
    jit = (
        f", the {label.split('-', 1)[1]} modules' PTX JIT-compiled by the driver"
        if capability is not None and capability != sitting.compute_capability
        else ""
    )
    lines = [
        f"  on a real GPU: an {sitting.gpu} ({sitting.family}, compute capability "
        f"{sitting.compute_capability}, driver {sitting.driver}) with {sitting.api}{jit}: {_results(real)}"
    ]
    for r in real:
        here = _published_run(records, name, label, r.release)
        if here is None or not here.metric.of(RunMetrics).emulated:
            continue
        device = _device(here)
        if not r.matches and here.status is Status.MISMATCH:
            shown = here.metric.of(RunMetrics).max_abs_err
            err = f" (max abs err {measured.error(shown)})" if shown is not None else ""
            lines.append(
                f"    {r.release}'s wrong outputs are IREE's, not the software device's: wrong on {device} "
                f"here too{err}"
            )
        elif not r.matches and here.status is Status.OK:
            lines.append(f"    {r.release}'s module matches torch on {device} here, not on that GPU")
    lines.append(f'    ({measured.PROVENANCE}; docs/gpu.md, "On a real GPU")')
    return lines


def _results(runs: Sequence[measured.Run]) -> str:
    """ "sm_80 with 3.9.0 and 3.13.0, sm_89 --iree-opt-level=O3 with 3.13.0: match torch (max abs err
    2.9e-6–3.0e-6)", each wrong one's error, and the time against torch's in the same sitting."""
    kinds = {_chip(r) for r in runs}
    right = runs_view.grouped_by((_chip(r), r.release) for r in runs if r.matches)
    said = []
    if right:
        who = ", ".join(
            f"{chip} with {' and '.join(runs_view.sorted_versions(set(releases)))}"
            if len(kinds) > 1
            else " and ".join(runs_view.sorted_versions(set(releases)))
            for chip, releases in right.items()
        )
        errors = [r.max_abs_err for r in runs if r.matches]
        verb = "matches" if sum(len(set(releases)) for releases in right.values()) == 1 else "match"
        said.append(f"{who} {verb} torch (max abs err {_span(errors, measured.error)})")
    for r in runs:
        if not r.matches:
            which = f"{r.release}'s {_chip(r)} module" if len(kinds) > 1 else r.release
            atol, rtol = measured.TOLERANCES[r.model]  # the export's own, which the run was checked with
            said.append(
                f"{which} miscomputes: max abs err {measured.error(r.max_abs_err)} "
                f"(atol {atol:g}, rtol {rtol:g})"
            )
    timed = _timing([r for r in runs if r.matches])
    return "; ".join(said + ([timed] if timed else []))


def _timing(runs: Sequence[measured.Run]) -> str:
    """IREE's time a call and, where torch ran in the same sitting, its ratio to each GPU peer's (torch
    eager's, torch.compile's with CUDA graphs): iree-benchmark-module's figure where it was taken."""
    if not runs:
        return ""
    compared = [(r, t) for r in runs if (t := measured.torch_of(r)) is not None]
    benched = [(r, t) for r, t in compared if r.benchmark_ms is not None]
    if pairs := benched or compared:
        how = "iree-benchmark-module" if benched else "the Python call, output read back"
        releases = " and ".join(runs_view.sorted_versions({r.release for r, _ in pairs}))
        ms = _span([r.iree_ms for r, _ in pairs], formats.duration_ms)
        over = ", ".join(
            f"{_span([r.iree_ms / t.ms[p.config] for r, t in pairs], formats.ratio)} {p.display}'s "
            + (f"with {p.mode}" if p.mode else "time")
            for p in measured.peers()
            if all(p.config in t.ms for _, t in pairs)
        )
        return (
            f"IREE {releases} takes {ms} a call ({how}): {over} (torch {measured.TORCH_VERSION} on that "
            "GPU, each ratio within one sitting)"
        )
    releases = " and ".join(runs_view.sorted_versions({r.release for r in runs}))
    ms = _span([r.call_ms for r in runs], formats.duration_ms)
    return f"IREE {releases} takes {ms} a call (the Python call, output read back)"


def _span(values: Sequence[float], shown: Any) -> str:
    """ "2.93–2.95 ms", "0.61–1.11×", or one figure where the ends print the same."""
    low, high = shown(min(values)), shown(max(values))
    if low == high:
        return str(low)
    unit = re.search(r"[^\d.]*$", high).group(0)  # type: ignore[union-attr]  # always matches
    return f"{low.removesuffix(unit)}–{high}"


def _chip(run: measured.Run) -> str:
    return " ".join((run.chip, *run.flags))


def _published_run(records: Sequence[Record], name: str, label: str, release: str) -> Optional[Record]:
    """The published run of `release`'s module for `label` on its own release's runtime."""
    ran = [
        r
        for r in _by_cell([r for r in records if r.stage == "run" and r.label.arch == label]).values()
        if name in (r.label.model, r.label.planned_model) and r.label.compiler == release
    ]
    return own_runtime_run(release, ran) if ran else None


def _device(run: Record) -> str:
    """The software device a run was timed on: "llvmpipe (LLVM 15.0.6, 256 bits)"."""
    timing = run.metric.of(RunMetrics).timing or ""
    return timing.split("device: ", 1)[1].removesuffix(")") if "device: " in timing else "a software device"


def _run_data(r: measured.Run) -> dict[str, Any]:
    return {
        **{k: getattr(r.sitting, k) for k in ("gpu", "driver", "api")},
        "sitting": r.sitting.name,
        "release": r.release,
        "compiled_for": r.target,
        "flags": list(r.flags),
        **{k: getattr(r, k) for k in ("matches", "max_abs_err", "call_ms", "benchmark_ms")},
        # torch_eager_ms, torch_compile_ms: "torch" said once in a peer module's name
        **{f"torch_{p.name.removeprefix('torch_')}_ms": ms for p, ms in measured.torch_ms(r).items()},
        "measured": measured.PROVENANCE,
    }
