"""The flag search's descent: the loop over batches (`descend`), the time it may spend (`TimeBudget`,
`fit`), and the files it leaves (search.json, search-progress.json while it runs)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

from iree_matrix.core import atomic_files
from iree_matrix.core.model.configuration import Config
from iree_matrix.findings import runs_view, search

Key = tuple[str, str]  # (function, compiler)
# One batch's sitting: per function, its incumbent (first) and the candidates measured beside it.
Sitting = Mapping[Key, Sequence[Config]]
# A sitting ("batch" or "pairs") measured: per function, the winner's name or None; None for the
# whole sitting when it was interrupted.
Measure = Callable[[str, int, Sitting], Optional[Mapping[Key, Optional[str]]]]
PAIR_SITTINGS = 3  # pair steps after the batches, each a sitting of every result beside its neutral knobs


@dataclasses.dataclass
class Walk:
    """One function's descent under one compiler (mutable: the loop's own bookkeeping)."""

    function: str
    compiler: str
    variants: tuple[str, ...]
    prior: search.Prior
    incumbent: Config
    tried: set[str]
    steps: list[search.Step]
    spent: int = 0
    done: str = ""
    pruned: list[str] = dataclasses.field(default_factory=list)  # each batch's "left out: ..."


@dataclasses.dataclass(frozen=True)
class Limits:
    width: int  # candidates per function a batch, unless the budget left needs more
    budget: int  # candidates per function after batch 1
    batches: int  # the last batch's number (batch 1 is the ablation)


@dataclasses.dataclass(frozen=True)
class TimeBudget:
    """What is left of `--max-minutes` and what a measured run costs, asked before each sitting."""

    left: Callable[[], Optional[float]] = lambda: None  # seconds left; None: no limit
    per_run: Callable[[], float] = lambda: 0.0  # seconds one measured run has cost so far
    spent: Callable[[], str] = lambda: ""  # "30 of 40 min spent"


def fit(plans: Mapping[Key, Sequence[Config]], budget: TimeBudget) -> dict[Key, list[Config]]:
    """The candidates of one sitting that fit in the time left, shared out evenly: each function's first
    (with its incumbent, timed again beside it), then each one's second, and so on, until the next one's
    cost is more than what is left."""
    left, each = budget.left(), budget.per_run()
    if left is None or each <= 0:
        return {key: list(p) for key, p in plans.items() if p}
    fitted: dict[Key, list[Config]] = {}
    cost = 0.0
    for depth in range(max((len(p) for p in plans.values()), default=0)):
        for key, p in plans.items():
            if depth >= len(p):
                continue
            more = each * (2 if depth == 0 else 1)  # a function's first candidate brings its incumbent
            if cost + more > left:
                return fitted
            cost += more
            fitted.setdefault(key, []).append(p[depth])
    return fitted


def settle(walk: Walk, configs: Sequence[Config], winner: Optional[str], number: int) -> None:
    """A measured sitting's verdict for one function: its winner becomes the incumbent."""
    walk.steps.append(search.Step(number, str(walk.incumbent), tuple(map(str, configs)), winner))
    walk.tried.update([str(walk.incumbent), *map(str, configs)])
    walk.spent += len(configs)
    # No winner among this batch's candidates: the next batch tries the next most promising
    # neighbours beside the same incumbent; it is a local optimum only when none is left.
    if winner is not None:
        walk.incumbent = search.parse(winner)


def _batch_plans(
    walks: Mapping[Key, Walk], dims: Sequence[search.Dimension], limits: Limits, number: int
) -> dict[Key, tuple[list[Config], list[Config], list[Config]]]:
    """Each open function's (ranked, dead, allotted) candidates for batch `number`; a function with
    none left is done, saying why."""
    plans = {}
    for key, w in walks.items():
        if w.done:
            continue
        ranked, dead = search.rank_batch(w.incumbent, w.tried, dims, w.variants, w.prior)
        n = search.allot(len(ranked), limits.width, limits.budget - w.spent, limits.batches - number + 1)
        if n == 0:
            w.done = "budget spent" if w.spent >= limits.budget else "local optimum: every neighbour tried"
            continue
        plans[key] = (ranked, dead, ranked[:n])
    return plans


def descend(
    walks: Mapping[Key, Walk],
    dims: Sequence[search.Dimension],
    limits: Limits,
    measure: Measure,
    first: int = 2,
    time: Optional[TimeBudget] = None,
    after: Callable[[int], None] = lambda number: None,
) -> bool:
    """The batches from `first` to `limits.batches`, then the pair steps; False when a sitting was
    interrupted. Each batch measures every open function's allotted candidates narrowed to the time
    left (`fit`); a function none of whose candidates fit is done ("time budget")."""
    time = time or TimeBudget()
    for number in range(first, limits.batches + 1):
        if not (plans := _batch_plans(walks, dims, limits, number)):
            break
        fitted = fit({key: picked for key, (_, _, picked) in plans.items()}, time)
        for key, (ranked, dead, picked) in plans.items():
            w, measured = walks[key], fitted.get(key, [])
            capped = len(picked) == limits.budget - w.spent  # `allot` took all the budget allows
            out_of_time = len(measured) < len(picked)  # `fit` measured fewer than were picked
            why = search.PAST_TIME if out_of_time else search.PAST_BUDGET if capped else search.PAST_WIDTH
            w.pruned.append(f"batch {number}: " + search.explain_pruned(measured, ranked, dead, w.prior, why))
            if not measured:
                w.done = f"time budget: {time.spent()}" if time.spent() else "time budget"
        if not fitted:
            break
        if _sit(walks, measure, "batch", number, fitted) is None:
            return False
        after(number)  # a finished batch: what an interrupted search resumes from
    last = max((step.batch for w in walks.values() for step in w.steps), default=first - 1)
    return _pairs(walks, dims, measure, last + 1, time)


def _pairs(
    walks: Mapping[Key, Walk],
    dims: Sequence[search.Dimension],
    measure: Measure,
    number: int,
    time: TimeBudget,
) -> bool:
    """The pair steps: each result beside each knob neutral alone (`polish`); a pair that wins is the
    result and its own pairs are tried next, at most `PAIR_SITTINGS` sittings."""
    for _ in range(PAIR_SITTINGS):
        wanted = {key: search.polish(w.incumbent, w.tried, dims, w.prior) for key, w in walks.items()}
        if not (fitted := fit(wanted, time)):
            return True
        if (winners := _sit(walks, measure, "pairs", number, fitted)) is None:
            return False
        if not any(winners.get(key) for key in fitted):
            return True
        number += 1
    return True


def _sit(
    walks: Mapping[Key, Walk], measure: Measure, kind: str, number: int, fitted: Mapping[Key, list[Config]]
) -> Optional[Mapping[Key, Optional[str]]]:
    """One sitting of each function's incumbent beside its `fitted` candidates, each verdict settled;
    its winners, or None where it was interrupted."""
    winners = measure(kind, number, {key: [walks[key].incumbent, *p] for key, p in fitted.items()})
    for key, p in fitted.items():
        if winners is not None:
            settle(walks[key], p, winners.get(key), number)
    return winners


# -- the descent's own account, kept beside the results ------------------------------------------

DESCENTS = "search.json"


@dataclasses.dataclass(frozen=True)
class Descent:
    """How one function's descent under one release went: its walk, where it stopped and why, and
    what each batch left out."""

    function: str
    compiler: str
    path: str  # "default → channels-last → …"
    result: str  # the last incumbent's name
    spent: int  # candidates compiled after batch 1
    stopped: str  # "local optimum", "budget spent", "time budget: …"
    pruned: tuple[str, ...] = ()


def write_descents(results_dir: Path, descents: Sequence[Descent], budget: Mapping[str, object]) -> Path:
    """`search.json` in the results directory: the last search's budget and every descent. A later
    search of other functions keeps the descents it did not redo."""
    kept = {(d.function, d.compiler): d for d in read_descents(results_dir)}
    kept.update({(d.function, d.compiler): d for d in descents})
    data = {"budget": dict(budget), "descents": [_stored(d) for _, d in sorted(kept.items())]}
    return _write(results_dir / DESCENTS, data)


def _write(path: Path, data: Mapping[str, Any]) -> Path:
    return atomic_files.write_atomically(path, json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def merge_descents(sources: Sequence[Path], to: Path) -> int:
    """The descents of each source's `search.json` into `to`'s (a later source's descent of the same
    function and release replaces an earlier one), each source's budget kept; how many were merged."""
    merged = 0
    for source in sources:
        directory = source.parent if source.name.endswith(".jsonl") else source
        if descents := read_descents(directory):
            data = runs_view.json_file(directory / DESCENTS)
            budget = data.get("budget") if isinstance(data, dict) else None
            write_descents(to, descents, old_batch_keys(budget) if isinstance(budget, dict) else {})
            merged += len(descents)
    return merged


# search.json keeps a descent's function under its first name, "unit": the published files hold it,
# and `advise` reads the key itself (advise/advise_plan.py). The code's name is `function`.
STORED_FUNCTION = "unit"


def _stored(descent: Descent) -> dict[str, Any]:
    fields = dataclasses.asdict(descent)
    return {STORED_FUNCTION: fields.pop("function"), **fields}


def _read(stored: Mapping[str, Any]) -> Descent:
    fields = {k: v for k, v in stored.items() if k != STORED_FUNCTION}
    pruned = tuple(old_batch_words(str(p)) for p in stored.get("pruned", ()))
    stopped = old_batch_words(str(stored.get("stopped", "")))
    return Descent(**{**fields, "function": stored[STORED_FUNCTION], "stopped": stopped, "pruned": pruned})


# A search's batch was its "round" until the word was left to a sitting's rounds (docs/glossary.md):
# search.json and search-progress.json written before say it in their words, read in today's.
_OLD_WORDS = (
    ("the round's width", "the batch's width"),  # "past the round's width, for the next rounds"
    ("the next rounds", "the next batches"),  # (PAST_WIDTH), once "… width or the budget"
    ("rounds spent", "batches spent"),
)


def old_batch_words(text: str) -> str:
    """A stored account's words as a search writes them now: "round 2: left out: …" is "batch 2: …"."""
    if text.startswith("round "):
        text = "batch " + text[len("round ") :]
    for old, new in _OLD_WORDS:
        text = text.replace(old, new)
    return text


def old_batch_keys(stored: Mapping[str, Any]) -> dict[str, Any]:
    """A budget or a progress signature with its old key, "rounds", under today's, "batches"."""
    return {("batches" if k == "rounds" else k): v for k, v in stored.items()}


def read_descents(results_dir: Path) -> list[Descent]:
    """The descents `search.json` holds ([] without one, or from a file it cannot read)."""
    try:
        return [_read(d) for d in runs_view.json_file(results_dir / DESCENTS).get("descents", [])]
    except (ValueError, TypeError, AttributeError):
        return []


# -- an interrupted search resumes where its last finished batch left it ------------------------

PROGRESS = "search-progress.json"


@dataclasses.dataclass(frozen=True)
class Progress:
    """What a search had decided when its last batch ended, under the arguments that made it
    (`signature`): the same command reads it back and goes on from the next batch."""

    signature: Mapping[str, object]
    batch: int  # the last finished batch
    descents: tuple[Mapping[str, Any], ...]  # each descent's state (tasks/flag_search.py writes them)
    sittings: tuple[tuple[str, str, tuple[str, ...]], ...]  # (function, compiler, configuration names)


def write_progress(results_dir: Path, progress: Progress) -> Path:
    return _write(Path(results_dir) / PROGRESS, dataclasses.asdict(progress))


def read_progress(results_dir: Path) -> Optional[Progress]:
    """The progress file, or None without one (or from one it cannot read: the search starts over)."""
    try:
        data = runs_view.json_file(results_dir / PROGRESS)
        return Progress(
            signature=old_batch_keys(data["signature"]),
            batch=int(data["batch"] if "batch" in data else data["round"]),  # "round": before batches
            descents=tuple(dict(d) for d in data["descents"]),
            sittings=tuple(
                (str(u), str(c), tuple(str(n) for n in names)) for u, c, names in data["sittings"]
            ),
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def clear_progress(results_dir: Path) -> None:
    (Path(results_dir) / PROGRESS).unlink(missing_ok=True)
