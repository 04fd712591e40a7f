"""The cache's layout is named once (core/cache_layout.py, issue 49): no other module joins a cache
path with one of its folders' names, and `--cache` is declared once (commands/base.py)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from iree_matrix.core.cache_layout import CacheLayout

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "iree_matrix"
KNOWN: set[tuple[str, str]] = set()  # no module spells a cache folder itself


def _folders() -> set[str]:
    root = Path("/cache")
    layout = CacheLayout(root)
    names = [n for n, v in vars(CacheLayout).items() if isinstance(v, property)]
    assert names and not dataclasses.fields(layout)[1:], "CacheLayout holds only its root"
    return {part for n in names for part in Path(getattr(layout, n)).relative_to(root).parts}


def test_the_layout_names_every_folder_of_the_cache() -> None:
    assert _folders() == {
        "store", "wheelhouse", "envs", "venv", "images", "logs", "iree-src", "tools",
        "cortex-m-runtime", "reproduce", "run.lock",
    }  # fmt: skip


def test_no_module_spells_a_cache_folder_itself() -> None:
    names = "|".join(re.escape(n) for n in _folders())
    joined = re.compile(rf'\bcache\)? / "({names})"')
    found = {
        (str(path.relative_to(PACKAGE)), match[1])
        for path in PACKAGE.rglob("*.py")
        if path.name != "cache_layout.py"
        for match in joined.finditer(path.read_text(encoding="utf-8"))
    }
    assert found <= KNOWN, f"cache folders spelled outside core/cache_layout.py: {sorted(found - KNOWN)}"


def test_cache_is_declared_once() -> None:
    declared = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        for _ in re.finditer(r'add_argument\(\s*"--cache"', path.read_text(encoding="utf-8"))
    ]
    assert declared == ["commands/base.py"], declared
