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

from iree_matrix import formats, identities
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
    rows = []
    for key in sorted(here_runs.keys() & there_runs.keys()):
        function, release = key
        if function not in here_eager or function not in there_eager:
            continue
        mine, theirs = here_runs[key].metric.latency_median, there_runs[key].metric.latency_median
        e_mine, e_theirs = here_eager[function].metric.eager_median, there_eager[function].metric.eager_median
        if not (mine and theirs and e_mine and e_theirs):
            continue
        r_mine, r_theirs = mine / e_mine, theirs / e_theirs
        cpu = here_runs[key].metric.cpu_time
        rows.append([
            function, release, _ms(mine), _ms(cpu.median if cpu else None), _ms(e_mine),
            formats.ratio(r_mine), _ms(theirs), _ms(e_theirs), formats.ratio(r_theirs),
            formats.ratio(r_mine / r_theirs),
        ])  # fmt: skip
    if not rows:
        return []
    same = here_view.identity == there_view.identity
    why = (
        "Both were measured on one CPU identity: the milliseconds compare directly."
        if same
        else "These are two CPU identities: the milliseconds are each machine's own and are **not** "
        "compared. What carries across is each machine's IREE time over its own torch eager time "
        "(same inputs, same thread count, one run): the last column is that ratio here over the "
        "published one — near 1, IREE behaves here as published; above 1, IREE gains less over eager "
        "here than there (e.g. a CPU whose vector units favour torch's kernels)."
    )
    return [
        "## Your machine and the published figures",
        "",
        f"Here: **{here_view.label}**. Published (`results/{name}`): **{there_view.label}**. {why}",
        "",
        tabulate(
            rows,
            headers=[
                "function",
                "IREE",
                "here",
                "here, 1 thread CPU",
                "eager here",
                "IREE/eager here",
                "published",
                "eager published",
                "IREE/eager published",
                "here / published",
            ],  # fmt: skip
            tablefmt="github",
            disable_numparse=True,
        ),
        "",
    ]
