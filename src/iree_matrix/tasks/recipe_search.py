"""The export-recipe search (`iree-matrix search-recipes`): per model, the default export beside each
applicable export choice alone (batch 1), then the choices that changed an outcome together (batch 2), each
candidate run by the pipeline's own stages as the model `MODEL~RECIPE`. Its table (pass, or the first stage
that failed) is printed and kept in `recipes.json`; the records are ordinary results."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple, TextIO

from iree_matrix.core import atomic_files, console, pasted
from iree_matrix.core.errors import UserError
from iree_matrix.core.model.results import Record, Status
from iree_matrix.execution.workflow import EXIT_INTERRUPTED, PlanSettings, load_plan, where
from iree_matrix.iree import compile_errors
from iree_matrix.matrix import export_recipes as recipes
from iree_matrix.matrix import models, spec, tried
from iree_matrix.tasks.runs import listed, run_plan

logger = console.logger(__name__)

RESULT = "recipes.json"
STAGES = ("export", "compile", "run")
CHEAPER = "--model REF (fewer models), --recipes LIST (fewer recipes), --recipe-batches 1, --select GLOB"


class Way(NamedTuple):
    """A table's row: exported by `recipe` ("" the default), compiled with a hint's `profile` (or "")."""

    recipe: str = ""
    profile: str = ""

    def text(self, default: str = "") -> str:  # `RECIPE|PROFILE`: recipes.json's name, the table's order
        return (self.recipe or default) + f"|{self.profile}" * bool(self.profile)

    def words(self, named: str = "") -> str:  # as the table prints it; `named` goes before a recipe
        said = f"{named}{self.recipe}" if self.recipe else "(default export)"
        return said + f" with profile {self.profile}" * bool(self.profile)


AS_EXPORTED = Way()  # the default export, compiled as the matrix says
Table = dict[str, dict[Way, dict[tuple[str, str], str]]]  # model -> way -> (function, release) -> outcome


def run(plan: PlanSettings, given: Sequence[str], batches: int, out: TextIO) -> int:
    """The search over `given` recipes (none: the search's own batches, `batches` of them), its table
    printed on `out` and kept in RESULT; the exit code."""
    for recipe in given:
        try:
            recipes.parse(recipe)
        except ValueError as exc:
            raise UserError(f"--recipes: {exc}") from None
    tried: dict[str, list[str]] = {}  # model -> the recipes of the batches so far

    def with_recipes(matrix: spec.MatrixSpec) -> spec.MatrixSpec:
        cells, refs = list(matrix.cells), dict(matrix.models)
        for cell in matrix.cells:
            base, recipe = recipes.split(cell.model)
            if recipe:
                continue
            batch = list(given) or recipes.batch_one(refs[base].file, refs[base].factory)
            names = tried.setdefault(base, batch)
            for name in names:  # a user's model too: its own code, exported another way
                refs.setdefault(f"{base}{recipes.SEP}{name}", models.with_recipe(refs[base], name))
                cells.append(dataclasses.replace(cell, model=f"{base}{recipes.SEP}{name}"))
        return dataclasses.replace(matrix, cells=tuple(dict.fromkeys(cells)), models=refs)

    loaded = load_plan(plan, adjust=with_recipes)
    if plan.listing:
        return listed(loaded, out, f"{loaded.path}: batch 1, {len(loaded.matrix.cells)} cells")
    options = dataclasses.replace(plan.run, cheaper=CHEAPER)
    for model, names in sorted(tried.items()):
        logger.info(f"== recipe search, batch 1: {model}: the default export and {', '.join(names)}")
    code, summary = run_plan(loaded, options, plan.cache, out=out)
    if code == EXIT_INTERRUPTED:
        return code
    table = outcomes(summary.records.values())
    if batches == 2 and not given and _batch_two(tried, table):
        loaded = load_plan(plan, adjust=with_recipes)
        code2, summary = run_plan(loaded, options, plan.cache, out=out)
        if code2 == EXIT_INTERRUPTED:
            return code2
        code, table = code or code2, outcomes(summary.records.values())
    if routes := profile_routes(summary.records.values(), table):
        logger.info("== recipe search, next: " + ", ".join(f"{m} with {p}" for m, p in routes.items()))
        with_routes = lambda m: spec.with_cells(r := with_recipes(m), _route_cells(r, routes))  # noqa: E731
        code3, summary = run_plan(load_plan(plan, adjust=with_routes), options, plan.cache, out=out)
        if code3 == EXIT_INTERRUPTED:
            return code3
        code, table = code or code3, outcomes(summary.records.values(), set(routes.values()))
    references = {name: ref.reference for name, ref in loaded.matrix.models.items()}
    print("\n".join(render(table, references, where(loaded.path, plan.results_dir, plan.cache))), file=out)
    write(plan.results_dir / RESULT, table)
    return code


def _batch_two(tried: dict[str, list[str]], table: Table) -> bool:
    """Add batch 2's recipes to `tried` (the choices that changed an outcome, together): whether
    there are any."""
    more: dict[str, list[str]] = {}
    for m in tried:  # batch 1's table: recipes (no profile's route yet) and the default export
        ways = table.get(m, {})
        new = recipes.batch_two({w.recipe: t for w, t in ways.items() if w.recipe}, ways.get(AS_EXPORTED, {}))
        more[m] = [r for r in new if r not in tried[m]]
    if not any(more.values()):
        return False
    for model, names in sorted(more.items()):
        if names:
            changed = "the choices that changed an outcome, together"
            logger.info(f"== recipe search, batch 2: {model}: {', '.join(names)} ({changed})")
        tried[model] = [*tried[model], *names]
    return True


def profile_routes(records: Iterable[Record], table: Table) -> dict[str, str]:
    """Where no way passes: per model, one export (the default first) whose compile's hint names a profile."""
    routes: dict[str, tuple[str, str]] = {}  # model -> (its export, the profile)
    hinted = [(r.label.planned_model, p) for r in records if (p := tried.next_profile(r))]
    for planned, profile in sorted(hinted, key=lambda hint: recipes.split(hint[0])[::-1]):
        if not passes(table.get(model := recipes.split(planned)[0], {})):  # no way passes (as exported too)
            routes.setdefault(model, (planned, profile))
    return dict(routes.values())


def _route_cells(matrix: spec.MatrixSpec, routes: Mapping[str, str]) -> list[spec.Cell]:
    return [dataclasses.replace(c, profile=routes[c.model]) for c in matrix.cells if c.model in routes]


def outcomes(records: Iterable[Record], routes: Collection[str] = ()) -> Table:
    """Each model's, recipe's, function's and release's outcome (`recipes.outcome`) from the default
    profile's (and the hints' `routes`', as their `Way`) export, compile and run records (a cross
    cell's runtime aside: each release's own)."""
    found: dict[tuple[str, Way, str, str], dict[str, tuple[str, str, str]]] = {}
    for record in records:
        label = record.label
        profile = "" if label.profile in ("", "default") else label.profile
        if record.stage not in STAGES or (record.stage != "export" and profile and profile not in routes):
            continue
        if label.device or label.form:
            continue
        base, recipe = recipes.split(label.source_model)
        way = Way(recipe, profile if record.stage != "export" else "")
        function = label.function or models.MAIN
        if record.stage == "export":
            for key in [k for k in found if k[:3] == (base, way, function)]:
                found[key].setdefault("export", _entry(record))
            found.setdefault((base, way, function, "*"), {})["export"] = _entry(record)
            continue
        if label.runtime and not label.own_runtime:
            continue
        found.setdefault((base, way, function, label.compiler), {})[record.stage] = _entry(record)
    exports = {k[:3]: v["export"] for k, v in found.items() if k[3] == "*"}
    table: Table = {}
    for (base, way, function, release), stages_ in found.items():
        if release == "*":
            continue
        if "export" not in stages_ and (exported := (base, Way(way.recipe), function)) in exports:
            stages_["export"] = exports[exported]
        ordered = [stages_[s] for s in STAGES if s in stages_]
        table.setdefault(base, {}).setdefault(way, {})[(function, release)] = recipes.outcome(ordered)
    return table


def _entry(record: Record) -> tuple[str, str, str]:
    said = record.message or ""
    if record.stage == "compile" and record.status is not Status.OK:
        # a crash's message starts with a backtrace frame (`#16 0x00007f…`): say it crashed instead,
        # and on lowering which torch op, as the run's summary and `query` do
        first = compile_errors.of_record(record.metrics, record.message)
        if first is not None and first.message.startswith(compile_errors.CRASHED):
            said = first.text()
    return record.stage, record.status.value, said


def render(
    table: Table,
    references: Mapping[str, str] = {},
    here: pasted.Where = pasted.HERE,  # noqa: B006 - read only
) -> list[str]:
    """The outcome table: per model, a row per way and function, a column per release; under a
    way that passes, the commands that run it (`references`: a model's name -> what a command
    line takes for it, FILE:FACTORY for a user's model) with the search's settings (`here`)."""
    lines: list[str] = []
    for model, by_way in sorted(table.items()):
        releases = sorted({r for t in by_way.values() for _, r in t}, key=_release_key, reverse=True)
        lines += ["", f"== {model}: export recipes × releases (pass, or the stage that failed)"]
        for way, cells in sorted(by_way.items(), key=lambda kv: kv[0].text()):
            for function in sorted({f for f, _ in cells}):
                row = [cells.get((function, r), "—") for r in releases]
                lines.append(f"  {way.words()} · {function}")
                lines += [f"      {r}: {o}" for r, o in zip(releases, row)]
        if passing := {w: on for w, on in passes(by_way).items() if w != AS_EXPORTED}:  # no recipe to offer
            for way, where in passing.items():
                recipe, profile = way
                with_profile = f"; compiled with the built-in profile {profile}, the flag its hint names"
                how = (recipes.describe(recipe) if recipe else "as exported") + with_profile * bool(profile)
                lines.append(f"  passes via {way.words('recipe ')} on {', '.join(where)}: {how}")
                ref = references.get(model, model)
                exported = f"{ref}{recipes.SEP}{recipe}" if recipe else ref
                tuned = (recipes.tuned(exported, profile, here),)
                said = tuned if profile else recipes.commands(ref, recipe, here)
                lines.append("    run it: " + " or ".join(f"`{c}`" for c in said))
        else:
            lines.append("  no recipe tried passes on any release")
    return lines


def passes(by_way: Mapping[Way, Mapping[tuple[str, str], str]]) -> dict[Way, list[str]]:
    """The ways whose every function passes, with the releases (newest first) they pass on."""
    found = {}
    for way, cells in by_way.items():
        functions = {f for f, _ in cells}
        releases = {r for _, r in cells}
        if ok := [r for r in releases if all(cells.get((f, r)) == recipes.PASS for f in functions)]:
            found[way] = sorted(ok, key=_release_key, reverse=True)
    return found


def _release_key(release: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in release.split("."))
    except ValueError:
        return (0,)


def write(path: Path, table: Table) -> None:
    data = {  # unsorted: sort_keys orders every level
        m: {w.text("default"): {f"{f}@{r}": o for (f, r), o in cells.items()} for w, cells in ways.items()}
        for m, ways in table.items()
    }
    atomic_files.write_atomically(path, json.dumps(data, indent=1, sort_keys=True) + "\n")
