"""Picking the line a person needs out of a tool's output, and shortening it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional


def first_line(text: Optional[str], words: Sequence[str] = ("error",)) -> str:
    """The first non-empty line naming one of `words`, else the first non-empty line."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    hit = next((ln for ln in lines if any(w in ln.lower() for w in words)), None)
    return hit or (lines[0] if lines else "")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
