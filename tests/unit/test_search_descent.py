"""The flag search's descent loop (findings/search_descent.py `descend`) over a fake sitting: no compiler, no
timing, a made-up landscape. A batch is widened while the budget would otherwise go unspent and
narrowed to the time left rather than skipped; knobs neutral alone are tried beside the result."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from iree_matrix.core.model import stats
from iree_matrix.core.model.configuration import Config
from iree_matrix.core.model.results import Status
from iree_matrix.findings import search, search_descent

KEY = ("quartznet5x5", "3.9.0")
DEFAULT_MS = 84.0
# Each knob alone, as default's time over its (rocketlake, QuartzNet 3.9.0, batch 1 of the published
# search): the LLVM passes a little slower alone, data tiling the big win.
ALONE = {
    "data-tiling": 2.17, "dt-ukernels": 1.77, "channels-last": 1.25, "loop-unrolling": 1.10,
    "slp-vectorization": 0.99, "loop-vectorization": 0.93, "loop-interleaving": 0.90, "O2": 0.95,
    "fast-min-max": 0.92, "aggressive-fusion": 0.95, "transposes": 0.80,
}  # fmt: skip
KNOBS = tuple(ALONE)


def quartznet(config: Config) -> float:
    """A landscape with QuartzNet's interaction: the loop vectorizer, slower alone, takes 0.55x the
    time on top of data tiling and unrolling; SLP pays a little after unrolling; channels-last does
    not stack on data tiling."""
    k = config.knob_set
    ms = DEFAULT_MS
    for knob in k - {"loop-vectorization", "slp-vectorization", "channels-last"}:
        ms /= ALONE[knob]
    ms *= (
        (0.95 if "loop-unrolling" in k else 1.0 / ALONE["slp-vectorization"])
        if "slp-vectorization" in k
        else 1.0
    )
    if "loop-vectorization" in k:
        ms *= 0.55 if {"data-tiling", "loop-unrolling"} <= k else 1.0 / ALONE["loop-vectorization"]
    if "channels-last" in k:
        ms *= 1.1 if k & {"data-tiling", "dt-ukernels"} else 1.0 / ALONE["channels-last"]
    return ms


def _candidate(config: Config, ms: float) -> search.Candidate:
    times = [ms * f for f in (0.99, 0.995, 1.0, 1.005, 1.01)]
    return search.Candidate(KEY[0], KEY[1], str(config), Status.OK, stats.median_interval(times))


def _walk(landscape: Callable[[Config], float], knobs=KNOBS) -> search_descent.Walk:
    """Batch 1 (default and each knob alone) measured on the landscape, and the descent it starts."""
    first = [Config(), *(Config.of({k}) for k in knobs)]
    rows = search.effects([_candidate(c, landscape(c)) for c in first])[KEY]
    best = search.best(rows).candidate.name
    names = {str(c) for c in first}
    return search_descent.Walk(KEY[0], KEY[1], (), search.Prior.of(rows), search.parse(best), names,
                       [search.Step(1, "default", tuple(sorted(names - {"default"})), best)])  # fmt: skip


class FakeSitting:
    """Measures a sitting on the landscape: the winner is the fastest candidate at least 3 % faster
    than the incumbent (what the paired verdict would call faster); each run costs `run_seconds`."""

    def __init__(self, landscape: Callable[[Config], float], run_seconds: float = 0.0):
        self.landscape = landscape
        self.run_seconds = run_seconds
        self.spent = 0.0
        self.sittings: list[tuple[str, int, dict]] = []

    def __call__(self, phase: str, number: int, sitting: search_descent.Sitting) -> Mapping:
        self.sittings.append((phase, number, {k: [str(c) for c in v] for k, v in sitting.items()}))
        winners: dict = {}
        for key, (incumbent, *candidates) in sitting.items():
            self.spent += self.run_seconds * (1 + len(candidates))
            base = self.landscape(incumbent)
            best = min(candidates, key=self.landscape)
            winners[key] = str(best) if self.landscape(best) < base * 0.97 else None
        return winners

    def measured(self) -> set[str]:
        return {name for _, _, s in self.sittings for names in s.values() for name in names}


def test_a_knob_neutral_alone_that_wins_beside_the_best_is_found():
    """QuartzNet: the published search left data-tiling+loop-unrolling+loop-vectorization untimed
    ("next"), and the loop vectorizer was "slower" alone (0.93x): no ablation could rank it."""
    walk = _walk(quartznet)
    assert "loop-vectorization" in walk.prior.near_neutral and "transposes" not in walk.prior.near_neutral
    fake = FakeSitting(quartznet)
    dims = search.space(KNOBS)
    # A budget of one batch: batch 2 takes data-tiling+loop-unrolling, then the budget is spent.
    limits = search_descent.Limits(width=4, budget=4, batches=3)
    assert search_descent.descend({KEY: walk}, dims, limits, fake)
    assert {"data-tiling", "loop-unrolling", "loop-vectorization"} <= walk.incumbent.knob_set
    published = search.parse("data-tiling+loop-unrolling+slp-vectorization")
    assert quartznet(walk.incumbent) < quartznet(published) * 0.6
    # Found by the pair step, beside the batches' result: no batch had the budget to reach it.
    step = next(s for s in walk.steps if s.winner and "loop-vectorization" in s.winner)
    phases = {number: phase for phase, number, _ in fake.sittings}
    assert phases[step.batch] == "pairs" and step.incumbent == "data-tiling+loop-unrolling"
    assert walk.done == "budget spent"


def test_no_candidate_is_left_past_the_batches_width_while_budget_remains():
    """A batch's width paces the budget over the batches: a function with few neighbours gets them
    all in one batch, and the last batch takes all the budget allows."""
    flat = lambda c: 50.0 if c.knob_set else 60.0  # noqa: E731 - any knob helps alone; none helps another
    walk = _walk(flat, ("data-tiling", "loop-unrolling", "loop-vectorization", "O2"))
    dims = search.space(("data-tiling", "loop-unrolling", "loop-vectorization", "O2"))
    assert search_descent.descend(
        {KEY: walk}, dims, search_descent.Limits(width=1, budget=12, batches=3), FakeSitting(flat)
    )
    assert walk.spent < 12 and walk.done == "local optimum: every neighbour tried"
    assert not any(search.PAST_WIDTH in p or search.PAST_BUDGET in p for p in walk.pruned)

    many = _walk(quartznet)
    fake = FakeSitting(lambda c: quartznet(search.parse("data-tiling")) if c.knob_set else DEFAULT_MS)
    assert search_descent.descend(
        {KEY: many}, search.space(KNOBS), search_descent.Limits(width=2, budget=9, batches=4), fake
    )
    batches = [p for p in many.pruned if p.startswith("batch")]
    assert len(batches) == 3 and many.spent >= 9  # 3, 3, 3: the budget paced over the three batches
    assert search.PAST_WIDTH in batches[0] and search.PAST_BUDGET in batches[-1]  # the last takes all it can
    assert all(search.PAST_WIDTH not in p for p in batches[-1:])
    # What a batch deferred past its width, a later batch measured.
    for text in batches:
        if search.PAST_WIDTH in text:
            assert text.rsplit("(next: ", 1)[1].rstrip(")") in fake.measured()


def test_a_batch_is_narrowed_to_the_time_left_never_skipped_while_its_next_candidate_fits():
    """The published search stopped QuartzNet at "30 of 40 min spent": the whole next batch did not
    fit. Now the next candidate is measured whenever more than its cost is left."""
    walk = _walk(quartznet)
    fake = FakeSitting(quartznet, run_seconds=60.0)
    limit = 420.0  # batch 2: 4 candidates + the incumbent = 300 s; then 120 s left
    budget = search_descent.TimeBudget(
        lambda: limit - fake.spent, lambda: 60.0, lambda: f"{fake.spent / 60:.0f} of 7 min spent"
    )
    assert search_descent.descend(
        {KEY: walk},
        search.space(KNOBS),
        search_descent.Limits(width=4, budget=12, batches=6),
        fake,
        time=budget,
    )
    sizes = [len(s[KEY]) - 1 for phase, _, s in fake.sittings if phase == "batch"]
    assert sizes[:2] == [4, 1]  # batch 3: the one candidate (with its incumbent) that fits in 120 s
    assert any(search.PAST_TIME in p for p in walk.pruned)
    assert walk.done.startswith("time budget: 7 of 7 min spent")
    assert fake.spent <= limit


def test_allot_widens_to_spend_the_budget_and_never_past_it():
    assert search.allot(ranked=15, width=4, budget_left=12, batches_left=5) == 4
    assert search.allot(ranked=15, width=4, budget_left=12, batches_left=2) == 6
    assert search.allot(ranked=15, width=4, budget_left=12, batches_left=1) == 12
    assert search.allot(ranked=3, width=4, budget_left=12, batches_left=1) == 3
    assert search.allot(ranked=15, width=4, budget_left=0, batches_left=3) == 0


def test_fit_shares_the_time_between_functions_most_promising_first():
    a, b = ("a", "3.9.0"), ("b", "3.9.0")
    plans = {a: [search.parse(n) for n in ("x", "y", "z")], b: [search.parse(n) for n in ("u", "v")]}
    fitted = search_descent.fit(
        plans, search_descent.TimeBudget(lambda: 5.0, lambda: 1.0)
    )  # 2 + 2 (with incumbents) + 1
    assert {k: [str(c) for c in v] for k, v in fitted.items()} == {a: ["x", "y"], b: ["u"]}
    assert search_descent.fit(plans, search_descent.TimeBudget(lambda: 1.0, lambda: 1.0)) == {}
    assert search_descent.fit(plans, search_descent.TimeBudget()) == {k: list(v) for k, v in plans.items()}
