"""`advise`'s sitting: each function's arms (default, the picks, the naive build, the fleet's and the other
release's builds, each `--kernel` swapped in, and the peers) timed on one thread in paired rounds under the
quiet lock, then each answer's kernel proofs and gap kept in its entry, and the sitting kept in its own
file (RESULTS_DIR/advice-MODEL.STARTED.json, `file_name`)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, Optional, Protocol

from iree_matrix.advise import paired_rounds
from iree_matrix.advise.advise_plan import PlannedArm, Settings, SittingPlan
from iree_matrix.core import console
from iree_matrix.core.cache_layout import CacheLayout
from iree_matrix.core.errors import UserError
from iree_matrix.core.model.configuration import Config
from iree_matrix.core.model.metrics.compile import CompileMetrics
from iree_matrix.core.model.metrics.peer import PeerMetrics
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.outcome import now
from iree_matrix.core.model.results import Record, Status
from iree_matrix.execution import abtest
from iree_matrix.findings import advice
from iree_matrix.findings import gap as gaps
from iree_matrix.iree import flags as iree_flags
from iree_matrix.kernel.findings import kernel_trials
from iree_matrix.kernel.kernels import Kernel
from iree_matrix.kernel.model.metrics import KernelMetrics
from iree_matrix.matrix.models import ModelRef

logger = console.logger(__name__)


class Builds(Protocol):
    """How advise's matrix builds what a sitting times (tasks/advise: compile, run and check, stored ones
    reused): every record of that run by job, or None when it was interrupted."""

    def sitting(self, plan: SittingPlan) -> Optional[Mapping[str, Record]]:
        """Every arm of `plan` (a sitting again, with the pick a proof moved to)."""

    def alone(
        self, configs: Sequence[Config], profiled: bool = False, kernels: bool = False
    ) -> Optional[Mapping[str, Record]]:
        """The plan's release's `configs` alone, no kernel unless `kernels` (a proof's neighbours);
        `profiled`: their runs with the run stage's in-context profiler on (a gap)."""


@dataclasses.dataclass(frozen=True)
class Sitter:
    """What every sitting of one advise run shares (the first, the proof's, the library's): how it sits,
    the model, the cache its modules are in, the peers timed beside them and where the model is now."""

    request: paired_rounds.Request
    model: str
    cache: Path
    peer_names: Sequence[str] = ()
    ref: Optional[ModelRef] = None
    mlir: Optional[Path] = None  # the export's model.mlir, where the store keeps it


def run(
    sitter: Sitter,
    arms: Sequence[PlannedArm],
    records: Sequence[Record],
    only: Optional[Collection[str]] = None,
    kernels: Optional[Mapping[str, Kernel]] = None,
) -> dict[str, Any]:
    """The sitting of each function (of `only`, when given): its `arms` (the first is default) and the peers
    timed in paired rounds; `kernels`: the matrix's (`--kernel`), by the name a kernel arm gives."""
    from iree_matrix.core.system import host

    request, model = sitter.request, sitter.model
    releases = {a.pick.release for a in arms}
    runs = [r for r in records if r.stage == "run" and r.label.compiler in releases and not r.label.device]
    runs = [r for r in runs if r.label.own_runtime]
    peers = [r for r in records if r.stage == "peer" and r.status is Status.OK]
    llvms = [r.metric.of(CompileMetrics).llvm_host_cpu for r in records if r.stage == "compile"]
    # The models its arms build: a base and its picks' variant (`@decomposed+…`), or a variant alone
    built = {a.pick.config.model(model) for a in arms}
    names = {r.label.function or "main" for r in runs if r.label.source_model in built}
    functions = sorted(f for f in names if only is None or f in only)
    started, load_start = now(), os.getloadavg()[0]
    document: dict[str, Any] = {
        "schema": advice.SCHEMA,
        "model": model,
        "host": host.describe(),
        "llvm_cpu": next(filter(None, llvms), ""),  # the first compile that named it
        "started": started,
        "rounds": request.rounds,
        "repetitions": request.repetitions,
        "release": arms[0].pick.release,
        "functions": [],
    }
    fleet = [a.pick.config.cpu for a in arms if a.kind == advice.FLEET]
    known = {
        **iree_flags.BUILTIN_PROFILES,
        **{n.name: iree_flags.cpu_profile(n) for n in fleet if n is not None},
    }
    by_job = {r.job: r for r in records}
    for function in functions:
        peer = peer_of(peers, model, function)
        where = _Function(sitter, function, runs, peer, known, by_job, kernels or {})
        arms_meta, interrupted = _sit_function(arms, where)
        document["functions"].append({"function": function, "arms": arms_meta})
        if interrupted:  # Ctrl-C: the functions finished so far, and this one's whole rounds, are kept
            document["interrupted"] = True
            break
    document["finished"] = now()
    document["load_average"] = {"start": load_start, "end": os.getloadavg()[0]}
    return document


def sat_again(
    document: dict[str, Any], resat: Mapping[str, Any], why: str = "with the proof's result"
) -> None:
    """`resat` (the functions sat again: `why`) in `document`: their arms are the new sitting's, said in
    their entries, and the sitting ends when it ended."""
    timed = {e["function"]: e["arms"] for e in resat["functions"]}
    for entry in document["functions"]:
        if entry["function"] in timed:
            entry["arms"] = timed[entry["function"]]
            entry["sat_again"] = f"{why}, {resat['started']}"
    document["finished"] = resat["finished"]
    document["load_average"]["end"] = resat["load_average"]["end"]
    if resat.get("interrupted"):
        document["interrupted"] = True


@dataclasses.dataclass
class _Function:
    """One function's part of the sitting (`sitter`'s): its model's runs, its peer stage's record and
    the profiles a configuration is made of."""

    sitter: Sitter
    function: str
    runs: Sequence[Record]
    peer: Optional[Record]
    known: Mapping[str, iree_flags.Profile]
    by_job: Mapping[str, Record]  # what a kernel arm's compile and object said
    kernels: Mapping[str, Kernel]


def _sit_function(arms: Sequence[PlannedArm], where: _Function) -> tuple[list[dict[str, Any]], bool]:
    """One function's arms timed in paired rounds: each arm's entry (its times under "ms"), and
    whether the sitting was interrupted."""
    from iree_matrix.core.model import stats

    sitter, function = where.sitter, where.function
    request, model = sitter.request, sitter.model
    timed: list[Any] = []
    # The peer workers of the sitting, all ended when it ends (also on Ctrl-C).
    with paired_rounds.scratch() as work, contextlib.ExitStack() as peer_arms:
        arms_meta = [_module_arm(where, arm, timed) for arm in arms]
        arms_meta += [_peer_arm(where, name, Path(work), peer_arms, timed) for name in sitter.peer_names]
        timed = _dedupe(timed, arms_meta)
        if not timed:  # was a ZeroDivisionError traceback in the rounds' rotation
            raise UserError(_nothing_to_time(model, function, arms_meta))
        hint = f"--rounds {stats.MIN_PAIRED_ROUNDS} (the least with a verdict)"
        rounds = paired_rounds.timed(
            request, timed, f"sitting: {function}", function, hint, f"advise {model}"
        )
    for meta in arms_meta:
        if (alias := meta.get("same_as") or meta["name"]) in rounds.names:
            meta["ms"] = list(rounds.of(alias))
    return arms_meta, rounds.interrupted


def _module_arm(where: _Function, arm: PlannedArm, timed: list[Any]) -> dict[str, Any]:
    """An IREE arm's entry; a module that can be timed joins `timed`."""
    name, config, release = arm.name, arm.pick.config, arm.pick.release
    meta: dict[str, Any] = {
        "name": name,
        "kind": arm.kind,
        "release": release,
        "config": arm.pick.name,
        "source": arm.source,
        "base": arm.base,
    }
    kernel = where.kernels.get(arm.kernel) if arm.kernel else None
    if kernel is not None:
        meta.update(kernel=kernel.name, kernel_dir=kernel.shown_directory())
    if (named := config.cpu) is not None:
        meta["cpu"] = named.cpu
    try:
        profile = iree_flags.combine(config.profile, where.known)
        meta["flags"] = iree_flags.compile_flags(release, "x86_64", profile)
    except (KeyError, ValueError) as exc:
        meta["error"] = f"not a configuration of {release}: {exc}"
        return meta
    label = config.with_kernel(kernel.name if kernel is not None else "").profile_label
    run = run_of(where.runs, config.model(where.sitter.model), where.function, label, release)
    if kernel is not None:
        from iree_matrix.iree import targets
        from iree_matrix.kernel.stages.kernel_build import job_cell

        built = "kernel:" + job_cell(
            kernel.name, "x86_64", iree_flags.target_cpu(targets.parse("x86_64"), profile)
        )
        _kernel_facts(meta, run, kernel, where, built)
        meta.update(kernel.arm_flags(meta["flags"], release))  # a plugin's: the flag that loads it
    if run is None:
        meta["error"] = "no run of it in this run's results"
    elif meta.get("error"):
        pass  # a kernel that did not build, compile or apply: said by _kernel_facts
    elif run.status is not Status.OK:
        meta["error"] = f"{run.status.value}: {(run.message or '').splitlines()[0] if run.message else ''}"
        meta["matches"] = False if run.status is Status.MISMATCH else None
    else:
        metrics = run.metric.of(RunMetrics)
        meta["matches"] = None if metrics.matches is None else bool(metrics.matches)
        meta["module_sha256"] = metrics.module_sha256 or ""
        median = metrics.cpu_time.median if metrics.cpu_time is not None else None
        try:
            module = abtest.arm_of(run, name, [where.sitter.cache])
            timed.append(paired_rounds.ModuleArm(name, module, median))
        except abtest.NotComparable as exc:
            meta["error"] = str(exc)
    return meta


def _kernel_facts(
    meta: dict[str, Any], run: Optional[Record], kernel: Kernel, where: _Function, job: str
) -> None:
    """A kernel arm's facts beside its times: the command that built its object (`job`, for the arm's CPU)
    and where it is stored, whether the spec applied, and why no module can be timed where the kernel,
    compile or spec failed."""
    from iree_matrix.stages.artifacts import KERNEL_OBJECTS

    if (built := where.by_job.get(job)) is not None and built.command:
        meta["kernel_build"] = build_command(built, kernel)
    if built is not None and built.status is Status.OK and built.key:
        meta["kernel_object"] = str(
            CacheLayout(where.sitter.cache).store / "kernel" / built.key / KERNEL_OBJECTS.path
        )
    if run is None:
        return
    if (compiled := where.by_job.get("compile:" + run.cell)) is not None and compiled.status is Status.OK:
        meta["applied"] = compiled.metric.of(CompileMetrics).kernel_applied
    if run.status is Status.NOT_RUN:
        failed = where.by_job.get(run.blocked_by or "") or compiled
        if failed is not None and failed.status is not Status.OK:
            words = (failed.message or "").splitlines()[0] if failed.message else failed.status.value
            meta["error"] = f"{failed.error_class or failed.status.value}: {words}"
            if failed.error_class == "kernel-not-applied":
                meta["applied"] = False


def build_command(built: Record, kernel: Kernel) -> str:
    """The kernel job's commands as a user runs them in the kernel's directory, one line: its record's
    `steps` (an older record: its last `command` alone), Zig's clang by `python -m ziglang`, every path in
    the store's staging by its bare name, so the objects land beside the sources."""
    import shlex

    from iree_matrix.kernel.iree import custom_dispatch

    recorded = built.metric.of(KernelMetrics).steps
    steps = [s for s in recorded if isinstance(s, list) and s and all(isinstance(a, str) for a in s)]
    if not steps or len(steps) != len(recorded):  # none kept, or not as written: the last alone
        steps = [list(built.command)]
    lines = []
    for argv in steps:
        argv = list(argv)
        if len(argv) > 2 and argv[1:3] == ["-m", custom_dispatch.CC_MODULE]:  # the environment's python
            argv[0] = "python"
        lines.append(shlex.join(Path(a).name if a.startswith("/") else a for a in argv))
    return kernel_trials.in_subshell(f"cd {shlex.quote(kernel.shown_directory())} && {' && '.join(lines)}")


def _peer_arm(
    where: _Function, name: str, work: Path, peer_arms: contextlib.ExitStack, timed: list[Any]
) -> dict[str, Any]:
    """A peer's arm entry; its worker, started, joins `timed`."""
    peer = where.peer
    meta: dict[str, Any] = {"name": name, "kind": advice.PEER, "config": name}
    if peer is None:
        meta["error"] = "the peer stage did not run"
        return meta
    onnx = CacheLayout(where.sitter.cache).store / "peer" / peer.key / "model.onnx"
    try:
        argv = paired_rounds.peer_argv(
            peer, name, onnx if onnx.is_file() else None, work, [where.sitter.cache], where.sitter.ref
        )
        arm = peer_arms.enter_context(paired_rounds.PeerArm(name, argv, work, peer_call_ms(peer, name)))
        meta.update({k: v for k, v in arm.about.items() if k != "ready"})
        timed.append(arm)
    except (abtest.NotComparable, paired_rounds.PeerFailed, OSError, ValueError) as exc:
        meta["error"] = str(exc)
    return meta


def run_of(runs: Sequence[Record], model: str, function: str, profile: str, release: str) -> Optional[Record]:
    found = (r for r in runs if (r.label.source_model, r.label.function or "main") == (model, function))
    return next((r for r in found if (r.label.profile, r.label.compiler) == (profile, release)), None)


def peer_of(peers: Sequence[Record], model: str, function: str) -> Optional[Record]:
    """The peer record of one function of `model` (its peers ran once for all its arms)."""
    return next(
        (r for r in peers if (r.label.function or "main") == function and r.label.source_model == model), None
    )


def _nothing_to_time(model: str, function: str, metas: Sequence[Mapping[str, Any]]) -> str:
    """Why a sitting has no arm to time (bad inputs, sixth round: every module pruned from the store,
    or not this host's), in one line: the first arm's reason and how many arms share none."""
    why = next((f"{m['name']}: {m['error']}" for m in metas if m.get("error")), "no arm planned")
    return (
        f"advise {model}: no arm of {function} can be timed here ({len(metas)} planned; {why}); run the "
        "matrix again on this host with the same --cache (it rebuilds what is missing), then advise"
    )


def _dedupe(timed: list[Any], metas: list[dict[str, Any]]) -> list[Any]:
    """Byte-identical modules are one program: timed once, the others point at it."""
    first: dict[str, str] = {}
    kept = []
    by_name = {m["name"]: m for m in metas}
    for arm in timed:
        sha = by_name[arm.name].get("module_sha256", "") if isinstance(arm, paired_rounds.ModuleArm) else ""
        if sha in first:
            by_name[arm.name]["same_as"] = first[sha]
            continue
        if sha:
            first[sha] = arm.name
        kept.append(arm)
    return kept


def peer_call_ms(peer: Record, name: str) -> Optional[float]:
    """The peer stage's one-thread CPU ms per call of the peer `name` (None: not recorded)."""
    from iree_matrix.findings.runs_view import Timing

    entry = peer.metric.of(PeerMetrics).peers.get(name)
    figure = Timing.of(entry.get("cpu_ms")) if isinstance(entry, Mapping) else None
    return figure.median if figure is not None else None


def keep_kernel_proofs(document: dict[str, Any], found: Sequence[advice.Advice]) -> None:
    """Each function's kernel arms against the configuration they were swapped into (`found`'s answer),
    kept in its entry (`kernel_proof`): the paired ratio, spread, verdict, and whether the answer takes it."""
    by_function = {a.function: a for a in found}
    for entry in document.get("functions") or ():
        answered = by_function.get(str(entry.get("function") or ""))
        if answered is not None and answered.kernel_trials:
            entry["kernel_proof"] = [kernel_trials.kernel_json(t) for t in answered.kernel_trials]


def explain(
    settings: Settings,
    model: str,
    document: dict[str, Any],
    trailing: Sequence[advice.Advice],
    builds: Builds,
    kernels: Mapping[str, Kernel] = {},
) -> None:
    """Each `trailing` answer's pick run once more with the runtime's in-context profiler, beside the
    peers' per-op profiles, and its gap to the best peer (findings/gap.py: the op kinds that hold the
    difference) kept in its function's entry (`gap`, or `gap_error`). A profiled run has a key of its
    own, so the sitting's timed runs are not the profiled ones."""
    if settings.no_gap or document.get("interrupted") or not trailing:
        return
    names = ", ".join(advice.display_name(a) for a in trailing)
    logger.info(
        f"advise {model}: {names} takes more than {gaps.GAP}× the best peer's time; profiling the "
        "answer's module and the peers op by op (one run each, about 2 s of profiled calls)"
    )
    by_name = {a.config: a.configuration for a in trailing}
    # An answer that takes a kernel is profiled as taken (its pick with the kernel swapped in): on a
    # Zen 3 the answer with depthwise3x3 still took 1.74x ONNX Runtime's time and nothing said where.
    swapped = any(a.kernel is not None for a in trailing)
    records = builds.alone([by_name[c] for c in sorted(by_name)], profiled=True, kernels=swapped)
    if records is None:
        document["interrupted"] = True
        return
    runs = [r for r in records.values() if r.stage == "run" and not r.label.device]
    peers = [r for r in records.values() if r.stage == "peer" and r.status is Status.OK]
    for a in trailing:
        function = a.function or "main"
        taken = a.configuration.with_kernel(a.kernel_name)
        run = run_of(runs, taken.model(model), function, taken.profile_label, a.release)
        peer = peer_of(peers, model, function)
        entry = next(e for e in document["functions"] if e.get("function") == a.function)
        if run is None or run.status is not Status.OK or peer is None:
            entry["gap_error"] = "the profiled run or the peers did not run: see the results log"
            continue
        peered = peer.metric.of(PeerMetrics)
        measured, why = gaps.measure(
            run.metric.of(RunMetrics).op_profile,
            peered.peers,
            config=str(taken),
            release=a.release,
            custom=kernels[taken.kernel].kind if taken.kernel in kernels else "kernel",
            threads=peered.threads or 0,
            run_job=run.job,  # the matrix's, for both profiles
        )
        entry.update({"gap_error": why} if measured is None else {"gap": measured.to_json()})


def file_name(model: str, started: str, partial: bool = False) -> str:
    """The file a sitting is kept in, named by its model and start, so a second sitting is kept beside the
    first (readers take the newest of each model and identity); an interrupted one is `partial-`."""
    stamp = "".join(ch for ch in started[:19] if ch.isdigit() or ch == "T") or "undated"
    return f"{'partial-' if partial else ''}{advice.FILE_PREFIX}{model}.{stamp}.json"


def write(directory: Path, model: str, document: Mapping[str, Any]) -> Path:
    """The sitting kept under a name of its own (`file_name`), beside earlier ones."""
    from iree_matrix.core.atomic_files import write_atomically

    name = file_name(model, str(document.get("started") or ""), bool(document.get("interrupted")))
    path, n = directory / name, 1
    while path.exists():  # two sittings started in one second: neither is lost
        n += 1
        path = directory / name.replace(".json", f"-{n}.json")
    directory.mkdir(parents=True, exist_ok=True)
    write_atomically(path, json.dumps(document, indent=1, sort_keys=True) + "\n")
    return path
