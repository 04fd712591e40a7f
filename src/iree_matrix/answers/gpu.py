"""`iree-matrix query model NAME --target vulkan-spirv|cuda[:sm_80]|rocm[:gfx942]`: does a model
compile for a GPU backend with each compiler release, and does the release's runtime run that
module and give torch's answer — or why it was not run here (no device of that kind, or a runtime
that hides the only one). From the same compile and run records as the report's "GPU targets" section
(report/gpu.py), naming them as evidence; a compile that worked is an answer even where no run
could be made (CUDA and ROCm on a machine without such a GPU). Where the records hold the runtime
cross (matrix/gpu-cross.toml: each module on every runtime), it also says which runtime ran which
compiler's module, which refused it (in the runtime's words) and which could not be asked here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Optional

from iree_matrix.answers import release_verdicts
from iree_matrix.answers.query import NOT_MEASURED, UNKNOWN, Answer, grouped_by, version_listing
from iree_matrix.core import formats, refusals
from iree_matrix.core.errors import UserError
from iree_matrix.core.results import Record, Status, latest_by_job
from iree_matrix.iree import compile_errors, targets


def known_targets() -> str:
    """The GPU targets a `--target` may name, as a matrix file spells them."""
    said = []
    for name, arch in targets.gpus().items():
        said.append(f"{name}:<chip> ({', '.join(arch.cpus)})" if arch.cpus else name)
    return ", ".join(said)


def gpu_target(records: Sequence[Record], asked: str) -> tuple[str, list[str]]:
    """The target label `asked` names (`vulkan-spirv`, `cuda`, `cuda:sm_80`, `cuda-sm_80`) and the
    GPU targets the records hold. Not a GPU target: a one-line error naming the known ones; a
    backend without its chip matches the one chip the records hold for it, or, when they hold
    several, the backend's default chip (`cuda` is `cuda-sm_80`) if it is among them."""
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


def model(records: Iterable[Record], name: str, asked: str) -> Answer:
    """Per compiler release: compiled for the GPU target (module size, compile time) or the first
    error; run by the release's runtime: torch's answer, or why not."""
    records = list(records)
    label, present = gpu_target(records, asked)
    question = f"does {name} compile for {label} and run there, with which IREE release?"
    if label not in present:
        line = (
            f"{NOT_MEASURED}: no {label} cell in these results (GPU targets: {', '.join(present) or 'none'})"
        )
        return Answer(question, NOT_MEASURED, (line,))
    chosen = [r for r in records if r.stage in ("compile", "run") and r.label.arch == label]
    compiles = _by_cell([r for r in chosen if r.stage == "compile"])
    mine = {c: r for c, r in compiles.items() if name in (r.label.model, r.label.unit)}
    if not mine:
        models = sorted({r.label.model for r in compiles.values()})
        line = (
            f"{NOT_MEASURED}: no model {name!r} compiled for {label} (models: {', '.join(models) or 'none'})"
        )
        return Answer(question, NOT_MEASURED, (line,))
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
    """Of a module's runs, the one on its own release's runtime, or its line's stand-in for a release
    without one (3.7.1 on 3.7.0): `release_verdicts.own_run`, as the CPU tables pick it; else the first."""
    own = release_verdicts.own_run({release_verdicts.run_runtime(r): r for r in ran}, compiler)
    return own or (ran[0] if ran else None)


def _one_function(
    question: str, name: str, label: str, mine: dict[str, Record], runs: dict[str, Record]
) -> Answer:
    rows = []
    crossed: list[tuple[Record, Record]] = []
    for compiled in mine.values():
        ran = [r for c, r in runs.items() if (c + "/").startswith(compiled.cell + "/")]
        rows.append((compiled, own_runtime_run(compiled.label.compiler, ran)))
        crossed += [(compiled, r) for r in ran]
    rows.sort(key=lambda row: release_verdicts.version_key(row[0].label.compiler))
    found = _answer(question, name, label, rows)
    if len({(c.cell, r.label.runtime) for c, r in crossed}) <= len(rows):
        return found  # each module on one runtime: no cross to tell
    lines, data = _cross(crossed)
    # Evidence of the cross: a module another release's runtime ran, and one it refused.
    across = [r for c, r in crossed if r.label.runtime != c.label.compiler]
    shown = [r.job for r in across if cross_state(r) == LOADS][:1] + [
        r.job for r in across if cross_state(r) == REFUSES
    ][:1]
    return Answer(
        found.question,
        found.answer,
        (*found.lines, *lines),
        tuple(dict.fromkeys((*found.evidence, *shown))),
        {**(found.data or {}), "cross": data},
    )


# A runtime-cross pair's outcome, in `query load`'s words (release_verdicts.Load) — the one vocabulary of this
# answer's lines and data and of the site's GPU page (whose colours these states key): the runtime
# loads the module and it matches torch, refuses it (in its own words), or was not asked here (no
# device it can see); any other failure is its run's status (fail, mismatch, timeout).
LOADS, REFUSES, NOT_RUN = release_verdicts.Load.LOADS.value, release_verdicts.Load.REFUSES.value, "not_run"


def cross_state(run: Record) -> str:
    """What runtime B did with compiler A's module: `LOADS`, `REFUSES`, `NOT_RUN` or the run's status."""
    if refusals.refused(run):
        return REFUSES
    if run.status is Status.OK:
        return LOADS
    if run.status in (Status.SKIP, Status.NOT_RUN):
        return NOT_RUN
    return run.status.value


def _cross(pairs: Sequence[tuple[Record, Record]]) -> tuple[list[str], dict[str, Any]]:
    """The runtime cross: compiler A's module on runtime B, for every pair the records hold: the
    runtimes that ran it and matched torch, the refusals (the runtime's reason), the pairs not run
    here (a runtime that hides the only device: it cannot be asked), and any other failure."""
    key = release_verdicts.version_key
    pairs = sorted(pairs, key=lambda p: (key(p[1].label.runtime), key(p[0].label.compiler)))
    ran: dict[str, list[str]] = {}
    refused: dict[str, list[str]] = {}
    unrun: dict[str, list[str]] = {}
    failed: dict[str, list[str]] = {}
    data: dict[str, list[list[str]]] = {LOADS: [], REFUSES: [], NOT_RUN: [], "fails": []}
    for compiled, run in pairs:
        a, b = compiled.label.compiler, run.label.runtime
        state = cross_state(run)
        if state == LOADS:
            ran.setdefault(b, []).append(a)
            data[LOADS].append([a, b])
        elif state == REFUSES:
            why = refusals.reason(run.message)
            refused.setdefault(why, []).append(f"{a} on {b}")
            data[REFUSES].append([a, b, why])
        elif state == NOT_RUN:
            unrun.setdefault(_unrun_words(run), []).append(b)
            data[NOT_RUN].append([a, b])
        else:
            failed.setdefault(_run_words(run), []).append(f"{a} on {b}")
            data["fails"].append([a, b])
    lines = [
        f"  runtime cross ({len(pairs)} pairs, compiler A's module on runtime B): "
        f"{len(data[LOADS])} load and match torch, {len(data[REFUSES])} refused, "
        f"{len(data[NOT_RUN])} not run here"
    ]
    for runtime, compilers in ran.items():
        lines.append(f"    runtime {runtime} loads the modules of {version_listing(compilers, limit=20)}")
    for why, said in list(refused.items())[:_MAX_GROUPS]:
        lines.append(f"    {REFUSES}: {_some(said)}: {why}")
    if len(refused) > _MAX_GROUPS:
        rest = sum(len(v) for v in list(refused.values())[_MAX_GROUPS:])
        lines.append(f"    {REFUSES}: {rest} more pairs, for {len(refused) - _MAX_GROUPS} other reasons")
    for why, runtimes in unrun.items():
        lines.append(
            f"    not run on runtimes {version_listing(list(dict.fromkeys(runtimes)), limit=20)}: {why}"
        )
    for why, said in failed.items():
        lines.append(f"    run fails: {_some(said)}: {why}")
    return lines, data


_MAX_GROUPS = 6


def _some(pairs: Sequence[str], limit: int = 3) -> str:
    """ "2.9.0 on 3.10.0, 3.0.0 on 3.10.0 … (12 pairs)": pairs in the order given (by runtime)."""
    if len(pairs) <= limit:
        return ", ".join(pairs)
    return ", ".join(pairs[:limit]) + f" … ({len(pairs)} pairs)"


def _answer(question: str, name: str, label: str, rows: list[tuple[Record, Optional[Record]]]) -> Answer:
    gpu = targets.parse(label).gpu
    assert gpu is not None
    built = [(c, r) for c, r in rows if c.status is Status.OK]
    broken = [c for c, _ in rows if c.status is not Status.OK]
    passing = [(c, r) for c, r in built if r is not None and r.status is Status.OK]
    wrong = [
        (c, r) for c, r in built if r is not None and r.status not in (Status.OK, Status.SKIP, Status.NOT_RUN)
    ]
    unrun = [(c, r) for c, r in built if r is None or r.status in (Status.SKIP, Status.NOT_RUN)]
    lines = [
        f"{name} on {label}: compiles with {len(built)} of {len(rows)} compiler releases; runs and "
        f"matches torch with {len(passing)} (each module on its own release's runtime, "
        f"HAL driver {gpu.driver})",
        f"  compiles: {version_listing([c.label.compiler for c, _ in built], limit=20) if built else 'none'}"
        + _sizes(built),
    ]
    for why, releases in grouped_by((compile_words(c), c.label.compiler) for c in broken).items():
        lines.append(f"  does not compile: {version_listing(releases, limit=20)}: {why}")
    lines.append(
        f"  runs: {version_listing([c.label.compiler for c, _ in passing], limit=20) if passing else 'none'}"
    )
    for why, releases in grouped_by((_run_words(r), c.label.compiler) for c, r in wrong).items():
        lines.append(f"  run fails: {version_listing(releases, limit=20)}: {why}")
    for why, releases in grouped_by((_unrun_words(r), c.label.compiler) for c, r in unrun).items():
        lines.append(f"  not run: {version_listing(releases, limit=20)}: {why}")
    evidence: list[str] = []
    if passing:
        newest_c, newest_r = passing[-1]
        lines.append(f"  newest passing: {newest_c.label.compiler}{_latency(newest_r)}")
        evidence.append(newest_r.job)
    if built:
        evidence.append(built[-1][0].job)
    evidence += [c.job for c in broken[:1]] + [r.job for _, r in wrong[:1]]
    evidence += [r.job for _, r in unrun[:1] if r is not None]
    answer = "passes" if passing else "compiles" if built else "fails" if broken else UNKNOWN
    data: dict[str, Any] = {
        "target": label,
        "compiles": [c.label.compiler for c, _ in built],
        "does_not_compile": [c.label.compiler for c in broken],
        "passing": [c.label.compiler for c, _ in passing],
        "run_fails": [c.label.compiler for c, _ in wrong],
        "not_run": [c.label.compiler for c, _ in unrun],
    }
    return Answer(question, answer, tuple(lines), tuple(dict.fromkeys(evidence)), data)


def _by_cell(records: Sequence[Record]) -> dict[str, Record]:
    return {r.cell: r for r in latest_by_job(records).values()}


def _sizes(built: Sequence[tuple[Record, Optional[Record]]]) -> str:
    sizes = [c.metric.module_bytes for c, _ in built if c.metric.module_bytes is not None]
    seconds = [c.metric.seconds for c, _ in built if c.metric.seconds is not None]
    if not sizes:
        return ""
    low, high = formats.size(min(sizes)), formats.size(max(sizes))
    size = low if low == high else f"{low}–{high}"  # "189 MiB", not "189 MiB–189 MiB"
    took = f", compile {min(seconds):.1f}–{max(seconds):.1f} s" if seconds else ""
    return f" (module {size}{took})"


def compile_words(r: Record, limit: int = release_verdicts.MAX_REASON_CHARS) -> str:
    """Why a GPU compile did not succeed, in words: "skipped: " and the skip's reason, else its status
    and first error (and its op), clipped to `limit` characters (the report's table allows more)."""
    if r.status is Status.SKIP:
        return "skipped: " + release_verdicts.clip(release_verdicts.first_line(r.message or ""), limit)
    found = compile_errors.of_record(r.metrics, r.message)
    words = (
        found.text() if found is not None else release_verdicts.first_line(r.message or "") or r.status.value
    )
    return f"{r.status.value}: {release_verdicts.clip(words, limit)}"


def _run_words(r: Record) -> str:
    words = release_verdicts.first_line(r.message or "")
    return f"{r.status.value}: {release_verdicts.clip(words, release_verdicts.MAX_REASON_CHARS)}"


def _unrun_words(r: Optional[Record]) -> str:
    if r is None:
        return "no run recorded"
    if r.status is Status.NOT_RUN:
        return "the compile's module was not run"
    words = release_verdicts.first_line(r.message or "").removeprefix("not run: ") or "skipped"
    return release_verdicts.clip(words, release_verdicts.MAX_REASON_CHARS)


def _latency(r: Record) -> str:
    median = r.metric.latency_median
    if median is None:
        return ""
    timing = r.metric.timing or ""
    on = f", {timing}" if r.metric.emulated and timing else ""
    return f" ({formats.duration_ms(median)}{on})"
