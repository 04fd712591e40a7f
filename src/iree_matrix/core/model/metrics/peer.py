"""The peer stage's metrics (stages/peer.py, scripts/peers.py's report): the same function timed by
the other frameworks (torch eager, onnxruntime, …), each peer's latency or its failure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from iree_matrix.core.model.metrics_view import TimingContext, metric


class PeerMetrics(TimingContext, stage="peer"):
    peers: Mapping[str, Any] = metric(
        "per peer: latency_ms (wall, `threads` threads), cpu_ms (CPU time per call on one "
        "thread, process_time: the load-robust signal; median, min, max, stdev, n, times, threads (1)) "
        "or cpu_ms_error (why only that timing failed), cpu_ms_other_round (a round that spread beyond "
        "peer_frameworks' RETIME_SPREAD and the one timed again: the round not kept), errors against "
        "eager, or the phase and message of its failure",
        {},
    )
    versions: Mapping[str, Any] = metric("each peer's package versions", {})
    torch_version: str = metric("torch's", "")
    threads: Optional[int] = metric("the threads every peer got")
    cpu_count: Optional[int] = metric("the host's CPUs")
    load_average: Mapping[str, Any] = metric("the load when it ran", {})
    repetitions: Optional[int] = metric("timed repetitions")
    warmup: Optional[int] = metric("untimed warm-up calls")
    atol: Optional[float] = metric("the model's tolerance, absolute")
    rtol: Optional[float] = metric("and relative")
    # torch's reference, as the export's: the model's first call on a copy of the inputs as built
    changes_inputs: tuple[str, ...] = metric(
        "the model changes its input in place: which inputs, how many values (every "
        "peer's calls get a fresh copy of the inputs as built)",
        (),
    )
    reference_nonfinite: Mapping[str, Any] = metric(
        "torch's own outputs that hold NaN or inf, per output: nan, inf, of", {}
    )
    reference_error: Optional[str] = metric(
        "why torch's reference could not be taken (the peers are timed, not compared)"
    )
