"""A run's report beside the published figures. Absolute times of two CPU identities say nothing of
each other, so the section relates them through ratios each taken in its own run: IREE over torch
eager on the same machine."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Optional

from iree_matrix.core import formats
from iree_matrix.core.model.metrics.export import ExportMetrics
from iree_matrix.core.model.metrics.peer import PeerMetrics
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.metrics_view import Timed
from iree_matrix.core.model.results import Record, Status
from iree_matrix.findings import identities, runs_view
from iree_matrix.report.markdown import github_table

# The published figures a run relates its own to when none were made on its CPU identity (the log the
# wheel carries); from a checkout every `bench*` set is a candidate, this machine's identity preferred.
PUBLISHED_SET = "bench-rocketlake"
BENCH_SETS = "bench*"
TITLE = "Your machine and the published figures"


def _ms(value: Optional[float]) -> str:
    return formats.duration_ms(value) if value is not None else "—"


def _default_runs(records: Iterable[Record]) -> dict[tuple[str, str], Record]:
    """(function, release) -> the native `default` run on its own runtime and default driver."""
    own = [r for r in runs_view.measured_runs(records) if r.label.profile == "default" and not r.label.device]
    return {(r.label.model, r.label.compiler): r for r in own}


@dataclasses.dataclass(frozen=True)
class _Side:
    """One machine's IREE and torch eager one-thread CPU times per call (wall times are not compared: a
    loaded sitting read 0.63x on wall time and 2.36x slower on CPU time)."""

    cpu: float
    eager_cpu: float

    @property
    def cpu_ratio(self) -> float:
        return self.cpu / self.eager_cpu


def _sides(records: Sequence[Record]) -> dict[tuple[str, str], _Side]:
    """(function, release) -> its figures where both have one thread's CPU time; eager's from the export
    stage, which every run has, else from the peer stage (the two measure alike)."""
    peers = {r.label.model: r for r in records if r.stage == "peer" and r.status is Status.OK}
    exports = {r.label.model: r for r in records if r.stage == "export" and r.status is Status.OK}
    found = {}
    for (function, release), run in _default_runs(records).items():
        cpu = run.metric.of(RunMetrics).cpu_time
        entry = peers[function].metric.of(PeerMetrics).peers.get("eager") if function in peers else None
        eager_cpu: Optional[float] = None
        if function in exports:
            eager_cpu = (exports[function].metric.of(ExportMetrics).eager_cpu or _NONE).median
        if eager_cpu is None and isinstance(entry, Mapping) and entry.get("status") == "ok":
            eager_cpu = runs_view.median(entry.get("cpu_ms"))
        if cpu is None or not cpu.median or not eager_cpu:
            continue
        found[(function, release)] = _Side(cpu.median, eager_cpu)
    return found


_NONE = Timed(None)


def render_against_published(
    records: Sequence[Record], published: Sequence[Record], name: str = PUBLISHED_SET
) -> list[str]:
    here_view, there_view = identities.split(records), identities.split(published)
    here, there = _sides(here_view.mine), _sides(there_view.mine)
    rows = []
    for key in sorted(here.keys() & there.keys()):
        function, release = key
        mine, theirs = here[key], there[key]
        rows.append(
            [
                function,
                release,
                _ms(mine.cpu),
                _ms(mine.eager_cpu),
                _eager_words(mine.cpu_ratio),
                _eager_words(theirs.cpu_ratio),
                formats.ratio(mine.cpu_ratio / theirs.cpu_ratio),
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
