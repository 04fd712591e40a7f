"""`iree-matrix advise MODEL`: the published answer made this machine's, in one paired sitting.

It builds what it needs like any matrix (matrix/advise.toml: the model exported once, compiled by
one release under `default`, the naive build and the published picks, each module run and checked
against torch, and the peers), then times them all again on one thread, interleaved, for `--rounds`
rounds: `default`, each pick, the naive build and the matrix file's peers (ONNX Runtime and torch
eager; a peer added to its `peers` is timed too). It prints the answer for
this CPU (the release, the exact flags, the speed-ups and the peer ratios, every one from this
sitting) and keeps the sitting with its identity (RESULTS_DIR/advice-MODEL.STARTED.json: each
sitting its own file, the newest of a model and CPU read first), so it can be published beside the
others (results/answers/).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import shlex
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

from iree_matrix.answers import advice
from iree_matrix.commands.shared_options import (
    NO_GAP,
    NO_PROOF,
    PROOF_STEPS,
    REPETITIONS,
    ROUNDS,
    paired_sitting,
)
from iree_matrix.core import console
from iree_matrix.core.errors import UserError

logger = console.logger(__name__)

NAME = "advise"
HELP = (
    "time default, the published picks, the naive build and ONNX Runtime here in one paired sitting: "
    "this CPU's answer"
)
MATRIX = advice.MATRIX  # its sittings are kept in runs/advise, where `query` looks for them
NEWEST = "3.13.0"  # the release asked when nothing is published for the model
MAX_USER_PICKS = 3  # a user's model tries the picks published for the most reference functions
FLEET_PREFIX = "cpu-"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from iree_matrix.commands.options import add_matrix_options

    parser.add_argument(
        "model_ref",
        metavar="MODEL",
        help="a reference model (mobilenet_v2) or your own: path/to/model.py:build",
    )
    parser.add_argument("--release", help="the IREE release to advise on (default: the published answer's)")
    parser.add_argument(
        "--picks",
        metavar="CONFIGS",
        help="comma-separated configurations to try instead of the published picks "
        "(profiles joined with '+', e.g. channels-last+im2col)",
    )
    parser.add_argument(
        "--fleet",
        action="append",
        default=[],
        metavar="CPU",
        help="also compile the answer for this LLVM CPU (x86-64-v3, x86-64-v4, znver4, …) "
        "and time it here: the flags to ship to CPUs other than this one (repeatable)",
    )
    ROUNDS.add(parser)
    REPETITIONS.add(parser)
    NO_PROOF.add(parser)
    PROOF_STEPS.add(parser)
    NO_GAP.add(parser)
    add_matrix_options(parser, MATRIX)
    parser.set_defaults(model=None)


@dataclasses.dataclass(frozen=True)
class Plan:
    """What the sitting will time: the release, and per configuration where it comes from."""

    release: str
    picks: Mapping[str, str]  # configuration -> its source
    fleet: tuple[str, ...]
    # Another release's published pick, timed in the same sitting: the evidence for the release
    # (release, configuration, source).
    rivals: tuple[tuple[str, str, str], ...] = ()


def main(args: argparse.Namespace) -> int:
    from iree_matrix.answers import advice
    from iree_matrix.commands.shared_options import cache_dir
    from iree_matrix.commands.workflow import RunOptions, load_plan, run_plan
    from iree_matrix.core import host, shipped
    from iree_matrix.core.results import ResultsLog
    from iree_matrix.iree import peers

    paired_sitting(args)
    reference, base_model = _model(args.model_ref)
    args.model = [reference]
    root = shipped.results_dir()
    published = advice.published(root / advice.DIRNAME)
    plan = _choose(args, base_model, published, _search_picks(root))
    logger.info(
        f"advise {base_model}: IREE {plan.release}; default, the naive build (generic), "
        f"{len(plan.picks)} pick(s) ({', '.join(plan.picks) or 'none published'})"
        + (f", for a fleet: {', '.join(plan.fleet)}" if plan.fleet else "")
        + "".join(f", {c} on {r} (the other release's pick)" for r, c, _ in plan.rivals)
    )
    loaded = load_plan(args, MATRIX, adjust=lambda m: _adjusted(m, base_model, plan))
    peer_names = loaded.matrix.peers
    logger.info(f"peers, one thread each: {', '.join(peers.display(p) for p in peer_names) or 'none'}")
    if args.list:
        from iree_matrix import stages

        print(stages.describe(loaded.plan))
        return 0
    cache = cache_dir(args)
    results = ResultsLog(loaded.results_dir / "results.jsonl")
    cost = len(loaded.plan.jobs)
    arms_per_function = 2 + len(plan.picks) + len(_fleet_names(plan)) + len(plan.rivals) + len(peer_names)
    logger.info(
        f"cost: {cost} jobs to build and check (seconds each when stored), then {args.rounds} rounds × "
        f"{arms_per_function} arms × {args.repetitions} calls per function on one thread "
        f"({_sitting_cost(published, base_model, host.describe())}; each function's sitting states its "
        "own before it starts; fewer --rounds is cheaper, 6 is the least with a verdict)" + _proof_cost(args)
    )
    code, summary = run_plan(loaded, RunOptions.from_args(args), cache, results, loaded.results_dir)
    if summary.interrupted:
        return code or 130
    records = list(summary.records.values())
    document = _sitting(args, base_model, plan, records, cache, peer_names)
    _prove(args, base_model, plan, document, cache, peer_names)
    _explain(args, base_model, plan, document)
    # An interrupted sitting never replaces a finished one: it is kept apart, where no answer is read.
    out = _write(loaded.results_dir, base_model, document)
    found = advice.derive(document, str(out))
    if document.get("interrupted"):
        logger.warning(f"advise {base_model}: interrupted; the whole rounds timed so far are kept in {out}")
    if not found:
        print(advice.no_answer(document, base_model, out, results.path))
        return 130 if document.get("interrupted") else 1
    chosen = advice.Chosen(tuple(found), True, "")
    print()
    print("\n".join(advice.lines(chosen, base_model, argument=shlex.quote(reference))))
    _print_proofs(found)
    if document.get("interrupted"):
        return 130
    identity = advice.Identity.of(host.describe(), str(document.get("llvm_cpu") or ""))
    print(f"\nkept: {out} (publish it: copy it to results/answers/{identity.slug}/)")
    return 0


def _sitting_cost(published: Sequence[Any], model: str, about: Mapping[str, Any]) -> str:
    """What the model's sitting took where it was published (the identity nearest this one), else
    what the reference models' take."""
    from iree_matrix.answers import advice

    nearest = advice.nearest([a for a in published if a.model == model], about)
    took = advice.cost_text(nearest.advice[0]) if nearest else ""
    if took:
        return f"as published: {took}"
    return (
        "a few minutes for the reference CNNs, an hour for the Whisper encoder, whose naive build takes "
        "~90 s a call"
    )


def _proof_cost(args: argparse.Namespace) -> str:
    """What the proofs add to the sitting's cost, said before anything is built."""
    if NO_PROOF.of(args):
        return ""
    return (
        "; then each pick's proof: its one-knob neighbours (15-20) built and checked, then timed beside "
        f"it, about the pick's arm × (neighbours + 1) × rounds a step, at most {args.proof_steps} steps "
        "(each function's proof states its own; --no-proof skips it)"
    )


def _print_proofs(found: Sequence[Any]) -> None:
    from iree_matrix.answers import advice, neighbourhood

    for a in found:
        if a.proof is not None:
            print(f"\n  {advice.display_name(a)}, the pick's neighbourhood (each one-knob change, paired):")
            print("\n".join(neighbourhood.console_lines(a.proof)))


def _model(text: str) -> tuple[str, str]:
    """(what to build, the name its jobs, records and sitting carry) for the model `text` names: a
    built-in, `FILE:FACTORY`, or a user's model by the name the tool printed for it."""
    from iree_matrix.commands.base import model_reference
    from iree_matrix.matrix import models

    reference = model_reference(text)
    try:
        return reference, models.resolve(reference, Path.cwd()).name
    except models.ModelError as exc:
        raise UserError(f"advise {text}: {exc}") from None


# --------------------------------------------------------------------------- which picks


@dataclasses.dataclass(frozen=True)
class SearchPick:
    unit: str  # "mobilenet_v2", "whisper_tiny.encoder"
    compiler: str
    config: str
    cpu_ms: Optional[float]  # the result's one-thread CPU ms in the search's last sitting
    source: str


def _search_picks(root: Path) -> list[SearchPick]:
    """The flag searches' results in the published sets whose timings name their CPU identity (a
    set whose records do not is left out: its picks were made on a CPU no one can name)."""
    from iree_matrix.answers import identities, release_verdicts

    found = []
    for path in sorted(root.glob("*/search.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        log = path.parent / "results.jsonl"
        records = release_verdicts.read(log) if log.is_file() else []
        identity = identities.main_identity(records) or ""
        if not identity or identity.startswith("legacy:"):
            continue
        runs = {r.job: r for r in records if r.stage == "run"}
        for d in data.get("descents") or ():
            unit, compiler, result = str(d.get("unit")), str(d.get("compiler")), str(d.get("result"))
            cpu = None
            for job, r in runs.items():
                if (
                    f"/iree{compiler}/" in job
                    and job.endswith(f"/{result}")
                    and job.startswith(f"run:{unit}/")
                ):
                    timed = r.metric.cpu_time
                    cpu = timed.median if timed is not None else cpu
            label = identities.label(records, identity)
            found.append(
                SearchPick(unit, compiler, result, cpu, f"flag search on {label} ({path.parent.name})")
            )
    return found


def _choose(
    args: argparse.Namespace, model: str, published: Sequence[Any], searched: Sequence[SearchPick]
) -> Plan:
    from iree_matrix.iree import versions

    if args.release is not None and not versions.is_valid(args.release):
        raise UserError(f"--release {args.release!r}: not an IREE release (e.g. 3.13.0, 3.9.0, 20240410.859)")
    mine = [a for a in published if a.model == model]
    units = {s.unit for s in searched if s.unit == model or s.unit.startswith(model + ".")}
    release = args.release or _release(mine, [s for s in searched if s.unit in units])
    picks: dict[str, str] = {}
    if args.picks:
        picks = {p.strip(): "--picks" for p in args.picks.split(",") if p.strip()}
    else:
        for a in mine:
            if a.release == release:
                for config in (a.config, *a.picks_tried):
                    picks.setdefault(config, f"published answer on {a.identity.short}")
        for s in searched:
            if s.unit in units and s.compiler == release:
                picks.setdefault(s.config, s.source)
        if not units and not mine:  # a user's model: the picks most reference functions took
            picks.update(_user_picks(release, published, searched))
    picks.pop("default", None)
    picks.pop("generic", None)
    fleet = tuple(dict.fromkeys(c.strip() for c in args.fleet if c.strip()))
    for cpu in fleet:
        if not all(ch.isalnum() or ch in "-_." for ch in cpu):
            raise UserError(f"--fleet {cpu!r}: not an LLVM CPU name (x86-64-v3, x86-64-v4, znver4, …)")
    rivals: dict[tuple[str, str], str] = {}  # (release, configuration) -> its source
    if not args.picks:
        for s in searched:
            if s.unit in units and s.compiler != release and s.config not in ("default", "generic"):
                rivals.setdefault((s.compiler, s.config), s.source)
    return Plan(release, picks, fleet, tuple((r, c, src) for (r, c), src in sorted(rivals.items())))


def _user_picks(release: str, published: Sequence[Any], searched: Sequence[SearchPick]) -> dict[str, str]:
    """The picks a user's model is timed with: the configurations most reference functions took on
    `release`, their published answers' first (each won a paired sitting against `default`), then
    the flag searches' results (an installed iree-matrix ships the answers; a checkout the searches
    too). At most MAX_USER_PICKS; a reference model's export variant (`@decomposed`) is its own
    file, which a user's model has not."""
    from collections import Counter

    from iree_matrix.answers import search

    answered = Counter(a.config for a in published if a.release == release and a.config != "default")
    found = Counter(s.config for s in searched if s.compiler == release)
    picks: dict[str, str] = {}
    for counted, source in (
        (answered, "a published answer of the reference models"),
        (found, "a flag-search pick of the reference models"),
    ):
        for config, n in counted.most_common():
            if len(picks) < MAX_USER_PICKS and not search.parse(config).variant:
                picks.setdefault(config, f"{source} ({n} function(s); none is published for this model)")
    return picks


def _release(mine: Sequence[Any], searched: Sequence[SearchPick]) -> str:
    """The published answer's release; else the release whose search results were fastest in the
    search's own last sitting (one identity's); else the newest."""
    if mine:
        return str(mine[0].release)
    by_release: dict[str, float] = {}
    for s in searched:
        if s.cpu_ms is None:
            continue
        by_release[s.compiler] = by_release.get(s.compiler, 0.0) + float(s.cpu_ms)
    return min(by_release, key=by_release.__getitem__) if by_release else NEWEST


# --------------------------------------------------------------------------- the matrix


def _adjusted(matrix: Any, model: str, plan: Plan) -> Any:
    from iree_matrix.answers import search
    from iree_matrix.iree.flags import Profile
    from iree_matrix.matrix import spec

    cpus = {
        f"{FLEET_PREFIX}{cpu}": Profile(
            f"{FLEET_PREFIX}{cpu}", target_cpu=cpu, description=f"compiled for the LLVM CPU {cpu}"
        )
        for cpu in plan.fleet
    }
    matrix = spec.with_profiles(matrix, ["default", "generic"])
    # After with_profiles, which keeps only the profiles it chose: the fleet's CPUs join them.
    matrix = dataclasses.replace(matrix, profiles={**matrix.profiles, **cpus})
    cells = [dataclasses.replace(c, compiler=plan.release, runtime=plan.release) for c in matrix.cells]
    matrix = dataclasses.replace(matrix, cells=tuple(dict.fromkeys(cells)))
    template = matrix.cells[0]
    extra = []
    for name in [*plan.picks, *(name for name, _ in _fleet_names(plan))]:
        config = search.parse(name)
        extra.append(dataclasses.replace(template, model=config.model(model), profile=config.profile))
    for release, name, _ in plan.rivals:
        config = search.parse(name)
        extra.append(dataclasses.replace(template, model=config.model(model), profile=config.profile,
                                         compiler=release, runtime=release))  # fmt: skip
    try:
        return spec.with_cells(matrix, extra)
    except spec.SpecError as exc:  # a configuration --picks named that is no profile or combination
        raise UserError(
            f"advise: {str(exc).replace('--profiles', '--picks (with default, generic)', 1)}"
        ) from None


def _fleet_names(plan: Plan) -> list[tuple[str, str]]:
    """(configuration, the configuration it is built from) for each fleet CPU: every pick and
    default (the sitting decides which one is the answer) with the named CPU in place of `host` —
    a pick that already names a CPU (`avx2`) cannot take another."""
    from iree_matrix.iree.flags import COMBINE

    names = []
    for cpu in plan.fleet:
        for pick in [*plan.picks, "default"]:
            if "avx2" in pick.split(COMBINE):
                continue
            fleet = f"{FLEET_PREFIX}{cpu}"
            names.append((f"{pick}{COMBINE}{fleet}" if pick != "default" else fleet, pick))
    return names


# --------------------------------------------------------------------------- the sitting


def _sitting(
    args: argparse.Namespace,
    model: str,
    plan: Plan,
    records: Sequence[Any],
    cache: Path,
    peer_names: Sequence[str],
    only: Optional[Collection[str]] = None,
) -> dict[str, Any]:
    """The sitting of each function (of `only`, when given): its arms timed in paired rounds."""
    from iree_matrix.answers import advice, search
    from iree_matrix.core import host, locks, stats
    from iree_matrix.core.cache_layout import CacheLayout
    from iree_matrix.core.results import Status
    from iree_matrix.execution import abtest, progress, sitting
    from iree_matrix.iree import flags as iree_flags

    releases = {plan.release, *(release for release, _, _ in plan.rivals)}
    runs = [
        r for r in records if r.stage == "run" and r.label.compiler in releases and not r.label.device
        and r.label.runtime == r.label.compiler
    ]  # fmt: skip
    peers = [r for r in records if r.stage == "peer" and r.status is Status.OK]
    llvm = next(
        (r.metric.llvm_host_cpu for r in records if r.stage == "compile" and r.metric.llvm_host_cpu), ""
    )
    functions = sorted(
        {r.label.function or "main" for r in runs if r.label.source_model.partition("@")[0] == model}
    )
    functions = [f for f in functions if only is None or f in only]
    started = _now()
    load_start = os.getloadavg()[0]
    document: dict[str, Any] = {
        "schema": advice.SCHEMA,
        "model": model,
        "host": host.describe(),
        "llvm_cpu": llvm or "",
        "started": started,
        "rounds": args.rounds,
        "repetitions": args.repetitions,
        "release": plan.release,
        "functions": [],
    }
    known = {**iree_flags.BUILTIN_PROFILES}
    known.update(
        {f"{FLEET_PREFIX}{c}": iree_flags.Profile(f"{FLEET_PREFIX}{c}", target_cpu=c) for c in plan.fleet}
    )
    for function in functions:
        arms_meta: list[dict[str, Any]] = []
        timed: list[Any] = []
        expected: dict[str, float] = {}  # arm -> seconds of one round's step, from its stage's timing
        with sitting.scratch() as work, _Peers() as peer_arms:
            for name, kind, source, base, release, config_name in _arm_list(plan):
                config = search.parse(config_name)
                meta: dict[str, Any] = {
                    "name": name,
                    "kind": kind,
                    "release": release,
                    "config": config_name,
                    "source": source,
                    "base": base,
                }
                cpu = next((k[len(FLEET_PREFIX) :] for k in config.knobs if k.startswith(FLEET_PREFIX)), "")
                if cpu:
                    meta["cpu"] = cpu
                try:
                    profile = (
                        known[config.profile]
                        if config.profile in known
                        else iree_flags.combine(config.profile, known)
                    )
                    meta["flags"] = iree_flags.compile_flags(release, "x86_64", profile)
                except (KeyError, ValueError) as exc:
                    meta["error"] = f"not a configuration of {release}: {exc}"
                    arms_meta.append(meta)
                    continue
                run = _run_of(runs, config.model(model), function, config.profile, release)
                if run is None:
                    meta["error"] = "no run of it in this run's results"
                elif run.status is not Status.OK:
                    meta["error"] = (
                        f"{run.status.value}: {(run.message or '').splitlines()[0] if run.message else ''}"
                    )
                    meta["matches"] = False if run.status is Status.MISMATCH else None
                else:
                    meta["matches"] = bool(run.metric.matches) if run.metric.matches is not None else None
                    meta["module_sha256"] = run.metric.module_sha256 or ""
                    try:
                        timed.append(sitting.ModuleArm(name, abtest.arm_of(run, name, [cache])))
                        expected[name] = _module_step_seconds(run, args.repetitions)
                    except abtest.NotComparable as exc:
                        meta["error"] = str(exc)
                arms_meta.append(meta)
            peer = next(
                (
                    r
                    for r in peers
                    if (r.label.function or "main") == function and r.label.source_model == model
                ),
                None,
            )
            for name in peer_names:
                meta = {"name": name, "kind": advice.PEER, "config": name}
                arms_meta.append(meta)
                if peer is None:
                    meta["error"] = "the peer stage did not run"
                    continue
                onnx = CacheLayout(cache).store / "peer" / peer.key / "model.onnx"
                try:
                    argv = sitting.peer_argv(
                        peer, name, onnx if onnx.is_file() else None, Path(work), [cache]
                    )
                    arm = peer_arms.start(sitting.PeerArm(name, argv, Path(work)))
                    meta.update({k: v for k, v in arm.about.items() if k != "ready"})
                    timed.append(arm)
                    expected[name] = _peer_step_seconds(peer, name, args.repetitions)
                except (abtest.NotComparable, sitting.PeerFailed, OSError, ValueError) as exc:
                    meta["error"] = str(exc)
            timed = _dedupe(timed, arms_meta)
            per_arm = {a.name: expected.get(a.name, UNKNOWN_STEP_SECONDS) for a in timed}
            slowest = max(per_arm, key=per_arm.__getitem__, default="")
            logger.info(
                progress.cost(
                    f"sitting: {function}",
                    f"{len(timed)} arms × {args.rounds} rounds on one thread"
                    + (f" (the slowest, {slowest}: {per_arm[slowest]:.0f} s a round)" if slowest else ""),
                    sum(per_arm.values()) * args.rounds,
                    f"--rounds {stats.MIN_PAIRED_ROUNDS} (the least with a verdict)",
                )
            )
            # The machine's quiet lock, as every timed stage and `compare` take it: no two time at once.
            with locks.machine_lock(True, job=f"advise {model}", report=logger.info):
                rounds = sitting.sit(
                    timed, args.rounds, args.repetitions, progress=_progress(function, per_arm)
                )
            if rounds.interrupted:
                document["interrupted"] = True
        for meta in arms_meta:
            alias = meta.get("same_as") or meta["name"]
            if alias in rounds.names:
                meta["ms"] = list(rounds.of(alias))
        document["functions"].append({"function": function, "arms": arms_meta})
        if document.get("interrupted"):
            break  # Ctrl-C: the functions finished so far, and this one's whole rounds, are kept
    document["finished"] = _now()
    document["load_average"] = {"start": load_start, "end": os.getloadavg()[0]}
    return document


def _prove(
    args: argparse.Namespace,
    model: str,
    plan: Plan,
    document: dict[str, Any],
    cache: Path,
    peer_names: Sequence[str],
) -> None:
    """Each pick's proof (commands/advise_proof.py), kept in its function's entry. A function whose
    proof moved its pick is sat again with the proven pick beside default, the other picks, the
    naive build and the peers: every ratio of an answer stays one sitting's."""
    from iree_matrix.commands import advise_proof
    from iree_matrix.commands.workflow import RunOptions, load_plan, run_plan
    from iree_matrix.core.results import ResultsLog

    if NO_PROOF.of(args) or document.get("interrupted"):
        return
    tools = advise_proof.Tools(
        lambda configs: _build(args, model, plan, configs),
        _run_of,
        _module_step_seconds,
        _progress,
        UNKNOWN_STEP_SECONDS,
    )
    moved = advise_proof.prove(args, model, document, cache, tools)
    if not moved or document.get("interrupted"):
        return
    again = dataclasses.replace(
        plan, picks={**plan.picks, **{c: advise_proof.SOURCE for c in moved.values()}}
    )
    logger.info(
        f"advise {model}: the proof moved the pick of {', '.join(sorted(moved))}; "
        "sitting again with it beside default, the other picks, the naive build and the peers "
        "(as long as the first sitting of it)"
    )
    loaded = load_plan(args, MATRIX, adjust=lambda m: _adjusted(m, model, again))
    results = ResultsLog(loaded.results_dir / "results.jsonl")
    _, summary = run_plan(loaded, RunOptions.from_args(args), cache, results, loaded.results_dir)
    if summary.interrupted:
        document["interrupted"] = True
        return
    resat = _sitting(args, model, again, list(summary.records.values()), cache, peer_names, only=set(moved))
    arms = {e["function"]: e["arms"] for e in resat["functions"]}
    for entry in document["functions"]:
        if entry["function"] in arms:
            entry["arms"] = arms[entry["function"]]
            entry["sat_again"] = f"with the proof's result, {resat['started']}"
    document["finished"] = resat["finished"]
    document["load_average"]["end"] = resat["load_average"]["end"]
    if resat.get("interrupted"):
        document["interrupted"] = True


def _explain(args: argparse.Namespace, model: str, plan: Plan, document: dict[str, Any]) -> None:
    """Each function whose answer takes more than gaps.GAP times the best peer's time: its pick run
    once more with the runtime's in-context profiler, beside the peers' per-op profilers, and the
    op kinds that hold the difference kept in its entry (answers/gap.py). A run that profiles has
    a key of its own, so the sitting's timed runs are not the profiled ones."""
    from iree_matrix.answers import advice, search
    from iree_matrix.answers import gap as gaps
    from iree_matrix.core.results import Status

    if NO_GAP.of(args) or document.get("interrupted"):
        return
    trailing = [a for a in advice.derive(document) if gaps.trails(a.vs_peer.value if a.vs_peer else None)]
    if not trailing:
        return
    names = ", ".join(advice.display_name(a) for a in trailing)
    logger.info(
        f"advise {model}: {names} takes more than {gaps.GAP}× the best peer's time; profiling the "
        "answer's module and the peers op by op (one run each, about 2 s of profiled calls)"
    )
    records = _build(args, model, plan, sorted({a.config for a in trailing}), profile_ops=True)
    if records is None:
        document["interrupted"] = True
        return
    runs = [r for r in records.values() if r.stage == "run" and not r.label.device]
    peers = [r for r in records.values() if r.stage == "peer" and r.status is Status.OK]
    for a in trailing:
        function = a.function or "main"
        config = search.parse(a.config)
        run = _run_of(runs, config.model(model), function, config.profile, a.release)
        peer = next(
            (p for p in peers if (p.label.function or "main") == function and p.label.source_model == model),
            None,
        )
        entry = next(e for e in document["functions"] if e.get("function") == a.function)
        if run is None or run.status is not Status.OK or peer is None:
            entry["gap_error"] = "the profiled run or the peers did not run: see the results log"
            continue
        found, why = gaps.measure(
            run.metric.op_profile, peer.metric.peers, config=a.config, release=a.release,
            threads=peer.metric.threads or 0, run_job=run.job,  # the matrix's, for both profiles
        )  # fmt: skip
        if found is None:
            entry["gap_error"] = why
        else:
            entry["gap"] = found.to_json()


def _with_op_profile(matrix: Any, configs: Sequence[str]) -> Any:
    """`matrix` with the run stage's in-context profiler on for `configs` (and so the peers')."""
    from iree_matrix.answers import search

    globs = tuple(f"*/{search.parse(c).profile}" for c in configs)
    benchmark = matrix.benchmark
    opt_in = tuple((k, v) for k, v in benchmark.opt_in if k != "op_profile")
    mine = dict(benchmark.opt_in).get("op_profile", ())
    benchmark = dataclasses.replace(benchmark, opt_in=(*opt_in, ("op_profile", (*mine, *globs))))
    return dataclasses.replace(matrix, benchmark=benchmark)


def _build(
    args: argparse.Namespace, model: str, plan: Plan, configs: Sequence[str], profile_ops: bool = False
) -> Optional[dict[str, Any]]:
    """Compile, run and check `configs` as the sitting's picks are (stored ones are reused at once):
    every record of that run by job, or None when it was interrupted."""
    from iree_matrix.commands import advise_proof
    from iree_matrix.commands.shared_options import cache_dir
    from iree_matrix.commands.workflow import RunOptions, load_plan, run_plan
    from iree_matrix.core.results import ResultsLog

    # Only these configurations: no fleet or other release is built for a proof's neighbours.
    wanted = dataclasses.replace(plan, picks={c: advise_proof.SOURCE for c in configs}, fleet=(), rivals=())

    def adjust(matrix: Any) -> Any:
        matrix = _adjusted(matrix, model, wanted)
        return _with_op_profile(matrix, configs) if profile_ops else matrix

    loaded = load_plan(args, MATRIX, adjust=adjust)
    results = ResultsLog(loaded.results_dir / "results.jsonl")
    _, summary = run_plan(loaded, RunOptions.from_args(args), cache_dir(args), results, loaded.results_dir)
    return None if summary.interrupted else dict(summary.records)


def _arm_list(plan: Plan) -> list[tuple[str, str, str, str, str, str]]:
    """(arm name, kind, where it comes from, the configuration a fleet arm is built from, release,
    configuration) of every IREE arm."""
    from iree_matrix.answers import advice

    r = plan.release
    arms = [
        ("default", advice.DEFAULT, "", "", r, "default"),
        ("generic", advice.NAIVE, "", "", r, "generic"),
    ]
    arms += [(name, advice.PICK, source, "", r, name) for name, source in plan.picks.items()]
    arms += [(name, advice.FLEET, "", base, r, name) for name, base in _fleet_names(plan)]
    arms += [(f"{c} on {rel}", advice.RIVAL, src, "", rel, c) for rel, c, src in plan.rivals]
    return arms


def _run_of(runs: Sequence[Any], model: str, function: str, profile: str, release: str) -> Optional[Any]:
    for r in runs:
        label = r.label
        if (label.source_model, label.function or "main", label.profile, label.compiler) == (
            model, function, profile, release
        ):  # fmt: skip
            return r
    return None


def _dedupe(timed: list[Any], metas: list[dict[str, Any]]) -> list[Any]:
    """Byte-identical modules are one program: timed once, the others point at it."""
    from iree_matrix.execution import sitting

    first: dict[str, str] = {}
    kept = []
    by_name = {m["name"]: m for m in metas}
    for arm in timed:
        sha = by_name.get(arm.name, {}).get("module_sha256", "") if isinstance(arm, sitting.ModuleArm) else ""
        if sha and sha in first:
            by_name[arm.name]["same_as"] = first[sha]
            continue
        if sha:
            first[sha] = arm.name
        kept.append(arm)
    return kept


class _Peers:
    """The peer workers of one sitting, all ended when it ends (also on Ctrl-C)."""

    def __init__(self) -> None:
        self.started: list[Any] = []

    def start(self, arm: Any) -> Any:
        arm.__enter__()
        self.started.append(arm)
        return arm

    def __enter__(self) -> _Peers:
        return self

    def __exit__(self, *exc: object) -> None:
        for arm in self.started:
            arm.__exit__(None, None, None)


UNKNOWN_STEP_SECONDS = 2.0  # an arm whose stage recorded no one-thread time: a guess, small


def _module_step_seconds(run: Any, repetitions: int) -> float:
    """One round's step of a module arm, from the run stage's one-thread time per call (`cpu_ms`):
    iree-benchmark-module's `repetitions`, each one call when a call outlasts Google Benchmark's min
    time (the first call, which sizes the iterations, is the first repetition: the naive Whisper
    encoder's 3 calls, 93 s each in its run stage, took 281 s a round), else each at least the min
    time, plus the pass that sizes them."""
    from iree_matrix.stages.benchmark_tool import pass_seconds

    timed = run.metric.cpu_time
    if timed is None or not timed.median:
        return UNKNOWN_STEP_SECONDS
    return pass_seconds(timed.median / 1000.0, repetitions)


def _peer_step_seconds(peer: Any, name: str, repetitions: int) -> float:
    """One round's step of a peer arm: `repetitions` calls at its peer stage's one-thread time."""
    from iree_matrix.report.machine import Figure

    entry = peer.metric.peers.get(name)
    figure = Figure.of(entry.get("cpu_ms")) if isinstance(entry, Mapping) else None
    return repetitions * figure.median / 1000.0 if figure is not None else UNKNOWN_STEP_SECONDS


def _progress(
    function: str, per_arm: Mapping[str, float], clock: Callable[[], float] = time.monotonic
) -> Callable[[int, int, str], None]:
    """The sitting's line before each step, with the elapsed time and an estimate of what is left:
    the steps to come at their arms' expected seconds (every round times each arm once), scaled by
    how the steps so far ran against theirs."""
    from iree_matrix.execution import progress

    start = clock()
    each_round = sum(per_arm.values())

    def say(done: int, total: int, arm: str) -> None:
        elapsed = clock() - start
        arms = max(1, len(per_arm))
        thought = each_round * done / arms
        slowdown = elapsed / thought if done and thought > 0 and elapsed > 0 else 1.0
        left = each_round * (total - done) / arms * slowdown
        stamp = f"{progress.clock(elapsed)} ETA {progress.clock(left)}"
        logger.info(f"  [{done + 1}/{total} {stamp}] {function}: {arm}")

    return say


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _write(directory: Path, model: str, document: Mapping[str, Any]) -> Path:
    """The sitting kept under a name of its own (advice.file_name), beside earlier ones."""
    from iree_matrix.answers import advice
    from iree_matrix.core.atomic_files import write_atomically

    name = advice.file_name(model, str(document.get("started") or ""), bool(document.get("interrupted")))
    path = directory / name
    n = 1
    while path.exists():  # two sittings started in one second: neither is lost
        n += 1
        path = directory / name.replace(".json", f"-{n}.json")
    directory.mkdir(parents=True, exist_ok=True)
    write_atomically(path, json.dumps(document, indent=1, sort_keys=True) + "\n")
    return path
