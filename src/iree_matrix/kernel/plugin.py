"""The plugin mechanism (IREE's samples/custom_dispatch/cpu/plugin): the spec declares the kernel's
functions as imports, so the compile takes the spec alone; every run loads the standalone plugin the
kernel job linked (`--executable_plugin=embedded:PATH`), which resolves them."""

from __future__ import annotations

from pathlib import Path

from iree_matrix.iree import custom_dispatch
from iree_matrix.kernel.kernels import PLUGIN

NAME = PLUGIN


class Plugin:
    def compile_flags(self, spec: str, objects: str) -> list[str]:
        return custom_dispatch.compile_flags(spec, objects, plugin=True)

    def compile_flag_names(self) -> tuple[str, ...]:
        return custom_dispatch.compile_flag_names(True)

    def compile_inputs(self, objects: Path) -> tuple[Path, ...]:
        return ()

    def run_loads(self) -> bool:
        return True

    def load_flags(self, built: Path) -> tuple[str, ...]:
        return (custom_dispatch.run_flag(str(built)),)


MECHANISM = Plugin()
