"""The report's sections a stage owns: one module per section in this package, each with a
`SECTION` (its place and how it renders from the one index of the records), found here and rendered
in the order of their `rank` by COMPATIBILITY.md (after the runtime builds, before the GPU targets
and the environments). A stage's section is its module here; nothing else is edited
(CONTRIBUTING.md, "Adding a stage")."""

from __future__ import annotations

import dataclasses
import functools
import importlib
import pkgutil
from typing import Callable

from iree_matrix.core.results import Index


@dataclasses.dataclass(frozen=True)
class Section:
    rank: int  # its place among the sections here (firmware: 10)
    render: Callable[[Index], list[str]]  # its Markdown lines; [] when the records hold nothing of it


@functools.cache
def ordered() -> tuple[Section, ...]:
    """Every section of this package, by rank."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        section = getattr(importlib.import_module(f"{__name__}.{info.name}"), "SECTION", None)
        if section is not None:
            found.append((section.rank, info.name, section))
    found.sort(key=lambda s: s[0])
    for (rank, name, _), (later, other, _) in zip(found, found[1:]):
        if rank == later:
            raise RuntimeError(f"report sections {name!r} and {other!r} share rank {rank}")
    return tuple(section for _, _, section in found)


def render(index: Index) -> list[str]:
    """Every section's lines, in order."""
    return [line for section in ordered() for line in section.render(index)]


def refresh() -> None:
    """Forget the sections found (a test that adds a module to this package)."""
    ordered.cache_clear()
