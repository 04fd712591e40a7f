"""`iree-matrix search`: the budgeted flag search. Round 1 measures default, each compile knob
alone and each export variant; later rounds descend from the best configuration so far, per
function and compiler, one change at a time, until no neighbour beats it beyond noise or the budget
is spent; a last sitting measures the naive build (`generic`: no target CPU, what turbine's own
`compile()` passes), default and each function's result again side by side. Every
round is one sitting: its cells' timed runs are measured again even when stored (the verdicts and
the plan of each round are `iree_matrix.answers.search`'s)."""

from __future__ import annotations

import argparse
import dataclasses
import fnmatch
import functools
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from iree_matrix import stages
from iree_matrix.answers import search
from iree_matrix.commands.base import EXIT_INTERRUPTED
from iree_matrix.commands.options import add_matrix_options, add_profile_list
from iree_matrix.commands.shared_options import cache_dir
from iree_matrix.commands.workflow import RunOptions, load_plan, run_plan
from iree_matrix.core import console
from iree_matrix.core.errors import UserError
from iree_matrix.core.results import ResultsLog
from iree_matrix.iree.flags import BUILTIN_PROFILES, SEARCH_KNOBS, Profile
from iree_matrix.matrix import spec

logger = console.logger(__name__)

if TYPE_CHECKING:
    from iree_matrix.execution.execute import Summary

NAME = "search"
HELP = "flag search: each compile knob and export variant against default, then a budgeted descent"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_matrix_options(parser, "search.toml")
    add_profile_list(
        parser,
        "--knobs",
        SEARCH_KNOBS,
        "comma-separated profiles: the search space, each tried alone in round 1 (default: {default})",
    )
    parser.add_argument(
        "--budget",
        type=int,
        default=12,
        metavar="N",
        help="compiles (candidates) per function and compiler after round 1 (default: %(default)s)",
    )
    parser.add_argument(
        "--width",
        type=int,
        default=4,
        metavar="N",
        help="candidates per function and compiler in each round after the first (default: %(default)s)",
    )
    parser.add_argument(
        "--rounds", type=int, default=6, metavar="N", help="at most this many rounds (default: %(default)s)"
    )
    parser.add_argument(
        "--max-minutes",
        type=float,
        default=None,
        metavar="M",
        help="start no round after the first that would end past M minutes from the start, judged by what "
        "each measured run has cost so far (default: no limit)",
    )
    parser.add_argument(
        "--functions",
        default="*",
        metavar="GLOBS",
        help="comma-separated globs over the functions that descend after round 1 "
        "(e.g. 'mobilenet_v2,whisper_tiny.encoder'; default: all)",
    )
    parser.add_argument(
        "--reuse-round-1",
        action="store_true",
        help="reuse round 1's stored runs from an earlier search in RESULTS_DIR instead of measuring "
        "them again (e.g. to descend further with a larger budget; the descent rounds and the last "
        "sitting are measured afresh, so the verdicts stay paired)",
    )


# One function's descent under one compiler: the descent's loop is answers/search.py's.
_Descent = search.Walk


def main(args: argparse.Namespace) -> int:
    from iree_matrix.report.sections.search import render_search

    if args.budget < 0 or args.rounds < 1 or args.width < 1:
        raise UserError(
            f"--budget {args.budget} --width {args.width} --rounds {args.rounds}: expected budget ≥ 0, "
            "width ≥ 1, rounds ≥ 1"
        )
    if args.max_minutes is not None and args.max_minutes <= 0:
        raise UserError(f"--max-minutes {args.max_minutes:g}: expected a positive number of minutes")
    given = [k.strip() for k in args.knobs.split(",") if k.strip() and k.strip() != search.BASELINE]
    knobs: list[str] = []  # the built-in knobs asked for and the matrix file's own ([search.knobs])
    given_retime = list(args.retime)
    said: list[str] = []  # what `_enough_repetitions` said, once

    def round_one(matrix: spec.MatrixSpec) -> spec.MatrixSpec:
        matrix = _enough_repetitions(matrix, said)
        knobs[:] = list(dict.fromkeys([*given, *matrix.search_knobs]))
        matrix = spec.with_profiles(matrix, [search.BASELINE, *knobs])
        # An export variant is itself a change: measured under default only in the first round.
        cells = tuple(
            c for c in matrix.cells if search.VARIANT not in c.model or c.profile == search.BASELINE
        )
        return dataclasses.replace(matrix, cells=cells)

    args.retime = _round_one_retime(given_retime, args.reuse_round_1)
    loaded = load_plan(args, "search.toml", adjust=round_one)
    signature = {
        "matrix": str(loaded.path), "models": sorted(args.model or []), "knobs": knobs, "budget": args.budget,
        "width": args.width, "rounds": args.rounds, "functions": args.functions,
    }  # fmt: skip
    resumed = search.read_progress(args.results_dir)
    if resumed is not None and resumed.signature != signature:
        resumed = None  # another search's: this one starts over (and replaces it when a round ends)
    if resumed is not None and not args.list:
        # Round 1's runs are stored: reused, not measured again, so its verdicts are the ones the
        # interrupted search descended from.
        args.retime = given_retime
        loaded = load_plan(args, "search.toml", adjust=round_one)
    if args.list:
        print(
            f"{loaded.path}: round 1, {len(loaded.matrix.cells)} cells (later rounds are planned from its "
            f"results: at most {args.budget} candidates per function and compiler)"
        )
        print(stages.describe(loaded.plan))
        return 0
    cache = cache_dir(args)
    results = ResultsLog(args.results_dir / "results.jsonl")
    if resumed is not None:
        logger.info(f"== flag search: resuming after round {resumed.round} "
                 f"({args.results_dir / search.PROGRESS}); round 1's stored runs are reused")  # fmt: skip
    logger.info(f"== flag search, round 1: default and {len(knobs)} knobs one at a time, export variants")
    logger.info(
        f"   budget after round 1: at most {args.budget} compiles per function and release, {args.width} "
        f"a round, {args.rounds} rounds in all"
        + (f", no round started past {args.max_minutes:g} min" if args.max_minutes else "")
    )
    started = time.monotonic()
    # Round 1 states its cost before it starts (the executor's cost line) with the search's levers.
    cheaper = (
        "--model REF or --functions GLOB (fewer functions), --knobs (fewer knobs), --budget N and --rounds N "
        "(a shorter descent), --max-minutes M"
    )
    options = dataclasses.replace(RunOptions.from_args(args), cheaper=cheaper)
    code, summary = run_plan(loaded, options, cache, results, args.results_dir)
    if code == EXIT_INTERRUPTED:  # round 1 incomplete: the same command resumes it
        return code
    known = {**BUILTIN_PROFILES, **loaded.matrix.profiles}
    dims = search.space(knobs, known)
    wanted = [g.strip() for g in args.functions.split(",") if g.strip()]
    # Round 1's steps are paired too: its best against default (from the sitting's intervals) is the
    # first incumbent only when paired rounds call it faster (#51: an unpaired "O2 faster 1.03x"
    # where `compare` said "no difference"). A resumed search restores its descents instead.
    paired = functools.partial(_paired_confirm, cache)
    confirm = None if resumed is not None else paired
    descents = _start(search.effects(search.candidates(summary.records.values())), wanted, known, confirm)
    extra: list[spec.Cell] = []
    sittings: list[tuple[str, str, tuple[str, ...]]] = []
    first = 2
    if resumed is not None:
        _restore(descents, resumed)
        sittings = list(resumed.sittings)
        _grow(loaded.matrix, extra, {(u, c): [search.parse(n) for n in names] for u, c, names in sittings})
        first = resumed.round + 1
    # Round 1 is saved as a finished round: a crash or Ctrl-C after it resumes at the descents with
    # round 1's stored runs, instead of measuring every knob again.
    if resumed is None:
        search.write_progress(args.results_dir, search.Progress(signature, 1, _states(descents), ()))
    # What one measured run (compile, timing, paired confirmation) has cost so far: a descent round
    # measures a few candidates per function, not round 1's every knob, so its cost is estimated
    # per run rather than as long as the round before.
    per_run = [_per_run_seconds(time.monotonic() - started, summary)]
    codes: list[int] = [code]

    def measure(
        phase: str, number: int, sitting: search.Sitting
    ) -> Optional[dict[search.Key, Optional[str]]]:
        _say_round(phase, number, sitting, descents)
        round_start = time.monotonic()
        plan = {key: list(configs) for key, configs in sitting.items()}
        measured_code, measured = _sitting(args, loaded.matrix, extra, plan, cache, results, round_one)
        if measured_code == EXIT_INTERRUPTED:  # no verdicts from a half-measured round
            return None
        codes.append(measured_code)
        per_run[0] = _per_run_seconds(time.monotonic() - round_start, measured, default=per_run[0])
        if phase == "round":
            sittings.extend((u, c, tuple(x.name for x in configs)) for (u, c), configs in sitting.items())
        return _winners(sitting, measured, paired)

    def after(number: int) -> None:
        search.write_progress(
            args.results_dir, search.Progress(signature, number, _states(descents), tuple(sittings))
        )

    limits = search.Limits(args.width, args.budget, args.rounds)
    finished = search.descend(
        descents, dims, limits, measure, first, _time_budget(args, started, per_run), after
    )
    if not finished:
        return EXIT_INTERRUPTED
    code = next((c for c in codes if c), 0)
    if descents:  # default, each result and the naive build side by side: the speed-ups are one sitting's
        logger.info(
            "== flag search, last sitting: the naive build (generic CPU) and default beside each "
            "function's best"
        )
        sitting = {
            key: list(dict.fromkeys([search.NAIVE_CONFIG, search.Config(), d.incumbent]))
            for key, d in descents.items()
        }
        code3, summary = _sitting(args, loaded.matrix, extra, sitting, cache, results, round_one)
        if code3 == EXIT_INTERRUPTED:
            return code3
        code = code or code3
    print("\n== descent per function (incumbent → winner of each round):")
    for (unit, compiler), d in sorted(descents.items()):
        print(f"  {unit} on IREE {compiler}: {search.path(d.steps) or d.incumbent.name}"
              f" [{d.spent} candidates after round 1; {d.done or 'rounds spent'}]")  # fmt: skip
    search.clear_progress(args.results_dir)  # finished: the next search starts afresh
    search.write_descents(args.results_dir, [
        search.Descent(unit, compiler, search.path(d.steps) or d.incumbent.name, d.incumbent.name, d.spent,
                       d.done or "rounds spent", tuple(d.pruned))
        for (unit, compiler), d in sorted(descents.items())
    ], {"budget": args.budget, "width": args.width, "rounds": args.rounds, "max_minutes": args.max_minutes,
        "knobs": knobs, "minutes": round((time.monotonic() - started) / 60, 1)})  # fmt: skip
    print("\n".join(render_search(summary.records.values(), search.read_descents(args.results_dir))))
    return code


def _winners(
    sitting: search.Sitting, summary: Summary, paired: Callable[[search.Candidate, search.Candidate], bool]
) -> dict[search.Key, Optional[str]]:
    """A measured sitting's verdicts: each function's winner (paired-confirmed), or None."""
    found = search.candidates(summary.records.values())
    winners: dict[search.Key, Optional[str]] = {}
    for key, configs in sitting.items():
        measured = {c.name: c for c in found if (c.unit, c.compiler) == key}
        incumbent = measured.get(configs[0].name)
        tried = [measured[c.name] for c in configs[1:] if c.name in measured]
        winner = search.choose(incumbent, tried, paired) if incumbent else None
        winners[key] = winner.name if winner else None
    return winners


def _say_round(
    phase: str, number: int, sitting: search.Sitting, descents: Mapping[search.Key, search.Walk]
) -> None:
    """The line before a sitting: each function's incumbent and candidates, and what was left out."""
    if phase == "pairs":
        what = "; ".join(
            f"{u} on {c}: {', '.join(x.name for x in configs[1:])}"
            for (u, c), configs in sorted(sitting.items())
        )
        logger.info(
            f"== flag search, pairs (round {number}): each knob neutral alone beside each best: {what}"
        )
        return
    logger.info(f"== flag search, round {number}: " + "; ".join(
        f"{unit} on {compiler}: {configs[0].name} and {len(configs) - 1} candidates "
        f"({descents[(unit, compiler)].pruned[-1].partition(': ')[2]})"
        for (unit, compiler), configs in sorted(sitting.items())
    ))  # fmt: skip


def _time_budget(args: argparse.Namespace, started: float, per_run: Sequence[float]) -> search.TimeBudget:
    """--max-minutes as the descent asks it: the seconds left, and what a measured run costs so far."""
    if not args.max_minutes:
        return search.TimeBudget(per_run=lambda: per_run[0])
    limit = args.max_minutes * 60

    def spent() -> str:
        return f"{(time.monotonic() - started) / 60:.0f} of {args.max_minutes:g} min spent"

    return search.TimeBudget(lambda: limit - (time.monotonic() - started), lambda: per_run[0], spent)


def _paired_confirm(cache: Path, incumbent: search.Candidate, challenger: search.Candidate) -> bool:
    """A step of the descent is taken only when paired, interleaved rounds of the two modules on
    one thread (`abtest`, the calibrated test) call the challenger faster. Where the modules cannot
    be timed here again (a container's runtime), the sitting's intervals decide, as before."""
    from iree_matrix.core import stats
    from iree_matrix.execution import abtest

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
        f"  paired: {challenger.name} against {incumbent.name} on {challenger.unit}: "
        f"{result.result.describe()}"
    )
    return result.result.verdict == stats.FASTER


def _grow(
    matrix: spec.MatrixSpec,
    extra: list[spec.Cell],
    sitting: Mapping[tuple[str, str], Sequence[search.Config]],
) -> list[str]:
    """Add `sitting`'s cells to `extra` (once each); the globs of their timed runs."""
    globs = []
    for (unit, compiler), configs in sitting.items():
        base, _, function = unit.partition(".")
        template = next(c for c in matrix.cells if c.model == base and c.compiler == compiler)
        for config in configs:
            model = config.model(base)
            extra.append(dataclasses.replace(template, model=model, profile=config.profile))
            job_model = f"{model}.{function}" if function else model
            globs.append(f"run:{job_model}/*/iree{compiler}/*/{config.profile}")
    extra[:] = list(dict.fromkeys(extra))
    return globs


def _round_one_retime(given: Sequence[str], reuse: bool) -> list[str]:
    """What round 1 measures again although stored. Round 1 is a sitting too: every run, unless
    --retime names what to re-measure or --reuse-round-1 keeps an earlier search's runs (its descent
    rounds and last sitting re-measure their incumbents, so their verdicts stay paired)."""
    return list(given) or ([] if reuse else ["run:*"])


def _per_run_seconds(seconds: float, summary: Summary, default: float = 0.0) -> float:
    """The seconds a sitting took per run it measured (stored runs reused cost nothing); `default`
    when it measured none."""
    measured = sum(1 for job in summary.records if job.startswith("run:") and job not in summary.reused)
    return seconds / measured if measured else default


def _states(descents: Mapping[tuple[str, str], search.Walk]) -> tuple[dict[str, object], ...]:
    """Each descent's state, as `search.Progress` keeps it (its prior is round 1's, made again)."""
    return tuple(
        {"unit": d.unit, "compiler": d.compiler, "incumbent": d.incumbent.name, "tried": sorted(d.tried),
         "steps": [[s.round, s.incumbent, list(s.tried), s.winner] for s in d.steps], "spent": d.spent,
         "done": d.done, "pruned": list(d.pruned)}
        for _, d in sorted(descents.items())
    )  # fmt: skip


def _restore(descents: Mapping[tuple[str, str], search.Walk], progress: search.Progress) -> None:
    """The interrupted search's descents over the ones round 1 started afresh."""
    for state in progress.descents:
        d = descents.get((str(state["unit"]), str(state["compiler"])))
        if d is None:
            continue
        d.incumbent = search.parse(str(state["incumbent"]))
        d.tried = {str(n) for n in state["tried"]}
        d.steps = [search.Step(int(r), str(i), tuple(t), w) for r, i, t, w in state["steps"]]
        # "local optimum" once meant "none of one round's candidates won"; now it is "no neighbour left".
        d.spent, d.done = int(state["spent"]), "" if state["done"] == "local optimum" else str(state["done"])
        d.pruned = [str(p) for p in state["pruned"]]


def _enough_repetitions(matrix: spec.MatrixSpec, said: list[str]) -> spec.MatrixSpec:
    """The matrix with at least `stats.MIN_REPETITIONS` benchmark repetitions, saying so once: with
    fewer, no median has an interval and no verdict can be had."""
    from iree_matrix.core import stats

    given = matrix.benchmark.repetitions
    if given >= stats.MIN_REPETITIONS:
        return matrix
    if not said:
        need = stats.MIN_REPETITIONS
        level = f"{stats.LEVEL:.0%}"
        said.append(f"search: [benchmark] repetitions = {given}: a median of {given} has no {level} "
                    f"interval (order statistics need {need}), so no verdict: raised to {need}")  # fmt: skip
        logger.warning(said[0])
    return dataclasses.replace(
        matrix, benchmark=dataclasses.replace(matrix.benchmark, repetitions=stats.MIN_REPETITIONS)
    )


def _start(
    table: dict[tuple[str, str], list[search.Effect]],
    wanted: Sequence[str],
    known: Optional[Mapping[str, Profile]] = None,
    confirm: Optional[search.Confirm] = None,
) -> dict[tuple[str, str], search.Walk]:
    """Each function's descent after round 1: its fastest change beyond noise against default that
    `confirm` (the paired test) calls faster is the first incumbent, round 1's single changes are
    the prior."""
    descents = {}
    for (unit, compiler), rows in table.items():
        if not any(fnmatch.fnmatchcase(unit, g) for g in wanted):
            continue
        base = next((r.candidate for r in rows if r.candidate.name == search.BASELINE), None)
        if base is None:
            continue
        others = [r.candidate for r in rows if r.candidate.name not in (search.BASELINE, search.NAIVE)]
        chosen = search.choose(base, others, confirm)
        top = next(r for r in rows if r.candidate is (chosen or base))
        names = {r.candidate.name for r in rows}
        variants = tuple(sorted({search.parse(n).variant for n in names} - {""}))
        winner = top.candidate.name if top.candidate.name != search.BASELINE else None
        first = search.Step(1, search.BASELINE, tuple(sorted(names - {search.BASELINE})), winner)
        descents[(unit, compiler)] = search.Walk(
            unit,
            compiler,
            variants,
            search.Prior.of(rows, known),
            search.parse(top.candidate.name),
            names,
            [first],
        )
    return descents


def _sitting(
    args: argparse.Namespace,
    matrix: spec.MatrixSpec,
    extra: list[spec.Cell],
    sitting: dict[tuple[str, str], list[search.Config]],
    cache: Path,
    results: ResultsLog,
    round_one: Callable[[spec.MatrixSpec], spec.MatrixSpec],
) -> tuple[int, Summary]:
    """Measure `sitting` ({(unit, compiler): configurations}) in one run: its cells are added to the
    search's matrix (`extra` grows) and their timed runs re-measured even when stored."""
    args.retime = sorted(set(_grow(matrix, extra, sitting)))
    cells = list(extra)

    def grown(m: spec.MatrixSpec) -> spec.MatrixSpec:
        return spec.with_cells(round_one(m), cells)

    loaded = load_plan(args, "search.toml", adjust=grown)
    return run_plan(loaded, RunOptions.from_args(args), cache, results, args.results_dir)
