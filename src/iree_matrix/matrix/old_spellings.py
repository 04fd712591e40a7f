"""Matrix-file keys renamed after files were written with them: the old spelling is still read, as
the new one, so a user's file keeps working; a file that gives both is refused (which one is meant?)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from iree_matrix.core.errors import SpecError

# `[benchmark]` keys, new name by old. An op's time in context is its op timings, not a profile (a
# profile is a compile profile, a cell's flag set: docs/glossary.md).
BENCHMARK = {"op_profile": "op_timings"}


def current(data: Mapping[str, Any], error: Callable[[str, Any, str], SpecError]) -> Mapping[str, Any]:
    """`data` (a parsed matrix file) with each renamed key under its new name; `error(key, value,
    why)` makes the one-line error naming the file."""
    table = data.get("benchmark")
    if not isinstance(table, Mapping) or not set(table) & set(BENCHMARK):
        return data
    renamed = dict(table)
    for old, new in BENCHMARK.items():
        if old in renamed:
            if new in renamed:
                raise error(f"benchmark.{old}", renamed[old], f"the old name of benchmark.{new}: give one")
            renamed[new] = renamed.pop(old)
    return {**data, "benchmark": renamed}
