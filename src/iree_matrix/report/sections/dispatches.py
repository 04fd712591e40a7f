"""PERFORMANCE.md's "Top dispatches" (the dispatches stage): op-wise bisection across IREE versions,
each executable benchmarked on its own, the slowest side by side across releases."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Optional

from iree_matrix.core import formats
from iree_matrix.core.formats import duration_ms as _ms
from iree_matrix.core.model.metrics.dispatches import DispatchesMetrics
from iree_matrix.core.model.results import Record, Status
from iree_matrix.findings import runs_view
from iree_matrix.report.markdown import github_table
from iree_matrix.report.sections import Document, Section, on_records

TITLE = "Top dispatches"  # each model's heading: the title, the model, its arch and profile


Group = tuple[str, str, str, str]  # model, exporter, arch, profile: one table across releases
Op = tuple[str, int]  # what a dispatch computes, and which repeat of it in IREE's dispatch order


def render_dispatches(latest: Iterable[Record]) -> list[str]:
    """The slowest dispatches of each profiled model, side by side across IREE versions, matched by
    what they compute (the op part of IREE's name; ordinals differ between versions)."""
    profiled = [r for r in latest if r.stage == "dispatches" and r.status is Status.OK]
    profiled = [r for r in profiled if r.label.own_runtime]
    groups: dict[Group, list[Record]] = runs_view.grouped_by(
        ((r.label.model, r.label.exporter, r.label.arch, r.label.profile), r) for r in profiled
    )
    lines: list[str] = []
    for group, records in sorted(groups.items()):
        lines += _table(group, sorted(records, key=lambda r: runs_view.version_key(r.label.compiler)))
    return lines


def _table(group: Group, releases: Sequence[Record]) -> list[str]:
    """One model's table: its ten slowest ops, one column per release (oldest first)."""
    model, exporter, arch, profile = group
    versions = [r.label.compiler for r in releases]
    tables = [_occurrences(r.metric.of(DispatchesMetrics).dispatches) for r in releases]
    slowest = sorted(
        {op for table in tables for op in table},
        key=lambda op: max(t[op]["median_us"] for t in tables if op in t),
        reverse=True,
    )[:10]
    timed = [r.metric.of(DispatchesMetrics) for r in releases]
    total = [
        f"{_ms((m.sum_median_us or 0) / 1000)} over {m.benchmarked}"
        " executables" + (f" ({len(m.not_benchmarked)} not compilable alone)" if m.not_benchmarked else "")
        for m in timed
    ]
    return [
        f"## {TITLE}: {model} ({arch}, profile {profile})",
        "",
        f"Exported by {exporter}. " if exporter else "",
        "Each executable benchmarked on its own (`--iree-hal-dump-executable-benchmarks-to`, then "
        "`iree-benchmark-module`): median µs per invocation, with IREE's dispatch ordinal; the last "
        "column is the newest version's time over the oldest's (above 1: slower). Sum over "
        "executables: " + "; ".join(f"IREE {v}: {t}" for v, t in zip(versions, total)) + ". "
        "An executable that does not compile on its own is left out (its compile record names "
        "each, with the compiler's words).",
        "",
        github_table(
            [_row(op, [t.get(op) for t in tables]) for op in slowest],
            ["op", *(f"IREE {v}" for v in versions), "ratio"],
        ),
        "",
    ]


def _row(op: Op, cells: Sequence[Optional[Mapping[str, Any]]]) -> list[str]:
    """An op's median per release with its dispatch ordinal, and the newest over the oldest."""
    row = [op[0] + (f" #{op[1] + 1}" if op[1] else "")]
    row += [f"{c['median_us']:.1f} µs (d{_ordinal(c['name'])})" if c else "—" for c in cells]
    first, last = cells[0], cells[-1]
    row.append(
        formats.ratio(last["median_us"] / first["median_us"])
        if first and last and first["median_us"] and len(cells) > 1
        else ""
    )
    return row


def _occurrences(dispatches: Sequence[Mapping[str, Any]]) -> dict[Op, Mapping[str, Any]]:
    """op -> entry, with repeats of the same op numbered in IREE's dispatch order."""
    seen: Counter[str] = Counter()
    table = {}
    for entry in sorted(dispatches, key=lambda d: _ordinal(d.get("name", ""))):
        op = entry.get("op", "")
        table[(op, seen[op])] = entry
        seen[op] += 1
    return table


def _ordinal(name: str) -> int:
    match = re.search(r"dispatch_(\d+)_", name)
    return int(match.group(1)) if match else 0


SECTION = Section(
    "dispatches", Document.PERFORMANCE, 90, TITLE, ("dispatches",), on_records(render_dispatches)
)
