"""Per-dispatch tuning on llvm-cpu: the tile sizes of one executable's root op, rewritten.

IREE decides each dispatch's tile sizes when it configures the executables and writes them on the
ops as a `lowering_config` attribute; the rest of code generation only reads them (IREE's
`iree_codegen` dialect docs: "This allows an external search to easily override the heuristics").
`--iree-hal-dump-executable-configurations-to=DIR` writes every configured executable to DIR, and
`--iree-hal-substitute-executable-configuration=NAME=FILE` puts an edited one back into a whole
compile (iree-org/iree tools/test/executable_configurations.mlir describes exactly this loop); the
substitution runs before `--iree-hal-dump-executable-benchmarks-to`, so the edited executable can
be benchmarked alone (compiler/src/iree/compiler/Dialect/HAL/Transforms/Passes.cpp). IREE 3.9.0 and
3.13.0 both have all three flags (`iree-compile --help-hidden`), and both write the CPU config as
`#iree_cpu.lowering_config<distribution = [...], vector_common_parallel = [...], vector_reduction =
[...]>`; older releases wrote `#iree_codegen.lowering_config<tile_sizes = [[...], ...]>`, also read
here. (`--iree-codegen-tuning-spec-path`, the transform-dialect tuning spec both releases also
take, matches ops by their IR and sets the same attribute; a substituted executable needs no
matcher.) Pure text logic, beside the one benchmark that uses it: `benchmarks/dispatch_tuning.py`
compiles and times.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Optional

# `#iree_cpu.lowering_config<distribution = [8, 28, 28, 0, 0, 0], vector_common_parallel = ...>`
_CPU_CONFIG = re.compile(r"#iree_cpu\.lowering_config<([^<>]*)>")
_LEVEL = re.compile(r"(\w+) = \[([-\d, ]*)\]")
DISTRIBUTION = "distribution"
VECTOR_PARALLEL = "vector_common_parallel"
VECTOR_REDUCTION = "vector_reduction"


@dataclasses.dataclass(frozen=True)
class TileConfig:
    """One op's tile sizes by level (`distribution`: a workgroup's tile; `vector_common_parallel`
    and `vector_reduction`: the vector tile of parallel and reduction loops), in the order found."""

    levels: tuple[tuple[str, tuple[int, ...]], ...]

    def get(self, level: str) -> Optional[tuple[int, ...]]:
        return dict(self.levels).get(level)

    def with_level(self, level: str, sizes: Sequence[int]) -> TileConfig:
        return TileConfig(tuple((n, tuple(sizes) if n == level else s) for n, s in self.levels))

    def render(self) -> str:
        body = ", ".join(f"{n} = [{', '.join(map(str, s))}]" for n, s in self.levels)
        return f"#iree_cpu.lowering_config<{body}>"

    def describe(self) -> str:
        return "; ".join(f"{n} {'x'.join(map(str, s))}" for n, s in self.levels)


def parse(attribute: str) -> Optional[TileConfig]:
    """`#iree_cpu.lowering_config<...>` -> TileConfig, or None when it is not one (other attributes in
    the same brackets, e.g. a scalable flag list, are not tile sizes and make it None too)."""
    match = _CPU_CONFIG.fullmatch(attribute.strip())
    if not match:
        return None
    body = match.group(1)
    levels = tuple(
        (name, tuple(int(x) for x in sizes.split(",") if x.strip())) for name, sizes in _LEVEL.findall(body)
    )
    if not levels or _LEVEL.sub("", body).strip(" ,"):
        return None
    return TileConfig(levels)


def root_config(source: str) -> Optional[tuple[str, TileConfig]]:
    """The executable's root op config, as (its text, parsed): the config with a `distribution`
    level that tiles most loops (IREE distributes a dispatch by its root op's config)."""
    found = []
    for match in _CPU_CONFIG.finditer(source):
        config = parse(match.group(0))
        if config is not None and config.get(DISTRIBUTION) is not None:
            found.append((match.group(0), config))
    if not found:
        return None
    return max(
        found,
        key=lambda tc: (
            len(tc[1].get(DISTRIBUTION) or ()),
            sum(1 for s in tc[1].get(DISTRIBUTION) or () if s),
        ),
    )


def replace_root(source: str, old: str, new: TileConfig) -> str:
    """`source` with the root op's config text replaced (every copy: an alias `#config = ...` is
    defined once and used by name, an inline one is written on the op)."""
    if old not in source:
        raise ValueError(f"config {old!r} not in the executable")
    return source.replace(old, new.render())


def _halve(n: int, floor: int) -> Optional[int]:
    return n // 2 if n >= 2 * max(floor, 1) and n % 2 == 0 else None


def tile_neighbours(config: TileConfig, bounds: Sequence[int] = ()) -> list[tuple[str, TileConfig]]:
    """The neighbours tried for one dispatch, each one change: every non-zero workgroup
    (`distribution`) tile halved or doubled (not above the loop's bound, when known, and never
    below its vector tile), and the innermost vector tile of the parallel and the reduction level
    halved or doubled. Labelled like `distribution[2] 28->14`."""
    found: list[tuple[str, TileConfig]] = []

    def change(level: str, sizes: Sequence[int], i: int, new: int) -> None:
        found.append((f"{level}[{i}] {sizes[i]}->{new}", config.with_level(level, _set(sizes, i, new))))

    dist = config.get(DISTRIBUTION) or ()
    vec = config.get(VECTOR_PARALLEL) or ()
    for i, size in enumerate(dist):
        if not size:
            continue
        floor = vec[i] if i < len(vec) and vec[i] else 1
        bound = bounds[i] if i < len(bounds) else None
        half = _halve(size, floor)
        if half:
            change(DISTRIBUTION, dist, i, half)
        if bound is None or 2 * size <= bound:
            change(DISTRIBUTION, dist, i, 2 * size)
    for level in (VECTOR_PARALLEL, VECTOR_REDUCTION):
        sizes = config.get(level) or ()
        inner = max((i for i, s in enumerate(sizes) if s), default=None)
        if inner is None:
            continue
        size = sizes[inner]
        outer = dist[inner] if inner < len(dist) and dist[inner] else None
        if size % 2 == 0 and size >= 2:
            change(level, sizes, inner, size // 2)
        if outer is None or (2 * size <= outer and outer % (2 * size) == 0):
            change(level, sizes, inner, 2 * size)
    return found


def _set(sizes: Sequence[int], index: int, value: int) -> tuple[int, ...]:
    return tuple(value if i == index else s for i, s in enumerate(sizes))


_EXECUTABLE = re.compile(r"hal\.executable (?:public |private )?@([\w$.-]+)")


def executable_name(source: str) -> Optional[str]:
    """The `hal.executable @NAME` a configuration dump holds (the substitution flag's key)."""
    match = _EXECUTABLE.search(source)
    return match.group(1) if match else None
