"""What a results folder shows of the ways past a failure its hint names (recipes, a profile): a way
is said to pass only where a record of the same model on that release shows it; one tried is said
once as tried; one untried is offered by the command that tries it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Optional

from iree_matrix.core import pasted
from iree_matrix.core.excerpts import clip, without_paths
from iree_matrix.core.model import refusals
from iree_matrix.core.model.configuration import Config
from iree_matrix.core.model.results import Record, Status, latest_by_job
from iree_matrix.iree import hints
from iree_matrix.matrix import export_recipes

_STAGES = ("export", "compile", "run")
_AT = re.compile(r"^\S+:\d+:\d+: (?:error: )?")  # `model.mlir:33:13: `: each export has its own lines
UNTRIED = "measured on other models; untried on this one, on this release"


def outcome(records: Sequence[Record], model: str, profile: str, release: str) -> Optional[Record]:
    """The record that says how `model` (as records name it, with its recipe) compiled by `profile` did
    on `release` (any, for ""): its first failed stage, else a run that matched torch; None: not tried."""
    cells = {("", ""), ("", profile), (release, profile)} if release else None
    mine = [r for r in records if r.label.planned_model == model and r.stage in _STAGES]
    mine = [r for r in mine if not refusals.is_answer(r) and _cell(r) in (cells or {_cell(r)})]
    failed = [r for r in mine if r.status in (Status.FAIL, Status.TIMEOUT, Status.MISMATCH)]
    passed = (r for r in mine if r.stage == "run" and r.status is Status.OK)
    return min(failed, key=lambda r: _STAGES.index(r.stage)) if failed else next(passed, None)


def next_profile(record: Record) -> str:
    """The built-in profile a hint names for `default`'s failed compile (`stack-1m`), else ""."""
    if record.stage != "compile" or record.status is not Status.FAIL or record.label.config != Config():
        return ""
    found = hints.of_record(record)  # a compile's (the stage is checked above)
    return found.profile if found else ""


def _cell(record: Record) -> tuple[str, str]:
    return record.label.compiler, record.label.profile


def _said(record: Record) -> tuple[str, str]:
    """A failure's kind (its stage and the hint its words match, else its telling line), and that
    line without its place in the export."""
    words = hints.words(record.metrics, record.message)
    line = _AT.sub("", without_paths(hints.telling_line(words, record.stage)))
    found = hints.of_record(record)
    return record.stage + (found.name if found is not None else line), line


def _tried(way: str, release: str, decided: Record, failed: Record) -> str:
    on = f" on {release}" if release else ""
    if decided.status is Status.OK:
        return f"tried: {way} passes{on} here ({decided.job})"
    how = "fails the same way" if _said(decided)[0] == _said(failed)[0] else "gets past this and fails"
    return f"tried: {way}{on} {how} ({decided.stage}: {clip(_said(decided)[1], 160)})"


def advice(found: hints.Found, failed: Record, records: Sequence[Record]) -> str:
    """`found`'s advice for `failed`, each claim of what compiles said untried where no compile of this
    model passed here on its release (any, for an export)."""
    release, base = failed.label.compiler, export_recipes.split(failed.label.planned_model)[0]
    passed = [r for r in latest_by_job(records).values() if r.stage == "compile" and r.status is Status.OK]
    mine = [r for r in passed if export_recipes.split(r.label.planned_model)[0] == base]
    if any(r.label.compiler == (release or r.label.compiler) for r in mine):
        return found.advice
    said = found.advice
    for claim in found.hint.claims:
        said = said.replace(claim, f"{claim} ({UNTRIED})")
    return said


def lines(
    found: hints.Found,
    failed: Record,
    records: Sequence[Record],
    reference: Optional[str],
    where: pasted.Where = pasted.HERE,
) -> list[str]:
    """The lines under `failed`'s hint: each way it names tried here on the failing release, with how
    it went; then the commands that try the others (`run it:`)."""
    model, release, config = failed.label.planned_model, failed.label.compiler, failed.label.config
    base, current = export_recipes.split(model)
    named = found.hint.recipes if reference else ()  # a built-in's recipes: its hint's words alone
    ways = [(f"{base}{export_recipes.SEP}{r}", failed.label.profile, r) for r in named]
    if found.profile and found.profile not in config.names and failed.stage == "compile":
        ways.append((model, Config(knobs=(*config.without_kernel().names, found.profile)).profile, ""))
    known, said, untried, commands = [*latest_by_job(records).values()], [], [], []
    for name, profile, recipe in (w for w in ways if w[2] != current):
        if (decided := outcome(known, name, profile, release)) is not None:
            way = f"`{name}`" + ("" if recipe else f" with profile {profile}")
            said.append(_tried(way, release, decided, failed))
        elif recipe:
            untried.append(recipe)
        else:
            commands.append(f"run it: `{export_recipes.tuned(reference or model, profile, where)}`")
    route = export_recipes.route(reference, untried, where) if reference else ""
    return [*said, *([route] if route else []), *commands]
