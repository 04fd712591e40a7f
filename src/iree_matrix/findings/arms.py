"""One arm of a paired sitting as its document stores it, and the ratio of two arms over the rounds
both were timed in, with the paired verdict: every answer compares arms only through `paired`."""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Mapping
from typing import Any, Optional

from iree_matrix.core.model import stats

# An arm's optional text fields ("" where a sitting does not have them).
_TEXTS = (
    "release config cpu module_sha256 source base error target kernel kernel_dir kernel_build kernel_object"
)


class Rounds:
    """What an advice arm (`Arm`) and a proof's (neighbourhood.Timed) share: each round's CPU ms per
    call, the module's digest, and whether they count (no error, outputs not found to differ)."""

    ms: tuple[float, ...]
    module_sha256: str
    matches: Optional[bool]
    error: str

    @property
    def median(self) -> Optional[float]:
        return statistics.median(self.ms) if self.ms else None

    @property
    def usable(self) -> bool:
        return bool(self.ms) and not self.error and self.matches is not False

    def as_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(self).items()}


def pair(a: Rounds, b: Rounds, same_first: bool = False) -> Optional[stats.Paired]:
    """b's time over a's over the rounds both have (> 1: b is slower), None where either has no
    usable times; byte-identical modules are the same module (`same_first`: even untimed)."""
    usable = a.usable and b.usable
    if a.module_sha256 and a.module_sha256 == b.module_sha256 and (usable or same_first):
        return stats.same_module()
    if not usable:
        return None
    n = min(len(a.ms), len(b.ms))
    try:
        return stats.paired(a.ms[:n], b.ms[:n])
    except ValueError:
        return None


@dataclasses.dataclass(frozen=True)
class Arm(Rounds):
    """One arm of a sitting as stored: its kind, what it is, each round's CPU ms per call."""

    name: str
    kind: str
    ms: tuple[float, ...]
    flags: tuple[str, ...] = ()
    release: str = ""
    config: str = ""  # the profile ("default", "channels-last+im2col"), or the peer
    cpu: str = ""  # a fleet arm's target CPU
    module_sha256: str = ""
    matches: Optional[bool] = None  # outputs checked against torch
    source: str = ""  # where a pick came from ("published search, results/bench-rocketlake")
    base: str = ""  # a fleet arm: the configuration it compiles for another CPU
    error: str = ""  # why it has no times
    target: str = ""  # a GPU arm's target as `--target` names it ("cuda:sm_80", "vulkan-spirv")
    # A kernel arm (`base` with a user's kernel): its name, directory, build command, stored object,
    # and whether its spec applied (None: its compile did not finish).
    kernel: str = ""
    kernel_dir: str = ""
    kernel_build: str = ""
    kernel_object: str = ""
    applied: Optional[bool] = None
    kernel_run: tuple[str, ...] = ()  # the runtime's flags: a plugin kernel's plugin, the kernel's run_flags

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Arm:
        return cls(
            name=str(data["name"]),
            kind=str(data["kind"]),
            ms=tuple(float(x) for x in data.get("ms") or ()),
            flags=tuple(str(f) for f in data.get("flags") or ()),
            matches=data.get("matches"),
            applied=data.get("applied") if isinstance(data.get("applied"), bool) else None,
            kernel_run=tuple(str(f) for f in data.get("kernel_run") or ()),
            **{k: str(data.get(k) or "") for k in _TEXTS.split()},
        )


@dataclasses.dataclass(frozen=True)
class Ratio:
    """B's time over A's from one sitting's rounds (> 1: B slower), with the paired verdict."""

    paired: stats.Paired

    @property
    def value(self) -> float:
        return self.paired.ratio

    def span(self) -> str:
        p = self.paired
        return f"rounds {p.low:.3g}–{p.high:.3g}"


def paired(a: Arm, b: Arm) -> Optional[Ratio]:
    """b against a over the rounds both have (> 1: b is slower)."""
    return Ratio(p) if (p := pair(a, b)) is not None else None


def times_text(ratio: Optional[Ratio], other: str, short: bool = False) -> str:
    """IREE's time over `other`'s, in words that cannot be read backwards and that say a paired
    verdict of no difference as one; every renderer takes them from here (`short`: a table cell's)."""
    if ratio is None:
        return "–" if short else f"{other}: not measured"
    r = ratio.value
    if ratio.paired.verdict == stats.NO_DIFFERENCE:
        return f"as fast as {other} (no difference: {r:.2f}× its time{'' if short else ', ' + ratio.span()})"
    if ratio.paired.verdict == stats.TOO_FEW:
        if short:
            return f"IREE takes {r:.2f}× {other}'s time (too few rounds for a verdict)"
        return f"IREE takes {r:.2f}× {other}'s time over {ratio.paired.rounds} rounds: too few for a verdict"
    if r >= 1:
        said = f"IREE takes {r:.2f}× {other}'s time"
        return said if short else f"{said} ({other} is {r:.2f}× faster; {ratio.span()})"
    said = f"IREE is {1 / r:.2f}× faster than {other}"
    return said if short else f"{said} (takes {r:.2f}× its time; {ratio.span()})"


def speedup_text(ratio: Optional[Ratio], what: str, short: bool = False) -> str:
    """The answer's speed over `what`'s (`default`, the naive build), noise-aware as `times_text`;
    `short`: a table cell's words (`what` left to the column's header)."""
    if ratio is None:
        return "–" if short else f"{what}: not measured"
    if ratio.paired.verdict == stats.SAME_MODULE:
        return "the same module" if short else f"the same module as {what}"
    s = 1.0 / ratio.value
    if ratio.paired.verdict == stats.NO_DIFFERENCE:
        return f"no difference ({s:.2f}×)" if short else f"no faster than {what} beyond noise ({s:.2f}×)"
    if ratio.paired.verdict == stats.TOO_FEW:
        if short:
            return f"{s:.2f}× (too few rounds for a verdict)"
        return f"{s:.2f}× {what}'s speed over {ratio.paired.rounds} rounds: too few rounds for a verdict"
    if ratio.paired.verdict == stats.SLOWER:  # `what` is faster beyond noise (a user's model's naive build)
        return f"{1.0 / s:.2f}× slower" if short else f"{what} is {1.0 / s:.2f}× faster"
    return f"{s:.2f}× faster" if short else f"{s:.2f}× faster than {what}"
