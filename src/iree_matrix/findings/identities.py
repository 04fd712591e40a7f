"""Which CPU identity a timed figure belongs to, and one identity's records apart from the rest: a
"AMD EPYC" may be a Zen 4 or a Zen 5, so a view shows one identity's figures at a time. Pure."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Optional

from iree_matrix.core.model.metrics.compile import CompileMetrics
from iree_matrix.core.model.metrics.peak import PeakMetrics
from iree_matrix.core.model.results import Record, Status

# Stages whose figures are timings of this host (counts of instructions are not: callgrind counts
# the same on any x86-64 that runs the same build).
TIMED = frozenset({"run", "peer", "export", "peak", "dispatches"})


def of(record: Record) -> str:
    return record.host.identity


def label(records: Iterable[Record], identity: str) -> str:
    """The identity's name for a reader, with LLVM's CPU name where any record of it knows it and, for a
    legacy identity, the telling ISA flags its peak measurement listed."""
    if not (found := [r for r in records if of(r) == identity]):
        return identity
    llvm = next(filter(None, (r.host.llvm_cpu for r in found)), "")
    llvm = llvm or next(filter(None, (r.metric.of(CompileMetrics).llvm_host_cpu for r in found)), "")
    text = found[0].host.label(llvm)
    if identity.startswith("legacy:"):
        peaks = [r.metric.of(PeakMetrics) for r in found if r.stage == "peak"]
        flags = next((m.isa_flags for m in peaks if m.isa_flags), ())
        telling = [f for f in flags if f in ("avx512_vp2intersect", "avx_vnni", "avx512_bf16", "amx_tile")]
        if telling:
            text += f"; its peak run listed {', '.join(telling)}"
    return text


@dataclasses.dataclass(frozen=True)
class Split:
    """A log's records as one identity's view: `mine` holds every untimed record and the timed ones
    of `identity`; `others` the timed records of every other identity, by identity."""

    identity: str
    label: str
    mine: tuple[Record, ...]
    others: Mapping[str, tuple[Record, ...]]


def main_identity(records: Sequence[Record]) -> Optional[str]:
    """The identity a view is about: that of the newest successful peak measurement (the roofline's
    ceiling must be the same CPU's), else the one with the most timed runs; None without timings."""
    if peaks := [r for r in records if r.stage == "peak" and r.status is Status.OK]:
        return of(max(peaks, key=lambda r: r.finished or ""))
    counts = Counter(of(r) for r in records if r.stage == "run" and r.status is Status.OK and r.host.known)
    return counts.most_common(1)[0][0] if counts else None


def split(records: Iterable[Record], identity: Optional[str] = None) -> Split:
    records = list(records)
    chosen = identity or main_identity(records) or ""
    mine: list[Record] = []
    others: dict[str, list[Record]] = {}
    for r in records:
        if r.stage in TIMED and r.host.known and chosen and of(r) != chosen:
            others.setdefault(of(r), []).append(r)
        else:
            mine.append(r)
    shown = label(records, chosen) if chosen else ""
    return Split(chosen, shown, tuple(mine), {k: tuple(v) for k, v in others.items()})
