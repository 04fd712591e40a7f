"""A run's report beside the published figures. Absolute times of two CPU identities say nothing of
each other, so the section relates them through ratios each taken in its own run: IREE over torch
eager on the same machine."""

from __future__ import annotations

from collections.abc import Sequence

from iree_matrix.core import formats
from iree_matrix.core.model.metrics.export import ExportMetrics
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.results import Record, Status
from iree_matrix.findings import identities, runs_view
from iree_matrix.report.markdown import github_table
from iree_matrix.report.performance import CPU, passed

# The published figures a run relates its own to when none were made on its CPU identity (the log the
# wheel carries); from a checkout every `bench*` set is a candidate, this machine's identity preferred.
PUBLISHED_SET = "bench-rocketlake"
BENCH_SETS = "bench*"
TITLE = "Your machine and the published figures"


def _sides(records: Sequence[Record]) -> dict[tuple[str, str], tuple[float, float]]:
    """(function, release) -> IREE's and torch eager's one-thread CPU time per call, where both have
    one (wall times are not compared: a loaded sitting read 0.63x on wall time and 2.36x slower on CPU
    time); eager's from the export stage, which every run has, else from the peer stage (they agree)."""
    peers = {r.label.model: r for r in records if r.stage == "peer" and r.status is Status.OK}
    exports = {r.label.model: r for r in records if r.stage == "export" and r.status is Status.OK}
    own = [r for r in runs_view.measured_runs(records) if r.label.profile == "default" and not r.label.device]
    found = {}
    for (function, release), run in {(r.label.model, r.label.compiler): r for r in own}.items():
        cpu = run.metric.of(RunMetrics).cpu_time
        eager = exports[function].metric.of(ExportMetrics).eager_cpu if function in exports else None
        eager_cpu = eager.median if eager is not None else None
        if eager_cpu is None and function in peers:
            eager_cpu = passed(peers[function], CPU).get("eager")
        if cpu is None or not cpu.median or not eager_cpu:
            continue
        found[(function, release)] = (cpu.median, eager_cpu)
    return found


def render_against_published(
    records: Sequence[Record], published: Sequence[Record], name: str = PUBLISHED_SET
) -> list[str]:
    here_view, there_view = identities.split(records), identities.split(published)
    here, there = _sides(here_view.mine), _sides(there_view.mine)
    rows = []
    for (function, release), (cpu, eager) in sorted(here.items()):
        if (theirs := there.get((function, release))) is None:
            continue
        mine, published_ratio = cpu / eager, theirs[0] / theirs[1]
        rows.append(
            [
                function,
                release,
                formats.duration_ms(cpu),
                formats.duration_ms(eager),
                _eager_words(mine),
                _eager_words(published_ratio),
                formats.ratio(mine / published_ratio),
            ]
        )
    if not rows:
        return []
    same = here_view.identity == there_view.identity
    why = (
        "Both were measured on one CPU identity: the milliseconds compare directly."
        if same
        else "These are two CPU identities: the milliseconds are each machine's own and are **not** compared."
    )
    explain = (
        " What carries across machines and sittings is each one's IREE time over its own torch eager "
        "time (same inputs; one thread's CPU time per call on both sides, the figure load moves "
        "least): *here / published* is that ratio here over the published one — near 1, IREE behaves "
        "here as published; above 1, it gains less over eager here."
    )
    headers = [
        "function",
        "IREE release, `default` flags",
        "IREE here",
        "torch eager here",
        "IREE against eager here",
        "IREE against eager, published",
        "here / published",
    ]
    return [
        f"## {TITLE}",
        "",
        f"Here: **{here_view.label}**. Published (`results/{name}`): **{there_view.label}**. {why}{explain}",
        "",
        github_table(rows, headers),
        "",
    ]


def _eager_words(ratio: float) -> str:
    """IREE over eager, in words that say which is faster."""
    if ratio > 1:
        return f"IREE takes {formats.ratio(ratio)} eager's time"
    return f"IREE {formats.ratio(1 / ratio)} faster"
