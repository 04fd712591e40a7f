"""What a run of a plan came to: each job's record, which were reused, and the tally said at its end."""

from __future__ import annotations

import dataclasses
from collections import Counter

from iree_matrix.core.model import refusals
from iree_matrix.core.model.results import Record, Status


@dataclasses.dataclass
class Summary:
    records: dict[str, Record] = dataclasses.field(default_factory=dict)  # job id -> record
    reused: set[str] = dataclasses.field(default_factory=set)
    interrupted: bool = False
    seconds: float = 0.0

    @property
    def executed(self) -> int:
        return sum(
            1 for j, r in self.records.items() if j not in self.reused and r.status is not Status.NOT_RUN
        )

    def counts(self) -> Counter[str]:
        return Counter(r.status.value for r in self.records.values())

    def answers(self) -> list[Record]:
        """Cross cells the runtime refused: answers to "can runtime B load A's module?"."""
        return [r for r in self.records.values() if refusals.is_answer(r)]

    def failures(self) -> list[Record]:
        """What went wrong: failed, timed out or mismatched stages, a cross cell's refusal excepted
        (what `--strict` exits 1 on)."""
        bad = (Status.FAIL, Status.TIMEOUT, Status.MISMATCH)
        return [r for r in self.records.values() if r.status in bad and not refusals.is_answer(r)]

    def tally(self) -> str:
        """ "40 ok, 6 refused (expected answers), 2 fail" — refusals counted apart from failures."""
        answers = len(self.answers())
        counts = self.counts()
        counts[Status.FAIL.value] -= answers
        parts = [f"{counts[Status.OK.value]} ok"] if counts[Status.OK.value] else []
        if answers:
            parts.append(f"{answers} {refusals.REFUSED} (expected answers)")
        parts += [
            f"{counts[s.value]} {s.value}" for s in Status if s is not Status.OK and counts[s.value] > 0
        ]
        return ", ".join(parts) or "none"
