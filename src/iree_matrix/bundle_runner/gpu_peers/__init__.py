"""torch's peers in a GPU sitting (gpu.py), one module each (adding a GPU peer is adding its module; the
answers and ANSWERS.md read every peer from here). A module not starting with `_` has `PEER`, a dict of
literals keyed by `DECLARED`, and `load(torch, module)`, the callable timed; its name is the stem of its
answer's JSON keys (`time_over_<name>`). Python 3.9, stdlib only at the top (torch is handed to `load`)."""

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
