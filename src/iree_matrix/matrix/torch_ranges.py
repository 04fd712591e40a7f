"""Which torch releases each iree-turbine release is tested with (its `pytorch-cpu-requirements.txt`
at each tag): what `torch = "supported"` means (the newest torch inside the range; `"supported:minors"`
the newest patch of each minor). `[supported_torch]` replaces or adds a row.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Optional

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

SUPPORTED = "supported"
SUPPORTED_MINORS = "supported:minors"
MODES = (SUPPORTED, SUPPORTED_MINORS)
_SOURCE = "iree-turbine {tags}: pytorch-cpu-requirements.txt"


@dataclasses.dataclass(frozen=True)
class Row:
    turbine: str  # a specifier over turbine releases
    torch: str  # turbine's specifier over torch releases
    source: str  # where upstream says so

    def covers(self, turbine: str) -> bool:
        return Version(turbine) in SpecifierSet(self.turbine)


TABLE: tuple[Row, ...] = (
    Row("==2.3.*", "==2.3.0", _SOURCE.format(tags="v2.3.0")),
    Row(">=2.5,<3.2", ">=2.3.0", _SOURCE.format(tags="v2.5.0, v2.9.0, v3.0.0, v3.1.0")),
    Row(">=3.2,<3.6", ">=2.3.0,<2.6.0", _SOURCE.format(tags="v3.2.0 … v3.5.0")),
    Row(">=3.6,<3.9", ">=2.5,<2.8", _SOURCE.format(tags="v3.6.0, v3.7.0, v3.8.0")),
    Row("==3.9.*", ">=2.5,<=2.9.1", _SOURCE.format(tags="v3.9.0")),
)


class RangeError(ValueError):
    """A turbine release with no known range, or an override that is not a specifier."""


def range_problem(specifier: object) -> Optional[str]:
    """Why `specifier` is not a torch range an override may give (None: it is one)."""
    if not isinstance(specifier, str) or not specifier.strip():
        return 'expected a version specifier such as ">=2.5,<2.8"'
    try:
        SpecifierSet(specifier)
    except InvalidSpecifier:
        return 'not a version specifier; expected e.g. ">=2.5,<2.8"'
    return None


def row_for(turbine: str, overrides: Mapping[str, str] = {}) -> Row:  # noqa: B006 - read only
    """The range for `turbine`: a matrix's override (keyed "3.9.0" or "3.9"), else the table's."""
    try:
        wanted = Version(turbine)
    except InvalidVersion:
        raise RangeError(f"turbine {turbine!r} is not a release") from None
    for key, specifier in overrides.items():
        if Version(key) == wanted or (key.count(".") == 1 and wanted.release[:2] == Version(key).release[:2]):
            return Row(f"=={turbine}", specifier, "the matrix's [supported_torch]")
    for row in TABLE:
        if row.covers(turbine):
            return row
    raise RangeError(
        f"iree-turbine {turbine} has no known torch range (the table knows "
        f"{', '.join(r.turbine for r in TABLE)}); name torch releases explicitly or add "
        f'[supported_torch] "{turbine}" = ">=X,<Y"'
    )


def supported(
    turbine: str,
    torch_releases: Sequence[str],
    mode: str = SUPPORTED,
    overrides: Mapping[str, str] = {},  # noqa: B006 - read only
) -> list[str]:
    """The torch releases `mode` picks for `turbine` among `torch_releases` (the index's, oldest first)."""
    row = row_for(turbine, overrides)
    spec = SpecifierSet(row.torch)
    if not (inside := sorted((v for v in torch_releases if Version(v) in spec), key=Version)):
        raise RangeError(
            f"iree-turbine {turbine} supports torch {row.torch} ({row.source}) but the index has no "
            f"such torch release"
        )
    if mode == SUPPORTED:
        return [inside[-1]]
    if mode == SUPPORTED_MINORS:
        return list({Version(v).release[:2]: v for v in inside}.values())  # the newest of each minor
    raise RangeError(f"unknown torch selector {mode!r} (known: {', '.join(MODES)})")
