"""How a built kernel reaches a model's code: one module per mechanism (kernel/embedded.py,
kernel/plugin.py), each a `Mechanism`, found by kernel.toml's `mechanism` here. A third (a torch-level
custom op) is one more module and its line in `_REGISTRY`."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from iree_matrix.kernel import embedded, plugin
from iree_matrix.kernel.kernels import Kernel


class Mechanism(Protocol):
    """What a compile and a run of a cell with the kernel take from its built entry (`objects`: the
    kernel job's objects folder, holding `Kernel.object`)."""

    def compile_flags(self, spec: str, objects: str) -> list[str]:
        """iree-compile's flags that swap the kernel in, `spec` and `objects` as the compile sees them."""
        ...

    def compile_flag_names(self) -> tuple[str, ...]:
        """The names of those flags (a compiler's --help-hidden must list them; the compile's key)."""
        ...

    def compile_inputs(self, objects: Path) -> tuple[Path, ...]:
        """The built files the compile's directory holds beside the MLIR."""
        ...

    def run_loads(self) -> bool:
        """Whether every run loads the built object (a plugin), so depends on the kernel job."""
        ...

    def load_flags(self, built: Path) -> tuple[str, ...]:
        """The runtime's flags that load the built object `built` (none where the module holds it)."""
        ...


_REGISTRY: dict[str, Mechanism] = {embedded.NAME: embedded.MECHANISM, plugin.NAME: plugin.MECHANISM}


def of(kernel: Kernel) -> Mechanism:
    """The kernel's mechanism (kernel.toml's `mechanism`, checked by the loader)."""
    return _REGISTRY[kernel.mechanism]
