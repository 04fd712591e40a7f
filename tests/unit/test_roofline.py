"""The roofline (roofline.py, report/sections/roofline.py, compat.json's section) from hand-made peak, flops,
run and peer records; and the peak kernel's output parsing (stages/peak.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from iree_matrix.core.errors import StageFailure
from iree_matrix.core.model.results import Record, Status
from iree_matrix.findings import compat, roofline
from iree_matrix.report.performance import render_all
from iree_matrix.stages import flops, peak

EXP = "py3.11-torch2.13.0-turbine3.9.0"
PEAK = {
    "isa": "avx512f", "fma": True, "lanes": 16, "chains": 12, "threads": 2, "gflops_1": 100.0,
    "gflops_all": 200.0,
    "triad_gbs_1": 10.0, "triad_gbs_all": 20.0, "triad_bytes": 402653184, "cpu": "AMD EPYC",
    "isa_flags": ["avx2", "avx512f", "fma"], "load_average": {"start": 1.5, "end": 1.7}, "other_load": 0.1,
    "method": "scripts/peak/peak.c built by gcc 12 with -O3 -march=native -pthread",
}  # fmt: skip


def _record(
    stage: str, cell: str, labels: dict[str, str], metrics: dict[str, Any], finished: str = ""
) -> Record:
    return Record(f"{stage}:{cell}", stage, cell, "k", Status.OK, labels, metrics, finished=finished or None)


def _latency(ms: float) -> dict[str, Any]:
    return {"median": ms, "min": ms * 0.98, "max": ms * 1.02, "n": 5}


def _records() -> list[Record]:
    unit = {"model": "mobilenet_v2", "source_model": "mobilenet_v2", "exporter": EXP}
    ops = [
        {"op": "convolution", "weight_shape": [32, 3, 3, 3], "calls": 1, "flops": 2 * 10**8, "bytes": 10**6},
        {"op": "convolution", "weight_shape": [64, 1, 3, 3], "calls": 1, "flops": 10**8, "bytes": 10**6},
        {"op": "convolution", "weight_shape": [64, 32, 1, 1], "calls": 1, "flops": 7 * 10**8, "bytes": 10**6},
        {"op": "relu", "weight_shape": None, "calls": 1, "flops": 0, "bytes": 5 * 10**5},
    ]
    counted = {
        "flops": 10**9,
        "bytes_min": 10**7,
        "bytes_ops": 35 * 10**5,
        "ops": ops,
        "kinds": flops.by_kind(ops),
    }
    run = {**unit, "compiler": "3.13.0", "runtime": "3.13.0", "arch": "x86_64", "profile": "default"}
    profile = {
        "dispatches": [{"name": "main$async_dispatch_3_matmul_like_64x56x56x32_f32", "ms_per_call": 7.0}]
    }
    peers = {
        "eager": {"status": "ok", "latency_ms": _latency(10.0)},
        "onnxruntime": {"status": "ok", "latency_ms": _latency(2.5)},
        "tflite": {"status": "fail", "error": {"phase": "convert"}},
    }
    return [
        _record(
            "peak", "x86_64", {"arch": "x86_64"}, {**PEAK, "gflops_all": 1.0}, "2026-11-22T00:00:00+00:00"
        ),
        _record("peak", "x86_64", {"arch": "x86_64"}, PEAK, "2026-11-23T00:00:00+00:00"),  # the newest counts
        _record("flops", f"mobilenet_v2/{EXP}", unit, counted),
        _record(
            "run",
            f"mobilenet_v2/{EXP}/iree3.13.0/x86_64/default",
            run,
            {"latency_ms": _latency(20.0), "timing": "native", "op_profile": profile},
        ),  # fmt: skip
        _record("peer", "mobilenet_v2/py3.11-torch2.13.0-peers", {"model": "mobilenet_v2"}, {"peers": peers}),
    ]


def test_kinds_follow_opkinds() -> None:
    kinds = flops.by_kind(_records()[2].metrics["ops"])
    assert kinds == {
        "conv": {"flops": 2 * 10**8, "bytes": 10**6},
        "depthwise": {"flops": 10**8, "bytes": 10**6},
        "matmul": {"flops": 7 * 10**8, "bytes": 10**6},  # a pointwise convolution is a matmul
        "elementwise": {"flops": 0, "bytes": 5 * 10**5},
    }


def test_gflops_fraction_of_peak_and_the_bound() -> None:
    records = _records()
    top, work = roofline.peak_of(records), roofline.work_of(records)
    assert top is not None and top.gflops == 200.0
    w = work["mobilenet_v2"]
    assert w.intensity == 100.0  # 1 GFLOP over 10 MB
    assert roofline.bound(top, w) == 200.0  # 100 FLOP/byte x 20 GB/s = 2000 > the FMA peak
    assert roofline.bound(top, roofline.Work(10**9, 10**9, 0, {}, "j")) == 20.0  # 1 FLOP/byte: bandwidth
    rates = {a.framework: a for a in roofline.achieved(records, top, work)["mobilenet_v2"]}
    assert set(rates) == {"IREE 3.13.0", "eager", "onnxruntime"}  # a failed peer has no rate
    assert rates["IREE 3.13.0"].gflops == pytest.approx(50.0)  # 1 GFLOP in 20 ms
    assert rates["IREE 3.13.0"].fraction_of_peak == pytest.approx(0.25)
    assert rates["onnxruntime"].fraction_of_peak == pytest.approx(2.0)  # 1 GFLOP in 2.5 ms: above peak


def test_the_report_and_compat_json_carry_it() -> None:
    records = _records()
    text = "\n".join(render_all(records))
    assert "## Roofline" in text and "200 GFLOP/s on 2 threads" in text and "Load average (1 min) 1.5" in text
    roof = text.split("## Roofline", 1)[1]
    row = next(line for line in roof.splitlines() if line.startswith("| mobilenet_v2"))
    assert "50 GFLOP/s (25 %)" in row and "100 GFLOP/s (50 %)" in row
    assert "A fraction above 100 %" in roof  # onnxruntime: 200 %, said
    # per op kind: the in-context matmul dispatches, 0.7 GFLOP in 7 ms = 100 GFLOP/s, half the peak
    assert "| matmul               | 7.00 ms (50 %) |" in text
    document = compat.derive(records)
    compat.validate(document)
    json.dumps(document)
    section = document["roofline"]
    assert section["peak"]["gflops"] == 200.0 and section["peak"]["isa"] == "avx512f"
    (function,) = section["functions"]
    assert function["function"] == "mobilenet_v2" and function["flops"] == 10**9
    assert {a["framework"] for a in function["achieved"]} == {"IREE 3.13.0", "eager", "onnxruntime"}


def test_no_peak_no_section() -> None:
    records = [r for r in _records() if r.stage != "peak"]
    assert roofline.document(records) is None
    assert "## Roofline" not in "\n".join(render_all(records))


def test_the_peak_kernels_output_is_checked() -> None:
    line = json.dumps(
        {k: PEAK[k] for k in ("gflops_1", "gflops_all", "triad_gbs_1", "triad_gbs_all", "threads")}
    )
    assert peak.parse("building...\n" + line)["gflops_all"] == 200.0
    with pytest.raises(StageFailure, match="no JSON"):
        peak.parse("Segmentation fault")
    with pytest.raises(StageFailure, match="gflops_all"):
        peak.parse(json.dumps({**json.loads(line), "gflops_all": 0}))


def test_the_sites_model_page_carries_it() -> None:
    from iree_matrix.report import site

    labels = {"model": "mobilenet_v2", "source_model": "mobilenet_v2", "exporter": EXP, "compiler": "3.13.0",
              "arch": "x86_64", "profile": "default"}  # fmt: skip
    compiled = _record(
        "compile", f"mobilenet_v2/{EXP}/iree3.13.0/x86_64/default", labels, {"module_bytes": 10}
    )
    pages = site.render([*_records(), compiled])
    page = pages[site.page_name("mobilenet_v2")]
    assert "Roofline: GFLOP/s and fraction of peak" in page and "25.0%" in page and "200 GFLOP/s" in page
