"""PERFORMANCE.md: IREE's `default` beside torch eager and the peers on the same inputs and threads,
then the stages' own sections (report/sections/), each by its rank among `OWN`. Emulated runs never
enter the tables of timings (qemu's speed is not a board's)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Callable, Optional

from iree_matrix.core import formats
from iree_matrix.core.formats import duration_ms as _ms
from iree_matrix.core.model import stats
from iree_matrix.core.model.metrics.export import ExportMetrics
from iree_matrix.core.model.metrics.peer import PeerMetrics
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.results import Record, Status, latest_by_job
from iree_matrix.findings import identities, results_folder, runs_view, search_descent
from iree_matrix.findings.runs_view import measured_runs
from iree_matrix.iree import flags
from iree_matrix.matrix import peers as peer_registry
from iree_matrix.report import boards
from iree_matrix.report import sections as registry
from iree_matrix.report.markdown import github_table
from iree_matrix.report.sections import Document, Section, View, on_records

# The two figures the peers table is drawn on; the stages' sections (report/sections/) draw on them too.
WALL, CPU = "latency_ms", "cpu_ms"


def peers_ran(records: Iterable[Record]) -> tuple[str, ...]:
    """The peers these records ran, in the peers' order: a peer no record ran gets no column, so adding
    one changes no published document until a run times it."""
    ran = (
        name
        for r in records
        if r.stage == "peer" and r.status is Status.OK
        for name in r.metric.of(PeerMetrics).peers
    )
    return peer_registry.among(ran)


def passed(peer: Record, figure: str) -> dict[str, float]:
    """The median `figure` (`WALL` or `CPU`) of each peer that passed in a peer record, by name."""
    entries = peer.metric.of(PeerMetrics).peers.items()
    ok = {n: e for n, e in entries if isinstance(e, Mapping) and e.get("status") == "ok"}
    return {n: median for n, e in ok.items() if (median := runs_view.median(e.get(figure)))}


# Its own sections' titles (`OWN`); the peers' heading goes on to name the peers its records ran.
PEERS = "Performance: IREE against"
_PEERS_CPU = "One thread's CPU time per call: the comparison load does not move"
_EMULATED = "Emulated runs (kept apart: qemu's speed, not a board's)"
_OTHER_CPUS = "Built for another CPU"


def _peers_table(records: Sequence[Record], figure: str) -> Optional[str]:
    """IREE's `default` per release beside each peer on one figure (`WALL` or `CPU`), with the median's
    interval and the ratio to torch eager's; None without peers (or CPU figures)."""
    peers = {r.label.model: r for r in records if r.stage == "peer" and r.status is Status.OK}
    # Functions the peers ran: a micro-benchmark merged into the same log has no row (or column) here.
    runs = [r for r in measured_runs(records) if r.label.profile == "default" and r.label.model in peers]
    if not peers or (figure == CPU and not any(r.metric.of(RunMetrics).cpu_time for r in runs)):
        return None
    releases = runs_view.sorted_versions({r.label.compiler for r in runs})
    known = peers_ran(records)  # a column each, in their order
    rows = []
    for model in sorted(peers):
        results = peers[model].metric.of(PeerMetrics).peers
        eager_entry = results.get("eager")
        eager = runs_view.median(eager_entry.get(figure)) if isinstance(eager_entry, Mapping) else None
        mine = {r.label.compiler: r.metric.of(RunMetrics) for r in runs if r.label.model == model}
        interval = {v: m.latency_interval if figure == WALL else m.cpu_interval for v, m in mine.items()}
        iree = [with_interval(interval.get(v), eager) for v in releases]
        rows.append([model, *iree, *(_peer_cell(results.get(name), eager, figure) for name in known)])
    return github_table(rows, ["model", *(f"IREE {v}" for v in releases), *known])


def render_performance(latest: Iterable[Record]) -> list[str]:
    latest = list(latest)
    return _titled(
        _peers_table(latest, WALL),
        f"## {PEERS} " + peer_registry.listed([peer_registry.display(p) for p in peers_ran(latest)]),
        "Median latency per call on this host and, in brackets, the interval of the median (the "
        "repetitions' order statistics, at least 90 %; with five, [min, max]) and the ratio to torch "
        "eager — below 1 is faster. IREE is each release's `default` profile on its own runtime (the "
        "flag search below says what beats it); every framework had the same inputs, thread count and "
        "number of repetitions, and its outputs were checked against torch eager. A peer that could not "
        "convert the model shows its phase. Emulated runs are left out.",
    )


def render_cpu_performance(latest: Iterable[Record]) -> list[str]:
    """The same comparison on one thread's CPU time per call, the figure load moves least."""
    latest = list(latest)
    return _titled(
        _peers_table(latest, CPU),
        "## " + _PEERS_CPU,
        "The table above on the figure a shared machine's load moves least (±5 % where wall time moved "
        "2–5×): CPU time per call on one thread — IREE's module on `local-sync` (iree-benchmark-module's "
        f"process CPU time), {peer_registry.one_thread_prose(peers_ran(latest))} — with the median's "
        "interval and the ratio "
        "to torch eager's on one thread. It ranks the frameworks' code, not their use of threads.",
    )


def _titled(table: Optional[str], heading: str, prose: str) -> list[str]:
    return [] if table is None else [heading, "", prose, "", table, ""]


def with_interval(interval: Optional[stats.Interval], eager: Optional[float] = None) -> str:
    """`12.1 ms (11.9–12.4 ms, 0.52×)`: a median, its interval and (`eager` given) the ratio to it."""
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
        return with_interval(stats.of_latency(entry.get(CPU)), eager) if ok else ""
    if entry.get("status") == "fail":
        return f"❌ {(entry.get('error') or {}).get('phase', 'failed')}"
    mark = "⚠️ " if entry.get("status") == "mismatch" else ""
    return mark + with_interval(stats.of_latency(entry.get(WALL)), eager)


def render_emulated(latest: Iterable[Record]) -> list[str]:
    """Runs under qemu-user, apart: they say a module works on that CPU, not how fast a board is."""
    rows = [
        [
            r.label.model,
            r.label.arch,
            r.label.compiler,
            r.label.profile,
            boards.emulated_time(r),
            str(r.metric.of(RunMetrics).timing),
        ]
        for r in latest
        if r.stage == "run"
        and r.status is Status.OK
        and r.metric.of(RunMetrics).emulated
        and r.metric.of(RunMetrics).latency_median
    ]
    if not rows:
        return []
    return [
        "## " + _EMULATED,
        "",
        github_table(sorted(rows), ["model", "arch", "IREE", "profile", "per call", "timing"]),
        "",
    ]


def render_other_cpus(latest: Iterable[Record]) -> list[str]:
    """Reference functions built for another named target CPU and timed here, beside the same release's
    `default`: IREE picks vector tiles from the target's features, a fast release here can be slow there."""
    records = list(latest)
    peered = {r.label.model for r in records if r.stage == "peer" and r.status is Status.OK}
    cpus = {
        name: p.target_cpu
        for name, p in flags.BUILTIN_PROFILES.items()
        if p.target_cpu not in (None, "host") and not flags.is_vmvx(p)
    }
    runs = [
        r for r in measured_runs(records) if r.label.model in peered and r.label.profile in {"default", *cpus}
    ]
    by = {(r.label.model, r.label.profile, r.label.compiler): r for r in runs}
    other = sorted(
        {(p, c) for (_, p, c) in by if p != "default"}, key=lambda pc: (pc[0], runs_view.version_key(pc[1]))
    )
    if not other:
        return []

    def cell(model: str, profile: str, compiler: str) -> str:  # built for the CPU, and over `default`
        t, d = (runs_view.timing(by.get((model, p, compiler))) for p in (profile, "default"))
        built = ("~" if t and t.noisy else "") + formats.duration_ms(t.median) if t else ""
        return built + (f" ({formats.ratio(t.median / d.median)})" if t and d else "")

    rows = [
        [model, *(cell(model, *pc) for pc in other)]
        for model in sorted({m for (m, p, _) in by if p != "default"})
    ]
    return _titled(
        github_table(rows, ["function", *(f"IREE {c} `{p}` ({cpus[p]})" for p, c in other)]),
        "## " + _OTHER_CPUS,
        "Each reference function compiled for a named target CPU instead of this host "
        "(`--iree-llvmcpu-target-cpu`), run here on the release's own runtime: median latency per call "
        "and, in brackets, its ratio to the same release's `default` (this host's CPU) build; `~`: noisy. "
        "It is what a machine with only that ISA would run — timed on this host's cores, so read the "
        "ratios between releases, not the milliseconds as that machine's. IREE picks vector tiles from "
        "the target's CPU features: a release fast here can be slow there.",
    )


def render_all(latest: Iterable[Record], descents: Sequence[search_descent.Descent] = ()) -> list[str]:
    """PERFORMANCE.md's lines: every section by rank on this CPU identity's records, then the others'."""
    everything = list(latest)
    view = identities.split(everything)
    return (
        _identity_lines(view, everything)
        + registry.render(Document.PERFORMANCE, View.of(view.mine, descents), OWN)
        + render_other_identities(view)
    )


def _identity_lines(view: identities.Split, records: Sequence[Record]) -> list[str]:
    if not view.identity:
        return []
    others = [identities.label(records, i) for i in sorted(view.others)]
    more = (
        f" Timed records of {len(others)} other CPU identit{'y' if len(others) == 1 else 'ies'} "
        f"({'; '.join(others)}) are not mixed in: see [Other CPU identities](#other-cpu-identities)."
        if others
        else ""
    )
    return [f"**CPU identity of every figure below:** {view.label}.{more}", ""]


def render_other_identities(view: identities.Split) -> list[str]:
    """Other CPUs' figures, each only as IREE's `default` over its own torch eager time."""
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
        eager = {r.label.model: r.metric.of(ExportMetrics).eager_median for r in timed if r.stage == "export"}
        rows = []
        for r in sorted(
            measured_runs(timed), key=lambda r: (r.label.model, runs_view.version_key(r.label.compiler))
        ):
            base = eager.get(r.label.model)
            median = r.metric.of(RunMetrics).latency_median
            if r.label.profile != "default" or not base or median is None:
                continue
            rows.append([r.label.model, r.label.compiler, formats.ratio(median / base)])
        if rows:
            lines += [
                f"**{identities.label(timed, identity)}**",
                "",
                github_table(rows, ["function", "IREE", "IREE / eager"]),
                "",
            ]
    return lines


def write_performance(results: results_folder.Results, out: Path) -> list[str]:
    """RESULTS/PERFORMANCE.md from the newest record of every job of `results`; the lines it wrote."""
    if lines := render_all(latest_by_job(results.records).values(), results.descents):
        out.write_text(
            "# iree-matrix performance\n\nGenerated by `iree-matrix report --performance` from "
            f"`{results.source.name}`.\n\n" + "\n".join(lines)
        )
    return lines


def _own(
    name: str, rank: int, title: str, stages: tuple[str, ...], render: Callable[[Iterable[Record]], list[str]]
) -> Section:
    return Section(name, Document.PERFORMANCE, rank, title, stages, on_records(render))


# PERFORMANCE.md's sections no stage owns, and the ranks the stages' are placed between (report/sections/:
# the roofline 30, op kinds 50, the flag search 60 and its tune table 70, the kernels 80, the dispatches 90).
OWN = (
    _own("peers", 10, PEERS, ("run", "peer"), render_performance),
    _own("peers_cpu", 20, _PEERS_CPU, ("run", "peer"), render_cpu_performance),
    _own("other_cpus", 40, _OTHER_CPUS, ("compile", "run"), render_other_cpus),
    _own("emulated", 100, _EMULATED, ("run",), render_emulated),
)


def sections() -> tuple[Section, ...]:
    """PERFORMANCE.md's sections, in order: its own (`OWN`) and the stages' (report/sections/)."""
    return registry.of(Document.PERFORMANCE, OWN)
