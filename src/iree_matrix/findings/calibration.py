"""The calibration of the speed verdicts: how often the paired test calls a difference where there is
none (null pairs: a module against a byte-identical copy) and where there may be one (control pairs)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

from iree_matrix.core.model import stats
from iree_matrix.core.model.host_identity import HostIdentity
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.results import Record, Status
from iree_matrix.findings import runs_view

FILENAME = "calibration.json"
MARKDOWN = "CALIBRATION.md"
TARGET_RATE = 0.05  # what the published calibration must show at most
MAX_CALL_MS = 300.0  # modules slower than this per call make a calibration hours long: left out


def candidates(records: Iterable[Record], max_call_ms: float = MAX_CALL_MS) -> list[Record]:
    """Native, passed runs on the default HAL driver whose one-thread call is short enough, one per
    distinct module, fastest first (ties by job id, so the choice is stable)."""
    by_module: dict[str, Record] = {}
    for r in sorted(records, key=lambda r: r.finished or "", reverse=True):  # the newest of a module
        if r.stage != "run" or r.status is not Status.OK or r.label.device:
            continue
        ran = r.metric.of(RunMetrics)
        # A run with no figure at all is infinitely long.
        if not ran.emulated and ran.module_sha256 and _call_ms(r) <= max_call_ms:
            by_module.setdefault(ran.module_sha256, r)
    return sorted(by_module.values(), key=lambda r: (_call_ms(r), r.job))


def _call_ms(record: Record) -> float:
    figure = record.metric.of(RunMetrics).cpu_time or record.metric.of(RunMetrics).latency
    return figure.median if figure is not None and figure.median is not None else float("inf")


def null_plan(found: Sequence[Record], pairs: int) -> list[Record]:
    """`pairs` modules to time against their copies: every candidate in turn, again from the first."""
    return [found[i % len(found)] for i in range(pairs)] if found else []


def control_plan(found: Sequence[Record], limit: int) -> list[tuple[Record, Record]]:
    """Pairs of two different modules of one function (same model, another compiler or profile)."""
    by_model = runs_view.grouped_by((r.label.model, r) for r in found)
    ordered = (sorted(by_model[model], key=lambda r: r.job) for model in sorted(by_model))
    return [pair for runs in ordered for pair in zip(runs, runs[1:])][:limit]


@dataclasses.dataclass(frozen=True)
class Summary:
    nulls: int
    null_verdicts: int
    controls: int
    control_verdicts: int

    @property
    def false_positive_rate(self) -> Optional[float]:
        return self.null_verdicts / self.nulls if self.nulls else None

    @property
    def upper_bound(self) -> Optional[float]:
        """The one-sided 95 % upper confidence bound of the false-positive rate (Clopper-Pearson):
        0 of 54 measured still allows up to 5.4 %."""
        return rate_upper_bound(self.null_verdicts, self.nulls) if self.nulls else None

    @property
    def holds(self) -> bool:
        rate = self.false_positive_rate
        return rate is not None and rate <= TARGET_RATE and self.nulls >= 50


def rate_upper_bound(k: int, n: int, level: float = 0.95) -> float:
    """The p at which seeing at most k of n has probability 1 - level (bisection on the binomial CDF)."""
    import math

    def cdf(p: float) -> float:
        return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1))

    low, high = k / n, 1.0
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if cdf(mid) > 1 - level else (low, mid)
    return high


def _has_verdict(row: Mapping[str, Any]) -> bool:
    return row.get("verdict") in (stats.FASTER, stats.SLOWER)


def summarize(data: Mapping[str, Any]) -> Summary:
    nulls, controls = list(data.get("nulls") or []), list(data.get("controls") or [])
    return Summary(len(nulls), sum(map(_has_verdict, nulls)), len(controls), sum(map(_has_verdict, controls)))


def read(path: Path) -> Optional[dict[str, Any]]:
    """A published calibration, or None when there is none (or it is not one)."""
    data = runs_view.json_file(path)
    return data if isinstance(data, dict) and "nulls" in data else None


def rate_text(data: Optional[Mapping[str, Any]]) -> str:
    """ "false positives 1 of 54 null pairs (1.9 %), on <identity>" for a report's footnote."""
    if not data:
        return "no calibration of the paired test on record (`iree-matrix calibrate`)"
    s = summarize(data)
    rate = s.false_positive_rate
    return (
        f"false positives {s.null_verdicts} of {s.nulls} null pairs"
        + (f" ({rate:.1%})" if rate is not None else "")
        + f", measured on {_where(data)}"
    )


def _where(data: Mapping[str, Any]) -> str:
    """The calibrated CPU: its label as the calibration recorded it (with LLVM's name), else from its host."""
    return str(data.get("identity_label") or HostIdentity.of(data.get("host")).label())


def render(data: Mapping[str, Any], source: str = FILENAME) -> str:
    s = summarize(data)
    rate = s.false_positive_rate
    settings = data.get("settings") or {}
    load = data.get("load_average") or {}
    lines = [
        "# Calibration of the speed verdicts",
        "",
        f"_Generated from `{source}` by `iree-matrix calibrate` (do not edit by hand)._",
        "",
        "Every speed verdict (faster, slower, regression, a search step) comes from **paired, "
        "interleaved rounds** of two builds in one sitting, each round timing both on one thread "
        "(`iree-benchmark-module --device=local-sync`, the process's CPU time per call), the order "
        "alternating; a verdict needs the exact sign-flip permutation test on the rounds' log-ratios "
        f"at p < {settings.get('alpha', stats.ALPHA)} **and** a median ratio at least "
        f"{settings.get('min_effect', stats.MIN_EFFECT):.0%} from 1. Byte-identical modules get "
        '"same module, no difference" without timing.',
        "",
        "Here the test is run where no difference exists — a module against a byte-identical copy "
        "of itself, timed as two builds — to measure how often it is fooled:",
        "",
        f"- **{s.null_verdicts} of {s.nulls} null pairs got a verdict"
        + (f" ({rate:.1%}; 95 % upper bound {s.upper_bound:.1%})" if rate is not None else "")
        + f"** — the target is ≤ {TARGET_RATE:.0%} on ≥ 50 pairs: "
        + ("**holds**." if s.holds else "**does not hold**."),
        f"- {s.control_verdicts} of {s.controls} control pairs (two different builds of one function) "
        "got a verdict: the test does see real differences.",
        f"- Host: {_where(data)}; {settings.get('rounds')} rounds × {settings.get('repetitions')} "
        f"repetitions per arm; load average {load.get('start')} → {load.get('end')}; "
        f"{data.get('started', '')} – {data.get('finished', '')}.",
        "",
    ]
    lines += _table("Null pairs (a module against its copy)", data.get("nulls") or [])
    lines += _table("Control pairs (two builds of one function)", data.get("controls") or [])
    return "\n".join(lines) + "\n"


def _table(title: str, rows: Sequence[Mapping[str, Any]]) -> list[str]:
    if not rows:
        return []
    out = [
        f"## {title}",
        "",
        "| A | B | B / A (median) | rounds' range | p | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        out.append(
            f"| `{row.get('a')}` | `{row.get('b')}` | {row.get('ratio', 0):.3f} | "
            f"{row.get('low', 0):.3f}–{row.get('high', 0):.3f} | {row.get('p_value', 1):.3g} | "
            f"{row.get('verdict')} |"
        )
    return [*out, ""]


def matched(records: Iterable[Record], a: str, b: str) -> list[tuple[str, Record, Record]]:
    """(function, A's run, B's run) for every function run as both: two releases (same profile) or two
    profiles (same release); native, passed runs on the default HAL driver only."""
    runs = [r for r in runs_view.measured_runs(records) if not r.label.device]
    by_cell = {(r.label.model, r.label.exporter, r.label.compiler, r.label.profile): r for r in runs}
    found = []
    for (model, exporter, compiler, profile), ra in sorted(by_cell.items()):
        # releases: the same profile on B
        if compiler == a and (rb := by_cell.get((model, exporter, b, profile))) is not None:
            found.append((model if profile == "default" else f"{model} ({profile})", ra, rb))
        # profiles: the same release with B
        if profile == a and (rb := by_cell.get((model, exporter, compiler, b))) is not None:
            found.append((f"{model} on {compiler}", ra, rb))
    return found
