"""PERFORMANCE.md's "Flag search: each knob against `default`, beyond noise" (`iree-matrix search`):
per function and IREE version, each knob's measured effect against `default`, the best configuration
only where it beats `default` beyond noise, each knob alone per release, and each descent's walk."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Optional

from iree_matrix.core import formats
from iree_matrix.core.formats import duration_ms as _ms
from iree_matrix.core.model import stats
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.results import Record, Status
from iree_matrix.findings import runs_view, search, search_descent
from iree_matrix.matrix import peers as peer_registry
from iree_matrix.report.markdown import github_table
from iree_matrix.report.performance import CPU, passed, peers_ran, with_interval
from iree_matrix.report.sections import Document, Section

TITLE = "Flag search: each knob against `default`, beyond noise"


def judged(records: Iterable[Record]) -> bool:
    """Whether the records hold a flag search that compared candidates (this section has a table)."""
    return _any_judged(search.effects(search.candidates(list(records))))


def _any_judged(table: Mapping[tuple[str, str], Sequence[search.Effect]]) -> bool:
    return any(len(rows) > 1 for rows in table.values())


def render_search(latest: Iterable[Record], descents: Sequence[search_descent.Descent] = ()) -> list[str]:
    """Per function and IREE version, each knob's effect against `default`, the best configuration only
    where it beats `default` beyond noise, and each descent's walk (`search.json`)."""
    latest = list(latest)
    table = search.effects(search.candidates(latest))
    if not _any_judged(table):
        return []
    peers = _best_peers(latest)
    results = {(d.function, d.compiler): d.result for d in descents}
    best_rows, rows = [], []
    for (function, compiler), effects in sorted(
        table.items(), key=lambda item: (item[0][0], runs_view.version_key(item[0][1]))
    ):
        if len(effects) < 2:  # only default ran (a bench's run, say): not searched, nothing to say
            continue
        best = _best_row(function, compiler, effects, results.get((function, compiler)), peers.get(function))
        best_rows += [best] if best else []
        rows += [_candidate_row(function, compiler, e) for e in effects]
    return [
        "## " + TITLE,
        "",
        "`iree-matrix search`: best is the descent's result where the search kept its walk "
        "(`search.json`: the recommendation, timed beside `default` and the naive build in one last "
        "sitting), else the fastest candidate beyond noise. Batch 1 compiles every function with "
        "`default` and with each knob alone "
        "(and each export variant, `@name`, under `default`); then, per function and release, each "
        "batch measures the best configuration so far beside its most promising untried neighbours "
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
        "on the figure a user sees. Best peer: the fastest of "
        # every peer where none ran, so that the sentence still says what the column would hold
        + peer_registry.listed([peer_registry.display(p) for p in peers_ran(latest) or peer_registry.names()])
        + " on one thread's CPU time per call, measured on the same CPU identity (the peer "
        "stage of the same results); best / peer above 1 is IREE slower.",
        "",
        github_table(best_rows, _BEST),
        "",
        *_render_knobs(table),
        *_render_descents(descents),
        "### Every candidate",
        "",
        github_table(rows, ["function", "IREE", "candidate", "median (interval)", "vs default", "verdict"]),
        "",
    ]


_BEST = [
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
]


def _best_row(
    function: str,
    compiler: str,
    effects: Sequence[search.Effect],
    result: Optional[str],
    peer: Optional[tuple[str, float]],
) -> Optional[list[str]]:
    """A function's best configuration on a release against `default` (None without `default`)."""
    if (base := next((e for e in effects if e.candidate.name == search.BASELINE), None)) is None:
        return None
    # The descent's result where the search kept its walk (timed beside default and the naive build in
    # its last sitting: the recommendation), else the fastest candidate beyond noise.
    kept = next((e for e in effects if result and e.candidate.name == result and e.ratio), None)
    top = kept or search.best(effects)
    faster = [e.candidate.name for e in effects if e.verdict == "faster"]
    failed = [e.candidate.name for e in effects if e.verdict in ("fails", "mismatch")]
    naive = next((e.candidate for e in effects if e.candidate.name == search.NAIVE), None)
    return [
        function,
        compiler,
        with_interval(base.candidate.interval),
        top.candidate.name,
        with_interval(top.candidate.interval) if top is not base else "",
        formats.ratio(top.ratio) if top is not base and top.ratio else "none beyond noise",
        _wall_check(base.candidate, top.candidate) if top is not base else "",
        _over(naive, top.candidate),
        *_gap(peer, top.candidate),
        ", ".join(faster) or "—",
        ", ".join(failed) or "—",
    ]


def _candidate_row(function: str, compiler: str, e: search.Effect) -> list[str]:
    c = e.candidate
    verdict = f"{e.verdict}: {c.message}" if e.verdict in ("fails", "mismatch", "skipped") else e.verdict
    ratio = formats.ratio(e.ratio) if e.ratio and e.verdict != "baseline" else ""
    return [function, compiler, c.name, with_interval(c.interval), ratio, verdict]


def _best_peers(records: Sequence[Record]) -> dict[str, tuple[str, float]]:
    """Per function, the fastest passed peer on one thread's CPU time per call: (peer, median ms)."""
    found: dict[str, tuple[str, float]] = {}
    for r in records:
        if r.stage != "peer" or r.status is not Status.OK:
            continue
        for name, median in passed(r, CPU).items():
            if r.label.model not in found or median < found[r.label.model][1]:
                found[r.label.model] = (name, median)
    return found


def _gap(peer: Optional[tuple[str, float]], best: search.Candidate) -> list[str]:
    """[the best peer and its median, the best configuration's median over the peer's]: both on one
    thread's CPU time, so only when the search's figure was CPU time too."""
    cpu = best.record.metric.of(RunMetrics).cpu_interval if best.record is not None else None
    if peer is None or cpu is None or best.interval is None:
        return ["", ""]
    name, median = peer
    return [f"{name} {_ms(median)}", formats.ratio(best.interval.median / median)]


def _wall_check(base: search.Candidate, best: search.Candidate) -> str:
    """default's wall median over the best's at the matrix's threads, from the same two runs."""
    if base.record is None or best.record is None:
        return ""
    a = base.record.metric.of(RunMetrics).latency_interval
    b = best.record.metric.of(RunMetrics).latency_interval
    if a is None or b is None or b.median <= 0:
        return ""
    return f"{'✓' if b.faster_than(a) else '~'} {formats.ratio(a.median / b.median)}"


# Knob verdicts, in the order the per-release table counts them.
_KNOB_VERDICTS = ("faster", "slower", "within noise", "same module", "fails", "skipped")


def _render_knobs(table: Mapping[tuple[str, str], Sequence[search.Effect]]) -> list[str]:
    """Each knob alone, per release: on how many functions it was faster, slower, within noise, the same
    module (a null knob: not timed), failing or skipped, and its median speed-up over those it changed."""
    counts: dict[tuple[str, str], Counter[str]] = {}
    ratios: dict[tuple[str, str], list[float]] = {}
    for (_, compiler), effects in table.items():
        for e in effects:
            config = search.parse(e.candidate.name)
            if config.variant or len(config.changes) != 1 or e.candidate.name == search.NAIVE:
                continue
            key = (e.candidate.name, compiler)
            verdict = "fails" if e.verdict == "mismatch" else e.verdict.partition(",")[0]
            verdict = "same module" if verdict == stats.SAME_MODULE else verdict
            counts.setdefault(key, Counter())[verdict] += 1
            if e.ratio and verdict in ("faster", "slower", "within noise"):
                ratios.setdefault(key, []).append(e.ratio)
    if not counts:
        return []
    releases = runs_view.sorted_versions({c for _, c in counts})

    def cell(key: tuple[str, str]) -> str:  # "" where the knob was not tried on the release
        seen, changed = counts.get(key, Counter()), sorted(ratios.get(key, []))
        parts = [f"{seen[v]} {v}" for v in _KNOB_VERDICTS if seen.get(v)]
        return ", ".join(parts + ([f"median {formats.ratio(changed[len(changed) // 2])}"] if changed else []))

    rows = [
        [knob, *(cell((knob, release)) for release in releases)] for knob in sorted({k for k, _ in counts})
    ]
    return [
        "### Each knob alone, per release",
        "",
        "Batch 1's verdicts of each knob against `default`, counted over the functions searched: "
        "'same module' is a null knob on that release (its module is byte-identical to `default`'s, "
        "so it was not timed: no effect there); the median is default's time over the knob's "
        "(above 1 is faster) among the functions whose module it changed.",
        "",
        github_table(rows, ["knob", *(f"IREE {r}" for r in releases)]),
        "",
    ]


def _over(naive: Optional[search.Candidate], best: search.Candidate) -> str:
    if naive is None or naive.interval is None or best.interval is None or best.interval.median <= 0:
        return ""
    return formats.ratio(naive.interval.median / best.interval.median)


def _render_descents(descents: Sequence[search_descent.Descent]) -> list[str]:
    """Each descent's walk (a step only where a paired comparison called it faster), stop, left out."""
    if not descents:
        return []
    rows = [
        [d.function, d.compiler, d.path, str(d.spent), d.stopped, "<br>".join(d.pruned) or "—"]
        for d in sorted(descents, key=lambda d: (d.function, runs_view.version_key(d.compiler)))
    ]
    return [
        "### The descents",
        "",
        "Each function's walk from batch 1's best: a step is taken only when paired, interleaved "
        "rounds on one thread call the challenger faster (the calibrated test); each batch measures "
        "the incumbent beside its most promising untried neighbours and the incumbent with every "
        "knob that beat `default` alone stacked on it. Compiles: candidates after batch 1.",
        "",
        github_table(rows, ["function", "IREE", "walk", "compiles", "stopped", "left out"]),
        "",
    ]


SECTION = Section(
    "search",
    Document.PERFORMANCE,
    60,
    TITLE,
    ("compile", "run", "peer"),
    lambda view: render_search(view.records, view.descents),
)
