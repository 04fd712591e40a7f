"""The performance table: per model, IREE's fastest correct native configuration beside torch
eager, torch.compile, ONNX Runtime and TFLite on the same inputs and thread count — as medians and
as ratios to torch eager. Emulated runs never enter it (qemu's speed is not a board's)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

from tabulate import tabulate

from iree_matrix.answers import answers, identities, roofline, search
from iree_matrix.core import formats, stats
from iree_matrix.core.records import Metrics
from iree_matrix.core.results import Record, Status, latest_by_job
from iree_matrix.iree import flags, opkinds
from iree_matrix.matrix.spec import PEERS
from iree_matrix.report import boards
from iree_matrix.report.roofline import percent, render_roofline

WALL, CPU = "latency_ms", "cpu_ms"  # the two figures the peers table is drawn on


def _peers_table(records: Sequence[Record], figure: str) -> Optional[str]:
    """IREE's `default` per release beside each peer, on one figure (`WALL`: the matrix's threads;
    `CPU`: one thread's CPU time per call), each cell with the median's interval and the ratio to
    torch eager's same figure; None without peers (or, for CPU, without any run that measured it)."""
    peers = {r.label.model: r for r in records if r.stage == "peer" and r.status is Status.OK}
    # Functions the peers ran: a micro-benchmark merged into the same log has no row (or column) here.
    runs = [r for r in _measured_runs(records) if r.label.profile == "default" and r.label.model in peers]
    if not peers or (figure == CPU and not any(r.metric.cpu_time for r in runs)):
        return None
    releases = answers.sorted_versions({r.label.compiler for r in runs})
    rows = []
    for model in sorted(peers):
        results = peers[model].metric.peers
        eager_entry = results.get("eager")
        eager = answers.median(eager_entry.get(figure)) if isinstance(eager_entry, Mapping) else None
        mine = {r.label.compiler: r for r in runs if r.label.model == model}
        intervals = [
            (mine[v].metric.latency_interval if figure == WALL else mine[v].metric.cpu_interval)
            if v in mine else None
            for v in releases
        ]  # fmt: skip
        iree = [_with_interval(interval, eager) for interval in intervals]
        rows.append([model, *iree, *(_peer_cell(results.get(name), eager, figure) for name in PEERS)])
    headers = ["model", *(f"IREE {v}" for v in releases), *PEERS]
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def render_performance(latest: Iterable[Record]) -> list[str]:
    table = _peers_table(list(latest), WALL)
    if table is None:
        return []
    return [
        "## Performance: IREE against torch eager, torch.compile, ONNX Runtime and TFLite",
        "",
        "Median latency per call on this host and, in brackets, the interval of the median (the "
        "repetitions' order statistics, at least 90 %; with five, [min, max]) and the ratio to torch "
        "eager — below 1 is faster. IREE is each release's `default` profile on its own runtime (the "
        "flag search below says what beats it); every framework had the same inputs, thread count and "
        "number of repetitions, and its outputs were checked against torch eager. A peer that could not "
        "convert the model shows its phase. Emulated runs are left out.",
        "",
        table,
        "",
    ]


def render_cpu_performance(latest: Iterable[Record]) -> list[str]:
    """The same comparison on the figure load moves least: one thread's CPU time per call, IREE's
    `local-sync` run beside each peer run on one thread (only where the records carry it)."""
    table = _peers_table(list(latest), CPU)
    if table is None:
        return []
    return [
        "## One thread's CPU time per call: the comparison load does not move",
        "",
        "The table above on the figure a shared machine's load moves least (±5 % where wall time moved "
        "2–5×): CPU time per call on one thread — IREE's module on `local-sync` (iree-benchmark-module's "
        "process CPU time), torch eager and torch.compile under `torch.set_num_threads(1)`, ONNX Runtime "
        "with one intra-op thread, TFLite with `num_threads=1` — with the median's interval and the ratio "
        "to torch eager's on one thread. It ranks the frameworks' code, not their use of threads.",
        "",
        table,
        "",
    ]


def _with_interval(interval: Optional[stats.Interval], eager: Optional[float]) -> str:
    if interval is None:
        return ""
    spread = f"{_ms(interval.low)}–{_ms(interval.high)}"
    ratio = f", {formats.ratio(interval.median / eager)}" if eager else ""
    return f"{_ms(interval.median)} ({spread}{ratio})"


def _peer_cell(entry: Any, eager: Optional[float], figure: str = WALL) -> str:
    """A peer's cell: its figure with interval and ratio; on wall time a failed peer shows its phase
    and a mismatching one a mark, on CPU time (a second, one-thread timing) only a passed peer's."""
    if not isinstance(entry, Mapping):
        return ""
    if figure == CPU:
        ok = entry.get("status") == "ok" and entry.get(CPU)
        return _with_interval(stats.of_latency(entry.get(CPU)), eager) if ok else ""
    if entry.get("status") == "fail":
        return f"❌ {(entry.get('error') or {}).get('phase', 'failed')}"
    mark = "⚠️ " if entry.get("status") == "mismatch" else ""
    return mark + _with_interval(stats.of_latency(entry.get(WALL)), eager)


def _native(run: Record) -> bool:
    return not run.metric.emulated


def _measured_runs(records: Iterable[Record]) -> list[Record]:
    """The runs whose timings the tables compare: passed, native (not under qemu), each module on
    its own release's runtime."""
    return [
        r for r in records
        if r.stage == "run" and r.status is Status.OK and _native(r) and _same_runtime(r)
    ]  # fmt: skip


def _median(metrics: Any) -> Optional[float]:
    return answers.median(metrics.get("latency_ms")) if isinstance(metrics, Mapping) else None


_ms = formats.duration_ms


# -- tune: the fastest correct profile per model, architecture and IREE version -------------------


def _size(value: Optional[float]) -> str:
    return formats.size(value) if value is not None else ""


def _same_runtime(run: Record) -> bool:
    return run.label.runtime == run.label.compiler


def render_tune(latest: Iterable[Record]) -> list[str]:
    """Per model, architecture and IREE version: every profile's result and the fastest correct one.
    A profile that failed to compile or gave wrong outputs is shown with why: that is a finding."""
    records = list(latest)
    compiles = {r.cell: r for r in records if r.stage == "compile"}
    runs = {r.cell: r for r in records if r.stage == "run" and _same_runtime(r)}
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
        "## Flag search: the fastest correct IREE profile per model and version",
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
    return (model, arch, _version_key(compiler))


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


# -- dispatches: op-wise bisection across IREE versions -------------------------------------------


def render_dispatches(latest: Iterable[Record], top: int = 10) -> list[str]:
    """The slowest dispatches of each profiled model, side by side across IREE versions, matched by
    what they compute (the op part of IREE's name; ordinals differ between versions)."""
    profiled = [r for r in latest if r.stage == "dispatches" and r.status is Status.OK and _same_runtime(r)]
    groups: dict[tuple[str, str, str, str], list[Record]] = {}
    for r in profiled:
        groups.setdefault((r.label.model, r.label.exporter, r.label.arch, r.label.profile), []).append(r)
    lines: list[str] = []
    for (model, exporter, arch, profile), group in sorted(groups.items()):
        group.sort(key=lambda r: _version_key(r.label.compiler))
        versions = [r.label.compiler for r in group]
        tables = [_occurrences(r.metric.dispatches) for r in group]
        slowest = sorted(
            {op for table in tables for op in table},
            key=lambda op: max(t[op]["median_us"] for t in tables if op in t),
            reverse=True,
        )[:top]
        rows = []
        for op in slowest:
            cells = [tables[i].get(op) for i in range(len(group))]
            row = [op[0] + (f" #{op[1] + 1}" if op[1] else "")]
            row += [f"{c['median_us']:.1f} µs (d{_ordinal(c['name'])})" if c else "—" for c in cells]
            first, last = cells[0], cells[-1]
            row.append(
                formats.ratio(last["median_us"] / first["median_us"])
                if first and last and first["median_us"] and len(cells) > 1
                else ""
            )
            rows.append(row)
        total = [
            f"{_ms((r.metric.sum_median_us or 0) / 1000)} over {r.metric.benchmarked}"
            " executables"
            + (f" ({len(r.metric.not_benchmarked)} not compilable alone)" if r.metric.not_benchmarked else "")
            for r in group
        ]
        lines += [
            f"## Top dispatches: {model} ({arch}, profile {profile})",
            "",
            f"Exported by {exporter}. " if exporter else "",
            "Each executable benchmarked on its own (`--iree-hal-dump-executable-benchmarks-to`, then "
            "`iree-benchmark-module`): median µs per invocation, with IREE's dispatch ordinal; the last "
            "column is the newest version's time over the oldest's (above 1: slower). Sum over "
            "executables: " + "; ".join(f"IREE {v}: {t}" for v, t in zip(versions, total)) + ". "
            "An executable that does not compile on its own is left out (its compile record names "
            "each, with the compiler's words).",
            "",
            tabulate(
                rows,
                headers=["op", *(f"IREE {v}" for v in versions), "ratio"],
                tablefmt="github",
                disable_numparse=True,
            ),
            "",
        ]
    return lines


def _occurrences(dispatches: Sequence[Mapping[str, Any]]) -> dict[tuple[str, int], Mapping[str, Any]]:
    """op -> entry, with repeats of the same op numbered in IREE's dispatch order."""
    ordered = sorted(dispatches, key=lambda d: _ordinal(d.get("name", "")))
    seen: dict[str, int] = {}
    table = {}
    for entry in ordered:
        op = entry.get("op", "")
        table[(op, seen.get(op, 0))] = entry
        seen[op] = seen.get(op, 0) + 1
    return table


def _ordinal(name: str) -> int:
    match = re.search(r"dispatch_(\d+)_", name)
    return int(match.group(1)) if match else 0


_version_key = answers.version_key


def render_emulated(latest: Iterable[Record]) -> list[str]:
    """Runs under qemu-user, apart: they say a module works on that CPU, not how fast a board is.
    Each shows the emulator's CPU time per call where the record has it (BOARDS.md's figure), else
    its wall time marked so."""
    rows = [
        [r.label.model, r.label.arch, r.label.compiler, r.label.profile,
         boards.emulated_time(r), str(r.metric.timing)]
        for r in latest
        if r.stage == "run" and r.status is Status.OK and not _native(r) and r.metric.latency_median
    ]  # fmt: skip
    if not rows:
        return []
    return [
        "## Emulated runs (kept apart: qemu's speed, not a board's)",
        "",
        tabulate(
            sorted(rows),
            headers=["model", "arch", "IREE", "profile", "per call", "timing"],
            tablefmt="github",
            disable_numparse=True,
        ),  # fmt: skip
        "",
    ]


def render_other_cpus(latest: Iterable[Record]) -> list[str]:
    """The reference functions built for another CPU than this host (a built-in profile with a named
    target CPU, e.g. `avx2` = x86-64-v3) and timed here, beside the same release's `default` build:
    what a user whose machine has only that ISA gets from each release. IREE picks vector tiles from
    the target's features, so a release that is fast here can be slow there."""
    records = list(latest)
    peered = {r.label.model for r in records if r.stage == "peer" and r.status is Status.OK}
    cpus = {
        name: p.target_cpu
        for name, p in flags.BUILTIN_PROFILES.items()
        if p.target_cpu not in (None, "host") and not flags.is_vmvx(p)
    }
    runs = [
        r
        for r in _measured_runs(records)
        if r.label.model in peered and r.label.profile in {"default", *cpus}
    ]
    by = {(r.label.model, r.label.profile, r.label.compiler): r for r in runs}
    other = sorted(
        {(p, c) for (_, p, c) in by if p != "default"}, key=lambda pc: (pc[0], answers.version_key(pc[1]))
    )
    if not other:
        return []
    rows = []
    for model in sorted({m for (m, p, _) in by if p != "default"}):
        row = [model]
        for profile, compiler in other:
            built, here = by.get((model, profile, compiler)), by.get((model, "default", compiler))
            t, d = answers.timing(built), answers.timing(here)
            cell = ("~" if t and t.noisy else "") + formats.duration_ms(t.median) if t else ""
            if t and d:
                cell += f" ({formats.ratio(t.median / d.median)})"
            row.append(cell)
        rows.append(row)
    headers = ["function", *(f"IREE {c} `{p}` ({cpus[p]})" for p, c in other)]
    return [
        "## Built for another CPU",
        "",
        "Each reference function compiled for a named target CPU instead of this host "
        "(`--iree-llvmcpu-target-cpu`), run here on the release's own runtime: median latency per call "
        "and, in brackets, its ratio to the same release's `default` (this host's CPU) build; `~`: noisy. "
        "It is what a machine with only that ISA would run — timed on this host's cores, so read the "
        "ratios between releases, not the milliseconds as that machine's. IREE picks vector tiles from "
        "the target's CPU features: a release fast here can be slow there.",
        "",
        tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True),
        "",
    ]


def render_all(latest: Iterable[Record], descents: Sequence[search.Descent] = ()) -> list[str]:
    everything = list(latest)
    view = identities.split(everything)
    records = list(view.mine)
    searched = render_search(records, descents)
    return (
        _identity_lines(view, everything)
        + render_performance(records)
        + render_cpu_performance(records)
        + render_roofline(records)
        + render_other_cpus(records)
        + render_op_kinds(records)
        + searched
        # The tune table picks the fastest median, noise or not: only where no search judged them.
        + ([] if searched else render_tune(records))
        + render_kernels(records)
        + render_dispatches(records)
        + render_emulated(records)
        + render_other_identities(view)
    )


def _identity_lines(view: identities.Split, records: Sequence[Record]) -> list[str]:
    if not view.identity:
        return []
    others = view.other_labels(records)
    more = (
        f" Timed records of {len(others)} other CPU identit{'y' if len(others) == 1 else 'ies'} "
        f"({'; '.join(others)}) are not mixed in: see [Other CPU identities](#other-cpu-identities)."
        if others
        else ""
    )
    return [f"**CPU identity of every figure below:** {view.label}.{more}", ""]


def render_other_identities(view: identities.Split) -> list[str]:
    """Timed figures of other CPUs, each only as a ratio within its own identity's records: IREE's
    `default` over torch eager (the export's) per function and release."""
    if not view.others:
        return []
    lines = [
        "## Other CPU identities",
        "",
        "Figures measured on another CPU than the one above, shown only as each machine's IREE time over "
        "its own torch eager time (same inputs and threads): their milliseconds are that CPU's.",
        "",
    ]
    for identity, timed in sorted(view.others.items()):
        eager = {r.label.model: r.metric.eager_median for r in timed if r.stage == "export"}
        rows = []
        for r in sorted(
            _measured_runs(timed), key=lambda r: (r.label.model, answers.version_key(r.label.compiler))
        ):
            base = eager.get(r.label.model)
            if r.label.profile != "default" or not base or r.metric.latency_median is None:
                continue
            rows.append([r.label.model, r.label.compiler, formats.ratio(r.metric.latency_median / base)])
        if rows:
            lines += [f"**{identities.label(timed, identity)}**", "",
                      tabulate(rows, headers=["function", "IREE", "IREE / eager"], tablefmt="github",
                               disable_numparse=True), ""]  # fmt: skip
    return lines


def write_performance(results: Path, out: Path) -> list[str]:
    """results/PERFORMANCE.md from the newest record of every job; the lines it wrote."""
    lines = render_all(
        latest_by_job(answers.read(Path(results))).values(), search.read_descents(Path(results).parent)
    )
    if lines:
        out.write_text("# iree-matrix performance\n\nGenerated by `iree-matrix report --performance` from "
                       f"`{results.name}`.\n\n" + "\n".join(lines))  # fmt: skip
    return lines


def render_search(latest: Iterable[Record], descents: Sequence[search.Descent] = ()) -> list[str]:
    """The flag search: per function and IREE version, each knob's measured effect against
    `default` (median with its 90 % interval), and the best configuration only where it beats
    `default` beyond noise; with the search's own account (`search.json`), each descent's walk."""
    latest = list(latest)
    table = search.effects(search.candidates(latest))
    if not any(len(rows) > 1 for rows in table.values()):
        return []
    peers = _best_peers(latest)
    results = {(d.unit, d.compiler): d.result for d in descents}
    best_rows, rows = [], []
    for (unit, compiler), effects in sorted(table.items(), key=lambda kv: (kv[0][0], _version_key(kv[0][1]))):
        if len(effects) < 2:  # only default ran (a bench's run, say): not searched, nothing to say
            continue
        base = next((e for e in effects if e.candidate.name == search.BASELINE), None)
        top = _recommended(effects, results.get((unit, compiler))) if base else None
        faster = [e.candidate.name for e in effects if e.verdict == "faster"]
        failed = [e.candidate.name for e in effects if e.verdict in ("fails", "mismatch")]
        naive = next((e.candidate for e in effects if e.candidate.name == search.NAIVE), None)
        if base is not None and top is not None:
            best_rows.append(
                [unit, compiler, _interval(base.candidate.interval), top.candidate.name,
                 _interval(top.candidate.interval) if top is not base else "",
                 formats.ratio(top.ratio) if top is not base and top.ratio else "none beyond noise",
                 _wall_check(base.candidate, top.candidate) if top is not base else "",
                 _over(naive, top.candidate), *_gap(peers.get(unit), top.candidate),
                 ", ".join(faster) or "—", ", ".join(failed) or "—"]
            )  # fmt: skip
        for e in effects:
            c = e.candidate
            rows.append(
                [unit, compiler, c.name, _interval(c.interval),
                 formats.ratio(e.ratio) if e.ratio and e.verdict != "baseline" else "",
                 f"{e.verdict}: {c.message}" if e.verdict in ("fails", "mismatch", "skipped") else e.verdict]
            )  # fmt: skip
    return [
        "## Flag search: each knob against `default`, beyond noise",
        "",
        "`iree-matrix search`: best is the descent's result where the search kept its walk "
        "(`search.json`: the recommendation, timed beside `default` and the naive build in one last "
        "sitting), else the fastest candidate beyond noise. Round 1 compiles every function with "
        "`default` and with each knob alone "
        "(and each export variant, `@name`, under `default`); then, per function and release, each "
        "round measures the best configuration so far beside its most promising untried neighbours "
        "(one knob, group or variant changed) and beside itself with every knob that beat `default` "
        "alone stacked on it, taking a step only when a paired comparison calls it faster, until none "
        "does or the budget is spent; a last sitting measures the naive build and `default` beside the "
        "result (docs/performance.md). Every candidate's outputs are checked against torch; a knob "
        "whose module is byte-identical to `default`'s is not timed ('same module': no effect on "
        "that release). A median's interval is the order-statistic (sign test) interval of its "
        "repetitions, at least 90 % (with 5 repetitions, [min, max] at 93.75 %), on one thread's CPU "
        "time per call where the run measured it; 'faster' and 'slower' mean the intervals do not "
        "overlap, everything else is 'within noise'. vs default: default's median over the "
        "candidate's (above 1 is faster); vs naive: the same for the naive build (`generic`: no "
        "target CPU, what turbine's `compile()` passes), timed in the last sitting. A knob a release "
        "lacks is skipped; one it rejects fails with the compiler's words. Wall at the matrix's "
        "threads: the same two runs' wall-time medians at the matrix's thread count (default's over "
        "the best's; ✓ where the intervals do not overlap either, ~ where they do), the step confirmed "
        "on the figure a user sees. Best peer: the fastest of torch eager, torch.compile, ONNX Runtime "
        "and TFLite on one thread's CPU time per call, measured on the same CPU identity (the peer "
        "stage of the same results); best / peer above 1 is IREE slower.",
        "",
        tabulate(
            best_rows,
            headers=[
                "function",
                "IREE",
                "default",
                "best",
                "best median",
                "speed-up",
                "wall at the matrix's threads",
                "vs naive",
                "best peer (one thread)",
                "best / peer",
                "faster alone",
                "failed",
            ],  # fmt: skip
            tablefmt="github",
            disable_numparse=True,
        ),
        "",
        *_render_knobs(table),
        *_render_descents(descents),
        "### Every candidate",
        "",
        tabulate(
            rows,
            headers=["function", "IREE", "candidate", "median (interval)", "vs default", "verdict"],
            tablefmt="github",
            disable_numparse=True,
        ),
        "",
    ]


def _recommended(effects: Sequence[search.Effect], result: Optional[str]) -> search.Effect:
    """The descent's result where the search kept its walk (timed beside default and the naive build
    in its last sitting: the recommendation), else the fastest candidate beyond noise."""
    chosen = next((e for e in effects if result and e.candidate.name == result and e.ratio), None)
    return chosen or search.best(effects)


def _best_peers(records: Sequence[Record]) -> dict[str, tuple[str, float]]:
    """Per function, the fastest passed peer on one thread's CPU time per call: (peer, median ms)."""
    found: dict[str, tuple[str, float]] = {}
    for r in records:
        if r.stage != "peer" or r.status is not Status.OK:
            continue
        for name, entry in r.metric.peers.items():
            if not isinstance(entry, Mapping) or entry.get("status") != "ok":
                continue
            median = answers.median(entry.get(CPU))
            if median and (r.label.model not in found or median < found[r.label.model][1]):
                found[r.label.model] = (name, median)
    return found


def _gap(peer: Optional[tuple[str, float]], best: search.Candidate) -> list[str]:
    """[the best peer and its median, the best configuration's median over the peer's]: both on one
    thread's CPU time, so only when the search's figure was CPU time too."""
    if (
        peer is None
        or best.record is None
        or best.record.metric.cpu_interval is None
        or best.interval is None
    ):
        return ["", ""]
    name, median = peer
    return [f"{name} {_ms(median)}", formats.ratio(best.interval.median / median)]


def _wall_check(base: search.Candidate, best: search.Candidate) -> str:
    """default's wall median over the best's at the matrix's threads, from the same two runs."""
    if base.record is None or best.record is None:
        return ""
    a, b = base.record.metric.latency_interval, best.record.metric.latency_interval
    if a is None or b is None or b.median <= 0:
        return ""
    threads = best.record.metric.threads
    mark = "✓" if b.faster_than(a) else "~"
    return f"{mark} {formats.ratio(a.median / b.median)}" + (f" ({threads} threads)" if threads else "")


# Knob verdicts, in the order the per-release table counts them.
_KNOB_VERDICTS = ("faster", "slower", "within noise", "same module", "fails", "skipped")


def _render_knobs(table: Mapping[tuple[str, str], Sequence[search.Effect]]) -> list[str]:
    """Each knob alone, per release: on how many functions it was faster, slower, within noise, the
    same module (a null knob: not timed), failing or skipped, and its median speed-up over those it
    changed."""
    counts: dict[tuple[str, str], dict[str, int]] = {}
    ratios: dict[tuple[str, str], list[float]] = {}
    for (_, compiler), effects in table.items():
        for e in effects:
            config = search.parse(e.candidate.name)
            if config.variant or len(config.knobs) != 1 or e.candidate.name == search.NAIVE:
                continue
            key = (e.candidate.name, compiler)
            verdict = "fails" if e.verdict == "mismatch" else e.verdict.partition(",")[0]
            verdict = "same module" if verdict == stats.SAME_MODULE else verdict
            counts.setdefault(key, {}).setdefault(verdict, 0)
            counts[key][verdict] += 1
            if e.ratio and verdict in ("faster", "slower", "within noise"):
                ratios.setdefault(key, []).append(e.ratio)
    if not counts:
        return []
    releases = answers.sorted_versions({c for _, c in counts})
    rows = []
    for knob in sorted({k for k, _ in counts}):
        row = [knob]
        for release in releases:
            seen = counts.get((knob, release))
            if not seen:
                row.append("")
                continue
            parts = [f"{seen[v]} {v}" for v in _KNOB_VERDICTS if seen.get(v)]
            changed = sorted(ratios.get((knob, release), []))
            if changed:
                parts.append(f"median {formats.ratio(changed[len(changed) // 2])}")
            row.append(", ".join(parts))
        rows.append(row)
    return [
        "### Each knob alone, per release",
        "",
        "Round 1's verdicts of each knob against `default`, counted over the functions searched: "
        "'same module' is a null knob on that release (its module is byte-identical to `default`'s, "
        "so it was not timed: no effect there); the median is default's time over the knob's "
        "(above 1 is faster) among the functions whose module it changed.",
        "",
        tabulate(
            rows, headers=["knob", *(f"IREE {r}" for r in releases)], tablefmt="github", disable_numparse=True
        ),  # fmt: skip
        "",
    ]


def _over(naive: Optional[search.Candidate], best: search.Candidate) -> str:
    """The naive build's median over the best's, when both were timed (the last sitting times them
    side by side)."""
    if naive is None or naive.interval is None or best.interval is None or best.interval.median <= 0:
        return ""
    return formats.ratio(naive.interval.median / best.interval.median)


def _render_descents(descents: Sequence[search.Descent]) -> list[str]:
    """Each descent's walk as the search took it (a step only when a paired comparison called the
    challenger faster), why it stopped, and what its rounds left out."""
    if not descents:
        return []
    rows = [
        [d.unit, d.compiler, d.path, str(d.spent), d.stopped, "<br>".join(d.pruned) or "—"]
        for d in sorted(descents, key=lambda d: (d.unit, _version_key(d.compiler)))
    ]
    return [
        "### The descents",
        "",
        "Each function's walk from round 1's best: a step is taken only when paired, interleaved "
        "rounds on one thread call the challenger faster (the calibrated test); each round measures "
        "the incumbent beside its most promising untried neighbours and the incumbent with every "
        "knob that beat `default` alone stacked on it. Compiles: candidates after round 1.",
        "",
        tabulate(
            rows,
            headers=["function", "IREE", "walk", "compiles", "stopped", "left out"],
            tablefmt="github",
            disable_numparse=True,
        ),  # fmt: skip
        "",
    ]


def _interval(interval: Any) -> str:
    if interval is None:
        return ""
    return f"{_ms(interval.median)} ({_ms(interval.low)}–{_ms(interval.high)})"


# -- op kinds: where IREE's time goes against the peers' -------------------------------------------

TRAILS = 1.2  # IREE this much slower than the best peer: the report explains it op kind by op kind


def op_kind_times(profile: Any, framework: str) -> Optional[dict[str, float]]:
    """An `op_profile` (IREE's dispatches, or a peer's ops) summed per op kind, ms per call."""
    if not isinstance(profile, Mapping):
        return None
    classify = opkinds.CLASSIFIERS[framework]
    rows = profile.get("dispatches") if framework == "iree" else profile.get("ops")
    if not isinstance(rows, list):
        return None
    kinds: dict[str, float] = {}
    for row in rows:
        name = str(row.get("name") or row.get("op") or "")
        kind = classify(name) if framework == "iree" else classify(name, row.get("weight_shape"))
        kinds[kind] = kinds.get(kind, 0.0) + float(row.get("ms_per_call") or 0.0)
    return kinds


# Attention is one op on one side and matmuls + softmax on the other when an export decomposed it
# or a framework runs it unfused (ONNX Runtime runs torch's exported attention as MatMul, Softmax):
# then only the three together compare.
ATTENTION_PARTS = ("attention", "matmul", "softmax")


def comparable_kinds(
    iree: Mapping[str, float], reference: Mapping[str, float]
) -> tuple[dict[str, float], dict[str, float]]:
    """Both sides' ms per op kind, in kinds that compare: where only one side has an attention kind,
    attention, matmul and softmax are one entry on both sides, so an unfused framework's attention is
    not read as "no time on attention" against IREE's fused one."""
    ours, theirs = dict(iree), dict(reference)
    if ("attention" in ours) != ("attention" in theirs):
        merged = "+".join(ATTENTION_PARTS)
        for side in (ours, theirs):
            side[merged] = sum(side.pop(k, 0.0) for k in ATTENTION_PARTS)
    return ours, theirs


def kind_gaps(iree: Mapping[str, float], reference: Mapping[str, float]) -> list[tuple[float, str]]:
    """(IREE's ms − the reference's ms, op kind) per comparable kind (`comparable_kinds`), largest first."""
    ours, theirs = comparable_kinds(iree, reference)
    return sorted(((ours.get(k, 0.0) - theirs.get(k, 0.0), k) for k in {*ours, *theirs}), reverse=True)


_PROFILED_PEERS = {"eager": "torch", "onnxruntime": "onnxruntime"}


def render_op_kinds(latest: Iterable[Record]) -> list[str]:
    """Per function and IREE version with an in-context dispatch profile: time per op kind in IREE,
    torch eager and ONNX Runtime, and — where IREE trails the best peer by more than 1.2x — the
    kinds that account for the gap."""
    records = list(latest)
    peers = {r.label.model: r for r in records if r.stage == "peer" and r.status is Status.OK}
    runs = [r for r in _measured_runs(records) if r.metric.op_profile is not None]
    if not runs:
        return []
    lines = [
        "## Where the time goes: op kinds in IREE and in the peers",
        "",
        "IREE's figures are every dispatch timed inside the whole model by the runtime's own profiler "
        "(`--device_profiling_mode=host-execution`, `iree-profile`, IREE 3.12+), ms per call; torch "
        "eager's are torch.profiler's self CPU time per ATen op, ONNX Runtime's its per-node profile "
        "(both over the same calls as their timing); TFLite's Python interpreter has no per-op "
        "profiler. Ops are grouped by what they compute (`opkinds.py`): a 1x1 convolution counts as "
        "matmul in every framework (IREE lowers it to one), a depthwise one as depthwise; IREE and "
        "ONNX Runtime fuse batch norm and activations into convolutions, torch eager does not, so "
        "'norm' and 'elementwise' differ by construction. Where only one side has an attention op (ONNX "
        "Runtime runs torch's exported attention as MatMul and Softmax nodes), the gap is named for "
        "attention+matmul+softmax together. Profiled sums exceed the plain median by the profilers' own "
        "cost.",
        "",
    ]

    def order(r: Record) -> tuple:
        return (r.label.model, _version_key(r.label.compiler), r.label.profile)

    peak, work = roofline.peak_of(records), roofline.work_of(records)
    if peak is not None and work:
        lines += [
            "Beside a kind with FLOPs (torch's count, grouped the same way), the fraction of the "
            "machine's FMA peak it reached (roofline section above).",
            "",
        ]

    def cell(unit: str, kind: str, ms: float) -> str:
        fraction = roofline.kind_fraction(work.get(unit), kind, ms, peak)
        return _ms(ms) + (f" ({percent(fraction)})" if fraction is not None else "")

    unprofiled: dict[str, str] = {}
    for run in sorted(runs, key=order):
        unit, compiler = run.label.model, run.label.compiler
        iree_ms = run.metric.latency_median
        profile = run.metric.op_profile or {}  # every run here has one
        iree_kinds = op_kind_times(profile, "iree")
        if iree_kinds is None:
            why = str(profile.get("unavailable", "no profile")).strip().splitlines()
            unprofiled.setdefault(compiler, why[-1] if why else "no profile")
            continue
        peer = peers.get(unit)
        results = peer.metric.peers if peer is not None else {}
        timed = {
            n: v
            for n, e in results.items()
            if isinstance(e, Mapping) and e.get("status") == "ok" and (v := _median(e))
        }
        best_name = min(timed, key=lambda n: timed[n]) if timed else None
        columns: dict[str, dict[str, float]] = {f"IREE {compiler}": iree_kinds}
        for name, framework in _PROFILED_PEERS.items():
            kinds = op_kind_times((results.get(name) or {}).get("op_profile"), framework)
            if kinds is not None:
                columns[name] = kinds
        kinds_seen = [k for k in opkinds.KINDS if any(k in c for c in columns.values())]
        rows = [
            [kind, *(cell(unit, kind, c[kind]) if kind in c else "" for c in columns.values())]
            for kind in kinds_seen
        ]
        rows.append(["sum (profiled)", *(_ms(sum(c.values())) for c in columns.values())])
        medians = [iree_ms, *(timed.get(name) for name in list(columns)[1:])]
        rows.append(["median, not profiled", *(_ms(m) if m else "" for m in medians)])
        if iree_ms and iree_ms > sum(iree_kinds.values()):
            # What no dispatch accounts for: the runtime's submission, waits and copies between ops.
            rows.append(
                ["median − dispatches", _ms(iree_ms - sum(iree_kinds.values())), *[""] * (len(columns) - 1)]
            )
        timing = _ms(iree_ms) if iree_ms is not None else "no median"
        head = f"### {unit}, IREE {compiler} ({run.label.profile}): {timing}"
        verdict = ""
        if best_name and iree_ms:
            ratio = iree_ms / timed[best_name]
            verdict = f"IREE is {formats.ratio(ratio)} the best peer, {best_name} ({_ms(timed[best_name])})"
            if ratio > TRAILS:
                reference = (
                    "onnxruntime" if "onnxruntime" in columns else ("eager" if "eager" in columns else None)
                )
                if reference is not None:
                    gaps = kind_gaps(iree_kinds, columns[reference])
                    named = [f"{k} +{_ms(g)}" for g, k in gaps if g > 0][:3]
                    verdict += f"; against {reference}, IREE spends more on " + ", ".join(named)
            else:
                verdict += " — within 1.2×, nothing to explain"
        lines += [
            head,
            "",
            verdict + ".",
            "",
            tabulate(rows, headers=["op kind", *columns], tablefmt="github", disable_numparse=True),
            "",
        ]
        top = (profile.get("dispatches") or [])[:5]
        if top:
            lines += [
                "Slowest dispatches in context: "
                + "; ".join(f"`{d['name'].split('$')[-1]}` {_ms(d['ms_per_call'])}" for d in top),
                "",
            ]
    if unprofiled:
        notes = "; ".join(
            f"IREE {v}: `{why}`" for v, why in sorted(unprofiled.items(), key=lambda kv: _version_key(kv[0]))
        )
        lines += [
            "Runtimes without the in-context profiler (their executables are timed alone in the "
            f"dispatches section): {notes}.",
            "",
        ]
    return lines


# -- kernels across releases: the micro-benchmarks, one row per operator ---------------------------

KERNEL_RELEASES = 4  # a function measured on at least this many releases gets a row


def render_kernels(latest: Iterable[Record]) -> list[str]:
    """Per function measured across many compiler releases (the `ops` micro-benchmarks, each on its
    own release's runtime, profile default): median ms per release, and the regressions beyond noise
    between consecutive releases (answers.regressions, the same rule as COMPATIBILITY.md)."""
    records = list(latest)
    runs = answers.Runs.of(records)
    rows, versions_seen = [], set()
    table: dict[str, dict[str, str]] = {}
    for function in runs.functions():
        exporter = runs.main_exporter([function])
        cells = {}
        for (f, e, c, rt), run in runs.by_cell.items():
            if f == function and e == exporter and c == rt and run.status is Status.OK:
                t = answers.timing(run)
                if t is not None:
                    cells[c] = ("~" if t.noisy else "") + _ms(t.median)
        if len(cells) >= KERNEL_RELEASES:
            table[function] = cells
            versions_seen |= set(cells)
    if not table:
        return []
    versions = answers.sorted_versions(versions_seen)
    days = sorted(
        {(r.finished or "")[:10] for (f, *_), r in runs.by_cell.items() if f in table and r.finished}
    )
    for function, cells in sorted(table.items()):
        rows.append([function, *(cells.get(v, "") for v in versions)])
    slower = [r for r in answers.regressions(runs) if r.kind == "slower" and r.function in table]
    lines = [
        "## Kernels across releases",
        "",
        "Median latency per call of each function measured on at least "
        f"{KERNEL_RELEASES} IREE releases (each module on its own release's runtime, profile "
        "`default`; `~`: noisy — other programs busy or repetitions spread over 20 %)"
        + (f", measured {days[0]}" + (f" to {days[-1]}" if days[-1] != days[0] else "") if days else "")
        + ".",
        "",
        tabulate(rows, headers=["function", *versions], tablefmt="github", disable_numparse=True),
        "",
    ]
    lines += render_instructions(runs, versions)
    if slower:
        lines += [
            "Slower beyond noise between consecutive releases (two quiet timings decide by their medians; "
            f"where either is noisy, the same build's instruction counts decide — more than "
            f"{answers.NOISE_RATIO:g}× the instructions per call — when both releases have one; without "
            f"them, the newer fastest repetition must exceed {answers.LOADED_RATIO:g}× the older slowest). "
            "The `default` build (this host's AVX-512) cannot be counted, so its pairs are decided by "
            "timings; the counted build's own pairs are listed with its name:",
            "",
        ]
        lines += [
            f"- **{r.subject}** {r.older} → {r.newer}: {r.detail} — decided by {r.signal}" for r in slower
        ]
        lines.append("")
    return lines


def render_instructions(runs: answers.Runs, versions: Sequence[str]) -> list[str]:
    """Instructions per call per function and release (callgrind, stages/instructions.py), and
    where both releases of a consecutive pair had quiet timings of the counted module itself, the
    instruction ratio beside the time ratio: whether the noise-free signal agrees with the clock.
    Never the `default` build's timing: it is another program (`answers.Runs.instructions`)."""
    table: dict[str, dict[str, Record]] = {}
    for profile in [runs.profile, *runs.counted_profiles()]:
        for (function, _, compiler), record in answers.Runs(
            runs.index, profile, runs.arch
        ).instructions.items():
            table.setdefault(function, {}).setdefault(compiler, record)
    table = {f: cells for f, cells in table.items() if len(cells) >= KERNEL_RELEASES}
    if not table:
        return []
    shown = [v for v in versions if any(v in cells for cells in table.values())]
    shown += answers.sorted_versions({v for cells in table.values() for v in cells} - set(shown))
    profiles = sorted({r.label.profile for cells in table.values() for r in cells.values()})
    tools = sorted({str(r.metric.instructions.get("tool", "")) for c in table.values() for r in c.values()})
    rows: list[list[str]] = []
    pairs: list[list[str]] = []
    quiet_pairs: list[list[str]] = []
    for function, cells in sorted(table.items()):
        figures = {v: n for v, r in cells.items() if (n := answers.counted(r))}
        rows.append(
            [function, *(answers.instructions_text(figures[v]) if v in figures else "" for v in shown)]
        )
        present = [v for v in answers.sorted_versions(cells) if figures.get(v)]
        for older, newer in zip(present, present[1:]):
            ta, tb = (answers.timing(runs.by_job.get("run:" + cells[v].cell)) for v in (older, newer))
            if ta is None or tb is None or ta.noisy or tb.noisy:
                continue
            time_ratio, count_ratio = tb.median / ta.median, figures[newer] / figures[older]
            build = cells[older].label.profile
            row = [function, f"{older} → {newer}", f"{formats.ratio(time_ratio)} ({build})",
                   formats.ratio(count_ratio), _agrees(time_ratio, count_ratio)]  # fmt: skip
            moved = max(time_ratio, 1 / time_ratio, count_ratio, 1 / count_ratio) > answers.NOISE_RATIO
            (pairs if moved else quiet_pairs).append(row)
    lines = [
        "### Instructions per call",
        "",
        "Instructions one call executes, counted by valgrind's callgrind "
        f"({', '.join(t for t in tools if t)}) on `iree-benchmark-module --device=local-sync` (one thread "
        "does all the work), inside `iree_vm_invoke` only (`--toggle-collect`: the call, without start-up, "
        "module load and input parsing). The count does not move with the machine's load. "
        "valgrind emulates no AVX-512 CPU, so the counted module is the same function compiled with "
        f"profile {', '.join(f'`{p}`' for p in profiles)} (x86-64-v3: AVX2 and FMA) by each release, "
        "run on that release's runtime. That is another program than the `default` build (IREE picks "
        "vector tiles from the target CPU's features), so a count speaks for its own build — what an "
        "AVX2 machine runs — and decides that build's regressions, not the `default` build's.",
        "",
        tabulate(rows, headers=["function", *shown], tablefmt="github", disable_numparse=True),
        "",
    ]
    if pairs or quiet_pairs:
        moved = bool(pairs)
        lines += [
            "Consecutive releases whose counted build had quiet timings on both (local-task, this host; "
            "the build named beside the ratio)"
            + (f", where either ratio moved beyond {answers.NOISE_RATIO:g}×" if moved else "")
            + ": newer over older. 'agree': both signals say slower, faster or neither beyond "
            f"{answers.NOISE_RATIO:g}×.",
            "",
            tabulate(
                pairs or quiet_pairs,
                headers=["function", "releases", "time ratio", "instruction ratio", "agree"],
                tablefmt="github",
                disable_numparse=True,
            ),  # fmt: skip
            "",
        ]
        if moved and quiet_pairs:
            lines += [
                f"The other {len(quiet_pairs)} quiet pairs: neither signal moved beyond "
                f"{answers.NOISE_RATIO:g}× ("
                + ", ".join(f"{p[0]} {p[1]}: {p[2]} vs {p[3]}" for p in quiet_pairs)
                + ").",
                "",
            ]
    return lines


def _agrees(time_ratio: float, count_ratio: float) -> str:
    """Whether the two signals say the same beyond noise: both slower, both faster, or both within."""

    def direction(ratio: float) -> int:
        return 1 if ratio > answers.NOISE_RATIO else -1 if ratio < 1 / answers.NOISE_RATIO else 0

    return "yes" if direction(time_ratio) == direction(count_ratio) else "no"
