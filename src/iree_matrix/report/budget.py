"""One table of every board (iree/targets.py) and its RAM budget: what the measured cells need of it
(a microcontroller: data + bss + heap peak + the linker script's stack reserve, `cortex_m.linked_ram`;
a Linux board: a qemu-user container's peak, an upper bound) and what that leaves for the platform.
docs/boards.md holds it between `<!-- board-budget -->` markers (`bin/update_board_budget.py`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Optional

from iree_matrix.core import formats
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.results import Record, Status, latest_by_job
from iree_matrix.iree import targets
from iree_matrix.report import markdown
from iree_matrix.source_builds import cortex_m

BUDGET_RESULTS = ("results/armv6", "results/cortex-m")
HEADERS = ("board", "CPU", "RAM", "what the measured cells need of it", "left for the platform", "fits")


def _kib(n: float) -> str:
    return f"{n / 1024:.1f} KiB" if abs(n) < 10 * 1024 else formats.size(n)


def _cells(records: Iterable[Record], target: targets.Target, board: targets.Board) -> list[Record]:
    runs = [r for r in latest_by_job(records).values() if r.stage == "run" and r.status is Status.OK]
    if target.arch.bare_metal:
        return [
            r
            for r in runs
            if r.label.arch.startswith(target.arch.name + "-")
            and r.metric.of(RunMetrics).cpu == board.target_cpu
        ]
    return [r for r in runs if r.label.arch == target.label]


def _name(r: Record) -> str:
    return f"{r.label.model} {r.label.compiler}"


def _mcu_row(board: targets.Board, cells: Sequence[Record]) -> Optional[list[str]]:
    need: list[tuple[int, int, int, Record]] = []  # (as linked, with the stack's peak, flash, cell)
    for r in cells:
        ram, flash = r.metric.of(RunMetrics).ram_bytes, r.metric.of(RunMetrics).flash_bytes
        if isinstance(ram, int) and isinstance(flash, int):
            need.append((cortex_m.linked_ram(ram, r.metric.of(RunMetrics).stack_peak_bytes), ram, flash, r))
    if not need:
        return None
    need.sort(key=lambda n: (n[0], n[3].job))
    low, high = need[0], need[-1]
    flash = board.flash or 0
    fits = [n for n in need if n[0] <= board.ram and n[2] <= flash]
    cut = [n for n in need if n not in fits and n[1] <= board.ram and n[2] <= flash]
    reserve = formats.size(cortex_m.STACK_BYTES)
    named = f" ({', '.join(_name(n[3]) for n in fits)})" if fits and len(fits) < len(need) else ""
    said = f"{len(fits)} of {len(need)} as linked{named}"
    if cut:
        spare = sorted(board.ram - n[1] for n in cut)
        left = _kib(spare[0]) if spare[0] == spare[-1] else f"{_kib(spare[0])}–{_kib(spare[-1])}"
        said += f"; {len(cut)} more with the stack reserve cut to its peak, leaving {left}"
    flashes = sorted(n[2] for n in need)
    return [
        board.name,
        board.cpu if board.runs is None else f"{board.cpu} (runs {board.runs} firmwares)",
        f"{formats.size(board.ram)} (flash {formats.size(flash)})",
        f"data + bss + heap peak + the {reserve} stack reserve: {_kib(low[0])} ({_name(low[3])}) – "
        f"{_kib(high[0])} ({_name(high[3])}), {len(need)} firmwares; "
        f"flash {_kib(flashes[0])}–{_kib(flashes[-1])}",
        f"{_left(board.ram - low[0])} … {_left(board.ram - high[0])}",
        said,
    ]


def _left(n: float) -> str:
    return _kib(n) if n >= 0 else f"short by {_kib(-n)}"


def _linux_row(board: targets.Board, target: targets.Target, cells: Sequence[Record]) -> Optional[list[str]]:
    measured = [(peak, r) for r in cells if (peak := r.metric.of(RunMetrics).peak_memory_bytes) is not None]
    if not (peaks := sorted(measured, key=lambda p: (p[0], p[1].job))):
        return None
    top, cell = peaks[-1]
    fits = [p for p in peaks if p[0] <= board.ram]
    over = [p for p in peaks if p[0] > board.ram]
    if over:  # the upper bound exceeds the board: say by how much, and what the rest leave
        left = f"short by {formats.size(top - board.ram)} for {_name(cell)} (an upper bound)"
        left += f"; ≥ {formats.size(board.ram - fits[-1][0])} for the rest" if fits else ""
        beyond = ", ".join(dict.fromkeys(_name(r) for _, r in over))
        fit = f"{len(fits)} of {len(peaks)} runs (over by the upper bound: {beyond})"
    else:
        left, fit = f"≥ {formats.size(board.ram - top)}", f"{len(fits)} of {len(peaks)} runs"
    return [
        board.name,
        target.cpu or target.arch.name,
        formats.size(board.ram),
        f"at most {formats.size(top)} ({_name(cell)}): a container's peak under "
        f"qemu-user (emulator + program + the module's page cache, an upper bound), {len(peaks)} runs",
        left,
        fit,
    ]


def rows(records: Iterable[Record]) -> list[list[str]]:
    """One row per board that measured cells ran for, in the targets table's order."""
    records = list(records)
    out = []
    for target, board in targets.boards():
        cells = _cells(records, target, board)
        row = _mcu_row(board, cells) if target.arch.bare_metal else _linux_row(board, target, cells)
        if row is not None:
            out.append(row)
    return out


def table(records: Iterable[Record]) -> str:
    safe = ([cell.replace("|", "\\|") for cell in row] for row in rows(records))
    return "\n".join(markdown.pipes(HEADERS, safe))


def published(root: Path) -> list[Record]:
    """The records of the published sets under `root` the table is made from, as logged."""
    from iree_matrix.findings import results_folder

    return [r for d in BUDGET_RESULTS for r in results_folder.load(root / d).logged]


_BLOCK = re.compile(r"(<!-- board-budget -->\n)(.*?)(<!-- /board-budget -->)", re.DOTALL)


def rewrite_docs(text: str, made: str) -> str:
    """docs/boards.md's `text` with the table between its markers replaced by `made`."""
    return _BLOCK.sub(lambda m: m.group(1) + made + "\n" + m.group(3), text)
