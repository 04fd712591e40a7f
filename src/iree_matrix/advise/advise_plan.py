"""What `advise` will time: the release and the picks (from the published answers and the flag searches;
a user's model: the picks most reference functions took), the fleet's CPUs, another release's pick as the
release's evidence, every arm that makes, advise's matrix, and what it will cost, said before building."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

from iree_matrix.advise import paired_rounds
from iree_matrix.advise.paired_rounds import Request
from iree_matrix.core.errors import SpecError, UserError
from iree_matrix.core.model.configuration import Config, NamedCpu, split_variant
from iree_matrix.core.model.host_identity import HostIdentity, here
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.findings import advice, runs_view, search
from iree_matrix.iree import targets, versions
from iree_matrix.iree.flags import cpu_profile
from iree_matrix.kernel.kernels import Kernel
from iree_matrix.matrix import spec
from iree_matrix.matrix.peers import EAGER

NEWEST = "3.13.0"  # the release asked when nothing is published for the model
MAX_USER_PICKS = 3  # a user's model tries the picks published for the most reference functions


@dataclasses.dataclass(frozen=True)
class Settings:
    """advise's own settings (what it builds is `PlanSettings`): the sitting's rounds and calls, the
    proof, and what to advise on instead of the published answer."""

    sitting: Request = Request(rounds=8, repetitions=3)  # each sitting's rounds and calls (the proof's too)
    no_proof: bool = False  # no proof of the picks: a quick sitting, an answer unproved
    no_gap: bool = False  # no profile of an answer that trails the best peer: its gap not explained
    library: Optional[str] = None  # the kernels tried against that gap (advise_library.py; "none": none)
    proof_steps: int = 3  # at most this many steps of each proof's local search
    release: Optional[str] = None  # the IREE release (default: the published answer's)
    picks: Optional[str] = None  # comma-separated configurations instead of the published picks
    fleet: tuple[str, ...] = ()  # LLVM CPUs the answer is also compiled for


@dataclasses.dataclass(frozen=True)
class Pick:
    """A configuration the sitting times, with its release: typed once, where the plan is made (a
    published answer's or a search's name, or one `--picks` gave, kept as written: the arm's name)."""

    name: str  # "im2col+ukernels", "@decomposed+O3-stack"
    config: Config
    release: str
    source: str  # where it comes from: "published answer on …", "--picks", a flag search

    @classmethod
    def named(cls, name: str, release: str, source: str) -> Pick:
        return cls(name, search.parse(name), release, source)


@dataclasses.dataclass(frozen=True)
class SittingPlan:
    """What the sitting will time: the release, and the picks with where each comes from."""

    release: str
    picks: tuple[Pick, ...]  # of `release`
    fleet: tuple[str, ...]
    # Another release's published pick, timed in the same sitting: the evidence for the release.
    rivals: tuple[Pick, ...] = ()
    # Whether the matrix's kernels (`--kernel`) are swapped into `default` and each pick: one more
    # arm each (`arms`); a proof's neighbours and a profiled run are built without them.
    kernels: bool = True

    def only(self, configs: Sequence[Config], source: str, kernels: bool = False) -> SittingPlan:
        """This release's `configs` alone, as picks from `source`: no fleet or other release, and no
        kernel unless `kernels` (a proof's neighbours; a profiled run of an answer that takes one)."""
        picks = tuple(Pick(str(c), c, self.release, source) for c in configs)
        return SittingPlan(self.release, picks, (), (), kernels=kernels)

    def with_picks(self, picks: Sequence[Pick]) -> SittingPlan:
        """This plan with `picks` timed too (a pick the proof moved to)."""
        named = {p.name: p for p in picks}
        kept = tuple(named.pop(p.name, p) for p in self.picks)  # a pick named again keeps its place
        return SittingPlan(self.release, (*kept, *named.values()), self.fleet, self.rivals, self.kernels)


@dataclasses.dataclass(frozen=True)
class PlannedArm:
    """One IREE arm of the sitting, as the plan names it: built by advise's matrix, then timed."""

    name: str  # "default", "im2col", "im2col+cpu-znver4", "im2col on 3.12.0", "im2col+k:dw"
    kind: str  # advice.DEFAULT, NAIVE, PICK, FLEET, RIVAL, KERNEL
    pick: Pick  # the configuration built (a kernel arm: the one it is swapped into) and its release
    base: str = ""  # the configuration a fleet or kernel arm is built from
    kernel: str = ""  # the kernel swapped in (a kernel arm)
    source: str = ""  # where it comes from (a pick's, a rival's; a kernel arm's directory)


# --------------------------------------------------------------------------- which picks


@dataclasses.dataclass(frozen=True)
class SearchPick:
    unit: str  # "mobilenet_v2", "whisper_tiny.encoder"
    compiler: str
    config: str
    cpu_ms: Optional[float]  # the result's one-thread CPU ms in the search's last sitting
    source: str


def search_picks(root: Path) -> list[SearchPick]:
    """The flag searches' results in the published sets whose timings name their CPU identity (a
    set whose records do not is left out: its picks were made on a CPU no one can name)."""
    from iree_matrix.findings import identities, results_folder

    found = []
    for path in sorted(root.glob("*/search.json")):
        if not isinstance(data := runs_view.json_file(path), dict):
            continue
        folder = results_folder.load(path.parent)
        records = folder.records if folder.source.is_file() else []
        if not (identity := identities.main_identity(records) or "") or identity.startswith("legacy:"):
            continue
        runs = {r.job: r for r in records if r.stage == "run"}.values()
        source = f"flag search on {identities.label(records, identity)} ({path.parent.name})"
        for d in data.get("descents") or ():
            unit, compiler, result = str(d.get("unit")), str(d.get("compiler")), str(d.get("result"))
            ran = [r for r in runs if r.job.startswith(f"run:{unit}/") and r.job.endswith(f"/{result}")]
            timed = [
                t.median
                for r in ran
                if f"/iree{compiler}/" in r.job and (t := r.metric.of(RunMetrics).cpu_time) is not None
            ]
            found.append(SearchPick(unit, compiler, result, timed[-1] if timed else None, source))
    return found


def choose(
    settings: Settings, model: str, published: Sequence[Any], searched: Sequence[SearchPick]
) -> SittingPlan:
    if settings.release is not None and not versions.is_valid(settings.release):
        raise UserError(
            f"--release {settings.release!r}: not an IREE release (e.g. 3.13.0, 3.9.0, 20240410.859)"
        )
    mine = [a for a in published if a.model == model]
    units = {s.unit for s in searched if s.unit == model or s.unit.startswith(model + ".")}
    base, variant = split_variant(model)
    if variant and not (mine or units):  # `whisper_tiny@decomposed`: whisper_tiny's picks of that export
        whole = choose(dataclasses.replace(settings, picks=None), base, published, searched)
        own = [p for p in (*whole.picks, *whole.rivals) if p.config.variant == variant]
        own = [Pick.named(str(p.config.with_variant("")), p.release, p.source) for p in own]
        if (kept := [p for p in own if p.release == whole.release]) and not settings.picks:
            return SittingPlan(whole.release, (*kept,), whole.fleet, tuple(p for p in own if p not in kept))
        if kept:  # `--picks` on the release of that export's picks; none: the picks of a user's model
            settings = dataclasses.replace(settings, release=whole.release)
    release = settings.release or _release(mine, [s for s in searched if s.unit in units])
    picks = {p.strip(): "--picks" for p in (settings.picks or "").split(",") if p.strip()}
    rivals: dict[tuple[str, str], str] = {}  # (release, configuration) -> its source
    if not settings.picks:
        for a in mine:
            if a.release == release:
                for config in (a.config, *a.picks_tried):
                    picks.setdefault(config, f"published answer on {a.identity.short}")
        for s in searched:
            if s.unit in units and s.compiler == release:
                picks.setdefault(s.config, s.source)
            elif s.unit in units and s.config not in ("default", "generic"):
                rivals.setdefault((s.compiler, s.config), s.source)
        if not units and not mine:  # a user's model: the picks most reference functions took
            picks.update(_user_picks(release, published, searched))
    picks.pop(search.BASELINE, None)
    picks.pop(search.NAIVE, None)
    fleet = tuple(dict.fromkeys(c.strip() for c in settings.fleet if c.strip()))
    for cpu in fleet:
        if not all(ch.isalnum() or ch in "-_." for ch in cpu):
            raise UserError(f"--fleet {cpu!r}: not an LLVM CPU name (x86-64-v3, x86-64-v4, znver4, …)")
    chosen = tuple(Pick.named(name, release, source) for name, source in picks.items())
    others = tuple(Pick.named(c, r, source) for (r, c), source in sorted(rivals.items()))
    return SittingPlan(release, chosen, fleet, others)


def isa_note(plan: SittingPlan, about: HostIdentity) -> str:
    """A warning for an x86 CPU without AVX-512 advised on a release before targets.AVX2_MATMUL_FIXED,
    whose matmuls vectorize only along their reduction there (the answers were made on AVX-512); "" else."""
    if about.machine != "x86_64" or about.cpu_features is None or "avx512f" in about.cpu_features:
        return ""
    fixed = targets.AVX2_MATMUL_FIXED
    if versions.release_order(plan.release) >= versions.release_order(fixed):
        return ""
    newer = [p for p in plan.rivals if versions.release_order(p.release) >= versions.release_order(fixed)]
    said = ""
    if newer:
        said = f"; this sitting also times {newer[0].name} on {newer[0].release}: is a newer one faster"
    return (
        f"this CPU has no AVX-512: IREE {plan.release}, the published answers' release (made on AVX-512 "
        f"CPUs), vectorizes a matmul only along its reduction on it (iree-org/iree#24700; fixed in "
        f"{fixed}){said}; `--release 3.13.0` advises on a newer one"
    )


def _user_picks(release: str, published: Sequence[Any], searched: Sequence[SearchPick]) -> dict[str, str]:
    """The picks a user's model is timed with: the configurations most reference functions took on
    `release`, published answers' first, then the flag searches'; at most MAX_USER_PICKS, no export
    variant (`@decomposed`: a reference model's own file)."""
    from collections import Counter

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
        if s.cpu_ms is not None:
            by_release[s.compiler] = by_release.get(s.compiler, 0.0) + float(s.cpu_ms)
    return min(by_release, key=by_release.__getitem__) if by_release else NEWEST


# --------------------------------------------------------------------------- the arms and the matrix


def arms(plan: SittingPlan, kernels: Mapping[str, Kernel], model: str) -> tuple[PlannedArm, ...]:
    """Every IREE arm of the sitting, in order: default, the naive build, the picks, the fleet's and the
    other release's builds, then with `plan.kernels` each kernel for `model` in default and each pick."""
    default = Pick(search.BASELINE, Config(), plan.release, "")
    naive = Pick(search.NAIVE, search.NAIVE_CONFIG, plan.release, "")
    found = [PlannedArm(default.name, advice.DEFAULT, default), PlannedArm(naive.name, advice.NAIVE, naive)]
    found += [PlannedArm(p.name, advice.PICK, p, source=p.source) for p in plan.picks]
    found += _fleet(plan, default)
    found += [PlannedArm(f"{p.name} on {p.release}", advice.RIVAL, p, source=p.source) for p in plan.rivals]
    found += _kernels(plan, kernels, model, default)
    return tuple(found)


def _fleet(plan: SittingPlan, default: Pick) -> list[PlannedArm]:
    """Each fleet CPU's arms: every pick and default with the named CPU in place of `host` (a pick that
    already names a CPU, `avx2`, cannot take another)."""
    found = []
    for cpu in plan.fleet:
        named = NamedCpu(cpu)
        for pick in (p for p in [*plan.picks, default] if "avx2" not in p.config.knob_set):
            name = str(Config.parse(pick.name).with_cpu(named))  # "im2col+cpu-znver4": the CPU last
            config = Config.of(pick.config.knob_set | {named.name}, pick.config.variant)
            found.append(PlannedArm(name, advice.FLEET, Pick(name, config, plan.release, ""), base=pick.name))
    return found


def _kernels(plan: SittingPlan, kernels: Mapping[str, Kernel], model: str, default: Pick) -> list[PlannedArm]:
    """Each kernel of the matrix meant for `model`, swapped into default and each pick: an arm each,
    named "im2col+k:depthwise3x3"."""
    if not plan.kernels:
        return []
    return [
        PlannedArm(
            str(Config.parse(base.name).with_kernel(name)),
            advice.KERNEL,
            base,
            base=base.name,
            kernel=name,
            source=f"--kernel {kernel.shown_directory()}",
        )
        for name, kernel in kernels.items()
        if kernel.for_model(model)
        for base in [default, *plan.picks]
    ]


def adjusted(matrix: spec.MatrixSpec, model: str, plan: SittingPlan) -> spec.MatrixSpec:
    """advise's matrix for `plan`: one release's cells under default and the naive build, with the picks,
    the fleet's and the other release's builds, and each kernel (`plan.kernels`) swapped into default and
    each pick."""
    matrix = one_release(matrix, ["default", "generic"], plan.fleet, plan.release)
    # torch eager's figure is the export stage's: the peer stage times the others alone, as
    # matrix/default.toml's does, so it is that run's job by key (the sitting adds eager: `sitting_peers`)
    matrix = dataclasses.replace(matrix, peers=tuple(p for p in matrix.peers if p != EAGER) or matrix.peers)
    template = matrix.cells[0]
    # The picks and the fleet's builds, then the kernels', then the other release's: the cells' order.
    built = [a for a in arms(plan, matrix.kernels, model) if a.kind not in (advice.DEFAULT, advice.NAIVE)]
    order = {advice.PICK: 0, advice.FLEET: 0, advice.KERNEL: 1, advice.RIVAL: 2}
    extra = [
        dataclasses.replace(
            template,
            model=a.pick.config.model(model),
            profile=a.pick.config.profile,
            kernel=a.kernel,
            compiler=a.pick.release,
            runtime=a.pick.release,
        )
        for a in sorted(built, key=lambda a: order[a.kind])
    ]
    try:
        return spec.with_cells(matrix, extra)
    except SpecError as exc:  # a configuration --picks named that is no profile or combination
        raise UserError(
            f"advise: {str(exc).replace('--profiles', '--picks (with default, generic)', 1)}"
        ) from None


def one_release(
    matrix: spec.MatrixSpec, profiles: Sequence[str], cpus: Sequence[str], release: str
) -> spec.MatrixSpec:
    """`matrix` with only `profiles` and the named `cpus`' (`cpu-NAME`), its cells by `release` alone and
    none with a kernel (the matrix planned every cell with each kernel too: advise chooses its own)."""
    matrix = spec.with_profiles(matrix, profiles)
    named = {**matrix.profiles, **{p.name: p for p in (cpu_profile(NamedCpu(cpu)) for cpu in cpus)}}
    cells = [dataclasses.replace(c, compiler=release, runtime=release) for c in matrix.cells if not c.kernel]
    return dataclasses.replace(matrix, profiles=named, cells=tuple(dict.fromkeys(cells)))


def sitting_peers(planned: Sequence[str]) -> tuple[str, ...]:
    """The peers a sitting times beside the arms: torch eager, every answer's reference, then those
    whose peer stage `adjusted` planned; none where the matrix file asks for none."""
    return tuple(dict.fromkeys((EAGER, *planned))) if planned else ()


# --------------------------------------------------------------------------- what it costs


def proof_cost(
    plan: SittingPlan, model: str, request: Any, jobs: int, call_ms: Optional[float], functions: int = 1
) -> tuple[str, float]:
    """What the proofs cost here, in words, and its seconds for one step: each function's one-knob
    neighbours compiled `jobs` at a time, then one step's paired rounds (a cold Zen 3 told only "15-20
    neighbours built" spent 33 of its 64 minutes in the proof)."""
    from iree_matrix.findings import neighbourhood

    knobs = neighbourhood.accepted_knobs(plan.release)
    sizes = [len(neighbourhood.neighbours(p.config, knobs)) for p in plan.picks] or [0]
    count = round(sum(sizes) / len(sizes)) * max(1, functions)
    each = compile_seconds(model)
    step = neighbourhood.estimate_seconds(
        paired_rounds.module_step_seconds(call_ms, request.repetitions), count, request.rounds
    )
    said = f"{count} one-knob neighbours compiled (~{each:.0f} s each here now, {jobs} at a time), then timed"
    return said, count * each / max(1, jobs) + step


def compile_seconds(model: str) -> float:
    """One compile of `model` here: its published time, stretched by this machine's load and speed."""
    from iree_matrix.execution import eta, stage_times

    published = stage_times.published()
    mine = [
        s for (stage, m), s in published.by_model.items() if stage == "compile" and m.split(".")[0] == model
    ]
    each = sum(mine) / len(mine) if mine else published.by_stage.get("compile", 30.0)
    return float(each * eta.load_factor() ** eta.COUPLING * max(1.0, published.speed_of(here().identity)))


def library_seconds(
    kernels: int, plan: SittingPlan, model: str, jobs: int, request: Request, call_ms: Optional[float]
) -> float:
    """The kernel library's phase: each of the `kernels` meant for the model swapped into default and the
    picks (a compile each, `jobs` at a time), then those arms sat again beside what they go into."""
    if not kernels:
        return 0.0
    arms = kernels * (len(plan.picks) + 1)
    step = paired_rounds.module_step_seconds(call_ms, request.repetitions)
    return arms * compile_seconds(model) / max(1, jobs) + (arms + len(plan.picks) + 1) * step * request.rounds


def sitting_seconds(
    found: Sequence[Any], planned: Sequence[PlannedArm], peers: int, request: Request
) -> float:
    """The sitting, from the nearest published answers (`found`, one a function): each `planned` arm and
    peer at the answer's time over its ratio, a round's steps (`module_step_seconds`) times the rounds."""
    total = 0.0
    for a in found:
        ms = a.ms or 0.0
        rivals = {f"{r.config} on {r.release}": r.against_answer for r in a.rivals}
        times = {advice.DEFAULT: _under(ms, a.over_default), advice.NAIVE: _under(ms, a.over_naive)}
        arm_ms = [times.get(arm.kind, ms / _under(1.0, rivals.get(arm.name))) for arm in planned]
        arm_ms += [_under(ms, a.vs_eager), *[_under(ms, a.vs_peer)] * max(0, peers - 1)]
        total += (
            sum(paired_rounds.module_step_seconds(t, request.repetitions) for t in arm_ms) * request.rounds
        )
    return total


def _under(ms: float, ratio: Any) -> float:
    """An arm's time from the answer's (`ms`) and the answer's time over the arm's (`ratio`)."""
    return ms / ratio.value if ratio is not None and ratio.value > 0 else ms


def cost_text(
    settings: Settings,
    jobs: int,
    arms: int,
    builds: float,
    sitting: Optional[float],
    proof: Any,
    library: float,
) -> str:
    """What advise costs here, said before anything is built, in all and by phase: the builds, the
    sitting of `arms` arms a function (None: nothing published to cost it by), one step of the proof
    (`proof_cost`) and the kernel library (`library_seconds`)."""
    from iree_matrix.core.formats import about
    from iree_matrix.execution.progress import clock

    asked, (proved, proving) = settings.sitting, proof
    shape = f"{asked.rounds} rounds × {arms} arms × {asked.repetitions} call(s) a function on one thread"
    sat = (
        f"the sitting {clock(sitting)} ({shape})" if sitting else f"the sitting ({shape}): said as it starts"
    )
    parts = [(f"the builds {clock(builds)} ({jobs} jobs)", builds), (sat, sitting or 0)]
    if not settings.no_proof:
        steps = f"at most {settings.proof_steps} step(s), one that moves the pick costs as much again"
        parts += [(f"the proof {clock(proving)} a step ({proved}; {steps})", proving)]
    parts += [(f"the kernel library {clock(library)}, where the gap asks for it", library)] if library else []
    cheaper = "; cheaper: fewer --rounds (6 is the least with a verdict)" + (
        "" if settings.no_proof else ", --no-proof"
    )
    return f"cost: in all {about(sum(s for _, s in parts))} here: {'; '.join(w for w, _ in parts)}{cheaper}"
