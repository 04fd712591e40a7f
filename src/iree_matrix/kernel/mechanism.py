"""How a built kernel reaches a model's code: a mechanism, found by kernel.toml's `mechanism` here.
The two are IREE's samples/custom_dispatch/cpu/embedded and .../cpu/plugin, one `CustomDispatch`
each."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Protocol

from iree_matrix.iree import custom_dispatch
from iree_matrix.kernel.kernels import EMBEDDED, PLUGIN, Kernel


class Mechanism(Protocol):
    """What the compile, run and shell-command stages ask of a kernel's mechanism (the seam)."""

    def compile_flags(self, spec: str, objects: str) -> list[str]: ...
    def compile_flag_names(self) -> tuple[str, ...]: ...
    def compile_inputs(self, objects: Path) -> tuple[Path, ...]: ...
    def run_loads(self) -> bool: ...
    def load_flags(self, built: Path) -> tuple[str, ...]: ...


@dataclasses.dataclass(frozen=True)
class CustomDispatch:
    """Embedded (`plugin` False): the kernel's object, linked into the module's executable by the
    spec's `#hal.executable.object`, found through the object search path; the module holds its code,
    so a run needs nothing more. Plugin: the spec declares the kernel's functions as imports, so the
    compile takes the spec alone; every run loads the standalone plugin the kernel job linked
    (`--executable_plugin=embedded:PATH`), which resolves them.

    What a compile and a run of a cell with the kernel take from its built entry (`objects`: the
    kernel job's objects folder, holding `Kernel.object`); a third mechanism (a torch-level custom
    op) is one more `Mechanism` class, and its line in `_REGISTRY`."""

    plugin: bool

    def compile_flags(self, spec: str, objects: str) -> list[str]:
        """iree-compile's flags that swap the kernel in, `spec` and `objects` as the compile sees them."""
        return custom_dispatch.compile_flags(spec, objects, plugin=self.plugin)

    def compile_flag_names(self) -> tuple[str, ...]:
        """The names of those flags (a compiler's --help-hidden must list them; the compile's key)."""
        return custom_dispatch.compile_flag_names(self.plugin)

    def compile_inputs(self, objects: Path) -> tuple[Path, ...]:
        """The built files the compile's directory holds beside the MLIR."""
        return () if self.plugin else tuple(sorted(objects.iterdir()))

    def run_loads(self) -> bool:
        """Whether every run loads the built object (a plugin), so depends on the kernel job."""
        return self.plugin

    def load_flags(self, built: Path) -> tuple[str, ...]:
        """The runtime's flags that load the built object `built` (none where the module holds it)."""
        return (custom_dispatch.run_flag(str(built)),) if self.plugin else ()


_REGISTRY: dict[str, Mechanism] = {
    EMBEDDED: CustomDispatch(plugin=False),
    PLUGIN: CustomDispatch(plugin=True),
}


def of(kernel: Kernel) -> Mechanism:
    """The kernel's mechanism (kernel.toml's `mechanism`, checked by the loader)."""
    return _REGISTRY[kernel.mechanism]
