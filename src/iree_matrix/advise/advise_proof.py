"""`advise`'s proof of each pick: the pick's neighbourhood (findings/neighbourhood.py says which
configurations and runs the local search) built like the sitting's own arms, compiled, run and checked against
torch by advise's matrix and stored under the same keys, then timed against the pick on one thread in paired,
interleaved rounds, under the machine's quiet lock; a function whose proof moved its pick is sat again
(advise/advise_sitting.py), so every ratio of its answer stays one sitting's."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

from iree_matrix.advise import advise_sitting, paired_rounds
from iree_matrix.advise.advise_plan import Pick, Settings, SittingPlan, arms
from iree_matrix.advise.advise_sitting import Builds, Sitter
from iree_matrix.core import console
from iree_matrix.core.model.configuration import Config
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.results import Record, Status
from iree_matrix.execution import abtest, progress
from iree_matrix.findings import neighbourhood, search
from iree_matrix.kernel.kernels import Kernel

logger = console.logger(__name__)

SOURCE = "the proof's local search"  # where a pick the proof moved to comes from


@dataclasses.dataclass
class Built:
    """The records of every configuration built so far (the newest per job), and whether a build
    was interrupted."""

    builds: Builds
    records: dict[str, Record] = dataclasses.field(default_factory=dict)
    interrupted: bool = False

    def build(self, configs: Sequence[Config]) -> None:
        if (records := self.builds.alone(configs)) is None:
            self.interrupted = True
        else:
            self.records.update(records)


def prove(
    settings: Settings,
    sitter: Sitter,
    plan: SittingPlan,
    document: dict[str, Any],
    sat: Sequence[Any],
    builds: Builds,
    kernels: Mapping[str, Kernel],
) -> None:
    """Each function's proof of its answer among `sat` (a local search of at most `settings.proof_steps`
    steps), kept in its entry (`proof`); a function whose proof moved its pick is sat again with it."""
    if settings.no_proof or document.get("interrupted"):
        return
    moved = _proofs(sitter, settings.proof_steps, document, sat, Built(builds))
    if not moved or document.get("interrupted"):
        return
    again = plan.with_picks([Pick.named(c, plan.release, SOURCE) for c in moved.values()])
    model = sitter.model
    planned = arms(again, kernels, model)
    logger.info(
        f"advise {model}: the proof moved the pick of {', '.join(sorted(moved))}; sitting again with it "
        "beside default, the other picks, the naive build and the peers (as long as the first sitting of it)"
    )
    if (records := builds.sitting(again)) is None:
        document["interrupted"] = True
        return
    resat = advise_sitting.run(sitter, planned, list(records.values()), only=set(moved), kernels=kernels)
    advise_sitting.sat_again(document, resat)


def _proofs(
    sitter: Sitter, steps: int, document: dict[str, Any], sat: Sequence[Any], built: Built
) -> dict[str, str]:
    """Each function's proof, kept in its entry of `document`; the functions whose proof moved the
    pick, with the configuration it moved to."""
    moved: dict[str, str] = {}
    answers = {a.function: a for a in sat}
    for entry in document["functions"]:
        if (found := answers.get(str(entry.get("function") or ""))) is None or built.interrupted:
            continue
        proof = _prove_one(sitter, steps, found, built)
        entry["proof"] = proof.as_dict()
        if proof.interrupted or built.interrupted:
            document["interrupted"] = True
            break
        if proof.result != found.config:
            moved[found.function] = proof.result
    return moved


def _prove_one(sitter: Sitter, steps: int, found: Any, built: Built) -> neighbourhood.Proof:
    knobs = neighbourhood.accepted_knobs(found.release)
    start, request = found.configuration, sitter.request
    steps = max(1, steps)
    count = len(neighbourhood.neighbours(start, knobs))

    def sit(centre: Config, around: Sequence[Config]) -> neighbourhood.Step:
        built.build([centre, *around])
        if built.interrupted:
            return neighbourhood.Step.judged(neighbourhood.Timed(str(centre)), (), interrupted=True)
        return _sit(sitter, found.function, found.release, [centre, *around], built)

    # A neighbour is taken to cost about as much as the pick did in the sitting: most are a few per
    # cent from it, and each step's sitting states its own before it is sat.
    pick_step = paired_rounds.module_step_seconds(found.ms, request.repetitions)
    logger.info(
        f"proof of {found.function}: `{found.config}` and its {count} one-knob neighbours, each built and "
        f"checked (stored ones at once), then timed beside it: {count + 1} arms × {request.rounds} rounds, "
        f"about {progress.clock(neighbourhood.estimate_seconds(pick_step, count, request.rounds))} at the "
        f"pick's step; each step that finds a faster neighbour costs as much again (at most {steps} steps), "
        "and a moved pick is sat again with default, the naive build and the peers; --no-proof skips it"
    )
    return neighbourhood.local_search(start, lambda c: neighbourhood.neighbours(c, knobs), sit, steps)


def _sit(
    sitter: Sitter, function: str, release: str, configs: Sequence[Config], built: Built
) -> neighbourhood.Step:
    """The centre (`configs[0]`) and its neighbours timed in one sitting; a byte-identical module is
    the same program, timed once."""
    from iree_matrix.core.model import stats

    names = [str(c) for c in configs]
    runs = [r for r in built.records.values() if r.stage == "run" and not r.label.device]
    arms: dict[str, Any] = {}  # module digest -> the arm timing it
    timed: dict[str, neighbourhood.Timed] = {}
    for config in configs:
        one, arm = _arm(built, runs, (sitter.model, function, release), config, sitter.cache)
        if arm is not None and one.module_sha256 in arms:
            one = dataclasses.replace(one, same_as=arms[one.module_sha256].name)
        elif arm is not None:
            arms[one.module_sha256 or str(config)] = arm
        timed[str(config)] = one
    rounds = paired_rounds.timed(
        sitter.request,
        list(arms.values()),
        f"proof sitting: {function}, `{names[0]}` and its neighbours",
        f"{function} proof",
        f"--rounds {stats.MIN_PAIRED_ROUNDS}, --proof-steps 1, --no-proof",
        f"advise {sitter.model} (proof)",
    )
    ms = {name: rounds.of(name) for name in rounds.names}
    done = {n: dataclasses.replace(t, ms=ms.get(t.same_as or n, ())) for n, t in timed.items()}
    return neighbourhood.Step.judged(done[names[0]], [done[n] for n in names[1:]], rounds.interrupted)


def _arm(
    built: Built, runs: Sequence[Any], what: tuple[str, str, str], config: Config, cache: Path
) -> tuple[neighbourhood.Timed, Optional[paired_rounds.ModuleArm]]:
    """A configuration's arm (None when it cannot be timed, its `error` says why); `what` is (model,
    function, release)."""
    from iree_matrix.core.errors import StageSkipped
    from iree_matrix.iree import flags as iree_flags

    model, function, release = what
    name = str(config)
    try:
        profile = iree_flags.combine(config.profile, iree_flags.BUILTIN_PROFILES)
        flags = tuple(iree_flags.compile_flags(release, neighbourhood.ARCH, profile))
    except (KeyError, ValueError) as exc:
        return neighbourhood.Timed(name, error=f"not a configuration of {release}: {exc}"), None
    except StageSkipped as exc:  # a knob the release is not for
        return neighbourhood.Timed(name, error=str(exc)), None
    if (run := advise_sitting.run_of(runs, config.model(model), function, config.profile, release)) is None:
        return neighbourhood.Timed(name, flags=flags, error="no run of it in this run's results"), None
    if run.status is not Status.OK:
        # A run that did not happen says why in its blocking stage's words (a skipped or failed compile).
        cause = built.records.get(run.blocked_by or "", run) if run.status is Status.NOT_RUN else run
        matches = False if cause.status is Status.MISMATCH else None
        error = f"{cause.status.value}: {search.first_line(cause.message)}"
        return neighbourhood.Timed(name, flags=flags, matches=matches, error=error), None
    sha = run.metric.of(RunMetrics).module_sha256 or ""
    one = neighbourhood.Timed(name, flags=flags, module_sha256=sha, matches=run.metric.of(RunMetrics).matches)
    if one.matches is False:
        return one, None
    cpu_time = run.metric.of(RunMetrics).cpu_time
    try:
        module = abtest.arm_of(run, name, [cache])
    except abtest.NotComparable as exc:
        return dataclasses.replace(one, error=str(exc)), None
    return one, paired_rounds.ModuleArm(name, module, cpu_time.median if cpu_time is not None else None)
