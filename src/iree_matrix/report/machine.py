"""Your machine: each function's IREE time beside torch eager's and each peer's, all one thread's CPU
time per call (a wall time moved 2-5x with the machine's load, so it never enters a ratio here), with
ratios worded so they cannot be read backwards. The report's section and the console's last lines are
drawn from the same rows (`rows`), so they never disagree."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, ClassVar, Optional

from iree_matrix.core import excerpts, formats, pasted
from iree_matrix.core.model.metrics.export import ExportMetrics
from iree_matrix.core.model.metrics.peer import PeerMetrics
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.results import Record, Status
from iree_matrix.findings import advice, release_choice, runs_view
from iree_matrix.findings import gap as gaps
from iree_matrix.findings.runs_view import Timing as Figure
from iree_matrix.matrix import export_recipes as recipes
from iree_matrix.matrix import models as model_names
from iree_matrix.matrix import peers as peer_registry
from iree_matrix.matrix.peers import EAGER
from iree_matrix.report import what_to_take
from iree_matrix.report.markdown import github_table

_name = peer_registry.display  # what each peer is called where a user reads it (its module's)
IREE = "IREE"
SIGNAL = "one thread's CPU time per call"
TITLE = "Your machine: IREE against the alternatives"
MEASURED = "This run's figures: IREE's `default` flags against the alternatives"


@dataclasses.dataclass(frozen=True)
class Row:
    """A function on this machine: IREE's, torch eager's and each peer's figure, or why one is missing."""

    function: str
    model: str  # the reference model the function belongs to (what `advise` takes)
    release: Optional[str]
    iree: Optional[Figure]
    eager: Optional[Figure]
    peers: tuple[tuple[str, Optional[Figure], str], ...]  # (peer, figure, why there is none)
    profile: str = "default"  # the figure's: `default`, else the fastest profile that passed (a recipe's)
    no_iree: ClassVar[str] = "no passing run"

    @property
    def release_text(self) -> str:
        """ "3.13.0", or "3.13.0, `stack-64k`" for a figure of another profile than `default`."""
        return f"{self.release}, `{self.profile}`" if self.profile != "default" else str(self.release)

    def _named(self) -> list[tuple[str, str, Optional[Figure]]]:
        """(what, the stage that timed it, its figure) for each figure of the row."""
        named = [(IREE, "run", self.iree), (_name(EAGER), "export", self.eager)]
        return named + [(_name(p), "peer", f) for p, f, _ in self.peers]

    @property
    def disturbed(self) -> list[str]:
        """The names of this row's figures whose repetitions spread beyond runs_view.NOISY_SPREAD."""
        return [name for name, _, figure in self._named() if figure is not None and figure.disturbed]

    @property
    def retime(self) -> list[str]:
        """`--retime` globs that time those figures again (each stage's jobs of this function)."""
        stages = [stage for _, stage, figure in self._named() if figure is not None and figure.disturbed]
        return [f"--retime '{stage}:{self.function}/*'" for stage in dict.fromkeys(stages)]


def compared(iree: Optional[Figure], other: Optional[Figure], name: str) -> str:
    """IREE against another figure in words that cannot be read backwards ("IREE takes 1.65× ONNX
    Runtime's time", "IREE is 2.10× faster than ONNX Runtime"); "" when either is missing."""
    if iree is None or other is None:
        return ""
    ratio = iree.median / other.median
    if round(ratio, 2) == 1.0:
        return f"IREE takes the same time as {name} (1.00×)"
    if ratio > 1:
        return f"IREE takes {formats.ratio(ratio)} {name}'s time"
    return f"IREE is {formats.ratio(1 / ratio)} faster than {name}"


def rows(records: Iterable[Record]) -> list[Row]:
    """A row per function that has an IREE `default` run, an export or a peer record, in name order."""
    latest = list(records)
    runs = _newest_default_runs(latest)
    exports = {
        (r.label.model, r.label.exporter): r for r in latest if r.stage == "export" and r.status is Status.OK
    }
    peer_records = {r.label.model: r for r in latest if r.stage == "peer" and r.status is Status.OK}
    functions = sorted({r.label.model for r in latest if r.stage in ("export", "peer") and r.label.model})
    found = []
    for function in functions:
        run = runs.get(function)
        export = _export_of(function, run, exports)
        peer = peer_records.get(function)
        named = (r.label.source_model for r in (run, export, peer) if r is not None and r.label.source_model)
        source = next(named, function.split(".")[0])
        entries = peer.metric.of(PeerMetrics).peers if peer is not None else {}
        eager = Figure.of(export.metric.of(ExportMetrics).eager_cpu_ms) if export is not None else None
        # else the peers' (a matrix that asked the peers for eager, no export)
        eager = eager or _peer_figure(entries.get("eager"))[0]
        known = peer_registry.names()
        order = [*known, *sorted(set(entries) - set(known))]  # the peers' own order
        peers = tuple(
            (name, *_peer_figure(entries[name]))
            for name in order
            if name != "eager" and isinstance(entries.get(name), Mapping)
        )
        iree = Figure.of(run.metric.of(RunMetrics).cpu_ms) if run is not None else None
        if iree is not None and run is not None and run.metric.of(RunMetrics).budgeted_n:  # the budget's n
            iree = dataclasses.replace(iree, budgeted=True)
        release = run.label.compiler if run is not None else None
        profile = run.label.profile if run is not None else "default"
        found.append(Row(function, source, release, iree, eager, peers, profile))
    return found


def _newest_default_runs(records: Sequence[Record]) -> dict[str, Record]:
    """function -> its native `default` run of the newest release with one thread's CPU time; without
    one, its fastest run of another profile, so every passing function has a speed answer."""
    by_function: dict[str, dict[str, Record]] = {}
    fastest: dict[str, tuple[float, Record]] = {}
    for r in runs_view.measured_runs(records):
        label = r.label
        if label.device or (figure := Figure.of(r.metric.of(RunMetrics).cpu_ms)) is None:
            continue
        if label.profile == "default":
            by_function.setdefault(label.model, {})[label.compiler] = r
        elif label.model not in fastest or figure.median < fastest[label.model][0]:
            fastest[label.model] = (figure.median, r)
    chosen = {f: found[runs_view.sorted_versions(found)[-1]] for f, found in by_function.items()}
    return {**{f: r for f, (_, r) in fastest.items()}, **chosen}


def _export_of(
    function: str, run: Optional[Record], exports: Mapping[tuple[str, str], Record]
) -> Optional[Record]:
    """The export the run's module came from; without a run, the function's only export (several
    exporters and no run: none, rather than a guess)."""
    if run is not None:
        return exports.get((function, run.label.exporter))
    mine = [r for (f, _), r in exports.items() if f == function]
    return mine[0] if len(mine) == 1 else None


CAUSE_CHARS = 120  # of a peer's failure, said on its row with its length past it (`show` has the rest)


def _peer_figure(entry: Any) -> tuple[Optional[Figure], str]:
    """A peer's one-thread CPU figure, or why it has none (its failure's phase and cause, a mismatch)."""
    if not isinstance(entry, Mapping):
        return None, "not timed"
    if (status := entry.get("status")) == "fail":
        error = found if isinstance(found := entry.get("error"), Mapping) else {}
        phase = error.get("phase", "run")
        cause = " ".join(str(error.get(k) or "") for k in ("type", "message")).strip()
        first = excerpts.quoted(" ".join(cause.split()), CAUSE_CHARS).replace("|", "/")  # in a table too
        return None, f"failed ({phase})" + (f": {first}" if first else "")
    if status == "mismatch":
        return None, "outputs differ from torch's"
    if (figure := Figure.of(entry.get("cpu_ms"))) is None:
        why = f": {entry['cpu_ms_error']}" if entry.get("cpu_ms_error") else ""
        return None, "no one-thread figure" + why
    return figure, ""


def _cell(figure: Optional[Figure], why: str = "") -> str:
    return figure.text() if figure is not None else (why or "—")


def advise_commands(
    records: Iterable[Record], found: Sequence[Row], tool: str, where: pasted.Where
) -> list[str]:
    """`iree-matrix advise MODEL` for each model IREE ran, naming a user's model as the command takes
    it and keeping the run's settings (`where`), so every suggested command runs as printed."""
    known = model_names.references(records)
    timed = dict.fromkeys(row.model for row in found if row.iree is not None)
    return [_advise(model, known, tool, where) for model in timed]


def _advise(model: str, known: Mapping[str, str], tool: str, where: pasted.Where) -> str:
    return where.line(f"{tool} advise {model_names.command_argument(model, known)}")


def first_screen(records: Iterable[Record], advised: Sequence[advice.Chosen], tool: str) -> list[str]:
    """The report's first lines: the answer for each model IREE ran here, with its exact flags."""
    models = dict.fromkeys(row.model for row in rows(records) if row.iree is not None)
    return what_to_take.first_screen(advised, list(models), tool)


def render_machine(
    records: Iterable[Record], advised: Sequence[advice.Chosen] = (), tool: str = "iree-matrix"
) -> list[str]:
    """The report's section: what to take for each model run here, then this run's one-thread figures."""
    records = list(records)
    if not (found := [row for row in rows(records) if row.iree is not None or row.peers]):
        return []
    present = {name for row in found for name, _, _ in row.peers}
    peers = [p for p in peer_registry.names() if p in present and p != EAGER]
    headers = ["function", "IREE `default` here (the newest release run)", _name(EAGER), *map(_name, peers)]
    headers += [f"IREE `default` against {_name(p)}" for p in (*peers, EAGER)]
    table = []
    for row in found:
        own = {name: (figure, why) for name, figure, why in row.peers}
        iree = f"{row.iree.text()} ({row.release_text})" if row.iree is not None else row.no_iree
        table.append(
            [
                row.function,
                iree,
                _cell(row.eager),
                *(_cell(*own.get(p, (None, "not timed"))) for p in peers),
                *(compared(row.iree, own.get(p, (None, ""))[0], _name(p)) or "—" for p in peers),
                compared(row.iree, row.eager, _name(EAGER)) or "—",
            ]
        )
    known = model_names.references(records)
    models = list(dict.fromkeys(row.model for row in found))
    arguments = {m: model_names.command_argument(m, known) for m in models}
    answered = [m for m in models if any(r.model == m and r.iree for r in found)]
    disturbed = [f"{row.function} ({', '.join(row.disturbed)})" for row in found if row.disturbed]
    lines = [
        f"## {TITLE}",
        "",
        *what_to_take.lines(advised, answered, tool, arguments),
        f"### {MEASURED}",
        "",
        f"Every figure is {SIGNAL} on this machine: IREE's module on `local-sync` (iree-benchmark-module's "
        f"process CPU time), {peer_registry.one_thread(EAGER)} (the export stage's timing), "
        + "".join(f"{peer_registry.one_thread(p)} (the peer stage's), " for p in peers)
        + "each the median of the matrix's repetitions on the same inputs, every output checked against "
        "torch's. One signal, so a ratio compares like with like; wall times (the matrix's threads) "
        "move 2–5× with the machine's load: they are in the model tables below and in PERFORMANCE.md "
        f"(`{tool} report --performance`), never in a ratio here. IREE is the `default` profile of the "
        "newest release that ran here: how IREE does before any flag is chosen, not the answer above.",
        "",
        github_table(table, headers),
        "",
        f"These figures come from separate sittings (export, run and peer stages at different "
        f"moments): on a loaded machine the same module's {SIGNAL} moved 10–31 % between sittings, so "
        f"a ratio under {formats.ratio(runs_view.NOISE_RATIO, 1)} is not a finding by itself. "
        "To settle one, and to see whether the answer above holds here, time `default`, the "
        "published pick(s) and ONNX Runtime in one paired sitting:",
        "",
        *(f"- `{command}`" for command in advise_commands(records, found, tool, pasted.HERE)),
        "",
    ]
    if disturbed:
        lines[-1:-1] = [
            "",
            f"⚠️ repetitions that spread beyond {runs_view.NOISY_SPREAD:.0%} of their median (something else "
            f"ran in the same moments): {'; '.join(disturbed)}. Run again on a quieter machine, or time them "
            f"again: `{tool} matrix "
            + " ".join(glob for row in found for glob in row.retime)
            + "` (with this run's `--matrix`, `--cache` and `--results-dir`).",
        ]
    return lines


def console_lines(
    records: Iterable[Record],
    report: str = "",
    tool: Optional[str] = None,
    where: Optional[pasted.Where] = pasted.HERE,
    ran: Optional[Collection[str]] = None,
) -> list[str]:
    """The run's last words on speed, the same rows as the report's section. `where` None: suggest no
    command (`advise`'s own run); `ran`: the models this run ran, the only ones its settings fit."""
    from iree_matrix.core import shipped

    records = list(records)
    tool = shipped.command() if tool is None else tool
    if not (found := [row for row in rows(records) if row.iree is not None or row.peers]):
        return []
    lines = [f"\nYour machine, {SIGNAL} (IREE `default`, the newest release that ran):"]
    width = max(len(row.function) for row in found)
    for row in found:
        profile = "" if row.profile == "default" else f" (`{row.profile}`)"
        said = [f"IREE {row.iree.text()}{profile}" if row.iree is not None else f"IREE: {row.no_iree}"]
        said += [f"torch eager {row.eager.text()}"] if row.eager is not None else []
        said += [f"{_name(name)} {_cell(figure, why)}" for name, figure, why in row.peers]
        verdicts = [compared(row.iree, figure, _name(name)) for name, figure, _ in row.peers]
        verdicts = [v for v in verdicts if v] or [compared(row.iree, row.eager, _name(EAGER))]
        tail = f" → {'; '.join(v for v in verdicts if v)}" if any(verdicts) else ""
        lines.append(f"  {row.function:<{width}}  {' · '.join(said)}{tail}")
    mine = [row for row in found if ran is None or row.model in ran]
    commands = advise_commands(records, mine, tool, where) if where is not None else []
    lines.append(
        f"  (separate sittings: a ratio under {formats.ratio(runs_view.NOISE_RATIO, 1)} is not a "
        "finding by itself.)"
        + (" Whether the published pick beats these here, in one paired sitting:" if commands else "")
    )
    lines += [f"    {command}" for command in commands]
    lines += leads_on(records, found, tool, where) if where is not None else []
    if report:
        lines.append(f"  the same figures and how each was taken: {report}, 'Your machine'")
    return lines


def leads_on(
    records: Sequence[Record], found: Sequence[Row], tool: str, where: pasted.Where, name: str = ""
) -> list[str]:
    """For a function (of `name` where given) over gaps.SLOW times its best peer's time, what next: the
    op kinds that hold the gap (or the command that profiles them) and a faster way to export it."""
    known = model_names.references(records)
    out = []
    for row in found:
        timed = [(peer, figure) for peer, figure, _ in row.peers if figure is not None]
        if row.iree is None or not timed or name not in ("", row.function, *recipes.split(row.model)):
            continue
        peer, best = min(timed, key=lambda pair: pair[1].median)
        if row.iree.median <= gaps.SLOW * best.median:
            continue
        gap = _gap(records, row)
        command = _advise(row.model, known, tool, where)
        profiles = f"`{command}` profiles both in context and names the op kinds that hold the gap "
        profiles += "(with `--kernel DIR`, a kernel for them timed too)"
        then = [
            *([] if gap else [profiles]),
            *_faster_recipe(records, found, row, known, tool, where),
            *_gap_recipe(records, row, gap, known, where),
        ]
        out += gaps.leads_on(row.function, row.iree.median / best.median, _name(peer), gap, *then)
    return out


def _gap(records: Sequence[Record], row: Row) -> Optional[gaps.Gap]:
    """The row's gap, where a run of its function and its peers carry in-context op profiles."""
    peer = next((r for r in records if r.stage == "peer" and r.label.model == row.function), None)
    runs = [
        r
        for r in records
        if r.stage == "run" and r.status is Status.OK and r.label.model == row.function
        if (r.metric.of(RunMetrics).op_profile or {}).get("dispatches")
    ]
    if peer is None or peer.status is not Status.OK or not runs:
        return None
    run = min(runs, key=lambda r: (r.label.profile != "default", r.label.compiler != row.release))
    peers = peer.metric.of(PeerMetrics)
    return gaps.measure(
        run.metric.of(RunMetrics).op_profile,
        peers.peers,
        config=run.label.profile,
        release=run.label.compiler,
        threads=peers.threads or 0,
        run_job=run.job,
    )[0]


def _faster_recipe(
    records: Sequence[Record],
    found: Sequence[Row],
    row: Row,
    known: Mapping[str, str],
    tool: str,
    where: pasted.Where,
) -> list[str]:
    """Another export of the row's model faster here beyond noise, as its `advise` command; else the
    recipes its failures' hints rank before its own and not run yet (a recipe run is never offered)."""
    base, current = recipes.split(row.model)
    part = row.function[len(row.model) :]  # the function of a model of several (`.decode`)
    same = [o for o in found if recipes.split(o.model)[0] == base and o.function == o.model + part]
    faster = sorted((o.iree.median, o.iree.text(), o.model) for o in same if o.iree is not None)
    if row.iree is not None and faster and faster[0][0] * runs_view.NOISE_RATIO < row.iree.median:
        _, took, model = faster[0]
        return [f"`{model}` takes {took} here: `{_advise(model, known, tool, where)}` answers for it"]
    ranked = [
        f.hint.recipes[: f.hint.recipes.index(current)]
        for r in records
        if (r.label.source_model or r.label.model) == base and (f := release_choice.hint(r)) is not None
        if current in f.hint.recipes
    ]
    ran = _recipes_run(records, base)
    left = list(dict.fromkeys(recipe for named in ranked for recipe in named if recipe not in ran))
    route = recipes.route(known.get(row.model, row.model), left, where)
    return [f"{' or '.join(left)} first in its failure's hint, not run yet: {route}"] if route else []


def _recipes_run(records: Sequence[Record], base: str) -> set[str]:
    return {recipes.split(r.label.model)[1] for r in records if recipes.split(r.label.model)[0] == base}


def _gap_recipe(
    records: Sequence[Record],
    row: Row,
    gap: Optional[gaps.Gap],
    known: Mapping[str, str],
    where: pasted.Where,
) -> list[str]:
    """The recipe that rewrites the op kind holding the gap, as `run it:`, where not run yet."""
    ran = _recipes_run(records, recipes.split(row.model)[0])
    left = [(recipe, does) for recipe, does in gaps.recipes_for(gap) if recipe not in ran]
    route = recipes.route(known.get(row.model, row.model), [recipe for recipe, _ in left], where)
    return [f"`{left[0][0]}` exports {left[0][1]}: {route}"] if route else []
