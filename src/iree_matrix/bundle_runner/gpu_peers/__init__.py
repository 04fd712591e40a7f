"""torch's peers in a GPU sitting (gpu.py), one module each in this package, as the CPU sittings'
peers are in scripts/peer_frameworks/: adding a GPU peer is adding its module, and the runner, the
answers (findings/gpu_advice.py), the hand-measured table (findings/gpu_measured.py) and ANSWERS.md
read every peer from here.

A peer's module (not starting with `_`) has two things:

- `PEER`, its declaration, a dict of literals (`DECLARED` names its keys): its place in the order
  (`rank`), its arm's name and config in a sitting's document (`config`: "torch.compile"), the name
  a reader sees (`display`: "torch eager"), how it runs where a reader needs telling (`mode`: "CUDA
  graphs", or ""), and its arm's `source` with "{torch}" for the torch it ran on;
- `load(torch, module)`: what the sitting calls, made from the model (in eval mode, on the device).

The module's name is the stem of its answer's JSON keys (`time_over_<name>`, `<name>_error`).
Runs inside a bundle: Python 3.9 syntax, the stdlib only at the top (torch is handed to `load`).
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from typing import Any, Callable

DECLARED = ("rank", "config", "display", "mode", "source")


@dataclasses.dataclass(frozen=True)
class GpuPeer:
    """One GPU peer, as its module declares it."""

    name: str  # the module's name: the stem of its answer's JSON keys
    rank: int  # its place in the order (eager first)
    config: str  # its arm's name and config in a sitting's document: "eager", "torch.compile"
    display: str  # what a reader sees: "torch eager"
    mode: str  # how it runs, in a reader's words ("CUDA graphs"), or "" where its name says it
    source: str  # its arm's source: "{torch} on cuda"
    load: Callable[[Any, Any], Any]  # (torch, the model on its device) -> the callable timed

    @property
    def described(self) -> str:
        """ "torch.compile (CUDA graphs)": the peer and how it runs, as prose names it."""
        return f"{self.display} ({self.mode})" if self.mode else self.display


def ordered() -> tuple[GpuPeer, ...]:
    """Every GPU peer of this package, in their `rank` order."""
    found = [_read(info.name) for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")]
    return tuple(sorted(found, key=lambda p: (p.rank, p.name)))


def _read(name: str) -> GpuPeer:
    module = importlib.import_module(f"{__name__}.{name}")
    if sorted(getattr(module, "PEER", ())) != sorted(DECLARED) or not hasattr(module, "load"):
        raise RuntimeError(f"{module.__file__}: a GPU peer has a PEER of {', '.join(DECLARED)}, and load()")
    return GpuPeer(name=name, load=module.load, **module.PEER)
