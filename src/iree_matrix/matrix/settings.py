"""A matrix file's settings as one layered mapping before the one parse: the file's tables with the
command line's and the environment's values merged over them, as data (the schema check and the
parser see every value once), and where each came from."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from iree_matrix.kernel.kernels import Kernel
from iree_matrix.matrix import spec_file


@dataclasses.dataclass(frozen=True)
class Layered:
    """The matrix file's mapping with other values over it; `origins`: dotted key ("iree_source.3.9.0")
    -> what gave its value ("--iree-source"); a key it does not name is the file's."""

    path: Path
    data: Mapping[str, Any]
    origins: Mapping[str, str] = dataclasses.field(default_factory=dict)
    kernels: tuple[Kernel, ...] = ()  # loaded once, after the file's (which the parse loads)

    def over(self, table: str, values: Mapping[str, Any], origin: str) -> Layered:
        """`values` over the file's `[table]` (key by key), each said to come from `origin`."""
        if not values:
            return self
        merged = {**self.table(table), **values}
        said = {**self.origins, **{f"{table}.{key}": origin for key in values}}
        return dataclasses.replace(self, data={**self.data, table: merged}, origins=said)

    def with_kernels(self, kernels: tuple[Kernel, ...], origin: str) -> Layered:
        """Kernels loaded already (`--kernel`) after the file's `kernels`, said to come from `origin`."""
        said = {**self.origins, "kernels": origin}
        return dataclasses.replace(self, kernels=(*self.kernels, *kernels), origins=said)

    def table(self, name: str) -> dict[str, Any]:
        """`[name]` as a table; `iree_source = "SRC"` (every release) is the table {"*": SRC}."""
        found = self.data.get(name, {})
        return {"*": found} if isinstance(found, str) else dict(found)

    def replacing(self, table: str, values: Mapping[str, Any], origin: str) -> Layered:
        """`values` instead of the file's `[table]`: `--iree-source SRC` is every release's source."""
        data = {k: v for k, v in self.data.items() if k != table}
        origins = {k: v for k, v in self.origins.items() if not k.startswith(f"{table}.")}
        return dataclasses.replace(self, data=data, origins=origins).over(table, values, origin)

    @classmethod
    def read(cls, path: Path) -> Layered:
        """The matrix file at `path`, as read (a bad file: one SpecError line naming it)."""
        return cls(Path(path), spec_file.read(path))
