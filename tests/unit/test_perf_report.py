"""The performance table from hand-built records (pure logic)."""

from __future__ import annotations

from typing import Any

from iree_matrix.report.performance import render_performance
from iree_matrix.results import Record, Status


def _record(
    stage: str, labels: dict[str, str], metrics: dict[str, Any], status: Status = Status.OK
) -> Record:
    cell = "/".join(labels.values())
    return Record(f"{stage}:{cell}", stage, cell, "k", status, labels, metrics=metrics)


def _lat(ms: float) -> dict[str, Any]:
    return {"latency_ms": {"median": ms, "min": ms, "max": ms, "stdev": 0.0, "n": 3}}


def test_best_native_iree_beside_each_peer_with_ratios_to_eager() -> None:
    model = {"model": "mobilenet_v2"}
    peer = _record(
        "peer",
        model,
        {
            "peers": {
                "eager": {"status": "ok", **_lat(40.0)},
                "torch_compile": {"status": "ok", **_lat(20.0)},
                "onnxruntime": {"status": "fail", "error": {"phase": "convert", "message": "boom"}},
                "tflite": {"status": "mismatch", **_lat(10.0)},
            }
        },
    )
    runs = [
        _record(
            "run", {**model, "compiler": "3.9.0", "profile": "default"}, {**_lat(80.0), "timing": "native"}
        ),
        _record("run", {**model, "compiler": "3.13.0", "profile": "O2"}, {**_lat(30.0), "timing": "native"}),
        # Emulated timings never compete with native ones, however small.
        _record(
            "run", {**model, "compiler": "3.9.0", "profile": "x"}, {**_lat(1.0), "timing": "emulated (qemu)"}
        ),
    ]
    text = "\n".join(render_performance([peer, *runs]))
    row = next(line for line in text.splitlines() if line.startswith("| mobilenet_v2"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells == [
        "mobilenet_v2",
        "30.0 ms (0.75×) (3.13.0, O2)",
        "40.0 ms (1.00×)",
        "20.0 ms (0.50×)",
        "❌ convert",
        "⚠️ 10.0 ms (0.25×)",
    ]


def test_no_peer_results_no_section() -> None:
    run = _record("run", {"model": "m", "compiler": "3.9.0", "profile": "default"}, _lat(5.0))
    assert render_performance([run]) == []
