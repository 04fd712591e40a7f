"""The flag search (`iree-matrix search`): which compile knobs and export variants make a function
faster than `default`, beyond noise, with outputs still matching torch. Batch 1 times each knob
and variant alone; later batches time the incumbent beside its most promising untried neighbours
(one dimension of `space()` changed) under a budget, until none beats it. Pure: the space and each
batch's choice; findings/search_descent.py walks the batches, tasks/flag_search.py runs them."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Optional

from iree_matrix.core.model import configuration, stats
from iree_matrix.core.model.configuration import Config, split_variant
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.results import Record, Status
from iree_matrix.findings.runs_view import grouped_by
from iree_matrix.iree.flags import BUILTIN_PROFILES, SEARCH_KNOBS, Profile

BASELINE = configuration.BASELINE
# The naive build, measured beside the result in the last sitting, never searched: no target CPU
# and no other flag, what turbine's `aot.export(...).compile()` passes to iree-compile.
NAIVE = "generic"


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One measured configuration of one function under one compiler."""

    function: str  # the base model's function name: "whisper_tiny.encoder" also for whisper_tiny@decomposed
    compiler: str
    name: str  # "default", "im2col", "@decomposed", "@decomposed+im2col", "im2col+ukernels"
    status: Status
    interval: Optional[stats.Interval]
    message: str = ""
    module_sha256: str = ""  # its module's digest: equal to another's, the same program
    record: Optional[Record] = None  # the run it was measured by (a paired comparison re-times it)

    @property
    def knobs(self) -> tuple[str, ...]:
        """Its changes to `default`: "@decomposed", "im2col", "k:NAME"."""
        return parse(self.name).changes


@dataclasses.dataclass(frozen=True)
class Effect:
    candidate: Candidate
    ratio: Optional[float]  # default's median / the candidate's: > 1 is faster
    verdict: str  # faster | slower | within noise | same module … | fails | mismatch | skipped | …


DEAD = ("fails", "mismatch", "skipped")  # the verdicts of a candidate with no time


def candidates(records: Iterable[Record]) -> list[Candidate]:
    """The run records of native, same-version runs as candidates; a run that did not happen carries its
    compile's status and words (a knob the release lacks is skipped, a flag it rejects fails)."""
    records = list(records)
    by_job = {r.job: r for r in records}
    found = []
    for record in records:
        label = record.label
        if record.stage != "run" or label.compiler != label.runtime:
            continue
        if (ran := record.metric.of(RunMetrics)).timing not in (None, "native"):
            continue
        why = by_job.get(record.blocked_by or "", record) if record.status is Status.NOT_RUN else record
        found.append(
            Candidate(
                function=split_variant(label.model)[0],
                compiler=label.compiler,
                name=str(label.config),  # "@decomposed+im2col": its model's variant and its profile
                status=why.status,
                # One thread's CPU time per call where the run measured it (load moves it least).
                interval=(ran.cpu_interval or ran.latency_interval) if record.status is Status.OK else None,
                message=first_line(why.message),
                module_sha256=ran.module_sha256 or "",
                record=record,
            )
        )
    return found


def first_line(message: Optional[str]) -> str:
    """The line of a tool's message that says what went wrong (an `error:` line when there is one)."""
    lines = [ln.strip() for ln in (message or "").splitlines() if ln.strip()]
    chosen = next((ln for ln in lines if "error:" in ln), lines[0] if lines else "")
    # "/root/.cache/.../store/export/<key>/model.mlir:75:11: error: ..." -> "model.mlir:75:11: error: ..."
    return re.sub(r"^\S*/(?=[^/\s]+:\d+:\d+: )", "", chosen)[:300]


def effects(found: Sequence[Candidate]) -> dict[tuple[str, str], list[Effect]]:
    """Per (function, compiler), every candidate against that function's `default`, in one run."""
    result = {}
    for cell, cands in sorted(grouped_by(((c.function, c.compiler), c) for c in found).items()):
        base = next((c for c in cands if c.name == BASELINE), None)
        # combinations after single changes; a kernel in `default` is one, spelled "default+k:NAME"
        order = sorted(
            cands, key=lambda c: (c.name != BASELINE, len(c.knobs) > 1 or bool(parse(c.name).kernel), c.name)
        )
        result[cell] = [_effect(c, base) for c in order]
    return result


def _effect(c: Candidate, base: Optional[Candidate]) -> Effect:
    if c.status is not Status.OK or c.interval is None:  # a skipped or mismatching one, else it failed
        return Effect(c, None, {Status.SKIP: "skipped", Status.MISMATCH: "mismatch"}.get(c.status, "fails"))
    if base is None or base.interval is None:
        return Effect(c, None, "no baseline")
    ratio = base.interval.median / c.interval.median if c.interval.median > 0 else None
    if c.name == BASELINE:
        return Effect(c, 1.0, "baseline")
    if c.module_sha256 and c.module_sha256 == base.module_sha256:
        # A null knob (e.g. --iree-opt-data-tiling=false where data tiling is off by default): the
        # same program, so no timing can tell them apart and none is asked to.
        return Effect(c, 1.0, f"{stats.SAME_MODULE}, no difference")
    if not (c.interval.coverage and base.interval.coverage):  # no interval: no verdict, not even "noise"
        return Effect(c, ratio, stats.TOO_FEW_REPETITIONS)
    faster, slower = c.interval.faster_than(base.interval), c.interval.slower_than(base.interval)
    return Effect(c, ratio, "faster" if faster else "slower" if slower else "within noise")


def best(rows: Sequence[Effect]) -> Effect:
    """The fastest candidate that beats `default` beyond noise, else `default` itself (`rows`
    must hold it). The naive build is a reference, never a result."""
    faster = [e for e in rows if e.verdict == "faster" and e.ratio is not None and e.candidate.name != NAIVE]
    fastest = max(faster, key=lambda e: e.ratio or 0.0, default=None)
    return fastest or next(e for e in rows if e.candidate.name == BASELINE)


# -- the budgeted descent --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Dimension:
    """One axis of the search space: mutually exclusive changes to `default` (none of them: off)."""

    name: str
    options: tuple[str, ...]


def space(
    knobs: Sequence[str] = SEARCH_KNOBS, known: Optional[Mapping[str, Profile]] = None
) -> tuple[Dimension, ...]:
    """The knobs as dimensions: knobs of one group (the opt levels, the named target CPUs, a declared
    `group`) exclude each other and form one; every other knob is one of its own, so any two combine.
    `known` names the profiles (default: the built-in ones)."""
    known = BUILTIN_PROFILES if known is None else known
    groups = grouped_by((_group(k, known.get(k)), k) for k in knobs)
    return tuple(Dimension(g, tuple(options)) for g, options in groups.items())


def _group(knob: str, profile: Optional[Profile]) -> str:
    if profile is None:
        return knob
    if profile.group:
        return profile.group
    if profile.opt_level:
        return "opt level"
    return "target CPU" if profile.target_cpu not in (None, "host") else knob


NAIVE_CONFIG = Config.of({NAIVE})


def parse(name: str) -> Config:
    """ "@decomposed+O3-stack+ukernels" -> the point of variant "decomposed", knobs {O3-stack, ukernels}."""
    found = Config.parse(name)
    return Config.of(found.names, found.variant, found.kernel)


def neighbours(config: Config, dims: Sequence[Dimension], variants: Sequence[str]) -> list[Config]:
    """Every configuration one change away: another export variant, or one dimension switched off,
    on, or to another of its options."""
    found = [Config.of(config.names, v) for v in ("", *variants) if v != config.variant]
    for dim in dims:
        current = config.knob_set & set(dim.options)
        rest = config.knob_set - current
        if current:
            found.append(Config.of(rest, config.variant))
        found.extend(Config.of(rest | {o}, config.variant) for o in dim.options if o not in current)
    return found


# How much slower alone a knob may be and still be tried beside the best configuration (`polish`):
# the LLVM passes cost 5-10 % alone on QuartzNet, one of them gave 1.8x in company.
NEUTRAL_SPAN = 0.15


@dataclasses.dataclass(frozen=True)
class Prior:
    """What batch 1 says about each change alone: its speed-up over default, and the changes that failed,
    mismatched or were skipped alone (never tried in a combination)."""

    speedup: Mapping[str, float]
    dead: frozenset[str]
    faster: frozenset[str] = frozenset()  # changes that beat default alone, beyond noise
    null: frozenset[str] = frozenset()  # changes whose module alone was default's: no effect
    pairs: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)  # Profile.pairs
    neutral: frozenset[str] = frozenset()  # changes within noise of default alone (not null)

    @classmethod
    def of(cls, rows: Sequence[Effect], known: Optional[Mapping[str, Profile]] = None) -> Prior:
        alone = [(c[0], e) for e in rows if len(c := parse(e.candidate.name).changes) == 1 and c[0] != NAIVE]
        timed = [(c, e.verdict, r) for c, e in alone if e.verdict not in DEAD and (r := e.ratio)]
        known = BUILTIN_PROFILES if known is None else known
        return cls(
            speedup={c: r for c, _, r in timed},
            dead=frozenset(c for c, e in alone if e.verdict in DEAD),
            faster=frozenset(c for c, v, _ in timed if v == "faster"),
            null=frozenset(c for c, v, _ in timed if v.startswith(stats.SAME_MODULE)),
            pairs={name: p.pairs for name, p in known.items() if p.pairs},
            neutral=frozenset(c for c, v, _ in timed if v == "within noise"),
        )

    @property
    def near_neutral(self) -> frozenset[str]:
        """Changes that alone did nothing much: within noise of default, or slower by at most
        `NEUTRAL_SPAN` (neither faster, null nor dead): such a knob can still pay in company."""
        near = {c for c, s in self.speedup.items() if s >= 1.0 - NEUTRAL_SPAN}
        return frozenset((near | self.neutral) - self.faster - self.null - self.dead)

    def promise(self, incumbent: Config, candidate: Config) -> float:
        """How promising a neighbour is: the speed-up alone of what it adds (a change it removes
        counts as the inverse of that change's speed-up)."""
        added = [*(candidate.knob_set - incumbent.knob_set)]
        removed = [*(incumbent.knob_set - candidate.knob_set)]
        if candidate.variant != incumbent.variant:
            changed = str(Config(candidate.variant or incumbent.variant))
            (added if candidate.variant else removed).append(changed)
        score = 1.0
        for change in added:
            alone = self.speedup.get(change, 1.0)
            partners = [
                self.speedup.get(k, 1.0) for k in self.pairs.get(change, ()) if k in incumbent.knob_set
            ]
            score *= max([alone, *partners])
        for change in removed:
            score /= self.speedup.get(change, 1.0)
        return score

    def excludes(self, config: Config) -> bool:
        return not self.dead.isdisjoint(config.changes)


def stacked(incumbent: Config, dims: Sequence[Dimension], prior: Prior) -> Config:
    """The incumbent with, in each dimension it leaves off, the fastest option of those that beat
    default alone beyond noise: winners found one at a time, tried together in one candidate."""
    knobs = set(incumbent.knob_set)
    for dim in dims:
        if knobs & set(dim.options):
            continue
        if winners := [o for o in dim.options if o in prior.faster]:
            knobs.add(max(winners, key=lambda o: prior.speedup.get(o, 1.0)))
    return Config.of(knobs, incumbent.variant)


def rank_batch(
    incumbent: Config, tried: Iterable[str], dims: Sequence[Dimension], variants: Sequence[str], prior: Prior
) -> tuple[list[Config], list[Config]]:
    """(the candidates in order of promise, the neighbours left out because a change of theirs
    failed, mismatched or was skipped alone)."""
    seen = set(tried)
    pool = [*neighbours(incumbent, dims, variants), stacked(incumbent, dims, prior)]
    fresh = [c for c in dict.fromkeys(pool) if str(c) not in seen and c != incumbent]
    dead = [c for c in fresh if prior.excludes(c)]
    alive = [c for c in fresh if not prior.excludes(c)]
    # A change that alone gave default's very module (a null knob on this release) comes last: it
    # may still matter in company, but every change with a measured effect is tried first.
    alive.sort(
        key=lambda c: (
            bool((c.knob_set - incumbent.knob_set) & prior.null),
            -prior.promise(incumbent, c),
            str(c),
        )
    )
    return alive, dead


def polish(incumbent: Config, tried: Iterable[str], dims: Sequence[Dimension], prior: Prior) -> list[Config]:
    """The pair step's candidates: the incumbent plus one knob neutral alone (`Prior.near_neutral`) in a
    dimension it leaves off, not tried beside it yet: ranked by the effect alone, these come last and the
    width cuts them off, yet beside a good configuration such a knob can help (QuartzNet: 1.8x)."""
    seen, neutral = set(tried), prior.near_neutral
    off = [
        o for dim in dims if not incumbent.knob_set & set(dim.options) for o in dim.options if o in neutral
    ]
    found = [Config.of(incumbent.knob_set | {o}, incumbent.variant) for o in off]
    return [c for c in found if str(c) not in seen]


# Why a batch's ranked candidates past those it measured were not measured in it.
PAST_WIDTH = "past the batch's width, for the next batches"  # budget and batches remain for them
PAST_BUDGET = "past the budget"  # the compiles of --budget are spent
PAST_TIME = "past the time budget"  # the next one's cost is more than the time left


def explain_pruned(
    picked: Sequence[Config],
    ranked: Sequence[Config],
    dead: Sequence[Config],
    prior: Prior,
    why: str = PAST_WIDTH,
) -> str:
    """What a batch left out, in words: "left out: 3 using a change that failed alone (O2,
    avx2); 9 past the budget (next: im2col+vector-256)"."""
    parts = []
    if dead:
        cause = sorted({k for c in dead for k in c.changes if k in prior.dead})
        parts.append(f"{len(dead)} using a change that failed or was skipped alone ({', '.join(cause)})")
    if rest := [c for c in ranked if c not in picked]:
        parts.append(f"{len(rest)} {why} (next: {rest[0]})")
    return "left out: " + "; ".join(parts) if parts else "nothing left out"


def allot(ranked: int, width: int, budget_left: int, batches_left: int) -> int:
    """How many of a function's `ranked` candidates a batch measures: `width`, widened so the batches
    left can spend the budget left, never more than the budget left."""
    if budget_left <= 0 or ranked <= 0:
        return 0
    pace = -(-budget_left // max(1, batches_left))  # ceil
    return min(ranked, budget_left, max(width, pace))


Confirm = Callable[[Candidate, Candidate], bool]  # (incumbent, challenger) -> challenger is faster


def choose(
    incumbent: Candidate, measured: Sequence[Candidate], confirm: Optional[Confirm] = None
) -> Optional[Candidate]:
    """The fastest candidate beating the incumbent beyond noise in the same sitting and, given
    `confirm`, in a paired comparison; None: a local optimum. The incumbent's own module is never a step."""
    if incumbent.interval is None:
        return None
    better = sorted(
        (
            c
            for c in measured
            if c.status is Status.OK
            and c.interval is not None
            and c.interval.faster_than(incumbent.interval)
            and not (c.module_sha256 and c.module_sha256 == incumbent.module_sha256)
        ),
        key=lambda c: c.interval.median if c.interval else 0.0,
    )
    return next((c for c in better if confirm is None or confirm(incumbent, c)), None)


@dataclasses.dataclass(frozen=True)
class Step:
    """One batch of one function's descent: the incumbent, what was measured beside it and the
    winner (None: none beat it beyond noise)."""

    batch: int
    incumbent: str
    tried: tuple[str, ...]
    winner: Optional[str]


def path(steps: Sequence[Step]) -> str:
    """ "default → im2col → im2col+ukernels (stopped: none of 5 beat it)"."""
    if not steps:
        return ""
    names = [steps[0].incumbent, *(s.winner for s in steps if s.winner)]
    last = steps[-1]
    tail = f" (stopped: none of {len(last.tried)} beat it)" if last.winner is None else ""
    return " → ".join(names) + tail
