"""`iree-matrix advise MODEL`: the published answer made this machine's, in one paired sitting. It builds
advise's matrix (matrix/advise.toml), times default, the picks, the naive build and the peers again on one
thread, interleaved, proves the picks, prints this CPU's answer and keeps the sitting
(RESULTS_DIR/advice-MODEL.STARTED.json) for publishing. The phases are advise/'s; they build through
`_Builds` (this task owns advise's matrix and runs it)."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Optional, TextIO

from iree_matrix.advise import advise_answer, advise_library, advise_plan, advise_proof, advise_sitting
from iree_matrix.advise.advise_plan import (
    Pick,
    Settings,
    SittingPlan,
    adjusted,
    arms,
    choose,
    cost_text,
    isa_note,
    proof_cost,
    search_picks,
    sitting_peers,
)
from iree_matrix.core import console, shipped
from iree_matrix.core.cache_layout import CacheLayout
from iree_matrix.core.model import host_identity
from iree_matrix.core.model.configuration import Config
from iree_matrix.core.model.results import Record, Status, folder_log
from iree_matrix.core.model.store import Store
from iree_matrix.core.system import locks
from iree_matrix.execution import stage_times, workflow
from iree_matrix.execution.workflow import EXIT_INTERRUPTED, PlanSettings, load_plan
from iree_matrix.findings import advice
from iree_matrix.findings import gap as gaps
from iree_matrix.findings.advice import MATRIX
from iree_matrix.iree import torch_ops
from iree_matrix.kernel.kernels import Kernel
from iree_matrix.matrix import export_recipes as recipes
from iree_matrix.matrix import models, peers, tried
from iree_matrix.stages.artifacts import MLIR
from iree_matrix.tasks.runs import listed, run_plan

logger = console.logger(__name__)

__all__ = ["MATRIX", "Settings", "run"]


def run(matrix: PlanSettings, settings: Settings, reference: str, base_model: str, out: TextIO) -> int:
    """Build `reference` (the model named `base_model`) as advise's matrix, sit it here, prove its
    picks, keep the sitting and print this CPU's answer on `out`; the exit code."""
    matrix = matrix.with_models([reference])
    root = shipped.results_dir()
    published = advice.published(root / advice.DIRNAME)
    plan = choose(settings, base_model, published, search_picks(root))
    logger.info(
        f"advise {base_model}: IREE {plan.release}; default, the naive build (generic), "
        f"{len(plan.picks)} pick(s) ({', '.join(p.name for p in plan.picks) or 'none published'})"
        + (f", for a fleet: {', '.join(plan.fleet)}" if plan.fleet else "")
        + "".join(f", {p.name} on {p.release} (the other release's pick)" for p in plan.rivals)
    )
    if settings.release is None and (note := isa_note(plan, host_identity.here())):
        logger.warning(f"advise {base_model}: {note}")
    advising = _Advise(matrix, settings, reference, base_model, plan, out)
    loaded = advising.load()
    peer_names = sitting_peers(loaded.matrix.peers)
    logger.info(f"peers, one thread each: {', '.join(peers.display(p) for p in peer_names) or 'none'}")
    kernels = loaded.matrix.kernels
    planned = arms(plan, kernels, base_model)
    if kernels:
        kernel_arms = [a.name for a in planned if a.kind == advice.KERNEL]
        logger.info(
            f"kernels: {', '.join(kernel_arms) or 'none meant for ' + base_model} "
            "(each timed against the configuration it is swapped into; taken only where faster beyond noise)"
        )
    if matrix.listing:
        return listed(loaded, out)
    nearest = advice.nearest([a for a in published if a.model == base_model], host_identity.here())
    # One hold of the cache for the builds, the sitting and the proof: a run queued behind this one
    # (`--wait`) starts after it, never between its phases.
    with contextlib.ExitStack() as held:
        try:
            lock = locks.cache_lock(matrix.cache, wait=matrix.run.wait, report=logger.info, reentrant=True)
            held.enter_context(lock)
        except (KeyboardInterrupt, locks.LockCancelled):  # Ctrl-C while it waited for the cache
            return EXIT_INTERRUPTED
        logger.info(advising.cost(loaded, nearest, planned))
        return advising.sit(loaded, planned)


@dataclasses.dataclass(frozen=True)
class _Advise:
    """One advise of `model` (built as `reference`) on `plan`: its phases after the plan, and
    advise_sitting.Builds by advise's matrix (`plan`'s model built as advise builds its sitting)."""

    matrix: PlanSettings
    settings: Settings
    reference: str
    model: str
    plan: SittingPlan
    out: TextIO

    def cost(self, loaded: Any, nearest: Any, planned: Sequence[Any]) -> str:
        """advise's whole cost here, said before it builds (advise_plan.cost_text says of each part)."""
        from iree_matrix.execution.execute import plan_estimates

        matrix, settings, plan, model = self.matrix, self.settings, self.plan, self.model
        peers, found = sitting_peers(loaded.matrix.peers), nearest.advice if nearest is not None else ()
        call_ms = found[0].ms if found else None
        proof = proof_cost(plan, model, settings.sitting, matrix.run.jobs, call_ms, len(found) or 1)
        backend = "docker" if matrix.run.backend == "docker" else "venv"
        store = Store(CacheLayout(matrix.cache).store)
        latest = folder_log(loaded.results_dir).latest()
        estimates = plan_estimates(loaded.matrix, loaded.plan, latest, store, matrix.run, backend)
        builds = estimates.left(list(estimates.seconds), {})
        sitting = None
        if found:  # at the nearest identity's times, scaled by this CPU's published speed
            speed = stage_times.published().speed_of
            ratio = speed(host_identity.here().identity) / speed(found[0].identity.key)
            sitting = ratio * advise_plan.sitting_seconds(found, planned, len(peers), settings.sitting)
        library = 0.0
        if shelf := _shelf(settings):
            generic = {n: k for n, k in shelf.items() if not k.models}
            given = loaded.matrix.kernels
            meant = {n for n, k in shelf.items() if k.models and k.for_model(model)} - set(given)
            meant |= set(advise_library.wanted(found, generic, given, model))
            jobs = matrix.run.jobs
            library = advise_plan.library_seconds(len(meant), plan, model, jobs, settings.sitting, call_ms)
        arms = len(planned) + len(peers)
        return cost_text(settings, len(loaded.plan.jobs), arms, builds, sitting, proof, library)

    def sit(self, loaded: Any, planned: Sequence[Any]) -> int:
        """Build, sit, prove and keep advise's sitting (under its cache's lock); the exit code."""
        settings, reference, base_model, out = self.settings, self.reference, self.model, self.out
        cache, kernels, results = self.matrix.cache, loaded.matrix.kernels, folder_log(loaded.results_dir)
        code, summary = self.run_plan(loaded)
        if not summary.interrupted and (routed := _routed(self.plan, summary.records.values())) != self.plan:
            logger.info(
                f"advise {base_model}: default failed; its hint's profile {routed.picks[-1].name} "
                "is timed too"
            )
            self = dataclasses.replace(self, plan=routed)  # this advise is the routed plan's from here
            loaded, planned = self.load(), arms(routed, kernels, base_model)
            code, summary = self.run_plan(loaded)
        if summary.interrupted:
            return code or EXIT_INTERRUPTED
        # the model as it is now
        peers, ref = sitting_peers(loaded.matrix.peers), loaded.matrix.models.get(base_model)
        mlir = _exported_mlir(summary.records.values(), cache)
        sitter = advise_sitting.Sitter(settings.sitting, base_model, cache, peers, ref, mlir)
        document = advise_sitting.run(sitter, planned, list(summary.records.values()), kernels=kernels)
        if settings.no_proof:  # the answer then says why it has no neighbourhood (not "predates")
            document["proof_skipped"] = True
        # Each function's answer as the sitting left it (what each proof starts from), then as proved and
        # sat again (whose kernels' proofs are kept and whose gaps to the best peer are explained).
        sat = advice.derive(document)
        advise_proof.prove(settings, sitter, self.plan, document, sat, self, kernels)
        found = advice.derive(document)
        advise_sitting.keep_kernel_proofs(document, found)
        advise_sitting.explain(settings, base_model, document, advice.trailing(found), self, kernels)
        self.library(sitter, document, kernels)
        # the gaps the library left: a kernel that took the pools' gather leaves no route to follow
        routes = _routes(settings, reference, advice.derive(document))
        # An interrupted sitting never replaces a finished one: it is kept apart, where no answer is read.
        kept = advise_sitting.write(loaded.results_dir, base_model, document)
        here = workflow.where(loaded.matrix.path, loaded.results_dir, cache)  # what its commands keep
        said, code = advise_answer.answer(document, kept, base_model, reference, results.path, here)
        print("\n".join(said), file=out)
        routes = [] if document.get("interrupted") else routes  # Ctrl-C in the library: stop there
        for exported in (f"{reference}{recipes.SEP}{recipe}" for recipe in routes):  # the answer's `next:`
            logger.info(f"advise {base_model}: its gap names the export recipe: advising {exported} next")
            followed = run(self.matrix, settings, exported, models.resolve(exported, Path.cwd()).name, out)
            if followed == EXIT_INTERRUPTED:  # Ctrl-C in the route's advise stops this one too: not 0
                return followed
            code = code or followed
        return code

    def library(
        self, sitter: advise_sitting.Sitter, document: dict[str, Any], kernels: Mapping[str, Kernel]
    ) -> None:
        """The kernel library against the gaps `explain` kept (advise/advise_library.py): each kernel that
        computes a kind holding an answer's gap, swapped into default and the picks and sat again beside
        them; then the gap of an answer that took one, profiled with it."""
        if document.get("interrupted") or not (shelf := _shelf(self.settings)):
            return
        found, model, plan = advice.derive(document), sitter.model, self.plan
        asked = advise_library.wanted(found, shelf, kernels, model)
        chosen, left_out = advise_library.for_ops(asked, shelf, _model_lines(sitter.mlir) if asked else {})
        if left_out:
            logger.info(f"advise {model}: {left_out}")
        if not chosen:
            return
        logger.info(f"advise {model}: {advise_library.said(chosen, shelf, found)}")
        directories = [str(shelf[n].directory) for n in chosen]
        widened = dataclasses.replace(self.matrix, kernels=(*self.matrix.kernels, *directories))
        named = {p.name for p in plan.picks} | {"default", "generic"}
        answers = [a for a in found if a.release == plan.release and a.config not in named]
        again = plan.with_picks([Pick.named(a.config, plan.release, advise_proof.SOURCE) for a in answers])
        every = {**kernels, **{n: shelf[n] for n in chosen}}
        builds = dataclasses.replace(self, matrix=widened, plan=again)
        if (records := builds.sitting(again)) is None:
            document["interrupted"] = True
            return
        fns, planned = {f for names in chosen.values() for f in names}, arms(again, every, model)
        resat = advise_sitting.run(sitter, planned, list(records.values()), only=fns, kernels=every)
        advise_sitting.sat_again(document, resat, why="with the kernel library's " + ", ".join(chosen))
        found = advice.derive(document)
        advise_sitting.keep_kernel_proofs(document, found)
        changed = [a for a in advice.trailing(found) if a.gap is None]  # took a library kernel: profile it so
        advise_sitting.explain(self.settings, model, document, changed, builds, every)

    def alone(
        self, configs: Sequence[Config], profiled: bool = False, kernels: bool = False
    ) -> Optional[dict[str, Record]]:
        only = self.plan.only(configs, advise_proof.SOURCE, kernels=kernels)
        return self.sitting(only, profiled=configs if profiled else ())

    def load(self, plan: Optional[SittingPlan] = None, profiled: Sequence[Config] = ()) -> Any:
        """advise's matrix for `plan` (default: this advise's) loaded; `profiled`: the configurations
        whose runs have the run stage's in-context profiler on (`_with_op_profile`)."""

        def adjust(m: Any) -> Any:
            m = adjusted(m, self.model, plan or self.plan)
            return _with_op_profile(m, profiled) if profiled else m

        return load_plan(self.matrix, adjust=adjust)

    def run_plan(self, loaded: Any) -> Any:
        return run_plan(loaded, self.matrix.run, self.matrix.cache, out=self.out, advising=True)

    def sitting(self, plan: SittingPlan, profiled: Sequence[Config] = ()) -> Optional[dict[str, Record]]:
        """Compile, run and check what `plan` times, as advise's matrix builds it (stored ones are
        reused at once): every record of that run by job, or None when it was interrupted."""
        _, summary = self.run_plan(self.load(plan, profiled))
        return None if summary.interrupted else dict(summary.records)


def _routes(settings: Settings, reference: str, found: Sequence[advice.Advice]) -> list[str]:
    """The export recipes the answers' gaps name (an adaptive pool's: `fx+decompose`), to follow."""
    skip = settings.library == "none" or settings.no_gap or models.split_recipe(reference)[1]
    return [] if skip else list(dict.fromkeys(r for a in found if a.gap for r, _ in gaps.recipes_for(a.gap)))


def _routed(plan: SittingPlan, records: Iterable[Record]) -> SittingPlan:
    """`plan` with the profile a hint names for `default`'s failed compile (`stack-1m`) as one more pick."""
    named = {p.name for p in plan.picks}
    if profiles := [p for r in records if (p := tried.next_profile(r)) and p not in named]:
        return plan.with_picks([Pick.named(profiles[0], plan.release, advice.HINTED)])
    return plan


def _exported_mlir(records: Iterable[Record], cache: Path) -> Optional[Path]:
    """Where the sitting's export stored its model.mlir (None: no export of it ran)."""
    export = next((r for r in records if r.stage == MLIR.stage and r.status is Status.OK and r.key), None)
    return Store(CacheLayout(cache).store).entry_path(MLIR.stage, export.key) / MLIR.path if export else None


def _model_lines(mlir: Optional[Path]) -> dict[str, str]:
    """Its lines (iree/torch_ops.py), read only when the library has kernels to try (100+ MB); {}: unread."""
    with contextlib.suppress(OSError):
        return torch_ops.model_lines(mlir.read_text(encoding="utf-8")) if mlir else {}
    return {}


def _shelf(settings: Settings) -> dict[str, Kernel]:
    """The kernels tried on the gaps (`--library`, else kernels/); none for `--library none`, `--no-gap`."""
    if settings.library == "none" or settings.no_gap:
        return {}
    return advise_library.library(Path(settings.library) if settings.library else shipped.kernels_dir())


def _with_op_profile(matrix: Any, configs: Sequence[Config]) -> Any:
    """`matrix` with the run stage's in-context profiler on for `configs`, with a kernel swapped in
    too (an answer that takes one is profiled as taken), and so the peers', torch eager among them
    (`sitting_peers`: the gap's reference is the sitting's best peer, which may be eager)."""
    values = [c.without_kernel() for c in configs]
    globs = tuple(f"*/{g}" for c in values for g in (c.profile_label, c.with_kernel("*").profile_label))
    opt_in = tuple((k, v) for k, v in matrix.benchmark.opt_in if k != "op_timings")
    mine = dict(matrix.benchmark.opt_in).get("op_timings", ())
    benchmark = dataclasses.replace(matrix.benchmark, opt_in=(*opt_in, ("op_timings", (*mine, *globs))))
    return dataclasses.replace(matrix, benchmark=benchmark, peers=sitting_peers(matrix.peers))
