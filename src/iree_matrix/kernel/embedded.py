"""The embedded mechanism (IREE's samples/custom_dispatch/cpu/embedded): the kernel's object, linked
into the module's executable by the spec's `#hal.executable.object`, found through the object search
path; the module holds its code, so a run needs nothing more."""

from __future__ import annotations

from pathlib import Path

from iree_matrix.iree import custom_dispatch
from iree_matrix.kernel.kernels import EMBEDDED

NAME = EMBEDDED


class Embedded:
    def compile_flags(self, spec: str, objects: str) -> list[str]:
        return custom_dispatch.compile_flags(spec, objects, plugin=False)

    def compile_flag_names(self) -> tuple[str, ...]:
        return custom_dispatch.compile_flag_names(False)

    def compile_inputs(self, objects: Path) -> tuple[Path, ...]:
        return tuple(sorted(objects.iterdir()))

    def run_loads(self) -> bool:
        return False

    def load_flags(self, built: Path) -> tuple[str, ...]:
        return ()


MECHANISM = Embedded()
