"""The roofline: how far each framework is from what this machine can do. A function's work is torch's
FLOP and byte count (`flops`), the ceilings the measured FMA peak and triad bandwidth (`peak`); the
bound is min(peak, intensity x bandwidth), the intensity over `bytes_min` (what any execution moves)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any, Optional

from iree_matrix.core.model.metrics.flops import FlopsMetrics
from iree_matrix.core.model.metrics.peak import PeakMetrics
from iree_matrix.core.model.metrics.peer import PeerMetrics
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.results import Record, Status
from iree_matrix.findings import identities, runs_view
from iree_matrix.matrix import peers as peer_registry


@dataclasses.dataclass(frozen=True)
class Peak:
    gflops: float  # FMA peak on `threads` threads: max(measured on all, threads x measured on one)
    gflops_1: float  # on one thread
    gbs: float  # triad bandwidth on `threads` threads
    gbs_1: float
    threads: int
    isa: str  # the vectors the kernel used: "avx512f" (16 lanes)
    lanes: int
    cpu: str
    isa_flags: tuple[str, ...]
    load_average: Mapping[str, float]
    other_load: Optional[float]
    method: str
    measured: str  # when and where
    job: str
    identity: str = ""  # the CPU identity it was measured on: only that identity's figures meet it
    identity_label: str = ""


@dataclasses.dataclass(frozen=True)
class Work:
    flops: int
    bytes_min: int
    bytes_ops: int
    kinds: Mapping[str, Mapping[str, int]]  # op kind -> {"flops", "bytes"}
    job: str

    @property
    def intensity(self) -> Optional[float]:
        """FLOPs per byte over the bytes any execution must move."""
        return self.flops / self.bytes_min if self.bytes_min else None


def peak_of(records: Iterable[Record]) -> Optional[Peak]:
    """The newest successful peak measurement among `records`."""
    records_ = list(records)
    if not (found := [r for r in records_ if r.stage == "peak" and r.status is Status.OK]):
        return None
    r = max(found, key=lambda rec: rec.finished or "")
    m = r.metric.of(PeakMetrics)
    threads = m.threads or 1
    # The ceiling at `threads`: the all-thread run, or `threads` x the one-thread run where that is
    # higher (other programs on a shared machine depress the all-thread run most).
    ceiling = max(m.gflops_all or 0.0, threads * (m.gflops_1 or 0.0))
    return Peak(
        gflops=ceiling,
        gflops_1=m.gflops_1 or 0.0,
        gbs=m.triad_gbs_all or 0.0,
        gbs_1=m.triad_gbs_1 or 0.0,
        threads=m.threads or 1,
        **{k: getattr(m, k) for k in ("isa", "lanes", "cpu", "other_load", "method")},
        isa_flags=tuple(m.isa_flags),
        load_average=dict(m.load_average),
        measured=runs_view.measured(r),
        job=r.job,
        identity=identities.of(r),
        identity_label=identities.label(list(records_), identities.of(r)),
    )


def work_of(records: Iterable[Record]) -> dict[str, Work]:
    """Per function (its `model` label), the newest successful FLOP count."""
    found: dict[str, Record] = {}
    for r in records:
        if r.stage == "flops" and r.status is Status.OK and r.metric.of(FlopsMetrics).flops is not None:
            if (unit := r.label.model) not in found or (r.finished or "") > (found[unit].finished or ""):
                found[unit] = r
    return {unit: _work(r.metric.of(FlopsMetrics), r.job) for unit, r in found.items()}


def _work(m: FlopsMetrics, job: str) -> Work:
    return Work(m.flops or 0, m.bytes_min or 0, m.bytes_ops or 0, dict(m.kinds), job)


def gflops(flops: float, ms: Optional[float]) -> Optional[float]:
    """The rate of `flops` done in `ms` milliseconds, GFLOP/s."""
    return flops / (ms * 1e6) if ms and ms > 0 else None


def bound(peak: Peak, work: Work) -> float:
    """The roofline's attainable GFLOP/s for this function: the FMA peak, or what the bandwidth
    feeds at its intensity, whichever is lower."""
    intensity = work.intensity
    return min(peak.gflops, intensity * peak.gbs) if intensity is not None else peak.gflops


@dataclasses.dataclass(frozen=True)
class Achieved:
    framework: str  # "IREE 3.13.0" or a peer's name
    median_ms: float
    gflops: float
    fraction_of_peak: float


def achieved(records: Iterable[Record], peak: Peak, work: Mapping[str, Work]) -> dict[str, list[Achieved]]:
    """Per function with a FLOP count: IREE's `default` per release and every peer that ran correctly,
    as GFLOP/s and fraction of the FMA peak, of the peak's own CPU identity only (a Zen 5 figure over a
    Zen 4 peak read 119 %)."""
    out: dict[str, list[Achieved]] = {}
    records = [r for r in records if not peak.identity or identities.of(r) == peak.identity]
    runs = [
        r for r in runs_view.measured_runs(records) if r.label.profile == "default" and not r.label.device
    ]
    peers = {r.label.model: r for r in records if r.stage == "peer" and r.status is Status.OK}
    for unit, w in work.items():
        if not w.flops:
            continue
        rows: list[tuple[str, Optional[float]]] = []
        mine = [r for r in runs if r.label.model == unit]
        for r in sorted(mine, key=lambda rec: runs_view.version_key(rec.label.compiler)):
            rows.append((f"IREE {r.label.compiler}", r.metric.of(RunMetrics).latency_median))
        results = peers[unit].metric.of(PeerMetrics).peers if unit in peers else {}
        for name in peer_registry.names():
            entry = results.get(name)
            if isinstance(entry, Mapping) and entry.get("status") == "ok":
                rows.append((name, runs_view.median(entry.get("latency_ms"))))
        found = []
        for framework, ms in rows:
            if (rate := gflops(w.flops, ms)) is not None and ms is not None:
                found.append(Achieved(framework, ms, rate, rate / peak.gflops))
        if found:
            out[unit] = found
    return out


def kind_fraction(work: Optional[Work], kind: str, ms: float, peak: Optional[Peak]) -> Optional[float]:
    """The fraction of peak one op kind reached: its FLOPs (torch's grouping) over its time."""
    if work is None or peak is None:
        return None
    flops = (work.kinds.get(kind) or {}).get("flops") or 0
    rate = gflops(flops, ms) if flops else None
    return rate / peak.gflops if rate is not None else None


def document(records: Iterable[Record]) -> Optional[dict[str, Any]]:
    """compat.json's `roofline` section, None without a peak and a FLOP count."""
    records = list(records)
    peak, work = peak_of(records), work_of(records)
    if peak is None or not work:
        return None
    rates = achieved(records, peak, work)
    functions = [
        {
            "function": unit,
            **{k: getattr(w, k) for k in ("flops", "bytes_min", "bytes_ops", "intensity")},
            "bound_gflops": bound(peak, w),
            "kinds": {k: dict(v) for k, v in sorted(w.kinds.items())},
            "achieved": [dataclasses.asdict(a) for a in rates.get(unit, [])],
            "evidence": w.job,
        }
        for unit, w in sorted(work.items())
    ]
    # Peak's fields under their own names, but for the triad's (`gbs`) and the job's (evidence).
    same = "gflops gflops_1 threads isa lanes cpu other_load method measured identity identity_label"
    return {
        "peak": {
            **{k: getattr(peak, k) for k in same.split()},
            "triad_gbs": peak.gbs,
            "triad_gbs_1": peak.gbs_1,
            "isa_flags": list(peak.isa_flags),
            "load_average": dict(peak.load_average),
            "evidence": peak.job,
        },
        "functions": functions,
    }
