"""Which `--iree-*` options each IREE compiler release accepts, read from its own `iree-compile
--help-hidden` (compiler_options.json): a matrix's knobs are checked when it is planned, not by a compile
per cell; a release the table lacks is left to the compile stage. Refresh it with
bin/update_compiler_options.py 3.13.0=PATH/bin/iree-compile ... [--merge]."""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Optional

from packaging.version import Version

from iree_matrix.iree import versions

TABLE = Path(__file__).with_name("compiler_options.json")
_OPTION = re.compile(r"^\s+(--iree-[\w.-]+)", re.MULTILINE)


def options_in(help_text: str) -> frozenset[str]:
    """The `--iree-*` option names a `--help-hidden` listing shows."""
    return frozenset(_OPTION.findall(help_text))


@functools.lru_cache(maxsize=1)
def _table() -> tuple[tuple[str, ...], dict[str, frozenset[str]]]:
    try:
        data = json.loads(TABLE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return (), {}
    releases, spans = tuple(data.get("releases", ())), data.get("options", {}).items()
    # An option holds its runs of consecutive releases as [first, last] indices (`encode`).
    return releases, {
        r: frozenset(o for o, runs in spans if any(a <= i <= b for a, b in runs))
        for i, r in enumerate(releases)
    }


def known_releases() -> tuple[str, ...]:
    return _table()[0]


def options(release: str) -> Optional[frozenset[str]]:
    """The options release `release` accepts, or None when the table does not hold it."""
    table = _table()[1]
    if release in table or not versions.is_valid(release):
        return table.get(release)
    return next((o for r, o in table.items() if Version(r) == Version(release)), None)  # "3.9" is "3.9.0"


def unknown(release: str, flags: Iterable[str]) -> list[str]:
    """The `--iree-*` flags (by name) release `release` does not have; [] when it has them all or the
    table does not hold the release. Options outside IREE's own namespace (LLVM's) are not checked."""
    if (have := options(release)) is None:
        return []
    names = [f.split("=", 1)[0] for f in flags]
    return [n for n in names if n.startswith("--iree-") and n not in have]


def nearest(flag: str, release: str) -> Optional[str]:
    """The release's option closest in spelling to `flag` (for "did you mean")."""
    have = options(release) or frozenset()
    close = difflib.get_close_matches(flag.split("=", 1)[0], sorted(have), n=1, cutoff=0.8)
    return close[0] if close else None


def releases_with(flag: str) -> list[str]:
    """The releases of the table that accept `flag` (in release order)."""
    name = flag.split("=", 1)[0]
    return [r for r in known_releases() if name in (options(r) or ())]


def encode(listings: Mapping[str, frozenset[str]]) -> dict[str, object]:
    """The table's JSON: releases in version order, each option with its runs of consecutive
    releases as [first, last] indices (an option usually lives in one run)."""
    releases = sorted(listings, key=versions.release_order)
    spans: dict[str, list[list[int]]] = {}
    for index, release in enumerate(releases):
        for option in listings[release]:
            if (runs := spans.setdefault(option, [])) and runs[-1][1] == index - 1:
                runs[-1][1] = index
            else:
                runs.append([index, index])
    return {
        "source": "each release's `iree-compile --help-hidden`, `--iree-*` options only "
        "(bin/update_compiler_options.py)",
        "releases": releases,
        "options": {o: spans[o] for o in sorted(spans)},
    }
