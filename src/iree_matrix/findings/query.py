"""`iree-matrix query`: one question answered from stored results, with the cells it rests on. An
answer the records do not contain is "not measured", never interpolated from neighbouring releases."""

from __future__ import annotations

import dataclasses
import functools
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Optional

from packaging.version import Version

from iree_matrix.core import excerpts, formats
from iree_matrix.core.errors import UserError
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.results import Record, Status
from iree_matrix.findings import (
    advice,
    behaviour,
    bundles,
    compat,
    load_windows,
    release_choice,
    runs_view,
    wording,
)
from iree_matrix.iree import miscompiled, targets, versions
from iree_matrix.matrix import export_recipes as recipes
from iree_matrix.matrix import models, tried

NOT_MEASURED = "not measured"
ELSEWHERE = "measured elsewhere"  # only a bundle's runs or advise's sittings measured it
UNKNOWN = load_windows.Load.UNKNOWN.value  # measured, but no cell got as far as the question
NOTE = "note:"  # a line on the model itself (findings/behaviour.py), kept in every form of the answer


@dataclasses.dataclass(frozen=True)
class Answer:
    question: str
    answer: str  # "loads" | "refuses" | "unknown" | "passes" | ... | NOT_MEASURED
    lines: tuple[str, ...]  # what a person reads
    evidence: tuple[str, ...] = ()  # job ids
    data: Optional[dict[str, Any]] = None  # extra machine-readable facts

    @classmethod
    def unmeasured(cls, question: str, why: str) -> Answer:
        """The results hold nothing to answer with: one line, "not measured: <why>"."""
        return cls(question, NOT_MEASURED, (f"{NOT_MEASURED}: {why}",))

    @property
    def measured(self) -> bool:
        return self.answer != NOT_MEASURED

    @property
    def decided(self) -> bool:
        """An answer a script may act on: not "not measured", not "unknown" (exit 1 otherwise)."""
        return self.answer not in (NOT_MEASURED, UNKNOWN)

    def text(self) -> str:
        more = [f"… {len(self.evidence) - 4} more"] if len(self.evidence) > 4 else []
        return "\n".join([*self.lines, *(f"  evidence: {job}" for job in [*self.evidence[:4], *more])])

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in compat.plain(self).items() if k != "data" or v is not None}


def matching_version(wanted: str, present: Iterable[str]) -> Optional[str]:
    """The present version equal to `wanted` ("3.9" is "3.9.0"), or None."""
    present = list(present)
    if wanted in present or not versions.is_valid(wanted):
        return wanted if wanted in present else None
    return next((v for v in present if versions.is_valid(v) and Version(v) == Version(wanted)), None)


def version_listing(given: Iterable[str], limit: int = 20) -> str:
    values = runs_view.sorted_versions(given)
    if len(values) > limit:
        return ", ".join(values[:3]) + f" … {', '.join(values[-3:])} ({len(values)} in all)"
    return ", ".join(values) or "none"


def grouped(head: str, pairs: Iterable[tuple[Any, str]]) -> list[str]:
    """ "<head><releases>: <why>", one line per reason of (reason, release) `pairs`, as first met."""
    return [f"{head}{version_listing(v)}: {why}" for why, v in runs_view.grouped_by(pairs).items()]


def load(records: Iterable[Record], compiler: str, runtime: str) -> Answer:
    """Can runtime `runtime` load a module built by compiler `compiler`? A value that is not a
    version is the asker's mistake (a UserError, exit 2), not a pair that was never measured."""
    for option, value in (("--compiler", compiler), ("--runtime", runtime)):
        if not versions.is_valid(value):
            raise UserError(f'query load {option} {value!r}: not a version (PEP 440), e.g. "3.9.0"')
    records = list(records)
    runs = runs_view.Runs.of(records, arch=runs_view.main_arch(records))
    found = load_windows.pairs(runs)
    question = f"can runtime {runtime} load a module from compiler {compiler}?"
    compilers = {c for c, _ in found}
    runtimes = {rt for _, rt in found}
    c, rt = matching_version(compiler, compilers), matching_version(runtime, runtimes)
    if c is None or rt is None or (c, rt) not in found:
        why, listed = [], functools.partial(version_listing, limit=8)
        if c is None:
            why.append(f"no module from compiler {compiler} was run (compilers run: {listed(compilers)})")
        if rt is None:
            why.append(f"runtime {runtime} ran no module (runtimes run: {listed(runtimes)})")
        if c is not None and rt is not None:
            tried = [r for (cc, r) in found if cc == c]
            why.append(f"compiler {c}'s modules were run by runtimes {listed(tried)}, not by {rt}")
        return Answer.unmeasured(question, "; ".join(why))
    pair = found[(c, rt)]
    lines = []
    if pair.load is load_windows.Load.LOADS:
        cells = f"{len(pair.evidence)} cell{'s' if len(pair.evidence) != 1 else ''}"
        lines.append(f"loads: runtime {rt} loads modules from compiler {c} ({cells})")
    elif pair.load is load_windows.Load.REFUSES:
        lines.append(
            f"refuses: runtime {rt} refuses modules from compiler {c}: {excerpts.without_paths(pair.reason)}"
        )
        ran = [r for r in map(runs.by_job.get, pair.evidence) if r is not None]
        if (advice := next(filter(None, map(release_choice.hint, ran)), None)) is not None:
            lines.append(f"  what to do: {advice.advice}")
    else:
        first = runs.by_job.get(pair.evidence[0])
        state = first.status.value.replace("_", " ") if first is not None else "no record"
        if first is not None and first.stage != "run":  # no cell ran: what stopped them
            state = f"{first.stage} {state}: {runs_view.why(first).split(': ', 1)[-1]}"
        elif first is not None and first.message:
            shown = excerpts.without_paths(runs_view.first_line(first.message))
            state += f": {runs_view.clip(shown, runs_view.MAX_REASON_CHARS)}"
        lines.append(f"unknown: no cell with compiler {c} on runtime {rt} got as far as loading ({state})")
    if pair.disagreement:
        lines.append("note: some functions' modules load and others are refused (see the evidence)")
    return Answer(question, pair.load.value, tuple(lines), pair.evidence)


def target_arch(records: Sequence[Record], asked: Optional[str]) -> str:
    """The run target a question is about: the one asked (an arch, its unique prefix, or a board: pi4),
    else the one most runs are for; one the records do not hold is a one-line error naming theirs."""
    if asked is None:
        return runs_view.main_arch(records)
    present = sorted({r.label.arch for r in records if r.stage == "run"} - {""})
    # what people call a board (`pi4`) -> its target's label (`aarch64-cortex-a72`)
    aliases = {alias: target.label for target, board in targets.boards() for alias in board.aliases}
    wanted = aliases.get(asked.lower(), asked)
    matches = [a for a in present if a == wanted] or [a for a in present if a.startswith(wanted)]
    if len(matches) == 1:
        return matches[0]
    boards = ", ".join(f"{board} ({arch})" for board, arch in aliases.items())
    said = "matches several targets" if matches else "is not a target of these results"
    raise UserError(
        f"--arch {asked}: {said}; the results hold {', '.join(present) or 'no run'} (boards: {boards})"
    )


def _stopped_before_a_run(records: Sequence[Record], name: str, target: str) -> Optional[Answer]:
    """A model the results hold but none of whose cells reached a run on `target` (its only compile failed):
    which stage stopped each compiler, not "no model". None when they hold no record of it."""
    own = [
        r for r in records if r.label.model == name and (r.label.arch in ("", target) or r.stage == "export")
    ]
    if not own:
        return None
    failed: dict[str, Record] = {}
    for r in own:
        if r.status not in (Status.OK, Status.SKIP, Status.NOT_RUN):
            failed.setdefault(r.label.compiler or "", r)
    lines = [f"{name}: in the results, but no cell of it reached a run on {target}"]
    references = models.references(records)
    for compiler in ([""] if "" in failed else []) + runs_view.sorted_versions([c for c in failed if c]):
        r = failed[compiler]
        said = excerpts.clip(excerpts.first_line(r.message), 160) if r.message else ""
        release = f"{compiler}: " if compiler else ""
        why = f"{r.stage} ({r.error_class or r.status.value})" + (f": {said}" if said else "")
        lines.append(f"  fails:  {release}{why}")
        hint = release_choice.hint(r)
        lines += _what_to_do(name, references, records, [r], (hint.advice,) if hint else (), bisect=False)
    return Answer("", "fails" if failed else UNKNOWN, tuple(lines), tuple(r.job for r in failed.values()))


def emulation(records: Iterable[Record], target: str) -> str:
    """How the target's runs ran, as their records' `timing` says: " (emulated under qemu-user,
    arm1176)", " (emulated: software Vulkan device: …)"; "" when native."""
    runs = [r for r in records if r.stage == "run" and r.label.arch == target]
    said = Counter(r.metric.of(RunMetrics).timing or "" for r in runs if r.metric.of(RunMetrics).emulated)
    if not said:
        return ""
    inners = []
    for timing, _ in said.most_common():  # most runs' first; a GPU's runs may use two devices
        timing = timing.removeprefix("emulated").strip()
        inners.append(timing[1:].split("): ", 1)[0].removesuffix(")") if timing.startswith("(") else timing)
    inner = " or ".join(dict.fromkeys(inners))
    return f" (emulated under {inner})" if inner.startswith("qemu") else f" (emulated: {inner})"


def model(records: Iterable[Record], name: str, arch: Optional[str] = None) -> Answer:
    """Which compiler releases pass for a model (or one of its functions), the newest, the fastest,
    on one run target (`arch`: see `target_arch`)."""
    records = list(records)
    target = target_arch(records, arch)
    runs = runs_view.Runs.of(records, arch=target)
    recs = release_choice.recommendations(runs)
    question = f"which IREE releases work for {name}" + ("?" if arch is None else f" on {target}?")
    rec = next((r for r in recs if r.model == name), None) or next(
        (r for r in recs if name in r.functions), None
    )
    elsewhere = bundles.lines(records, name)
    if rec is None and elsewhere:  # only a bundle's runs: those are the answer
        jobs = tuple(r.job for r in records if bundles.is_from_bundle(r) and r.label.model == name)
        return Answer(question, ELSEWHERE, (f"{name}:", *elsewhere), jobs)
    if rec is None:
        if (stopped := _stopped_before_a_run(records, name, target)) is not None:
            return dataclasses.replace(stopped, question=question)
        measured = ", ".join(sorted(r.model for r in recs)) or "none"
        return Answer.unmeasured(question, f"no model {name!r} in the results (models: {measured})")
    # A compiler that cannot read the exporter's MLIR may have been fed it lowered to linalg by an
    # older-compatible release (matrix/history.toml): a pass there counts, the exporter named.
    releases = release_choice.with_lowered(
        runs, rec.functions, runs.main_exporter(rec.functions), rec.releases
    )
    passing = [r for r in releases if r.passes]
    # A release none of whose stages failed but that did not pass was never run to a verdict:
    # no evidence either way, listed apart from the failures.
    failing = [r for r in releases if not r.passes and not r.not_run]
    unrun = [r for r in releases if not r.passes and r.not_run]
    functions = "" if rec.functions == (rec.model,) else f" ({', '.join(rec.functions)})"
    on = "" if target == "x86_64" else f" on {target}{emulation(records, target)}"
    if passing or failing:
        lines = [
            f"{rec.model}{functions}{on}: passes on {len(passing)} of {len(passing) + len(failing)} "
            "compiler releases run (each module run by its own release's runtime, or the target's "
            "source-built one; outputs checked against torch)",
            f"  passes: {version_listing([r.compiler for r in passing])}",
        ]
    else:  # "passes on 0 of 0" would read as a failure: nothing was run to a verdict on this machine
        where = "here; a bundle ran it elsewhere (below)" if elsewhere else "yet"
        lines = [f"{rec.model}{functions}{on}: no compiler release was run to a verdict {where}"]
    lines += _release_lines(rec.model, records, passing, failing, unrun)
    said, evidence = _newest_and_fastest(rec, passing, failing)
    lines += said
    via_recipe = recipe_passes(recs, rec.model)
    known = models.references(records) if via_recipe else {}
    for recipe, names in via_recipe.items():
        ran = known.get(f"{rec.model}{recipes.SEP}{recipe}")  # a user's model: FILE:FACTORY~RECIPE
        reference = known.get(rec.model) or (models.split_recipe(ran)[0] if ran else rec.model)
        run = recipes.commands(reference, recipe)[0]
        lines.append(
            f"  passes via recipe {recipe} on {version_listing(names)} "
            f"(export it as `{rec.model}{recipes.SEP}{recipe}`, `{run}`: {recipes.describe(recipe)})"
        )
    itself = behaviour.line(records, rec.functions)
    if itself is not None:  # what the model itself does: its answer, never IREE's
        lines.append(f"  {NOTE} {itself}")
    lines += elsewhere
    answer = "passes" if passing else "fails" if failing else ELSEWHERE if elsewhere else UNKNOWN
    data = {
        "passing": [r.compiler for r in passing],
        "failing": [r.compiler for r in failing],
        "not_run": [r.compiler for r in unrun],
        "via": {r.compiler: r.via for r in passing if r.via},
        **({"recipes": via_recipe} if via_recipe else {}),
    }
    return Answer(question, answer, tuple(lines), tuple(evidence), data)


def _release_lines(
    model: str,
    records: Sequence[Record],
    passing: Sequence[release_choice.ReleaseResult],
    failing: Sequence[release_choice.ReleaseResult],
    unrun: Sequence[release_choice.ReleaseResult],
) -> list[str]:
    """`model`'s passes through a lowering, its failures (one line per reason, uncut, with what to do)
    and the releases not run to a verdict."""
    lines = []
    for via, releases_via in runs_view.grouped_by((r.via, r.compiler) for r in passing if r.via).items():
        listed = version_listing(releases_via)
        lines.append(f"    via {via} (the exporter's own MLIR does not pass there): {listed}")
    references = models.references(records)
    failures = runs_view.grouped_by(
        (("; ".join(r.why) or "did not pass", r.hints), r.compiler) for r in failing
    )
    for (why, todo), names in failures.items():  # one line per reason, uncut, in release order
        lines.append(f"  fails:  {version_listing(names)}: {why}")
        jobs = {job for r in failing if r.compiler in names for job in r.failed}
        lines += _what_to_do(model, references, records, [r for r in records if r.job in jobs], todo)
    return lines + grouped("  not run: ", (("; ".join(r.why) or "not run", r.compiler) for r in unrun))


def _newest_and_fastest(
    rec: release_choice.Recommendation,
    passing: Sequence[release_choice.ReleaseResult],
    failing: Sequence[release_choice.ReleaseResult],
) -> tuple[list[str], list[str]]:
    """The newest passing release and the fastest, in the words COMPATIBILITY.md and the site print
    (findings/wording.py), of the same data; and the jobs that show them (a failing release's too)."""
    if not passing:
        return ["  no release passes"] if failing else [], [job for r in rec.releases for job in r.failed[:1]]
    newest = passing[-1]
    if newest is not rec.newest_passing:  # newest only through a lowering: no speed compared
        rec = dataclasses.replace(rec, fastest=None, fastest_ratio=None)
    said = wording.fastest({**compat.recommendation(rec), "newest_passing": compat.release(newest)})
    decides = (
        f"; `iree-matrix compare A {newest.compiler}` decides it here" if said == wording.NOT_DECIDED else ""
    )
    lines = [f"  newest passing: {newest.compiler}{_latency(newest)}", f"  fastest: {said}{decides}"]
    evidence = [*newest.evidence, *(rec.fastest.evidence if rec.fastest is not None else ())]
    return lines, evidence + [r.failed[0] for r in failing if r.failed]  # where each failing release failed


def _what_to_do(
    model: str,
    references: Mapping[str, str],
    records: Sequence[Record],
    failed: Sequence[Record],
    todo: Sequence[str],
    bisect: bool = True,
) -> list[str]:
    """What to do about the `failed` stages, as a run's summary says it: each hint of `todo` (with what
    the results show of the way it names), else the recipe search where another export could get past
    them, else (`bisect`) the bisection of the first mismatching run no hint explains; then the
    commands that try the ways their hints name not tried yet (matrix/tried.py)."""
    advice = {f.advice: (f, r) for r in failed if (f := release_choice.hint(r)) is not None}
    todo = tuple(tried.advice(*advice[a], records) if a in advice else a for a in todo)
    offer = models.search_offer(model, references, failed)
    mismatched = sorted(r.job for r in failed if bisect and r.stage == "run" and r.status is Status.MISMATCH)
    said = todo or ((offer,) if offer else ()) or tuple(map(miscompiled.bisect_offer, mismatched[:1]))
    jobs = {r.job for r in failed}  # every record of those jobs: the ways their hints name
    found = [(f, r) for r in records if r.job in jobs and (f := release_choice.hint(r)) is not None]
    routes = dict.fromkeys(
        line for f, r in found for line in tried.lines(f, r, records, references.get(model))
    )
    return [f"          what to do: {a}" for a in said] + [f"          {r}" for r in routes]


def recipe_passes(recs: Iterable[release_choice.Recommendation], model: str) -> dict[str, list[str]]:
    """The export recipes (`model~recipe`, found by `iree-matrix search-recipes`) whose every
    function passes, with the compiler releases they pass on, most releases first."""
    found = {}
    for rec in recs:
        base, recipe = recipes.split(rec.model)
        passing = [r.compiler for r in rec.releases if r.passes]
        if base == model and recipe and passing:
            found[recipe] = passing
    return dict(sorted(found.items(), key=lambda kv: -len(kv[1])))


def with_advice(
    answer: Answer,
    chosen: Optional[advice.Chosen],
    name: str,
    references: Mapping[str, str] = {},  # noqa: B006 - read only
) -> Answer:
    """The model's answer led by its Advice (release, flags, peer ratio, CPU identity), its releases'
    summary shortened to one line plus its failures' what-to-do; without Advice, unchanged. Commands
    name a user's model as `references` says."""
    wanted = advice.matching(chosen.advice if chosen else (), name)
    if answer.answer == NOT_MEASURED:
        if not wanted:
            return answer
        # only advise's sittings answered it (a recipe's export, which the matrix runs do not hold)
        answer = dataclasses.replace(answer, answer=ELSEWHERE, lines=())
    model = (wanted[0].model if wanted else "") or name.split(".", 1)[0]
    argument = models.command_argument(model, references)
    if chosen is None or not wanted:
        if answer.answer != "passes":  # no release passes: there is nothing to time
            return answer
        said = (
            f"  the answer (release, flags, peer ratio) for {name} is not published: "
            f"`{advice.COMMAND} {argument}` measures it here"
        )
        return dataclasses.replace(answer, lines=(*answer.lines, said))
    shown = dataclasses.replace(chosen, advice=tuple(wanted))
    summary = answer.lines[0].split(":", 1)[-1].split("(", 1)[0].strip() if answer.lines else ""
    lines = advice.lines(shown, wanted[0].model, fleet=False, argument=argument)
    if summary:  # none where only a bundle's runs measured it ("releases: ; …" said nothing)
        lines.append(f"  releases: {summary}; `--releases` lists them")
    lines += [line for line in answer.lines if line.lstrip().startswith(("fails:", "what to do:", NOTE))]
    # Runs a bundle made on other machines stay in view: `bundles.lines`'s tail (`model` puts it last).
    tail = [i for i, text in enumerate(answer.lines) if text.startswith(bundles.HEAD)]
    lines += answer.lines[tail[0] :] if tail else ()
    data = {**(answer.data or {}), "advice": [advice.as_json(a) for a in wanted], "advice_here": chosen.here}
    return dataclasses.replace(answer, lines=tuple(lines), evidence=(), data=data)


def _latency(r: release_choice.ReleaseResult) -> str:
    """A release's latency per call; a model of several functions says each one's (a prefill and
    a decode step are two figures, not one sum)."""
    if r.latency_ms is None:
        return ""
    cpu = f"; {formats.duration_ms(r.cpu_ms)} one thread's CPU" if r.cpu_ms else ""
    noisy = ", noisy" if r.noisy else ""
    parts = [
        f"{t.function.split('.', 1)[-1]} {'~' if t.noisy else ''}{formats.duration_ms(t.ms)}"
        for t in r.timings
    ]
    apart = f" = {' + '.join(parts)}" if len(parts) > 1 else ""
    return f" ({'~' if r.noisy else ''}{formats.duration_ms(r.latency_ms)}{apart}{noisy}{cpu})"


def export(records: Iterable[Record], torch: str, turbine: str, python: Optional[str] = None) -> Answer:
    """For my (Python, torch, turbine): which compilers take my MLIR, as text and as bytecode?"""
    from iree_matrix.findings import exporters

    found = exporters.exporter_outcomes(records)
    who = f"torch {torch} + iree-turbine {turbine}" + (f" on Python {python}" if python else "")
    question = f"which IREE compilers take the MLIR exported with {who}?"
    t = matching_version(torch, {a.torch for a in found})
    tb = matching_version(turbine, {a.turbine for a in found})
    py = matching_version(python, {a.python for a in found}) if python else None
    chosen = [a for a in found if a.torch == t and a.turbine == tb and (python is None or a.python == py)]
    if not chosen:
        envs = sorted({f"py{a.python} torch {a.torch} turbine {a.turbine}" for a in found})
        measured = "; ".join(envs) or "none"
        return Answer.unmeasured(
            question, f"no exporter environment with {who} in the results (measured: {measured})"
        )
    lines: list[str] = []
    evidence: list[str] = []
    data: dict[str, Any] = {}
    for a in chosen:
        head = f"{a.function} from {a.exporter}" + (f" (importer: {a.importer})" if a.importer else "")
        if a.export != "ok":
            lines.append(f"{head}: the export itself {a.export}: {a.export_words}")
            evidence.append(a.export_job)
            continue
        text, bytecode = a.compilers(exporters.TEXT), a.compilers(exporters.BYTECODE)
        lines.append(head + ":")
        if a.exit_hang:  # exported, but the importer's process never ends (a known packaging hang)
            lines.append(f"  {a.exit_hang}")
        for form, label, taking in (
            (exporters.TEXT, "text (.mlir):      ", text),
            (exporters.BYTECODE, "bytecode (.mlirbc):", bytecode),
        ):
            tried = [x for x in a.takes if x.form == form]
            said = version_listing(taking) if tried else NOT_MEASURED
            lines.append(f"  {label} {said}" + (f" (of {len(tried)} compilers tried)" if tried else ""))
        lines += [f"  {x.form} refused by {x.compiler}: {x.words}" for x in a.takes if not x.takes]
        evidence += [x.job for x in a.takes if not x.takes][:2] + [x.job for x in a.takes if x.takes][:2]
        data[f"{a.function}/{a.exporter}"] = {"text": text, "bytecode": bytecode}
    answer = "takes" if any(v["text"] or v["bytecode"] for v in data.values()) else "refuses"
    return Answer(question, answer, tuple(lines), tuple(dict.fromkeys(evidence)), data)
