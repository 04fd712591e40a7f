"""PERFORMANCE.md's "Where the time goes: op kinds in IREE and in the peers": per function and IREE
version with an in-context dispatch profile (the run stage's `op_profile`), time per op kind in IREE,
torch eager and ONNX Runtime (the peer stage's profiles), and the kinds that account for a gap."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Optional

from iree_matrix.core import formats
from iree_matrix.core.formats import duration_ms as _ms
from iree_matrix.core.model.metrics.peer import PeerMetrics
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.results import Record, Status
from iree_matrix.findings import roofline, runs_view
from iree_matrix.findings.gap import kind_gaps, op_kind_times
from iree_matrix.findings.runs_view import measured_runs
from iree_matrix.iree import opkinds
from iree_matrix.matrix import peers as peer_registry
from iree_matrix.report.markdown import github_table
from iree_matrix.report.performance import WALL, passed
from iree_matrix.report.sections import Document, Section, on_records
from iree_matrix.report.sections.roofline import percent

TITLE = "Where the time goes: op kinds in IREE and in the peers"

TRAILS = 1.2  # IREE this much slower than the best peer: the report explains it op kind by op kind


_INTRO = (
    "IREE's figures are every dispatch timed inside the whole model by the runtime's own profiler "
    "(`--device_profiling_mode=host-execution`, `iree-profile`, IREE 3.12+), ms per call; torch eager's are "
    "torch.profiler's self CPU time per ATen op, ONNX Runtime's its per-node profile (both over the same "
    "calls as their timing); TFLite's Python interpreter has no per-op profiler. Ops are grouped by what "
    "they compute (`opkinds.py`): a 1x1 convolution counts as matmul in every framework (IREE lowers it to "
    "one), a depthwise one as depthwise; IREE and ONNX Runtime fuse batch norm and activations into "
    "convolutions, torch eager does not, so 'norm' and 'elementwise' differ by construction. Where only one "
    "side has an attention op (ONNX Runtime runs torch's exported attention as MatMul and Softmax nodes), "
    "the gap is named for attention+matmul+softmax together. Profiled sums exceed the plain median by the "
    "profilers' own cost."
)


@dataclasses.dataclass(frozen=True)
class _Machine:
    """What every function's table reads besides its run: the passed peers, the FMA peak, the FLOPs."""

    peers: Mapping[str, Record]
    peak: Optional[roofline.Peak]
    work: Mapping[str, roofline.Work]

    @classmethod
    def of(cls, records: Sequence[Record]) -> _Machine:
        peers = {r.label.model: r for r in records if r.stage == "peer" and r.status is Status.OK}
        return cls(peers, roofline.peak_of(records), roofline.work_of(records))

    def cell(self, unit: str, kind: str, ms: float) -> str:
        fraction = roofline.kind_fraction(self.work.get(unit), kind, ms, self.peak)
        return _ms(ms) + (f" ({percent(fraction)})" if fraction is not None else "")


def render_op_kinds(latest: Iterable[Record]) -> list[str]:
    """Per function and IREE version with an in-context profile: time per op kind in IREE and the peers,
    and where IREE trails the best peer by more than `TRAILS`, the kinds that account for the gap."""
    records = list(latest)
    if not (runs := [r for r in measured_runs(records) if r.metric.of(RunMetrics).op_profile is not None]):
        return []
    machine = _Machine.of(records)
    lines = ["## " + TITLE, "", _INTRO, ""]
    if machine.peak is not None and machine.work:
        lines += [
            "Beside a kind with FLOPs (torch's count, grouped the same way), the fraction of the "
            "machine's FMA peak it reached (roofline section above).",
            "",
        ]
    unprofiled: dict[str, str] = {}
    for run in sorted(runs, key=_order):
        profile = run.metric.of(RunMetrics).op_profile or {}  # every run here has one
        if (iree_kinds := op_kind_times(profile, "iree")) is None:
            why = str(profile.get("unavailable", "no profile")).strip().splitlines()
            unprofiled.setdefault(run.label.compiler, why[-1] if why else "no profile")
            continue
        lines += _function(run, iree_kinds, machine)
    return lines + _unprofiled(unprofiled)


def _order(r: Record) -> tuple[str, tuple[int, Any], str]:
    return (r.label.model, runs_view.version_key(r.label.compiler), r.label.profile)


def _function(run: Record, iree_kinds: dict[str, float], machine: _Machine) -> list[str]:
    """One run's table: time per op kind beside the profiled peers', its verdict, slowest dispatches."""
    unit, compiler, iree_ms = run.label.model, run.label.compiler, run.metric.of(RunMetrics).latency_median
    peer = machine.peers.get(unit)
    results = peer.metric.of(PeerMetrics).peers if peer is not None else {}
    timed = passed(peer, WALL) if peer is not None else {}
    columns: dict[str, dict[str, float]] = {f"IREE {compiler}": iree_kinds}
    for name, framework in peer_registry.op_profiled().items():  # {peer: its op vocabulary}
        if (kinds := op_kind_times((results.get(name) or {}).get("op_profile"), framework)) is not None:
            columns[name] = kinds
    kinds_seen = [k for k in opkinds.KINDS if any(k in c for c in columns.values())]
    rows = [
        [kind, *(machine.cell(unit, kind, c[kind]) if kind in c else "" for c in columns.values())]
        for kind in kinds_seen
    ]
    rows.append(["sum (profiled)", *(_ms(sum(c.values())) for c in columns.values())])
    medians = [iree_ms, *(timed.get(name) for name in list(columns)[1:])]
    rows.append(["median, not profiled", *(_ms(m) if m else "" for m in medians)])
    if iree_ms and iree_ms > sum(iree_kinds.values()):
        # What no dispatch accounts for: the runtime's submission, waits and copies between ops.
        rows.append(
            ["median − dispatches", _ms(iree_ms - sum(iree_kinds.values())), *[""] * (len(columns) - 1)]
        )
    timing = _ms(iree_ms) if iree_ms is not None else "no median"
    lines = [
        f"### {unit}, IREE {compiler} ({run.label.profile}): {timing}",
        "",
        _verdict(iree_ms, timed, columns) + ".",
        "",
        github_table(rows, ["op kind", *columns]),
        "",
    ]
    if top := ((run.metric.of(RunMetrics).op_profile or {}).get("dispatches") or [])[:5]:
        lines += [
            "Slowest dispatches in context: "
            + "; ".join(f"`{d['name'].split('$')[-1]}` {_ms(d['ms_per_call'])}" for d in top),
            "",
        ]
    return lines


def _verdict(
    iree_ms: Optional[float], timed: Mapping[str, float], columns: Mapping[str, dict[str, float]]
) -> str:
    """IREE against the best peer, and where it trails by more than `TRAILS`, the op kinds it spends
    more on than ONNX Runtime (else torch eager) — "" without a peer's median or IREE's."""
    best_name = min(timed, key=lambda n: timed[n]) if timed else None
    if not best_name or not iree_ms:
        return ""
    ratio = iree_ms / timed[best_name]
    verdict = f"IREE is {formats.ratio(ratio)} the best peer, {best_name} ({_ms(timed[best_name])})"
    if ratio <= TRAILS:
        return verdict + " — within 1.2×, nothing to explain"
    reference = "onnxruntime" if "onnxruntime" in columns else ("eager" if "eager" in columns else None)
    if reference is None:
        return verdict
    gaps = kind_gaps(columns[next(iter(columns))], columns[reference])  # the first column: IREE's
    named = [f"{k} +{_ms(g)}" for g, k in gaps if g > 0][:3]
    return verdict + f"; against {reference}, IREE spends more on " + ", ".join(named)


def _unprofiled(why: Mapping[str, str]) -> list[str]:
    """The note on the releases whose runtime has no in-context profiler, with its words."""
    if not why:
        return []
    notes = "; ".join(f"IREE {v}: `{why[v]}`" for v in sorted(why, key=runs_view.version_key))
    return [
        "Runtimes without the in-context profiler (their executables are timed alone in the "
        f"dispatches section): {notes}.",
        "",
    ]


SECTION = Section(
    "op_kinds", Document.PERFORMANCE, 50, TITLE, ("run", "peer", "flops", "peak"), on_records(render_op_kinds)
)
