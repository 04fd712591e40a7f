"""A matrix file's `kernels` (and the command line's `--kernel`): the kernels loaded, and the cells
they add (each cell of a model a kernel is meant for, again with it swapped in)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Union

from iree_matrix.core.errors import SpecError
from iree_matrix.kernel.kernels import KERNEL_FILE, Kernel, KernelError, load_all
from iree_matrix.matrix.spec import Cell
from iree_matrix.matrix.spec_tables import Where, as_list


def parse(
    value: Any, where: Where, given: Sequence[Kernel], cells: Sequence[Cell]
) -> tuple[dict[str, Kernel], list[Cell]]:
    """`kernels = ["kernels/depthwise3x3"]` (relative to the matrix file) and those `given`, loaded; and
    each of `cells` again with each kernel meant for its model (the kernel-less cell stays: what the kernel
    is compared with)."""
    paths = as_list(value)
    for path in paths:  # "" would be the matrix file's own directory, said as its missing kernel.toml
        if not str(path).strip():
            raise where.error(
                "kernels", path, 'an empty path: name a kernel directory, e.g. "kernels/depthwise3x3"'
            )
    try:
        named: list[Union[Path, Kernel]] = [*(where.path.parent / p for p in paths), *given]
        kernels = load_all([(p, f"{where.path}: kernels") for p in named])
    except KernelError as exc:
        raise SpecError(str(exc)) from None
    ran = sorted({c.model for c in cells})
    for name, kernel in kernels.items():  # it would add no cell: the run went on without it, silently
        if not any(kernel.for_model(model) for model in ran):
            raise SpecError(
                f"{where.path}: kernels: kernel {name!r} ({kernel.directory / KERNEL_FILE}) is "
                f"for models = {list(kernel.models)}, and this matrix runs {', '.join(ran)}: it would add no "
                "cell; add the model to its `models` (a built-in name, or the name the tool prints for "
                "yours), or leave `models` out"
            )
    added = [
        dataclasses.replace(cell, kernel=name)
        for cell in cells
        if not cell.kernel
        for name, kernel in kernels.items()
        if kernel.for_model(cell.model)
    ]
    return kernels, added
