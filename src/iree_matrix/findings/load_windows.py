"""Can runtime B load a module from compiler A? Per (compiler, runtime) pair, what the cells say, and
per runtime the window of compilers whose modules it loads. Pure: records in, plain data out; every
answer names the job ids of the cells it rests on.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Optional

from iree_matrix.core.model import refusals
from iree_matrix.core.model.metrics.compile import CompileMetrics
from iree_matrix.core.model.results import Record, Status
from iree_matrix.findings.runs_view import Runs, grouped_by, refusal_reason, sorted_versions


class Load(str, enum.Enum):
    LOADS = "loads"
    REFUSES = "refuses"
    UNKNOWN = "unknown"  # not run, skipped, timed out, or failed in a way that says nothing of loading


def load_of(run: Record) -> Load:
    if run.status in (Status.OK, Status.MISMATCH):
        return Load.LOADS
    return Load.REFUSES if refusals.refused(run) else Load.UNKNOWN


@dataclasses.dataclass(frozen=True)
class Pair:
    compiler: str
    runtime: str
    load: Load
    evidence: tuple[str, ...]  # job ids
    disagreement: bool = False  # functions disagree (some load, some are refused)
    reason: str = ""  # the refusal in the runtime's words, one line (first refusing cell)


def ran(record: Record) -> bool:
    """A stage that was executed and recorded an outcome: evidence. A cell never run (blocked by an
    earlier stage, not planned yet) or skipped says nothing of what it would have done."""
    return record.status not in (Status.NOT_RUN, Status.SKIP)


def pairs(runs: Runs) -> dict[tuple[str, str], Pair]:
    by_pair = grouped_by(((compiler, runtime), r) for (_, _, compiler, runtime), r in runs.by_cell.items())
    out = {}
    for (compiler, runtime), records in by_pair.items():
        # Evidence is what ran; a pair none of whose cells ran rests on what stopped them.
        evidence = sorted(r.job for r in records if ran(r)) or sorted(
            {runs.index.cause(r).job for r in records}
        )
        loads = {load_of(r) for r in records} - {Load.UNKNOWN}
        refused = next((r for r in records if load_of(r) is Load.REFUSES), None)
        # Any refusal makes the pair refused: the module of at least one function is.
        load = Load.LOADS if loads == {Load.LOADS} else Load.REFUSES if loads else Load.UNKNOWN
        reason = refusal_reason(refused.message) if refused is not None else ""
        out[(compiler, runtime)] = Pair(compiler, runtime, load, tuple(evidence), len(loads) > 1, reason)
    return out


@dataclasses.dataclass(frozen=True)
class Window:
    """Which compilers' modules one runtime loads: the range from the oldest to the newest loading
    compiler, and every observation that contradicts a contiguous range."""

    runtime: str
    loads: tuple[str, ...]
    refuses: tuple[str, ...]
    unknown: tuple[str, ...]
    contradictions: tuple[str, ...]

    @property
    def low(self) -> Optional[str]:
        return self.loads[0] if self.loads else None

    @property
    def high(self) -> Optional[str]:
        return self.loads[-1] if self.loads else None

    def text(self) -> str:
        if not self.loads:
            if not self.refuses:
                return f"runtime {self.runtime}: not measured (no run got as far as loading)"
            return f"runtime {self.runtime} loaded no module it was given"
        span = self.low if self.low == self.high else f"{self.low}–{self.high}"
        return f"runtime {self.runtime} loads modules from compilers {span}"


def windows(runs: Runs) -> list[Window]:
    found = pairs(runs)
    compilers = sorted_versions(c for c, _ in found)
    out = []
    for runtime in sorted_versions(rt for _, rt in found):
        row = {c: found[(c, runtime)] for c in compilers if (c, runtime) in found}
        loads, refuses, unknown = ([c for c, p in row.items() if p.load is kind] for kind in Load)
        low, high = (compilers.index(loads[0]), compilers.index(loads[-1])) if loads else (0, 0)
        contradictions = [
            f"compiler {c} is refused inside the window ({row[c].evidence[0]})"
            for c in refuses
            if low < compilers.index(c) < high
        ]
        contradictions += [
            f"compiler {c}: some functions' modules load, others are refused"
            for c, p in row.items()
            if p.disagreement
        ]
        out.append(Window(runtime, tuple(loads), tuple(refuses), tuple(unknown), tuple(contradictions)))
    return out


def module_versions(runs: Runs) -> dict[str, dict[str, str]]:
    """Per compiler release, what its modules ask of a runtime (the first compile that says)."""
    out: dict[str, dict[str, str]] = {}
    for (_, _, compiler), r in sorted(runs.compiles.items()):
        if (versions := r.metric.of(CompileMetrics).module_versions) and compiler not in out:
            out[compiler] = versions
    return out
