"""A run's report beside the published figures: "my MobileNetV2 took 41 ms on 3.13.0 — the README
says 16.6 ms; is my machine slow, or IREE?". Absolute times of two CPU identities say nothing of
each other (a Zen 5 has twice a Zen 4's FMA throughput under one model name), so the section
relates them through ratios each taken in its own run: IREE over torch eager on the same machine.
Pure: this run's records and the published ones in, Markdown lines out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Optional

from tabulate import tabulate

from iree_matrix.answers import answers, identities, search
from iree_matrix.core import formats
from iree_matrix.core.records import Timed
from iree_matrix.core.results import Record, Status

PUBLISHED_SET = "bench"  # results/bench: the published speed figures


def _ms(value: Optional[float]) -> str:
    return formats.duration_ms(value) if value is not None else "—"


def _default_runs(records: Iterable[Record]) -> dict[tuple[str, str], Record]:
    """(function, release) -> the native `default` run on its own runtime and default driver."""
    found = {}
    for r in records:
        label = r.label
        if r.stage != "run" or r.status is not Status.OK or label.profile != "default" or label.device:
            continue
        if label.runtime != label.compiler or r.metric.emulated:
            continue
        found[(label.model, label.compiler)] = r
    return found


@dataclasses.dataclass(frozen=True)
class _Side:
    """One machine's figures of a function on a release: IREE's and torch eager's, wall and one
    thread's CPU, and whether a wall figure was taken under load."""

    wall: float
    eager_wall: float
    cpu: Optional[float]
    eager_cpu: Optional[float]
    noisy: bool

    @property
    def wall_ratio(self) -> float:
        return self.wall / self.eager_wall

    @property
    def cpu_ratio(self) -> Optional[float]:
        return self.cpu / self.eager_cpu if self.cpu and self.eager_cpu else None


def _sides(records: Sequence[Record]) -> dict[tuple[str, str], _Side]:
    """(function, release) -> its figures. Torch eager's come from the export stage, which every run
    has (the same stage on both sides), else from the peer stage. The two measure alike (MobileNetV2
    eager, one thread, quiet, the same helper in each stage's venv: 12.6 and 12.9 ms); where they
    differed here (12.4 against 14.8 ms) the sittings did — a bench's peers ran while other work
    kept the other core busy."""
    peers = {r.label.model: r for r in records if r.stage == "peer" and r.status is Status.OK}
    exports = {r.label.model: r for r in records if r.stage == "export" and r.status is Status.OK}
    found = {}
    for (function, release), run in _default_runs(records).items():
        wall, cpu = run.metric.latency_median, run.metric.cpu_time
        entry = peers[function].metric.peers.get("eager") if function in peers else None
        if function in exports and exports[function].metric.eager_median:
            export = exports[function]
            eager_wall, eager_cpu = export.metric.eager_median, (export.metric.eager_cpu or _NONE).median
            timed = answers.timing(export, eager=True)
            eager_noisy = timed is not None and timed.noisy
        elif isinstance(entry, Mapping) and entry.get("status") == "ok":
            eager_wall, eager_cpu = (
                answers.median(entry.get("latency_ms")),
                answers.median(entry.get("cpu_ms")),
            )
            eager_noisy = (peers[function].metric.other_load or 0.0) >= answers.NOISY_LOAD
        else:
            continue
        if not wall or not eager_wall:
            continue
        run_timing = answers.timing(run)
        noisy = eager_noisy or (run_timing is not None and run_timing.noisy)
        found[(function, release)] = _Side(wall, eager_wall, cpu.median if cpu else None, eager_cpu, noisy)
    return found


_NONE = Timed(None)


def _ratio(value: Optional[float], noisy: bool = False) -> str:
    return ("~" if noisy else "") + formats.ratio(value) if value is not None else "—"


def render_against_published(
    records: Sequence[Record], published: Sequence[Record], name: str = PUBLISHED_SET
) -> list[str]:
    here_view, there_view = identities.split(records), identities.split(published)
    here, there = _sides(here_view.mine), _sides(there_view.mine)
    tuned = _published_best(there_view.mine)
    rows, hints = [], []
    for key in sorted(here.keys() & there.keys()):
        function, release = key
        mine, theirs = here[key], there[key]
        # One thread's CPU ratios compare where both sides have them (the load moves them least);
        # else the wall ratios, and only when neither was taken under load.
        if mine.cpu_ratio is not None and theirs.cpu_ratio is not None:
            across = formats.ratio(mine.cpu_ratio / theirs.cpu_ratio) + " (CPU)"
        elif mine.noisy or theirs.noisy:
            across = "noisy"
        else:
            across = formats.ratio(mine.wall_ratio / theirs.wall_ratio)
        slower = (mine.cpu_ratio if mine.cpu_ratio is not None else mine.wall_ratio) > 1
        best = tuned.get(key)
        rows.append([
            function, release, _ms(mine.wall), _ms(mine.cpu), _ratio(mine.wall_ratio, mine.noisy),
            _ratio(mine.cpu_ratio) + (" ⚠️ slower than eager" if slower else ""),
            _ms(theirs.wall), _ratio(theirs.wall_ratio, theirs.noisy), _ratio(theirs.cpu_ratio), across,
            f"`{best[0]}` ({formats.ratio(best[1])})" if best else "",
        ])  # fmt: skip
        if best and slower:
            hints.append(
                f"- {function} on {release}: `iree-matrix tune --matrix YOUR.toml --select '*{function}*' "
                f"--profiles default,{best[0]}` (the published search's best, {formats.ratio(best[1])} over "
                f"`default` there), then `iree-matrix compare default {best[0]}` decides on this machine."
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
        "time (same inputs, same threads): *here / published* is that ratio here over the published "
        "one — on one thread's CPU time where both sides measured it (the load moves it least), else on "
        "wall time — near 1, IREE behaves here as published; above 1, it gains less over eager here. "
        "`~` and *noisy*: other programs kept the machine busy while IREE or eager was timed (eager's "
        "wall time collapses under load)."
    )
    headers = [
        "function", "IREE", "here", "here, 1-thread CPU", "IREE/eager here", "IREE/eager here, CPU",
        "published", "IREE/eager published", "IREE/eager published, CPU", "here / published",
        "published search's best (speed-up there)",
    ]  # fmt: skip
    lines = [
        "## Your machine and the published figures",
        "",
        f"Here: **{here_view.label}**. Published (`results/{name}`): **{there_view.label}**. {why}{explain}",
        "",
        tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True),
        "",
    ]
    if hints:
        lines += [
            "Where IREE's `default` is slower than torch eager here, the published flag search found a "
            "faster configuration on its machine; each is one command to try on yours:",
            "",
            *hints,
            "",
        ]
    return lines


def _published_best(records: Sequence[Record]) -> dict[tuple[str, str], tuple[str, float]]:
    """(function, release) -> the published flag search's fastest configuration that beat `default`
    beyond noise and that a user can name (built-in knobs, no export variant), with its speed-up."""
    from iree_matrix.iree.flags import BUILTIN_PROFILES

    found = {}
    for (unit, compiler), rows in search.effects(search.candidates(records)).items():
        nameable = [
            e for e in rows
            if e.verdict == "faster" and e.ratio and not search.parse(e.candidate.name).variant
            and all(k in BUILTIN_PROFILES for k in e.candidate.knobs)
        ]  # fmt: skip
        if nameable:
            top = max(nameable, key=lambda e: e.ratio or 0.0)
            found[(unit, compiler)] = (top.candidate.name, top.ratio or 1.0)
    return found
