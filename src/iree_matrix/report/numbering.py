"""What COMPATIBILITY.md numbers and marks, derived once per document: the failures (F1 …) and the
refusals (R1 …) grouped by the tool's words, each cell's mark and its `[F2]`, so a cell and its group
always carry the same number in every section."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from iree_matrix.core.model import refusals
from iree_matrix.core.model.results import Index, Record, Status
from iree_matrix.findings import runs_view

ICONS = {
    Status.OK: "✅",
    Status.FAIL: "❌",
    Status.MISMATCH: "⚠️",
    Status.TIMEOUT: "⏱",
    Status.SKIP: "➖",
    Status.NOT_RUN: "⛔",
}
# A runtime that would not load another release's module (refusals.is_answer): an answer, never a
# failure — its own mark, its own list (R1, R2 …) apart from the failures (F1 …).
REFUSED_MARK = "🚫"
FAILURE_STATUSES = (Status.FAIL, Status.TIMEOUT, Status.MISMATCH)
# Before a timed figure taken under load or with a wide spread (runs_view.Timing.noisy).
NOISY_MARK = "~"


def status_text(status: Status) -> str:
    return f"{ICONS[status]} {status.value.replace('_', ' ')}"


def stage_rank(stage: str, order: Sequence[str]) -> int:
    return order.index(stage) if stage in order else len(order)


@dataclasses.dataclass
class FailureGroup:
    """The cells one stage stopped with the same words: one entry (F3, or R2 for a refusal)."""

    fid: str
    stage: str
    status: Status
    error_class: str
    message: str
    records: list[Record] = dataclasses.field(default_factory=list)


def _groups(records: Iterable[Record], stage_order: Sequence[str], prefix: str) -> list[FailureGroup]:
    failed = sorted(
        (r for r in records if r.status in FAILURE_STATUSES),
        key=lambda r: (stage_rank(r.stage, stage_order), runs_view.natural_key(r.job)),
    )
    groups: dict[tuple[str, Status, str, str], FailureGroup] = {}
    for r in failed:
        key = (r.stage, r.status, r.error_class or "", (r.message or "").strip())
        if key not in groups:
            groups[key] = FailureGroup(f"{prefix}{len(groups) + 1}", *key)
        groups[key].records.append(r)
    return list(groups.values())


@dataclasses.dataclass(frozen=True)
class Numbering:
    """The records (`results.Index`) and the failures and refusals a document numbers."""

    index: Index
    failures: list[FailureGroup]
    refused: list[FailureGroup]  # cross cells a runtime refused: answers (R1 …), not failures
    failure_ids: dict[str, str]  # job -> "F3" (a failure) or "R2" (a refusal)
    stage_order: tuple[str, ...]  # the pipeline's stages, in order; failures and skips listed in it

    @classmethod
    def of(cls, records: Iterable[Record], stage_order: Sequence[str] = ()) -> Numbering:
        """`stage_order` empty: the order the records' stages first appear in."""
        index = Index.of(records)
        latest = list(index.by_job.values())
        order = tuple(stage_order) or tuple(dict.fromkeys(r.stage for r in latest))
        failures = _groups((r for r in latest if not refusals.is_answer(r)), order, "F")
        refused = _groups((r for r in latest if refusals.is_answer(r)), order, "R")
        ids = {r.job: g.fid for g in (*failures, *refused) for r in g.records}
        return cls(index, failures, refused, ids, order)

    def ref(self, job: str | None) -> str:
        """` [F2]` for a job in a numbered group; "" otherwise."""
        fid = self.failure_ids.get(job or "")
        return f" [{fid}]" if fid else ""

    def stage_outcome(self, record: Record) -> str:
        """`❌ compile [F2]`, `⛔ export [F1]`: which stage stopped this cell and how."""
        if record.status is Status.NOT_RUN:
            blocker = self.index.root_blocker(record)
            return f"⛔ {blocker.split(':', 1)[0] if blocker else 'dependency'}{self.ref(blocker)}"
        return f"{ICONS[record.status]} {record.stage}{self.ref(record.job)}"
