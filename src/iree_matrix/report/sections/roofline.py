"""PERFORMANCE.md's roofline section (the flops and peak stages): the machine's measured peak, and
per function its FLOPs, bytes and the GFLOP/s and fraction of peak IREE and every peer reached
(findings/roofline.py)."""

from __future__ import annotations

from collections.abc import Iterable

from iree_matrix.core import formats
from iree_matrix.core.model.results import Record
from iree_matrix.findings import roofline
from iree_matrix.report.markdown import github_table
from iree_matrix.report.sections import Document, Section, on_records

TITLE = "Roofline: GFLOP/s and fraction of this machine's peak"


def percent(fraction: float) -> str:
    return f"{fraction * 100:.2g} %" if fraction < 0.1 else f"{fraction * 100:.0f} %"


def rate(gflops: float) -> str:
    return f"{gflops:.3g} GFLOP/s"


def render_roofline(latest: Iterable[Record]) -> list[str]:
    records = list(latest)
    peak, work = roofline.peak_of(records), roofline.work_of(records)
    if peak is None or not work:
        return []
    rates = roofline.achieved(records, peak, work)
    frameworks = list(dict.fromkeys(a.framework for found in rates.values() for a in found))
    rows = []
    for unit, w in sorted(work.items()):
        by_name = {a.framework: a for a in rates.get(unit, [])}
        rows.append(
            [
                unit,
                f"{w.flops / 1e9:.3g}",
                formats.size(w.bytes_min),
                f"{w.intensity:.3g}" if w.intensity is not None else "",
                f"{rate(roofline.bound(peak, w))} ({percent(roofline.bound(peak, w) / peak.gflops)})",
                *(
                    f"{rate(by_name[f].gflops)} ({percent(by_name[f].fraction_of_peak)})"
                    if f in by_name
                    else ""
                    for f in frameworks
                ),
            ]
        )
    load = peak.load_average
    other = f", other programs kept {peak.other_load:g} cores busy" if peak.other_load is not None else ""
    return [
        "## " + TITLE,
        "",
        f"**Measured peak** ({peak.measured}, stage `peak` of `nox -s bench`, {peak.method}): "
        f"{rate(peak.gflops)} on {peak.threads} threads (the higher of the {peak.threads}-thread run and "
        f"{peak.threads} × the one-thread run), {rate(peak.gflops_1)} on one — {peak.lanes}-lane {peak.isa} "
        f"FMA chains, 2 FLOPs per lane per FMA; STREAM triad {peak.gbs:.3g} GB/s on {peak.threads} threads, "
        f"{peak.gbs_1:.3g} GB/s on one. CPU: {peak.identity_label or peak.cpu} (every figure below is of "
        "this CPU identity; other identities' figures are not divided by this peak); ISA flags: "
        f"{' '.join(peak.isa_flags)}. Load average (1 min) {load.get('start', '?')} before, "
        f"{load.get('end', '?')} after{other}.",
        "",
        "FLOPs and bytes are torch's count of one call (`torch.utils.flop_counter.FlopCounterMode` in the "
        "exporter's torch, stage `flops`: 2 FLOPs per multiply-add of every matmul, convolution and "
        "attention; elementwise ops count none). Bytes: the parameters, inputs and outputs once each — "
        "what any execution must move; FLOP/byte over them. Bound: min(peak, FLOP/byte × triad "
        "bandwidth), the most this function can reach here. Each framework: FLOPs over its median "
        "latency in the performance table above, and that over the FMA peak.",
        "",
        github_table(rows, ["function", "GFLOP", "bytes", "FLOP/byte", "bound", *frameworks]),
        "",
    ] + (
        [
            "A fraction above 100 % (or a rate above its bound) says the peak (or the bandwidth) was "
            "measured under more load than that timing was taken under (this machine is shared; timed "
            "stages record `other_load`): measure it again on a quiet machine with `--retime 'peak:*'`.",
            "",
        ]
        if any(a.fraction_of_peak > 1 for found in rates.values() for a in found)
        else []
    )


SECTION = Section(
    "roofline", Document.PERFORMANCE, 30, TITLE, ("flops", "peak", "run", "peer"), on_records(render_roofline)
)
