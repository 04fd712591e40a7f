"""The runs whose timings PERFORMANCE.md compares, and the two figures its tables are drawn on: what
report/performance.py and the stages' sections (report/sections/) share."""

from __future__ import annotations

from collections.abc import Iterable

from iree_matrix.core.results import Record, Status

WALL, CPU = "latency_ms", "cpu_ms"  # the two figures the peers table is drawn on


def same_runtime(run: Record) -> bool:
    """The module ran on its own release's runtime."""
    return run.label.runtime == run.label.compiler


def native(run: Record) -> bool:
    return not run.metric.emulated


def measured_runs(records: Iterable[Record]) -> list[Record]:
    """The runs whose timings the tables compare: passed, native (not under qemu), each module on
    its own release's runtime."""
    return [
        r for r in records
        if r.stage == "run" and r.status is Status.OK and native(r) and same_runtime(r)
    ]  # fmt: skip
