"""The cache's layout is named once (core/cache_layout.py, issue 49): it names every folder of the
cache. That no other module joins a cache path with one of its folders' names, and that `--cache` is
declared once (commands/options.py), test_one_place.py holds (with a planted violation each)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from iree_matrix.core.cache_layout import CacheLayout, Under

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "iree_matrix"
KNOWN: set[tuple[str, str]] = set()  # no module spells a cache folder itself


def _folders() -> set[str]:
    root = Path("/cache")
    layout = CacheLayout(root)
    names = [n for n, v in vars(CacheLayout).items() if isinstance(v, Under)]
    assert names and not dataclasses.fields(layout)[1:], "CacheLayout holds only its root"
    return {part for n in names for part in Path(getattr(layout, n)).relative_to(root).parts}


def test_the_layout_names_every_folder_of_the_cache() -> None:
    assert _folders() == {
        "store", "wheelhouse", "envs", "venv", "images", "logs", "iree-src", "tools",
        "cortex-m-runtime", "reproduce", "bundles", "run.lock",
    }  # fmt: skip
