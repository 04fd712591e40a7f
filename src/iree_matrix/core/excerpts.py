"""Picking the line a person needs out of a tool's output, and shortening it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Optional


def first_line(text: Optional[str], words: Sequence[str] = ("error",)) -> str:
    """The first non-empty line naming one of `words`, else the first non-empty line."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    hit = next((ln for ln in lines if any(w in ln.lower() for w in words)), None)
    return hit or (lines[0] if lines else "")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def clip_words(text: str, limit: int) -> str:
    """`text` cut at the last word boundary before `limit`, with an ellipsis (never mid-word)."""
    return text if len(text) <= limit else _at_word(text[: limit - 1], limit) + "…"


def quoted(text: str, limit: int) -> str:
    """Another program's words (a peer's error) whole up to `limit` characters; past it cut at a word,
    its length said: "…(N characters; the whole in the log)", never a sentence cut with nothing said."""
    if len(text) <= limit:
        return text
    return _at_word(text[:limit], limit) + f" …({len(text)} characters; the whole in the log)"


def _at_word(cut: str, limit: int) -> str:
    """`cut` back to its last word boundary when that leaves more than half of `limit`."""
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:(")


# An absolute host path (not a URL's): /root/.cache/iree-matrix/store/export/<hash>/model.mlir
_HOST_PATH = re.compile(r"(?<![\w.:/])/(?:[^\s/:'\"()]+/)+(?P<name>[^\s/:'\"()]+)")


def without_paths(text: str) -> str:
    """Host paths reduced to their file name (`model.mlir:535:12`): the words say the same on
    every machine, and a reader's eye goes to the error, not to a cache directory."""
    return _HOST_PATH.sub(lambda m: m["name"], text)
