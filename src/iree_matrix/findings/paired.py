"""Paired verdicts kept beside a results log (`compare-A-B.json`, from `iree-matrix compare A B`), read
back so the answers decide "slower" and "fastest" on them instead of on two medians taken apart:
`attach` gives each run its verdicts, `against` reads one back."""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

from iree_matrix.core.model import stats
from iree_matrix.core.model.host_identity import HostIdentity
from iree_matrix.core.model.metrics.run import PAIRED, RunMetrics
from iree_matrix.core.model.results import Record, latest_by_job
from iree_matrix.findings import runs_view

GLOB = "compare-*.json"
# Verdicts that decide: byte-identical modules and a too-short comparison say nothing of speed.
DECIDED = (stats.FASTER, stats.SLOWER, stats.NO_DIFFERENCE)
_INVERSE = {stats.FASTER: stats.SLOWER, stats.SLOWER: stats.FASTER}


@dataclasses.dataclass(frozen=True)
class Verdict:
    """This arm against `other` (B against A): `ratio` is this arm's time over the other's."""

    other: str
    verdict: str  # faster | slower | no difference | same module | too few rounds
    ratio: float
    low: float
    high: float
    rounds: int
    ms: Optional[float]  # this arm's median CPU time per call over the rounds
    other_ms: Optional[float]
    identity: str  # the CPU identity of the sitting (`HostIdentity.identity`)
    where: str  # its label: "Intel(R) Xeon(R) Processor, family 6 model 167 stepping 1, 2 cores"

    def inverted(self, other: str) -> Verdict:
        ratio = 1.0 / self.ratio if self.ratio > 0 else self.ratio
        low = 1.0 / self.high if self.high > 0 else self.low
        high = 1.0 / self.low if self.low > 0 else self.high
        return dataclasses.replace(
            self,
            other=other,
            verdict=_INVERSE.get(self.verdict, self.verdict),
            ratio=ratio,
            low=low,
            high=high,
            ms=self.other_ms,
            other_ms=self.ms,
        )

    def describe(self) -> str:
        """How it was decided: "8 paired rounds of one thread's CPU time, round ratios 1.02–1.08, on …"."""
        if self.verdict == stats.SAME_MODULE:
            return "byte-identical modules: one program, not timed"
        return (
            f"{self.rounds} paired rounds of one thread's CPU time, round ratios "
            f"{self.low:.3g}–{self.high:.3g}, on {self.where}"
        )

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Optional[Verdict]:
        try:
            return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls)})
        except (KeyError, TypeError):
            return None


def _median(values: Any) -> Optional[float]:
    numbers = [float(v) for v in values or () if isinstance(v, (int, float))]
    return statistics.median(numbers) if numbers else None


def read(directory: Path) -> list[Mapping[str, Any]]:
    """The compare documents beside a log (ones that cannot be read are left out), in name order."""
    found = [runs_view.json_file(path) for path in sorted(Path(directory).glob(GLOB))]
    return [data for data in found if isinstance(data, dict) and isinstance(data.get("functions"), list)]


def _verdicts(document: Mapping[str, Any], records: Sequence[Record]) -> dict[str, Verdict]:
    """function -> B's verdict against A, from one compare document; its host named as the records
    of the same identity name it (with LLVM's CPU name where one of them knows it)."""
    from iree_matrix.findings import identities

    found_host = HostIdentity.of(document.get("host"))
    identity = found_host.identity if found_host.known else ""
    where = identities.label(records, identity) if identity else "an unrecorded host"
    if where == identity:  # no record of that identity here: the document's own words
        where = found_host.label()
    out = {}
    for f in document.get("functions") or ():
        if not isinstance(f, Mapping) or not isinstance(f.get("ratio"), (int, float)):
            continue
        out[str(f.get("function"))] = Verdict(
            str(document.get("a")),
            str(f.get("verdict") or ""),
            float(f["ratio"]),
            float(f.get("low") or f["ratio"]),
            float(f.get("high") or f["ratio"]),
            int(f.get("rounds") or 0),
            _median(f.get("b_ms")),
            _median(f.get("a_ms")),
            identity,
            where,
        )
    return out


def attach(records: Sequence[Record], documents: Iterable[Mapping[str, Any]]) -> list[Record]:
    """`records` with each run that a compare document timed carrying its verdict against the other
    arm (both arms: B's as written, A's inverted), keyed by the other arm's name."""
    from iree_matrix.findings import calibration

    documents = list(documents)
    if not documents:  # the common case: no compare ran, so no pass over every record to index them
        return list(records)
    latest = list(latest_by_job(records).values())
    extra: dict[str, dict[str, dict[str, Any]]] = {}
    for document in documents:
        a, b = str(document.get("a")), str(document.get("b"))
        verdicts = _verdicts(document, latest)
        for function, ra, rb in calibration.matched(latest, a, b):
            if (verdict := verdicts.get(function)) is None:
                continue
            extra.setdefault(rb.job, {})[a] = dataclasses.asdict(verdict)
            extra.setdefault(ra.job, {})[b] = dataclasses.asdict(verdict.inverted(b))
    return [
        dataclasses.replace(
            r, metrics={**r.metrics, PAIRED: {**r.metric.of(RunMetrics).paired, **extra[r.job]}}
        )
        if r.job in extra and r.stage == "run"
        else r
        for r in records
    ]


def against(record: Optional[Record], other: str) -> Optional[Verdict]:
    """`record`'s paired verdict against the run named `other` (a release or a profile), if any."""
    if record is None:
        return None
    data = record.metric.of(RunMetrics).paired.get(other)
    return Verdict.of(data) if isinstance(data, Mapping) else None
