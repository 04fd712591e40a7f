"""The flag search (`iree-matrix search`): which compile knobs and export variants make a function
faster than `default`, beyond noise, with outputs still matching torch.

Round 1 is an ablation: `default` plus each knob of `flags.SEARCH_KNOBS` alone (a built-in profile
that changes one thing), and each export variant of a model (`whisper_tiny@decomposed`) under
`default`. Round 2 combines, per model and compiler, the knobs that were faster beyond noise on some
function (at most one opt level) and measures the combination, on the winning export variant if
one won. Every candidate is an ordinary matrix cell: compiled once per flag set (the store's key is
the flags), checked against torch by the run stage, and timed like any run. Pure logic here; the
command in commands/search.py runs the rounds.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Optional

from iree_matrix import stats
from iree_matrix.flags import BUILTIN_PROFILES, COMBINE
from iree_matrix.results import Record, Status

BASELINE = "default"
VARIANT = "@"


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One measured configuration of one function under one compiler."""

    unit: str  # the base model's unit: "whisper_tiny.encoder" also for whisper_tiny@decomposed
    compiler: str
    name: str  # "default", "im2col", "@decomposed", "@decomposed+im2col", "im2col+ukernels"
    status: Status
    interval: Optional[stats.Interval]
    message: str = ""

    @property
    def knobs(self) -> tuple[str, ...]:
        return tuple(k for k in self.name.split(COMBINE) if k != BASELINE)


@dataclasses.dataclass(frozen=True)
class Effect:
    candidate: Candidate
    ratio: Optional[float]  # default's median / the candidate's: > 1 is faster
    verdict: str  # faster | slower | within noise | fails | mismatch | skipped | no baseline


def split_unit(unit: str) -> tuple[str, str]:
    """ "whisper_tiny@decomposed.encoder" -> ("whisper_tiny.encoder", "decomposed")."""
    model, dot, function = unit.partition(".")
    base, at, variant = model.partition(VARIANT)
    return base + dot + function, variant if at else ""


def candidate_name(variant: str, profile: str) -> str:
    if not variant:
        return profile
    return f"{VARIANT}{variant}" + ("" if profile == BASELINE else f"{COMBINE}{profile}")


def candidates(records: Iterable[Record]) -> list[Candidate]:
    """The run records of native, same-version runs as candidates (the newest record per job); a
    run that did not happen carries its compile's status and words (a knob the release lacks is
    skipped, a flag the compiler rejects fails)."""
    records = list(records)
    by_job = {r.job: r for r in records}
    found = []
    for record in records:
        label = record.label
        if record.stage != "run" or label.compiler != label.runtime:
            continue
        if record.metric.timing not in (None, "native"):
            continue
        why = by_job.get(record.blocked_by or "", record) if record.status is Status.NOT_RUN else record
        unit, variant = split_unit(label.model)
        found.append(
            Candidate(
                unit=unit,
                compiler=label.compiler,
                name=candidate_name(variant, label.profile),
                status=why.status,
                interval=record.metric.latency_interval if record.status is Status.OK else None,
                message=_first_line(why.message),
            )
        )
    return found


def _first_line(message: Optional[str]) -> str:
    """The line of a tool's message that says what went wrong (an `error:` line when there is one)."""
    lines = [ln.strip() for ln in (message or "").splitlines() if ln.strip()]
    chosen = next((ln for ln in lines if "error:" in ln), lines[0] if lines else "")
    # "/root/.cache/.../store/export/<key>/model.mlir:75:11: error: ..." -> "model.mlir:75:11: error: ..."
    return re.sub(r"^\S*/(?=[^/\s]+:\d+:\d+: )", "", chosen)[:300]


def effects(found: Sequence[Candidate]) -> dict[tuple[str, str], list[Effect]]:
    """Per (unit, compiler), every candidate against that function's `default`, in one run."""
    by_cell: dict[tuple[str, str], list[Candidate]] = {}
    for c in found:
        by_cell.setdefault((c.unit, c.compiler), []).append(c)
    result = {}
    for cell, cands in sorted(by_cell.items()):
        base = next((c for c in cands if c.name == BASELINE), None)
        rows = []
        for c in sorted(cands, key=lambda c: (c.name != BASELINE, COMBINE in c.name, c.name)):
            rows.append(_effect(c, base))
        result[cell] = rows
    return result


def _effect(c: Candidate, base: Optional[Candidate]) -> Effect:
    if c.status is Status.SKIP:
        return Effect(c, None, "skipped")
    if c.status is Status.MISMATCH:
        return Effect(c, None, "mismatch")
    if c.status is not Status.OK or c.interval is None:
        return Effect(c, None, "fails")
    if base is None or base.interval is None:
        return Effect(c, None, "no baseline")
    ratio = base.interval.median / c.interval.median if c.interval.median > 0 else None
    if c.name == BASELINE:
        return Effect(c, 1.0, "baseline")
    if c.interval.faster_than(base.interval):
        return Effect(c, ratio, "faster")
    if c.interval.slower_than(base.interval):
        return Effect(c, ratio, "slower")
    return Effect(c, ratio, "within noise")


def best(rows: Sequence[Effect]) -> Effect:
    """The fastest candidate that beats `default` beyond noise, else `default` itself (`rows`
    must hold it)."""
    faster = [e for e in rows if e.verdict == "faster" and e.ratio is not None]
    if faster:
        return max(faster, key=lambda e: e.ratio or 0.0)
    return next(e for e in rows if e.candidate.name == BASELINE)


def combinations(table: Mapping[tuple[str, str], Sequence[Effect]]) -> dict[tuple[str, str], str]:
    """Round 2: per (source model, compiler), the single knobs faster beyond noise on any of its
    functions, combined (the fastest opt level only), on the winning export variant if one won.
    Nothing when fewer than two changes won: a single winner was measured in round 1."""
    wins: dict[tuple[str, str], dict[str, float]] = {}
    for (unit, compiler), rows in table.items():
        model = unit.partition(".")[0]
        for e in rows:
            if e.verdict == "faster" and len(e.candidate.name.split(COMBINE)) == 1 and e.ratio:
                won = wins.setdefault((model, compiler), {})
                won[e.candidate.name] = max(won.get(e.candidate.name, 0.0), e.ratio)
    result = {}
    for (model, compiler), won in sorted(wins.items()):
        variants = sorted((k for k in won if k.startswith(VARIANT)), key=lambda k: -won[k])
        knobs = [k for k in won if not k.startswith(VARIANT)]
        levels = sorted((k for k in knobs if BUILTIN_PROFILES.get(k) and BUILTIN_PROFILES[k].opt_level),
                        key=lambda k: -won[k])  # fmt: skip
        knobs = sorted(k for k in knobs if k not in levels[1:])
        if len(knobs) + (1 if variants else 0) < 2 or not knobs:
            continue
        model_name = model + (variants[0] if variants else "")
        result[(model_name, compiler)] = COMBINE.join(knobs)
    return result
