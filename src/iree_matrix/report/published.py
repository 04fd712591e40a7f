"""A run's report beside the published figures: "my MobileNetV2 took 41 ms on 3.13.0 — the README
says 16.6 ms; is my machine slow, or IREE?". Absolute times of two CPU identities say nothing of
each other (a Zen 5 has twice a Zen 4's FMA throughput under one model name), so the section
relates them through ratios each taken in its own run: IREE over torch eager on the same machine.
Pure: this run's records and the published ones in, Markdown lines out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Optional

from tabulate import tabulate

from iree_matrix import answers, formats, identities, search
from iree_matrix.results import Record, Status

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
        if label.runtime != label.compiler or r.metric.timing not in (None, "native"):
            continue
        found[(label.model, label.compiler)] = r
    return found


def _eager(records: Iterable[Record]) -> dict[str, Record]:
    """function -> its export record with torch eager's time (the same stage on both sides)."""
    return {
        r.label.model: r
        for r in records
        if r.stage == "export" and r.status is Status.OK and r.metric.eager_median is not None
    }


def render_against_published(
    records: Sequence[Record], published: Sequence[Record], name: str = PUBLISHED_SET
) -> list[str]:
    here_view, there_view = identities.split(records), identities.split(published)
    here_runs, there_runs = _default_runs(here_view.mine), _default_runs(there_view.mine)
    here_eager, there_eager = _eager(here_view.mine), _eager(there_view.mine)
    tuned = _published_best(there_view.mine)
    rows, hints = [], []
    for key in sorted(here_runs.keys() & there_runs.keys()):
        function, release = key
        if function not in here_eager or function not in there_eager:
            continue
        run, export = here_runs[key], here_eager[function]
        mine, theirs = run.metric.latency_median, there_runs[key].metric.latency_median
        e_mine, e_theirs = export.metric.eager_median, there_eager[function].metric.eager_median
        if not (mine and theirs and e_mine and e_theirs):
            continue
        r_mine, r_theirs = mine / e_mine, theirs / e_theirs
        # torch eager's wall time collapses under contention far more than IREE's: a loaded ratio
        # says nothing, and is not carried into the comparison.
        noisy = any(
            t is not None and t.noisy for t in (answers.timing(run), answers.timing(export, eager=True))
        )
        cpu, e_cpu = run.metric.cpu_time, export.metric.eager_cpu
        r_cpu = cpu.median / e_cpu.median if cpu and e_cpu and cpu.median and e_cpu.median else None
        slower = (r_cpu if r_cpu is not None else r_mine) > 1
        best = tuned.get(key)
        rows.append([
            function, release, _ms(mine), _ms(e_mine),
            ("~" if noisy else "") + formats.ratio(r_mine),
            (formats.ratio(r_cpu) if r_cpu is not None else "—") + (" ⚠️ slower than eager" if slower else ""),
            _ms(theirs), _ms(e_theirs), formats.ratio(r_theirs),
            "noisy here" if noisy else formats.ratio(r_mine / r_theirs),
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
        else "These are two CPU identities: the milliseconds are each machine's own and are **not** "
        "compared. What carries across is each machine's IREE time over its own torch eager time "
        "(same inputs, same thread count, one run): *here / published* is that ratio here over the "
        "published one — near 1, IREE behaves here as published; above 1, IREE gains less over eager "
        "here than there. `~` and *noisy here*: other programs kept this machine busy while IREE or "
        "eager was timed (eager's wall time collapses under load); the one-thread CPU ratio (IREE's "
        "`local-sync` CPU time over eager's on one thread) is the figure load does not move."
    )
    headers = [
        "function", "IREE", "here", "eager here", "IREE/eager here", "IREE/eager here, 1-thread CPU",
        "published", "eager published", "IREE/eager published", "here / published",
        "published search's best (speed-up there)",
    ]  # fmt: skip
    lines = [
        "## Your machine and the published figures",
        "",
        f"Here: **{here_view.label}**. Published (`results/{name}`): **{there_view.label}**. {why}",
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
    from iree_matrix.flags import BUILTIN_PROFILES

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
