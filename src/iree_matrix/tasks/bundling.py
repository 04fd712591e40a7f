"""`iree-matrix bundle --to DIR`: compile here, pack what another machine needs to answer there
(execution/bundle.py says what travels and writes it): a matrix file's cells, or with `--advise
MODEL` advise's arms compiled for the target's CPU (or, with `--target`, its GPU) and the sitting that
makes its answer there."""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping, Sequence, Sized
from pathlib import Path
from typing import Any, Optional, TextIO

from iree_matrix.advise import advise_plan, gpu_sitting
from iree_matrix.advise.advise_plan import NEWEST
from iree_matrix.core import console, shipped
from iree_matrix.core.errors import UserError
from iree_matrix.core.model.configuration import Config, NamedCpu, Runtime
from iree_matrix.core.model.records import Labels
from iree_matrix.core.model.results import Record, folder_log
from iree_matrix.core.model.store import Store
from iree_matrix.execution import bundle, bundle_chunks, bundle_runtimes, progress
from iree_matrix.execution.bundle import BundledRun
from iree_matrix.execution.bundle_runtimes import Where
from iree_matrix.execution.workflow import Loaded, PlanSettings, listed_settings, load_plan
from iree_matrix.findings import advice, load_windows, neighbourhood, query, results_folder, search
from iree_matrix.findings import gap as gaps
from iree_matrix.iree import targets, versions
from iree_matrix.kernel.iree import custom_dispatch
from iree_matrix.kernel.tasks import bundle_kernels
from iree_matrix.matrix import spec
from iree_matrix.tasks.runs import run_plan

logger = console.logger(__name__)
MIB = 1 << 20
Proofs = dict[str, tuple[str, tuple[str, ...]]]  # function (or GPU centre arm) -> (centre, neighbours)


@dataclasses.dataclass(frozen=True)
class Settings:
    """What the bundle is for: its folder, the target's Pythons and machine, a size limit, and with
    `advise` (a model) the target's LLVM CPU, the release and the sitting's calls per arm and round."""

    to: Optional[Path]
    python: tuple[str, ...] = ()
    machine: Optional[str] = None
    max_size: Optional[float] = None  # MiB
    advise: Optional[str] = None
    cpu: Optional[str] = None
    release: Optional[str] = None
    repetitions: int = 3
    picks: tuple[str, ...] = ()  # instead of the published picks; the first is the proof's centre
    proof: bool = True  # the centre's neighbourhood travels and is timed there against it
    targets: tuple[str, ...] = ()  # with `advise`: GPU targets, a GPU sitting instead of a CPU one
    # With `advise` (the model's name, as its jobs and sitting call it): what to build, where it is
    # not that name (a user's `FILE:FACTORY`), as advise builds `reference` under `base_model`.
    reference: Optional[str] = None

    @property
    def built(self) -> str:
        return self.reference or self.advise or ""


def run(plan: PlanSettings, args: Settings, out: TextIO) -> int:
    """Build what the bundle carries (the plan's compiles and peers), then pack it into `args.to`
    (and its archive). With `args.advise`, `plan`'s matrix is advise's, rewritten for the sitting."""
    where = _where(args)
    if not plan.listing and args.to is None:
        raise UserError("bundle: --to DIR is required (where the bundle's folder goes)")
    cpu = _cpu(args)
    advised: Optional[Advised] = None
    if args.advise and args.targets:
        bundle_kernels.refuse_on_gpu(plan)
        loaded, advised = _gpu_plan(plan, args)
    elif args.advise:
        model = args.advise
        release, picks, proofs = _published(model, args.release, args.picks)
        given = bool(plan.kernels)
        plan, kernels = bundle_kernels.chosen(plan, model, release)
        if kernels and (why := custom_dispatch.kernel_cpu_problem(cpu)) is not None:
            if given:  # before anything is built: each kernel cell failed at its object's build
                raise UserError(f"bundle --cpu {cpu} --kernel: {why}")
            logger.warning(f"bundle --advise {model}: the published answer's kernel does not travel: {why}")
            plan, kernels = dataclasses.replace(plan, kernels=()), ()
        said = "given" if args.picks else "published"
        logger.info(
            f"bundle --advise {model}: IREE {release}, for {cpu}: default, the naive build, "
            f"{len(picks)} {said} pick(s){': ' + ', '.join(picks) if picks else ''}"
        )
        for function, centre in proofs.items():
            if args.proof and not _keeps_cpu(centre.config):
                logger.warning(
                    f"bundle: no proof of {function or model}: its pick `{centre.config}` names a "
                    f"CPU of its own, not {cpu} (--picks names another)"
                )
        proofs = {f: c for f, c in proofs.items() if args.proof and _keeps_cpu(c.config)}
        advised = Advised(tuple(picks), _say_proofs(proofs, release, args.repetitions))
        extra = [c for centre, around in advised.proofs.values() for c in (centre, *around)]
        loaded = load_plan(
            plan.with_models([args.built]),
            adjust=lambda m: _sitting_matrix(m, model, release, picks, cpu, extra, kernels),
        )
    else:
        loaded = load_plan(plan)
    building = _build_plan(loaded)
    if plan.listing:
        print("\n".join(f"  {job.id}" for job in building.plan.jobs if job.stage == "compile"), file=out)
        print(listed_settings(loaded), file=out)
        return 0
    code, summary = run_plan(building, plan.run, plan.cache, out=out)
    return code if summary.interrupted else _pack(loaded, args, where, cpu, plan.cache, out, advised)


def _pack(
    loaded: Loaded,
    args: Settings,
    where: Where,
    cpu: str,
    cache: Path,
    out: TextIO,
    advised: Optional[Advised],
) -> int:
    """The compiled cells (and with --advise the sittings, each with its proof's neighbourhood),
    their runtime wheels and run.py, packed into `args.to`."""
    to, latest, store = args.to, folder_log(loaded.results_dir).latest(), Store(cache / "store")
    assert to is not None
    run_flags = {name: kernel.run_flags for name, kernel in loaded.matrix.kernels.items()}
    found, left = bundle.cells(loaded.plan, latest, store, where, run_flags)
    for line in left:
        print(f"not in the bundle: {line}", file=out)
    if not found:
        raise UserError("bundle: no compiled cell to carry (each is listed above with why)")
    for line in refused_pairs(found, shipped_records()):
        logger.warning(f"bundle: {line}")
    wheels = bundle_runtimes.wheels(found, where, cache)
    tools = bundle_runtimes.source_tools(found, latest, store, cache)
    files = bundle.plan_files(found, wheels, tools)
    sittings: list[dict[str, Any]] = []
    if advised is not None and advised.gpu:
        sittings, peer_files = gpu_sitting.sittings(
            loaded.plan, found, advised.proofs, lambda name: search.parse(name).profile
        )
        files.update(peer_files)
        if not sittings:
            raise UserError(
                "bundle: no GPU target's module compiled, so no GPU sitting (each is listed above)"
            )
        logger.info(f"bundle: {gpu_sitting.count(sittings)}")
    elif advised is not None:
        sittings, peer_files = bundle.sittings(
            loaded.plan, latest, store, found, cpu, advised.picks, advised.proofs
        )
        files.update(peer_files)
        for sitting in sittings:  # what its answer says of a missing proof: why, and the CPU to bundle
            sitting["cpu"] = cpu
            if not args.proof:
                sitting["proof_skipped"] = True
        # A kernel arm as advise keeps it: the flags with its spec, its directory and build command,
        # whether its spec applied, and an arm whose compile failed with why (it did not travel).
        bundle_kernels.describe_arms(sittings, loaded, latest, found, cpu)
    document = bundle.manifest(to.name, found, wheels, files, sittings, args.repetitions, tools, gaps.GAP)
    # Weights once: modules of one model share most of their bytes; each distinct chunk travels once.
    files, chunked, saved = bundle_chunks.packed_files(files, cache)
    if chunked:
        document = {**document, "modules_packed": chunked}
        logger.info(
            f"bundle: {len(document['cells'])} cells' modules packed as chunks, each distinct one "
            f"once: {saved / MIB:.1f} MiB less"
        )
    size = bundle.size_of(files)
    print(f"{_counted(found, sittings, wheels, tools)}, {size / MIB:.1f} MiB -> {to}", file=out)
    if args.max_size is not None and size > args.max_size * MIB:
        raise UserError(f"bundle: {size / MIB:.1f} MiB is over --max-size {args.max_size:g} MiB; fewer cells")
    packed = bundle.write(to, document, files, cache)
    print(
        f"wrote {to} ({packed.bytes / MIB:.1f} MiB) and {packed.archive} "
        f"({packed.archive_bytes / MIB:.1f} MiB); bundle {packed.digest[:12]}.\n"
        f"There: python3 run.py (Python >= 3.9 and numpy). Back here: iree-matrix merge RESULTS --to DIR",
        file=out,
    )
    return 0


def _counted(found: Sized, sittings: Sequence[Mapping[str, Any]], wheels: Sized, tools: Sized) -> str:
    """What the bundle carries, counted: its cells (those only a proof needs said), runtimes."""
    built = f", {len(tools)} runtime(s) built from source" if tools else ""
    # The cells only a proof needs (a neighbour that is also a pick is an arm anyway); a GPU sitting
    # has one proof per target (`proofs`).
    arms = {a["job"] for s in sittings for a in s["arms"]}
    proofs = [p for s in sittings for p in [s.get("proof") or {}, *s.get("proofs", ())]]
    proved = len({n["job"] for p in proofs for n in p.get("neighbours", ()) if "job" in n} - arms)
    among = f" ({proved} of them the picks' neighbourhoods)" if proved else ""
    return f"bundle: {len(found)} cells{among}, {len(wheels)} runtime wheel(s){built}"


def _where(args: Settings) -> Where:
    here = Where.here()
    pythons = tuple(dict.fromkeys(p.strip() for p in args.python if p.strip())) or here.pythons
    for python in pythons:
        if not re.fullmatch(r"3\.(9|1[0-9])", python):
            raise UserError(f"bundle --python {python!r}: a CPython 3.9 or newer, as X.Y (e.g. 3.12)")
    return Where(pythons, args.machine or here.machine)


def _build_plan(loaded: Loaded) -> Loaded:
    """The plan's exports, compiles, peers and source-built runtimes (what travels), not its runs:
    those happen there."""
    from iree_matrix.matrix import plan

    compiles = [job.id for job in loaded.plan.jobs if job.stage == "compile"]
    if not compiles:
        raise UserError(f"bundle: {loaded.path} (with --select) plans no compile; nothing to carry")
    others = [job.id for job in loaded.plan.jobs if job.stage in ("peer", "runtime-build")]
    return dataclasses.replace(loaded, plan=plan.select(loaded.plan, [*compiles, *others]))


def _cpu(args: Settings) -> str:
    cpu = (args.cpu or "").strip()
    if args.targets and not args.advise:
        raise UserError("bundle --target: for --advise MODEL (a matrix file names its targets in `arch`)")
    if args.targets and cpu:
        raise UserError("bundle --advise: --cpu or --target, not both (a sitting times one device)")
    if args.advise and not cpu and not args.targets:
        raise UserError(
            "bundle --advise MODEL: name the target's CPU, --cpu LLVM_CPU (znver4, emeraldrapids, "
            "x86-64-v3), or its GPU, --target cuda:sm_80 (repeatable)"
        )
    if cpu and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", cpu):
        raise UserError(f"bundle --cpu {cpu!r}: not an LLVM CPU name (znver4, emeraldrapids, x86-64-v3, …)")
    if cpu and not args.advise:
        raise UserError(
            "bundle --cpu: for --advise; a matrix file names its CPUs in its profiles (target_cpu)"
        )
    if cpu and (why := targets.host_cpu_problem(cpu)) is not None:
        raise UserError(f"bundle --cpu {cpu}: {why}")  # before anything is compiled for it
    return cpu


@dataclasses.dataclass(frozen=True)
class Centre:
    """A function's proof centre: the configuration whose neighbourhood travels, and its CPU ms per
    call where a published answer timed it (on `where`), for the estimate said before building."""

    config: str
    ms: Optional[float] = None
    where: str = ""


@dataclasses.dataclass(frozen=True)
class Advised:
    """What a sitting bundle carries besides default and the naive build: the picks (its arms) and
    each function's proof (its centre and the centre's one-knob neighbours; "" every function); or,
    `gpu`, a GPU sitting's arms (default by each release for each target), its proofs then keyed by
    the centre arm's name ("3.13.0 cuda:sm_80": `default` of the first release on each target)."""

    picks: tuple[str, ...]
    proofs: Mapping[str, tuple[str, tuple[str, ...]]]
    gpu: bool = False


def _gpu_plan(plan: PlanSettings, args: Settings) -> tuple[Loaded, Advised]:
    """advise's matrix for a GPU sitting: `default` compiled by each release for each target, and unless
    --no-proof its one-knob neighbourhood by the first release for each target (the knobs that compile for a
    GPU); no picks or ONNX Runtime (not a GPU peer: torch is, built there from the model's source)."""
    assert args.advise
    model = args.advise
    labels = list(dict.fromkeys(gpu_sitting.parse_target(t).label for t in args.targets))
    if args.picks:
        raise UserError("bundle --picks: a GPU sitting times `default` (its chip flag is the answer's knob)")
    releases = gpu_sitting.releases(args.release, NEWEST)  # GPU answers are not published yet
    logger.info(
        f"bundle --advise {model}: a GPU sitting of `default` by IREE {', '.join(releases)} for "
        f"{', '.join(gpu_sitting.spelled(t) for t in labels)}"
    )
    proofs = _say_gpu_proofs(releases[0], labels) if args.proof else {}
    adjust = functools.partial(_gpu_sitting_matrix, releases=releases, labels=labels, proofs=proofs)
    return load_plan(plan.with_models([args.built]), adjust=adjust), Advised((), proofs, gpu=True)


def _say_gpu_proofs(release: str, labels: Sequence[str]) -> Proofs:
    """Each target's proof (keyed by its centre arm's name) and what it costs, said first."""
    proofs: Proofs = {}
    for label in labels:
        # The knobs that compile for a GPU (findings/neighbourhood.py `for_gpu`, the compile stage's rule).
        around = _neighbours(
            gpu_sitting.CONFIG, neighbourhood.for_gpu(neighbourhood.accepted_knobs(release), release, label)
        )
        target = gpu_sitting.spelled(label)
        proofs[f"{release} {target}"] = (gpu_sitting.CONFIG, around)
        logger.info(
            f"proof of `{gpu_sitting.CONFIG}` by IREE {release} for {target}: its {len(around)} one-knob "
            f"neighbours ({', '.join(around) or 'none'}), {len(around)} compiles here; there each cell is "
            f"checked against torch and timed beside it in the sitting's rounds, about "
            f"{progress.clock(len(around) * _CELL_SECONDS)} more and a GPU's calls; --no-proof leaves "
            "them out"
        )
    return proofs


def _gpu_sitting_matrix(
    matrix: spec.MatrixSpec,
    releases: Sequence[str],
    labels: Sequence[str],
    proofs: Optional[Mapping[str, tuple[str, Sequence[str]]]] = None,
) -> spec.MatrixSpec:
    """advise's matrix made a GPU sitting's: its model under `default`, each release x target, each
    module run by its own release's runtime, and each proof's neighbours for its centre's release and
    target; no peers (the sitting's are torch's, there)."""
    matrix = spec.with_profiles(matrix, ["default"])
    template = matrix.cells[0]
    pairs = [(r, label) for r in releases for label in labels]
    cells = {(r, arch): dataclasses.replace(template, compiler=r, runtime=r, arch=arch) for r, arch in pairs}
    matrix = dataclasses.replace(matrix, cells=tuple(cells.values()), peers=())
    extra = [  # each proof's neighbours, on its centre's cell
        dataclasses.replace(cell, model=config.model(template.model), profile=config.profile)
        for (r, label), cell in cells.items()
        for config in map(search.parse, (proofs or {}).get(f"{r} {gpu_sitting.spelled(label)}", ("", ()))[1])
    ]
    return spec.with_cells(matrix, extra) if extra else matrix


ANY_FUNCTION = ""  # a centre for every function of the model (no published answer names them)


def _published(
    model: str, release: Optional[str], given: Sequence[str] = ()
) -> tuple[str, list[str], dict[str, Centre]]:
    """The release to advise on (the published answers' for MODEL, else the newest), its picks (the
    published ones, or `given`) and each function's proof centre: the first given pick, else the
    function's published answer (the one most identities chose; `default` where none was faster),
    else `default` for every function."""
    from collections import Counter

    found = [a for a in advice.published(shipped.results_dir() / advice.DIRNAME) if a.model == model]
    chosen = release or (Counter(a.release for a in found).most_common(1)[0][0] if found else NEWEST)
    found = [a for a in found if a.release == chosen]
    if given:
        picks = list(dict.fromkeys(_checked_pick(p) for p in given))
        return chosen, picks, {ANY_FUNCTION: Centre(picks[0])}
    picks = sorted({a.config for a in found} - {"default", "generic"})
    centres: dict[str, Centre] = {}
    for function in sorted({a.function for a in found}):
        answers = [a for a in found if a.function == function]
        config = Counter(a.config for a in answers).most_common(1)[0][0]
        timed = next(a for a in answers if a.config == config)
        centres[function] = Centre(config, timed.ms, timed.identity.short)
    return chosen, picks, centres or {ANY_FUNCTION: Centre("default")}


def _checked_pick(name: str) -> str:
    from iree_matrix.iree.flags import BUILTIN_PROFILES

    name = name.strip()
    unknown = sorted(k for k in search.parse(name).knob_set if k not in BUILTIN_PROFILES)
    if not name or unknown:
        raise UserError(
            f"bundle --picks {name!r}: {', '.join(repr(k) for k in unknown) or 'an empty name'} is not a "
            "knob; a pick is built-in profiles joined with '+' (e.g. data-tiling+loop-unrolling)"
        )
    return name


def _keeps_cpu(config: str) -> bool:
    """Whether `config` compiles for the bundle's named CPU: none of its knobs names a CPU of its own."""
    knobs = sorted(search.parse(config).knob_set)
    return list(neighbourhood.for_named_cpu(knobs)) == knobs


def _neighbours(centre: str, knobs: Sequence[str]) -> tuple[str, ...]:
    """The proof's one-knob neighbourhood of `centre` as advise's proof makes it, over `knobs`."""
    return tuple(str(c) for c in neighbourhood.neighbours(search.parse(centre), knobs))


# What run.py spends on each neighbour beyond its sitting's rounds: its cell, checked against torch
# and timed (its MIN_REPETITIONS passes of at least MIN_REPETITION_SECONDS each).
_CELL_SECONDS = 5 * 0.5
_ROUNDS = 8  # run.py's default --rounds


def _say_proofs(centres: Mapping[str, Centre], release: str, calls: int) -> Proofs:
    """Each function's centre and its neighbours (compiled beside the picks), their count and what
    they cost there said first, as advise says its proof's."""
    proofs: Proofs = {}
    for function, centre in sorted(centres.items()):
        # Less the knobs that name a CPU of their own: the bundle compiles for the target's.
        around = _neighbours(
            centre.config, neighbourhood.for_named_cpu(neighbourhood.accepted_knobs(release))
        )
        proofs[function] = (centre.config, around)
        each = _CELL_SECONDS + (_ROUNDS * (calls + 1) * centre.ms / 1000.0 if centre.ms else 0.0)
        at = f" at the published {centre.ms:.3g} ms a call on {centre.where}" if centre.ms else ""
        logger.info(
            f"proof of {function or 'each function'}: `{centre.config}` and its {len(around)} one-knob "
            f"neighbours, compiled here; there each is checked against torch and timed beside it in the "
            f"sitting's rounds, about {progress.clock(len(around) * each)} more{at}; --no-proof leaves "
            "them out"
        )
    return proofs


def _sitting_matrix(
    matrix: spec.MatrixSpec,
    model: str,
    release: str,
    picks: Sequence[str],
    cpu: str,
    around: Sequence[str] = (),
    kernels: Sequence[str] = (),
) -> spec.MatrixSpec:
    """advise's matrix for a sitting on another CPU: advise's arms (advise_plan.arms) and each proof's
    centre and neighbour (`around`), compiled by one release for the named LLVM CPU instead of `host`
    (but the naive build, for no CPU); the peers as the matrix file names them."""
    named = NamedCpu(cpu)
    matrix = advise_plan.one_release(matrix, ["generic"], [cpu], release)  # kernel cells: the arms below
    template = matrix.cells[0]
    kept = [advise_plan.Pick.named(p, release, "") for p in picks if p != "default" and _keeps_cpu(p)]
    sitting = advise_plan.SittingPlan(release, tuple(kept), ())
    planned = advise_plan.arms(sitting, {k: matrix.kernels[k] for k in kernels}, model)
    built = [(a.pick.config, a.kernel) for a in planned if a.name != search.NAIVE]  # a kernel's: its base's
    extra = []
    for base, kernel in built + [(Config.parse(c), "") for c in around if _keeps_cpu(c)]:
        config = base.with_cpu(named).sorted()  # spelled as the search spells a profile
        extra.append(
            dataclasses.replace(template, model=config.model(model), profile=config.profile, kernel=kernel)
        )
    return spec.with_cells(matrix, extra)


def shipped_records() -> list[Record]:
    """The published results installed with the tool (core/shipped.py; [] where there are none):
    what the load windows are read from."""
    try:
        published = results_folder.load(shipped.results_dir())
    except FileNotFoundError:
        return []
    return published.records


def refused_pairs(found: Sequence[BundledRun], published: Sequence[Record]) -> list[str]:
    """Each (compiler, runtime) pair of the cells whose runtime the published results saw refuse that
    compiler's modules (a source-built runtime is its release's), said before packing; the cells still
    travel: a refusal on the target is an answer, recorded as one."""
    pairs: dict[tuple[str, str], list[str]] = {}
    for cell in found:
        labels = Labels.of(cell.labels)
        compiler, runtime = labels.compiler, cell.runtime
        release = Runtime.parse(runtime).release  # "src:3.9.0+static" is 3.9.0's runtime
        if compiler and release != compiler and versions.is_valid(compiler) and versions.is_valid(release):
            pairs.setdefault((compiler, release), []).append(labels.model or "?")
    said = []
    for (compiler, release), models in sorted(pairs.items()):
        answer = query.load(published, compiler, release)
        if answer.answer != load_windows.Load.REFUSES.value:
            continue
        first = answer.lines[0].removeprefix("refuses: ")
        said.append(
            f"{len(models)} cell(s) ({', '.join(sorted(set(models)))}) pair compiler {compiler} with runtime "
            f"{release}, and the published results say {first}: run.py will record that refusal; "
            f"bundle a compiler whose modules {release} loads "
            f"(`iree-matrix query load --compiler C --runtime {release}`)"
        )
    return said
