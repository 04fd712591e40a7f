"""`iree-matrix query kernel NAME`: which releases take a kernel, per architecture, each verdict with
the jobs it rests on (the window kernel/findings/kernel_windows.py derives)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from iree_matrix.core.model.results import Record
from iree_matrix.findings.query import Answer
from iree_matrix.kernel.findings.kernel_windows import ORDER, TAKES, names, window


@dataclasses.dataclass(frozen=True)
class KernelAnswer(Answer):
    """Its lines name each release's evidence already: the text is the lines."""

    def text(self) -> str:
        return "\n".join(self.lines)


def answer(records: Iterable[Record], kernel: str) -> Answer:
    """`query kernel NAME`: which releases take it, per architecture, with the evidence."""
    records = list(records)
    question = f"which IREE releases take kernel {kernel}?"
    if not (verdicts := window(records, kernel)):
        known = names(records)
        said = f"the kernels measured: {', '.join(known)}" if known else "no kernel was measured"
        return Answer.unmeasured(question, f"no cell compiled kernel {kernel!r} ({said})")
    lines = []
    for arch in dict.fromkeys(v.arch for v in verdicts):
        mine = [v for v in verdicts if v.arch == arch]
        taking = [v.release for v in mine if v.verdict == TAKES]
        lines.append(
            f"{arch}: takes it in {', '.join(taking)}" if taking else f"{arch}: no release measured takes it"
        )
        for v in mine:
            said = f" — {v.reason}" if v.reason and v.verdict != TAKES else ""
            lines.append(
                f"  IREE {v.release}: {v.verdict} (compile {v.compile}, load {v.load}, match {v.match}){said}"
            )
            lines.append(f"    evidence: {', '.join(v.evidence)}")
    best = min((ORDER.index(v.verdict) for v in verdicts), default=len(ORDER) - 1)
    data = {"kernel": kernel, "releases": [v.as_json() for v in verdicts]}
    evidence = tuple(dict.fromkeys(j for v in verdicts for j in v.evidence))
    return KernelAnswer(question, ORDER[best], tuple(lines), evidence, data)
