"""How every document writes a number: one formatter per kind, so a table never prints "42 ms"
beside "42.0 ms"."""

from __future__ import annotations

import math


def sig3(x: float) -> str:
    """Three significant digits without exponent: 42 -> "42.0", 0.01234 -> "0.0123"."""
    if (rounded := float(f"{x:.3g}")) == 0:
        return "0"
    decimals = max(0, 2 - math.floor(math.log10(abs(rounded))))
    return f"{rounded:.{decimals}f}"


def duration_ms(ms: float) -> str:
    """A duration given in milliseconds: "13.9 ms", "3.19 s"."""
    return f"{sig3(ms / 1000)} s" if abs(float(f"{ms:.3g}")) >= 1000 else f"{sig3(ms)} ms"


def size(n: float) -> str:
    """Bytes in binary units: "117 KiB"."""
    for unit in ("B", "KiB", "MiB"):
        if abs(n) < 1024:
            return f"{int(n)} B" if unit == "B" else f"{sig3(n)} {unit}"
        n /= 1024
    return f"{sig3(n)} GiB"


def size_or(n: object, missing: str = "") -> str:
    """`size` of a figure, or `missing` where there is none (None, or not a number)."""
    return size(n) if isinstance(n, (int, float)) else missing


def seconds(s: float) -> str:
    """A duration given in seconds, as a stage's wall time: "12.3 s", "0.512 s"."""
    return f"{sig3(s)} s"


def about(s: float) -> str:
    """A duration said to a person planning for it: "about 40 s", "about 3 min", "about 50 min",
    "about 1 h", "about 1.5 h" — hours when it is hours, not "minutes"."""
    if s < 90:
        return f"about {max(1, round(s))} s"
    if s < 55 * 60:
        return f"about {round(s / 60)} min"
    hours = round(s / 1800) / 2 if s < 10 * 3600 else round(s / 3600)  # half hours, then hours
    return f"about {hours:g} h"


def ratio(x: float, digits: int = 2) -> str:
    """How many times another figure: "1.23×" (a slowdown, a speed-up, a size)."""
    return f"{x:.{digits}f}×"
