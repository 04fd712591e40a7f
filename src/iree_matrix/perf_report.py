"""The performance table: per model, IREE's fastest correct native configuration beside torch
eager, torch.compile, ONNX Runtime and TFLite on the same inputs and thread count — as medians and
as ratios to torch eager. Emulated runs never enter it (qemu's speed is not a board's)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Optional

from tabulate import tabulate

from iree_matrix.results import Record, Status

PEERS = ("eager", "torch_compile", "onnxruntime", "tflite")


def render_performance(latest: Iterable[Record]) -> list[str]:
    records = list(latest)
    peers = {r.labels.get("model", ""): r for r in records if r.stage == "peer" and r.status is Status.OK}
    runs = [r for r in records if r.stage == "run" and r.status is Status.OK and _native(r)]
    models = sorted(set(peers) | {r.labels.get("model", "") for r in runs})
    if not peers:
        return []
    rows = [
        _row(model, peers.get(model), [r for r in runs if r.labels.get("model") == model]) for model in models
    ]
    headers = ["model", "IREE best (version, profile)", *PEERS]
    return [
        "## Performance: IREE against torch eager, torch.compile, ONNX Runtime and TFLite",
        "",
        "Median latency per call on this host (same inputs, same thread count, each checked against "
        "torch eager); in brackets the ratio to torch eager — below 1 is faster. A peer that could not "
        "convert the model shows its phase. Emulated runs are left out.",
        "",
        tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True),
        "",
    ]


def _native(run: Record) -> bool:
    return not str(run.metrics.get("timing", "native")).startswith("emulated")


def _median(metrics: Any) -> Optional[float]:
    try:
        return float(metrics["latency_ms"]["median"])
    except (KeyError, TypeError, ValueError):
        return None


def _ms(value: float) -> str:
    return f"{value:.3g} ms" if value < 1000 else f"{value / 1000:.3g} s"


def _with_ratio(value: Optional[float], eager: Optional[float]) -> str:
    if value is None:
        return ""
    ratio = f" ({value / eager:.2f}×)" if eager else ""
    return _ms(value) + ratio


def _row(model: str, peer: Optional[Record], runs: Sequence[Record]) -> list[str]:
    results = (peer.metrics.get("peers") or {}) if peer is not None else {}
    eager = _median(results.get("eager"))
    best = min(runs, key=lambda r: _median(r.metrics) or float("inf"), default=None)
    iree = ""
    if best is not None:
        where = f"{best.labels.get('compiler')}, {best.labels.get('profile')}"
        iree = f"{_with_ratio(_median(best.metrics), eager)} ({where})"
    cells = []
    for name in PEERS:
        entry = results.get(name)
        if entry is None:
            cells.append("")
        elif entry.get("status") == "fail":
            cells.append(f"❌ {(entry.get('error') or {}).get('phase', 'failed')}")
        else:
            mark = "⚠️ " if entry.get("status") == "mismatch" else ""
            cells.append(mark + _with_ratio(_median(entry), eager))
    return [model, iree, *cells]
