"""The budgeted flag search (`iree-matrix search`): batch 1 measures default, each knob alone and each export
variant; later batches descend from each function's best one change at a time until no neighbour beats it
beyond noise or the budget is spent; a last sitting measures the naive build, default and each result side
by side. Each batch is one sitting (findings/search.py, findings/search_descent.py); an interrupted search
resumes after its last finished batch."""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Optional, TextIO

from iree_matrix.core import console
from iree_matrix.core.errors import UserError
from iree_matrix.core.model import stats
from iree_matrix.core.model.configuration import Config, split_variant
from iree_matrix.execution import abtest
from iree_matrix.execution.workflow import EXIT_INTERRUPTED, Loaded, PlanSettings, load_plan
from iree_matrix.findings import search, search_descent
from iree_matrix.iree.flags import BUILTIN_PROFILES, Profile
from iree_matrix.matrix import spec
from iree_matrix.tasks.runs import listed, run_plan

logger = console.logger(__name__)

if TYPE_CHECKING:
    from iree_matrix.execution.summary import Summary

# Batch 1 states its cost before it starts (the executor's cost line) with the search's levers.
CHEAPER = (
    "--model REF or --functions GLOB (fewer functions), --knobs (fewer knobs), --budget N and "
    "--descent-batches N (a shorter descent), --max-minutes M"
)


@dataclasses.dataclass(frozen=True)
class Settings:
    """The search's own settings (the plan's are `PlanSettings`)."""

    knobs: str  # comma-separated profiles: batch 1's single changes
    budget: int = 12  # candidates per function and compiler after batch 1
    width: int = 4  # candidates per function and compiler a batch
    batches: int = 6  # at most this many batches
    max_minutes: Optional[float] = None  # no batch started that would end past it
    functions: str = "*"  # comma-separated globs over the functions that descend
    reuse_batch_1: bool = False  # an earlier search's batch 1, not measured again

    def check(self) -> None:
        if self.budget < 0 or self.batches < 1 or self.width < 1:
            raise UserError(
                f"--budget {self.budget} --width {self.width} --descent-batches {self.batches}: expected "
                "budget ≥ 0, width ≥ 1, batches ≥ 1"
            )
        if self.max_minutes is not None and self.max_minutes <= 0:
            raise UserError(f"--max-minutes {self.max_minutes:g}: expected a positive number of minutes")


def run(plan: PlanSettings, settings: Settings, out: TextIO) -> int:
    """The whole search: batch 1, the descents, the last sitting (its table on `out`); the exit code."""
    settings.check()
    return _Search(plan, settings, out).run()


class _Search:
    """One search's state: the knobs of batch 1, each function's descent, the cells the batches
    added, and what a measured run has cost so far."""

    def __init__(self, plan: PlanSettings, settings: Settings, out: TextIO) -> None:
        self.plan, self.settings, self.out = plan, settings, out
        given = [k.strip() for k in settings.knobs.split(",")]
        self.given = [k for k in given if k and k != search.BASELINE]
        self.knobs: list[str] = []  # the built-in knobs asked for and the matrix file's own ([search.knobs])
        self.said: list[str] = []  # what `_enough_repetitions` said, once
        self.extra: list[spec.Cell] = []  # the cells the batches after the first added
        self.sittings: list[tuple[str, str, tuple[str, ...]]] = []
        self.descents: dict[tuple[str, str], search_descent.Walk] = {}
        self.codes: list[int] = []
        self.per_run = [0.0]
        self.started = time.monotonic()
        self.signed: dict[str, object] = {}  # the signature an interrupted search is resumed by
        self.summary: Optional[Summary] = None  # batch 1's
        # Batch 1's steps are paired too: its best against default (from the sitting's intervals) is
        # the first incumbent only when paired rounds call it faster (an unpaired "O2 faster 1.03x"
        # where `compare` said "no difference"). A resumed search restores its descents instead.
        self.paired = functools.partial(_paired_confirm, plan.cache)

    def batch_one(self, matrix: spec.MatrixSpec) -> spec.MatrixSpec:
        matrix = _enough_repetitions(matrix, self.said)
        self.knobs[:] = list(dict.fromkeys([*self.given, *matrix.search_knobs]))
        matrix = spec.with_profiles(matrix, [search.BASELINE, *self.knobs])
        # An export variant is itself a change: measured under default only in the first batch.
        cells = tuple(
            c for c in matrix.cells if not split_variant(c.model)[1] or c.profile == search.BASELINE
        )
        return dataclasses.replace(matrix, cells=cells)

    def signature(self, loaded: Loaded) -> dict[str, object]:
        """What makes a search the same one (an interrupted search resumes only its own)."""
        kept = {k: getattr(self.settings, k) for k in ("budget", "width", "batches", "functions")}
        return {"matrix": str(loaded.path), "models": sorted(self.plan.models), "knobs": self.knobs, **kept}

    def load(self) -> tuple[PlanSettings, Loaded, Optional[search_descent.Progress]]:
        """Batch 1's plan, and the interrupted search this one resumes (None: it starts afresh)."""
        given_retime = self.plan.run.retime
        first = self.plan.with_retime(_batch_one_retime(given_retime, self.settings.reuse_batch_1))
        loaded = load_plan(first, adjust=self.batch_one)
        resumed = search_descent.read_progress(self.plan.results_dir)
        if resumed is not None and resumed.signature != self.signature(loaded):
            resumed = None  # another search's: this one starts over (and replaces it when a batch ends)
        if resumed is not None and not self.plan.listing:
            # Batch 1's runs are stored: reused, not measured again, so its verdicts are the ones the
            # interrupted search descended from. The plan is the same one: only what is measured
            # again changes, so it is not loaded again.
            first = self.plan.with_retime(given_retime)
        return first, loaded, resumed

    def run(self) -> int:
        first, loaded, resumed = self.load()
        s = self.settings
        if self.plan.listing:
            head = (
                f"{loaded.path}: batch 1, {len(loaded.matrix.cells)} cells (later batches are planned from "
                f"its results: at most {s.budget} candidates per function and compiler)"
            )
            return listed(loaded, self.out, head)
        if resumed is not None:
            progress = self.plan.results_dir / search_descent.PROGRESS
            logger.info(
                f"== flag search: resuming after batch {resumed.batch} ({progress}); "
                "batch 1's stored runs are reused"
            )
        logger.info(
            f"== flag search, batch 1: default and {len(self.knobs)} knobs one at a time, export variants"
        )
        logger.info(
            f"   budget after batch 1: at most {s.budget} compiles per function and release, {s.width} "
            f"a batch, {s.batches} batches in all"
            + (f", no batch started past {s.max_minutes:g} min" if s.max_minutes else "")
        )
        self.started = time.monotonic()
        options = dataclasses.replace(first.run, cheaper=CHEAPER)
        code, summary = run_plan(loaded, options, self.plan.cache, out=self.out)
        if code == EXIT_INTERRUPTED:  # batch 1 incomplete: the same command resumes it
            return code
        self.codes.append(code)
        self.summary = summary  # what the search's table shows when no function descends
        number = self.start(loaded, summary, resumed)
        known = {**BUILTIN_PROFILES, **loaded.matrix.profiles}
        limits = search_descent.Limits(s.width, s.budget, s.batches)
        measure = functools.partial(self.measure, loaded.matrix)
        dims = search.space(self.knobs, known)
        budget = self.time_budget()
        if not search_descent.descend(self.descents, dims, limits, measure, number, budget, self.after):
            return EXIT_INTERRUPTED
        return self.finish(loaded)

    def start(self, loaded: Loaded, summary: Summary, resumed: Optional[search_descent.Progress]) -> int:
        """Each function's descent from batch 1 (or as the interrupted search left it); the number
        of the first batch to measure."""
        known = {**BUILTIN_PROFILES, **loaded.matrix.profiles}
        wanted = [g.strip() for g in self.settings.functions.split(",") if g.strip()]
        confirm = None if resumed is not None else self.paired
        table = search.effects(search.candidates(summary.records.values()))
        self.descents = _start(table, wanted, known, confirm)
        self.signed = self.signature(loaded)
        # What one measured run (compile, timing, paired confirmation) has cost so far: a descent batch
        # measures a few candidates per function, not batch 1's every knob, so its cost is estimated
        # per run rather than as long as the batch before.
        self.per_run = [_per_run_seconds(time.monotonic() - self.started, summary)]
        if resumed is None:
            # Batch 1 is saved as a finished batch: a crash or Ctrl-C after it resumes at the descents
            # with batch 1's stored runs, instead of measuring every knob again.
            self.after(1)
            return 2
        _restore(self.descents, resumed)
        self.sittings = list(resumed.sittings)
        sat = {(u, c): [search.parse(n) for n in names] for u, c, names in self.sittings}
        _grow(loaded.matrix, self.extra, sat)
        return resumed.batch + 1

    def measure(
        self, matrix: spec.MatrixSpec, phase: str, number: int, sitting: search_descent.Sitting
    ) -> Optional[dict[search_descent.Key, Optional[str]]]:
        """One sitting of a batch (or of the pair steps): each function's winner, None if interrupted."""
        self.say_round(phase, number, sitting)
        batch_start = time.monotonic()
        measured_code, measured = self.sit(matrix, {key: list(configs) for key, configs in sitting.items()})
        if measured_code == EXIT_INTERRUPTED:  # no verdicts from a half-measured batch
            return None
        self.codes.append(measured_code)
        self.per_run[0] = _per_run_seconds(time.monotonic() - batch_start, measured, default=self.per_run[0])
        if phase == "batch":
            self.sittings.extend((u, c, tuple(map(str, configs))) for (u, c), configs in sitting.items())
        return self.winners(sitting, measured)

    def winners(
        self, sitting: search_descent.Sitting, summary: Summary
    ) -> dict[search_descent.Key, Optional[str]]:
        """A measured sitting's verdicts: each function's winner (paired-confirmed), or None."""
        found = search.candidates(summary.records.values())
        winners: dict[search_descent.Key, Optional[str]] = {}
        for key, configs in sitting.items():
            measured = {c.name: c for c in found if (c.function, c.compiler) == key}
            incumbent = measured.get(str(configs[0]))
            tried = [measured[str(c)] for c in configs[1:] if str(c) in measured]
            winner = search.choose(incumbent, tried, self.paired) if incumbent else None
            winners[key] = winner.name if winner else None
        return winners

    def say_round(self, phase: str, number: int, sitting: search_descent.Sitting) -> None:
        """The line before a sitting: each function's incumbent and candidates, and what was left out."""
        if phase == "pairs":
            what = "; ".join(
                f"{u} on {c}: {', '.join(map(str, configs[1:]))}"
                for (u, c), configs in sorted(sitting.items())
            )
            logger.info(
                f"== flag search, pairs (batch {number}): each knob neutral alone beside each best: {what}"
            )
            return
        said = "; ".join(
            f"{function} on {compiler}: {configs[0]} and {len(configs) - 1} candidates "
            f"({self.descents[(function, compiler)].pruned[-1].partition(': ')[2]})"
            for (function, compiler), configs in sorted(sitting.items())
        )
        logger.info(f"== flag search, batch {number}: {said}")

    def after(self, number: int) -> None:
        progress = search_descent.Progress(self.signed, number, _states(self.descents), tuple(self.sittings))
        search_descent.write_progress(self.plan.results_dir, progress)

    def time_budget(self) -> search_descent.TimeBudget:
        """--max-minutes as the descent asks it: the seconds left, and what a measured run costs so far."""
        max_minutes, started, per_run = self.settings.max_minutes, self.started, self.per_run
        if not max_minutes:
            return search_descent.TimeBudget(per_run=lambda: per_run[0])
        limit = max_minutes * 60

        def spent() -> str:
            return f"{(time.monotonic() - started) / 60:.0f} of {max_minutes:g} min spent"

        return search_descent.TimeBudget(
            lambda: limit - (time.monotonic() - started), lambda: per_run[0], spent
        )

    def sit(
        self, matrix: spec.MatrixSpec, sitting: dict[tuple[str, str], list[Config]]
    ) -> tuple[int, Summary]:
        """Measure `sitting` ({(function, compiler): configurations}) in one run: its cells are added to the
        search's matrix (`extra` grows) and their timed runs re-measured even when stored."""
        plan = self.plan.with_retime(sorted(set(_grow(matrix, self.extra, sitting))))
        cells = list(self.extra)

        def grown(m: spec.MatrixSpec) -> spec.MatrixSpec:
            return spec.with_cells(self.batch_one(m), cells)

        return run_plan(load_plan(plan, adjust=grown), plan.run, plan.cache, out=self.out)

    def finish(self, loaded: Loaded) -> int:
        """The last sitting (default, each result and the naive build side by side: the speed-ups
        are one sitting's), the descents printed and kept, and the exit code."""
        from iree_matrix.report.sections.search import render_search

        code = next((c for c in self.codes if c), 0)
        summary = self.summary
        assert summary is not None, "finish follows batch 1"
        if self.descents:
            logger.info(
                "== flag search, last sitting: the naive build (generic CPU) and default beside each "
                "function's best"
            )
            sitting = {
                key: list(dict.fromkeys([search.NAIVE_CONFIG, Config(), d.incumbent]))
                for key, d in self.descents.items()
            }
            last, summary = self.sit(loaded.matrix, sitting)
            if last == EXIT_INTERRUPTED:
                return last
            code = code or last
        self.keep()
        descents = search_descent.read_descents(self.plan.results_dir)
        print("\n".join(render_search(summary.records.values(), descents)), file=self.out)
        return code

    def keep(self) -> None:
        """Each descent printed, and kept in RESULTS_DIR (search_descent.DESCENTS); the progress cleared."""
        s, results_dir = self.settings, self.plan.results_dir
        descents = []
        for (name, compiler), d in sorted(self.descents.items()):
            path, stopped = search.path(d.steps) or str(d.incumbent), d.done or "batches spent"
            found = search_descent.Descent(
                name, compiler, path, str(d.incumbent), d.spent, stopped, tuple(d.pruned)
            )
            descents.append(found)
        print("\n== descent per function (incumbent → winner of each batch):", file=self.out)
        for descent in descents:
            said = f"{descent.path} [{descent.spent} candidates after batch 1; {descent.stopped}]"
            print(f"  {descent.function} on IREE {descent.compiler}: {said}", file=self.out)
        search_descent.clear_progress(results_dir)  # finished: the next search starts afresh
        budget = {k: getattr(s, k) for k in ("budget", "width", "batches", "max_minutes")}
        minutes = round((time.monotonic() - self.started) / 60, 1)
        search_descent.write_descents(
            results_dir, descents, {**budget, "knobs": self.knobs, "minutes": minutes}
        )


def _paired_confirm(cache: Path, incumbent: search.Candidate, challenger: search.Candidate) -> bool:
    """A step of the descent is taken only when paired rounds of the two modules (`abtest`) call the
    challenger faster; where they cannot be timed here again, the sitting's intervals decide."""
    if incumbent.record is None or challenger.record is None:
        return True
    try:
        a, b = (
            abtest.arm_of(incumbent.record, incumbent.name, [cache]),
            abtest.arm_of(challenger.record, challenger.name, [cache]),
        )
    except abtest.NotComparable as e:
        logger.info(f"  (paired check skipped: {e})")
        return True
    result = abtest.compare(a, b)
    logger.info(
        f"  paired: {challenger.name} against {incumbent.name} on {challenger.function}: "
        f"{result.result.describe()}"
    )
    return result.result.verdict == stats.FASTER


def _grow(
    matrix: spec.MatrixSpec, extra: list[spec.Cell], sitting: Mapping[tuple[str, str], Sequence[Config]]
) -> list[str]:
    """Add `sitting`'s cells to `extra` (once each); the globs of their timed runs."""
    globs = []
    for (name, compiler), configs in sitting.items():
        base, _, function = name.partition(".")
        template = next(c for c in matrix.cells if c.model == base and c.compiler == compiler)
        for config in configs:
            model = config.model(base)
            extra.append(dataclasses.replace(template, model=model, profile=config.profile))
            job_model = f"{model}.{function}" if function else model
            globs.append(f"run:{job_model}/*/iree{compiler}/*/{config.profile}")
    extra[:] = list(dict.fromkeys(extra))
    return globs


def _batch_one_retime(given: Sequence[str], reuse: bool) -> list[str]:
    """What batch 1 measures again although stored. Batch 1 is a sitting too: every run, unless
    --retime names what to re-measure or --reuse-batch-1 keeps an earlier search's runs (its descent
    batches and last sitting re-measure their incumbents, so their verdicts stay paired)."""
    return list(given) or ([] if reuse else ["run:*"])


def _per_run_seconds(seconds: float, summary: Summary, default: float = 0.0) -> float:
    """The seconds a sitting took per run it measured (stored runs reused cost nothing); `default`
    when it measured none."""
    measured = sum(1 for job in summary.records if job.startswith("run:") and job not in summary.reused)
    return seconds / measured if measured else default


def _states(descents: Mapping[tuple[str, str], search_descent.Walk]) -> tuple[dict[str, object], ...]:
    """Each descent's state, as `search_descent.Progress` keeps it (its prior is batch 1's, made again)."""
    return tuple(
        {
            "function": d.function,
            "compiler": d.compiler,
            "incumbent": str(d.incumbent),
            "tried": sorted(d.tried),
            "steps": [[s.batch, s.incumbent, list(s.tried), s.winner] for s in d.steps],
            "spent": d.spent,
            "done": d.done,
            "pruned": list(d.pruned),
        }
        for _, d in sorted(descents.items())
    )


def _restore(
    descents: Mapping[tuple[str, str], search_descent.Walk], progress: search_descent.Progress
) -> None:
    """The interrupted search's descents over the ones batch 1 started afresh."""
    for state in progress.descents:
        # "unit": the function's name in a progress file an older iree-matrix left (still read).
        d = descents.get((str(state.get("function", state.get("unit"))), str(state["compiler"])))
        if d is None:
            continue
        d.incumbent = search.parse(str(state["incumbent"]))
        d.tried = {str(n) for n in state["tried"]}
        d.steps = [search.Step(int(r), str(i), tuple(t), w) for r, i, t, w in state["steps"]]
        # "local optimum" once meant "none of one batch's candidates won"; now it is "no neighbour left".
        done = "" if state["done"] == "local optimum" else search_descent.old_batch_words(str(state["done"]))
        d.spent, d.done = int(state["spent"]), done
        d.pruned = [search_descent.old_batch_words(str(p)) for p in state["pruned"]]


def _enough_repetitions(matrix: spec.MatrixSpec, said: list[str]) -> spec.MatrixSpec:
    """The matrix with at least `stats.MIN_REPETITIONS` benchmark repetitions, saying so once: with
    fewer, no median has an interval and no verdict can be had."""
    if (given := matrix.benchmark.repetitions) >= stats.MIN_REPETITIONS:
        return matrix
    if not said:
        need = stats.MIN_REPETITIONS
        level = f"{stats.LEVEL:.0%}"
        said.append(
            f"search: [benchmark] repetitions = {given}: a median of {given} has no {level} "
            f"interval (order statistics need {need}), so no verdict: raised to {need}"
        )
        logger.warning(said[0])
    benchmark = dataclasses.replace(matrix.benchmark, repetitions=stats.MIN_REPETITIONS)
    return dataclasses.replace(matrix, benchmark=benchmark)


def _start(
    table: dict[tuple[str, str], list[search.Effect]],
    wanted: Sequence[str],
    known: Optional[Mapping[str, Profile]] = None,
    confirm: Optional[search.Confirm] = None,
) -> dict[tuple[str, str], search_descent.Walk]:
    """Each function's descent after batch 1: its fastest change beyond noise against default that `confirm`
    (the paired test) calls faster is the first incumbent, batch 1's single changes are the prior."""
    descents = {}
    for (function, compiler), rows in table.items():
        if not any(fnmatch.fnmatchcase(function, g) for g in wanted):
            continue
        if (base := next((r.candidate for r in rows if r.candidate.name == search.BASELINE), None)) is None:
            continue
        others = [r.candidate for r in rows if r.candidate.name not in (search.BASELINE, search.NAIVE)]
        chosen = search.choose(base, others, confirm)
        top = next(r for r in rows if r.candidate is (chosen or base))
        names = {r.candidate.name for r in rows}
        variants = tuple(sorted({search.parse(n).variant for n in names} - {""}))
        winner = top.candidate.name if top.candidate.name != search.BASELINE else None
        first = search.Step(1, search.BASELINE, tuple(sorted(names - {search.BASELINE})), winner)
        prior, incumbent = search.Prior.of(rows, known), search.parse(top.candidate.name)
        descents[(function, compiler)] = search_descent.Walk(
            function, compiler, variants, prior, incumbent, names, [first]
        )
    return descents
