"""torch.compile(mode="reduce-overhead"): inductor's kernels replayed as CUDA graphs, recorded in
the first calls (gpu.py WARMUP)."""

from typing import Any

PEER = {
    "rank": 20,
    "config": "torch.compile",
    "display": "torch.compile",
    "mode": "CUDA graphs",
    "source": "{torch}, torch.compile mode=reduce-overhead (CUDA graphs)",
}


def load(torch: Any, module: Any) -> Any:
    return torch.compile(module, mode="reduce-overhead")
