"""The answer a user acts on, one per (function, CPU identity): the release, its `iree-compile` flags
and its ratios to `default`, the naive build, torch eager and the best peer, all from one paired
sitting (`advise`'s `advice-MODEL.STARTED.json`). Derived here once; every view reads `Advice`.
Ratios never carry between identities: another CPU is shown the nearest one's answer, marked so."""

from __future__ import annotations

import dataclasses
import datetime
import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Optional, Protocol, TypeVar

from iree_matrix.core import excerpts, formats
from iree_matrix.core.model import stats
from iree_matrix.core.model.configuration import Config
from iree_matrix.core.model.host_identity import HostIdentity
from iree_matrix.findings import bundles, neighbourhood, runs_view, search
from iree_matrix.findings import gap as gaps
from iree_matrix.findings.arms import Arm as Arm  # re-exported: gpu_advice, report/answers use advice.X
from iree_matrix.findings.arms import Ratio as Ratio
from iree_matrix.findings.arms import paired as paired
from iree_matrix.findings.arms import speedup_text as speedup_text
from iree_matrix.findings.arms import times_text as times_text
from iree_matrix.iree.flags import compile_line
from iree_matrix.kernel.findings.kernel_trials import (
    KernelTrial,
    compile_lines,
    kernel_json,
    kernel_text,
    placed,
    ratio_json,
    shown_flags,
    with_kernel,
)
from iree_matrix.matrix import models
from iree_matrix.matrix import peers as peer_registry

# 2: a function may carry its pick's proof. 3: a GPU sitting (its `device`, arms of kind `gpu`): its
# answers are a GPU's (findings/gpu_advice.py), never a CPU identity's.
SCHEMA = 2
SCHEMAS = (1, 2, 3)  # the documents `read` takes
FILE_PREFIX = "advice-"
DIRNAME = "answers"  # results/answers/<identity slug>/advice-<model>.json
# Arm kinds in a sitting.
DEFAULT, NAIVE, PICK, PEER, FLEET = "default", "naive", "pick", "peer", "fleet"
RIVAL = "rival"  # another release's published pick: the evidence for the release, in the same sitting
GPU = "gpu"  # a GPU sitting's IREE arm: one release's module for one `target`, timed on the GPU
# `default` or a pick (its `base`) with a user's kernel swapped in (`advise --kernel DIR`): the
# answer takes it only where the sitting calls it faster than the configuration alone.
KERNEL = "kernel"
HINTED = "the failure's hint"  # a pick's source where `default` failed and its hint named a profile
COMMAND = "iree-matrix advise"
MATRIX = "advise.toml"  # advise's matrix: a sitting it makes is kept in its run's folder, runs/advise


@dataclasses.dataclass(frozen=True)
class Identity:
    """A CPU identity as a sitting names it: its host, and LLVM's name for the CPU (the sitting's
    own, where its host's record does not know it)."""

    host: HostIdentity
    llvm_cpu: str

    @classmethod
    def of(cls, about: HostIdentity, llvm_cpu: str = "") -> Identity:
        return cls(about, llvm_cpu or about.llvm_cpu or "")

    @property
    def key(self) -> str:
        return self.host.identity

    @property
    def label(self) -> str:
        """The identity as a reader names it: "Intel(R) Xeon(R) Processor, family 6 model 167 stepping 1
        (LLVM rocketlake), 2 cores"."""
        return self.host.label(self.llvm_cpu)

    @property
    def cpu(self) -> tuple[str, str, str]:
        """Its vendor, family and model ("" where unknown): what `nearest` compares."""
        return (self.host.vendor or "", self.host.family or "", self.host.model or "")

    @property
    def slug(self) -> str:
        return self.host.slug(self.llvm_cpu)

    @property
    def short(self) -> str:
        vendor, family, model = self.cpu
        vendor = {"GenuineIntel": "Intel", "AuthenticAMD": "AMD"}.get(vendor, vendor or "CPU")
        llvm = f" `{self.llvm_cpu}`" if self.llvm_cpu else ""
        return f"{vendor} family {family} model {model}{llvm}"


@dataclasses.dataclass(frozen=True)
class Fleet:
    """The answer's configuration compiled for a named CPU, timed on this identity."""

    cpu: str
    flags: tuple[str, ...]
    against_host: Optional[Ratio]  # its time over the host build's, here
    error: str = ""


@dataclasses.dataclass(frozen=True)
class Rival:
    """Another release's pick, timed in the answer's sitting: its time over the answer's."""

    release: str
    config: str
    against_answer: Optional[Ratio]
    error: str = ""


@dataclasses.dataclass(frozen=True)
class Advice:
    model: str
    function: str
    identity: Identity
    release: str
    config: str
    flags: tuple[str, ...]
    over_default: Optional[Ratio]  # the answer's time over default's... inverted below for speed-ups
    over_naive: Optional[Ratio]
    vs_eager: Optional[Ratio]  # IREE's time over eager's
    best_peer: str  # the peer IREE is compared with (the fastest one that ran)
    vs_peer: Optional[Ratio]  # IREE's time over that peer's
    ms: Optional[float]  # the answer's CPU ms per call (median over the rounds)
    sitting: str  # when and how: "2026-11-25, 8 paired rounds, load 1.2–3.4"
    source: str  # the sitting file
    picks_tried: tuple[str, ...] = ()
    fleet: tuple[Fleet, ...] = ()
    rivals: tuple[Rival, ...] = ()
    proof: Optional[neighbourhood.Proof] = None  # the pick's neighbourhood, timed against it
    gap: Optional[gaps.Gap] = None  # where a pick that trails the best peer spends the difference
    gap_error: str = ""  # why the sitting could not say where (a runtime without the profiler, ...)
    # The whole sitting's wall time: what `advise` costs on that identity beyond its builds.
    sitting_seconds: Optional[float] = None
    # The kernel the answer takes with `config` (`advise --kernel`); None: the configuration alone.
    kernel: Optional[KernelTrial] = None
    kernel_trials: tuple[KernelTrial, ...] = ()  # every kernel timed with `config`, the taken one too
    # The peers the sitting could not import or whose worker failed, each with how to add it or its
    # error: why a ratio to it is missing.
    peers_missing: tuple[str, ...] = ()
    proof_skipped: bool = False  # the sitting ran with `--no-proof`: unproved by the user's choice
    bundle_cpu: str = ""  # a sitting bundle's `--cpu` (its modules' CPU): the one to bundle its proof for
    proof_from: str = ""  # the earlier sitting whose proof of this pick a --no-proof sitting carries

    @property
    def proof_cpu(self) -> str:
        """The LLVM CPU a command that times the missing proof names: the bundle's, else this identity's."""
        return self.bundle_cpu or self.identity.llvm_cpu

    @property
    def kernel_name(self) -> str:
        """The kernel the answer takes, "" for none."""
        return self.kernel.kernel if self.kernel is not None else ""

    @property
    def configuration(self) -> Config:
        """`config` typed: its export variant and knobs (`search.parse`, read here once for all)."""
        return search.parse(self.config)


def display_name(a: Advice) -> str:
    """ "mobilenet_v2", or "llama_stories15m.decode" for one function of several."""
    return a.model if a.function in ("", "main", a.model) else f"{a.model}.{a.function}"


# --------------------------------------------------------------------------- derivation


def is_gpu(document: Mapping[str, Any]) -> bool:
    """A GPU sitting (it names the device it timed on): its answers are a GPU's, not its host CPU's."""
    return isinstance(document.get("device"), Mapping)


def derive(document: Mapping[str, Any], source: str = "") -> list[Advice]:
    """Each function's Advice from one sitting document."""
    identity = Identity.of(HostIdentity.of(document.get("host")), str(document.get("llvm_cpu") or ""))
    found = (_advice(document, entry, identity, source) for entry in document.get("functions") or ())
    return [a for a in found if a is not None]


def _verdict(ratio: Optional[Ratio]) -> str:
    return ratio.paired.verdict if ratio is not None else ""


def trailing(found: Sequence[Advice]) -> list[Advice]:
    """The answers of `found` that take more than gaps.GAP times the best peer's time: those whose
    gap `advise` explains (one that takes a kernel is profiled with it)."""
    return [a for a in found if gaps.trails(a.vs_peer.value if a.vs_peer else None)]


def _sitting_seconds(document: Mapping[str, Any]) -> Optional[float]:
    read = datetime.datetime.fromisoformat
    try:  # TypeError: one time with a zone and one without (a sitting edited by hand)
        seconds = (read(str(document["finished"])) - read(str(document["started"]))).total_seconds()
    except (KeyError, ValueError, TypeError):
        return None
    return seconds if seconds > 0 else None


def cost_text(a: Advice) -> str:
    """What `advise` costs, as the sitting behind `a` took on its identity: "its sitting took about
    50 min there", or "" when the sitting did not record its span."""
    took = formats.about(a.sitting_seconds) if a.sitting_seconds else ""
    return f"its sitting took {took} on {a.identity.short}, the builds before it more" if took else ""


def sitting_text(
    document: Mapping[str, Any], entry: Mapping[str, Any], of: str = "one thread's CPU time"
) -> str:
    """A function's sitting in words ("2026-11-25, 8 paired rounds of one thread's CPU time, load
    1.2–3.4"), counting the whole rounds its arms were timed for, not those asked; `of`: what was timed."""
    day = str(document.get("started") or "")[:10]
    load = document.get("load_average") or {}
    values = sorted(float(v) for v in load.values() if isinstance(v, (int, float)))
    span = f", load {values[0]:.1f}–{values[-1]:.1f}" if values else ""
    asked = document.get("rounds", "?")
    timed = max(
        (len(a.get("ms") or ()) for a in entry.get("arms") or () if isinstance(a, Mapping)), default=0
    )
    rounds = f"{asked} paired rounds"
    if document.get("interrupted") and timed != asked:
        rounds = f"{timed} of {asked} paired rounds (interrupted)"
    return f"{day}, {rounds} of {of}{span}"


def _advice(
    document: Mapping[str, Any], entry: Mapping[str, Any], identity: Identity, source: str
) -> Optional[Advice]:
    arms = [Arm.of(a) for a in entry.get("arms") or ()]
    proof = neighbourhood.Proof.of(entry["proof"]) if isinstance(entry.get("proof"), Mapping) else None
    gap = gaps.Gap.of(entry["gap"]) if isinstance(entry.get("gap"), Mapping) else None
    usable = [a for a in arms if a.usable and (a.kind == DEFAULT or (a.kind == PICK and a.source == HINTED))]
    if (default := min(usable, key=lambda a: a.kind != DEFAULT, default=None)) is None:
        return None
    # A pick replaces default (or, where default failed and its hint named a profile, the pick advise
    # added for it) only when the sitting calls it faster (SLOWER); the fastest such pick wins.
    faster = [a for a in arms if a.kind == PICK and a.usable and _verdict(paired(a, default)) == stats.SLOWER]
    chosen = min(faster, key=lambda a: a.median or float("inf")) if faster else default
    # The proof's result, timed and faster than default: its paired verdicts against its neighbours
    # decide between picks, not two medians.
    chosen = next((a for a in faster if proof is not None and a.config == proof.result), None) or chosen
    kernels = [
        a for a in arms if a.kind == KERNEL and a.base == chosen.config and a.release == chosen.release
    ]
    chosen, base, taken, trials = with_kernel(chosen, kernels)
    naive = next((a for a in arms if a.kind == NAIVE), None)
    # The naive build (no target CPU) faster beyond noise than what the sitting chose is the answer
    # (a point-cloud kNN's `topk` ran 1.8x faster for a generic x86-64); a kernel trial says so.
    if naive is not None and naive.usable and _verdict(paired(naive, chosen)) == stats.SLOWER:
        trials = [dataclasses.replace(t, taken=False, outrun_by="the naive build") for t in trials]
        chosen, base, taken = naive, naive, None
    peers = [a for a in arms if a.kind == PEER and a.usable]
    eager = next((a for a in peers if a.config == "eager"), None)
    others = [a for a in peers if a.config != "eager"] or peers
    best = min(others, key=lambda a: a.median or float("inf")) if others else None
    fleets = [a for a in arms if a.kind == FLEET and a.base == base.config]  # built without the kernel
    fleet = tuple(Fleet(a.cpu, a.flags, paired(base, a), a.error) for a in fleets)
    if gap is not None:  # profiled as answered: the configuration alone is not the kernel's answer
        answered = str(Config.parse(chosen.config).with_kernel(taken.kernel if taken is not None else ""))
        gap = gap.answering(answered, chosen.release, chosen.median, best.median if best else None)
    over = paired(default, chosen) if chosen is not default else Ratio(stats.same_module())
    return Advice(
        model=str(document.get("model") or ""),
        function=str(entry.get("function") or ""),
        identity=identity,
        release=chosen.release,
        config=chosen.config,
        flags=chosen.flags,
        over_default=over if default.kind == DEFAULT else None,  # no speed-up over a default that failed
        over_naive=paired(naive, chosen) if naive is not None else None,
        vs_eager=paired(eager, chosen) if eager is not None else None,
        best_peer=peer_registry.display(best.config) if best is not None else "",
        vs_peer=paired(best, chosen) if best is not None else None,
        ms=chosen.median,
        sitting=sitting_text(document, entry),
        source=source,
        picks_tried=tuple(a.config for a in arms if a.kind == PICK),
        fleet=fleet,
        rivals=tuple(Rival(a.release, a.config, paired(chosen, a), a.error) for a in arms if a.kind == RIVAL),
        proof=proof,
        gap=gap,
        gap_error=str(entry.get("gap_error") or "")[:400] if gap is None else "",
        sitting_seconds=_sitting_seconds(document),
        kernel=taken,
        kernel_trials=tuple(trials),
        # the peers the sitting could not time, each with its error: why a ratio to it is missing
        peers_missing=bundles.missing_peers(entry)
        + tuple(
            f"{peer_registry.display(a.config)}: not timed in this sitting ({excerpts.quoted(a.error, 300)})"
            for a in arms
            if a.kind == PEER and not a.usable and a.error
        ),
        proof_skipped=bool(document.get("proof_skipped")),
        bundle_cpu=str(document.get("bundle_cpu") or ""),
    )


# --------------------------------------------------------------------------- the published answers


def read(path: Path) -> Optional[dict[str, Any]]:
    """A sitting document, or None when the file is not one (said by the caller)."""
    data = runs_view.json_file(path)
    ok = isinstance(data, dict) and data.get("schema") in SCHEMAS and isinstance(data.get("functions"), list)
    return data if ok else None


When = tuple[str, str]  # a sitting's start, then its file's name: the newer of two is the larger


def of_kind(paths: Iterable[Path], gpu: bool) -> Iterator[tuple[When, Path, dict[str, Any]]]:
    """The sittings among `paths` of one kind, a GPU's (gpu_advice) or a CPU's, with when each started."""
    for path in paths:
        if (data := read(path)) is not None and is_gpu(data) == gpu:
            yield (str(data.get("started") or ""), path.name), path, data


def sittings(paths: Iterable[Path]) -> list[Advice]:
    """The Advice of each (model, CPU identity, function) from the newest sitting that timed that
    function among `paths` (one function's sitting hides none of the model's others), in path order."""
    newest: dict[tuple[str, str, str], tuple[When, Path, dict[str, Any]]] = {}
    proofs: dict[tuple[str, str, str], list[tuple[When, neighbourhood.Proof, object]]] = {}
    proved_as: dict[tuple[tuple[str, str, str], When], object] = {}
    for when, path, data in of_kind(paths, gpu=False):
        identity = Identity.of(HostIdentity.of(data.get("host")), str(data.get("llvm_cpu") or ""))
        for entry in data.get("functions") or ():
            key = (str(data.get("model") or ""), identity.key, str(entry.get("function") or ""))
            if key not in newest or when > newest[key][0]:
                newest[key] = (when, path, data)
            proved_as[key, when] = _proved_as(data, entry, identity, str(path))
            if isinstance(entry.get("proof"), Mapping):
                proof = neighbourhood.Proof.of(entry["proof"])
                proofs.setdefault(key, []).append((when, proof, proved_as[key, when]))
    chosen: dict[Path, tuple[dict[str, Any], set[str]]] = {}
    for (_, _, function), (_, path, data) in newest.items():
        chosen.setdefault(path, (data, set()))[1].add(function)
    found: list[Advice] = []
    for path, (data, functions) in chosen.items():
        kept = [e for e in data.get("functions") or () if str(e.get("function") or "") in functions]
        found.extend(derive({**data, "functions": kept}, str(path)))
    for n, a in enumerate(found):  # a sitting that skipped its proof: the newest earlier one of its pick
        key = (a.model, a.identity.key, a.function)
        mine = proved_as.get((key, newest[key][0]))
        same = [(when, p) for when, p, theirs in proofs.get(key, []) if mine is not None and theirs == mine]
        held = neighbourhood.newest_of(a.config, same)
        if held is not None and a.proof is None and a.proof_skipped:
            found[n] = dataclasses.replace(a, proof=held[1], proof_from=held[0])
    return found


def _proved_as(
    document: Mapping[str, Any], entry: Mapping[str, Any], identity: Identity, source: str
) -> Optional[tuple[str, str, str, str]]:
    """What a proof carried to a `--no-proof` answer must share with it: the pick, its release, the
    kernel taken and its default build's module digest (None: nothing to carry)."""
    answer = _advice(document, entry, identity, source)
    default = next((Arm.of(a) for a in entry.get("arms") or () if a.get("kind") == DEFAULT), None)
    if answer is None or default is None or not default.module_sha256:
        return None
    return answer.config, answer.release, answer.kernel_name, default.module_sha256


def published(root: Path) -> list[Advice]:
    """Every Advice under `root` (results/answers: one folder per identity), the newest sitting of
    each model and identity."""
    return sittings(sorted(root.glob(f"*/{FILE_PREFIX}*.json")))


# How near an answer's identity is to the machine asking (`nearest`), nearest last: "" is its own.
NEARNESS = (
    "another vendor",
    "the same vendor",
    "the same vendor and family",
    "the same vendor, family and model",
    "",
)


@dataclasses.dataclass(frozen=True)
class Chosen:
    advice: tuple[Advice, ...]  # one per function, all of one identity
    here: bool  # measured on this machine's identity
    how_near: str  # "" when here; else why this identity ("same vendor and family", …)
    routed: tuple[Advice, ...] = ()  # the answers of the same identity for the model's recipe exports


def nearest(advice: Sequence[Advice], about: HostIdentity) -> Optional[Chosen]:
    """The Advice of this machine's identity, else of the nearest published one (same vendor, family
    and model, then vendor and family, then vendor, then any), of this architecture only."""
    advice = [a for a in advice if about.machine in (None, "", a.identity.host.machine or about.machine)]
    if not advice:
        return None
    mine = Identity.of(about).cpu

    def nearness(i: Identity) -> int:  # 4: this identity, 3: the same vendor, family and model ...
        return 4 if i.key == about.identity else next(n for n in (3, 2, 1, 0) if i.cpu[:n] == mine[:n])

    near = max(nearness(a.identity) for a in advice)
    key = min(a.identity.key for a in advice if nearness(a.identity) == near)
    first: dict[tuple[str, str], Advice] = {}
    for a in advice:  # the first of each function (the caller puts a user's own sittings first)
        if a.identity.key == key:
            first.setdefault((a.model, a.function), a)
    return Chosen(tuple(first.values()), near == 4, NEARNESS[near])


class _Named(Protocol):  # an answer of a CPU (Advice) or of a GPU (gpu_advice.GpuAnswer)
    @property
    def model(self) -> str: ...
    @property
    def function(self) -> str: ...


_A = TypeVar("_A", bound=_Named)


def matching(found: Iterable[_A], name: str) -> list[_A]:
    """The answers (CPU or GPU) for `name`: a model, one of its functions, or `model.function`."""
    return [a for a in found if name in (a.model, a.function, f"{a.model}.{a.function}")]


def answer(found: Sequence[Advice], name: str, about: HostIdentity) -> Optional[Chosen]:
    """The one answer for `name` on the machine `about` describes: this CPU's identity, else the nearest
    that answered this model, with that identity's answers for its recipe exports."""
    if (chosen := nearest(matching(found, name), about)) is not None:
        key, base = chosen.advice[0].identity.key, models.split_recipe
        routed: dict[tuple[str, str], Advice] = {}  # the first of each (own sittings come first)
        for a in found:
            if a.identity.key == key and a.model != name and base(a.model)[0] == name:
                routed.setdefault((a.model, a.function), a)
        return dataclasses.replace(chosen, routed=tuple(routed.values()))
    return None


# --------------------------------------------------------------------------- words


def rival_text(rival: Rival, release: str, argument: str = "MODEL") -> str:
    """Another release's pick against the answer, from the same sitting; the command it suggests
    names the model as `argument`."""
    head = f"IREE {rival.release} `{rival.config}`"
    if rival.error or rival.against_answer is None:
        return f"{head}: not measured ({rival.error or 'it did not run here'})"
    r = rival.against_answer
    if r.paired.verdict == stats.FASTER:
        measure = f"`{COMMAND} {argument} --release {rival.release}`"
        return f"{head} was FASTER in this sitting ({r.value:.2f}× the answer's time, {r.span()}): " + (
            f"{measure} measures that release's answer"
        )
    if r.paired.verdict in (stats.NO_DIFFERENCE, stats.SAME_MODULE, stats.TOO_FEW):
        return f"{head}: no faster than IREE {release}'s ({r.value:.2f}× its time, {r.paired.verdict})"
    return f"{head} takes {r.value:.2f}× its time ({r.span()})"


def fleet_text(fleet: Fleet) -> str:
    if fleet.error or fleet.against_host is None:
        return f"not measured: {fleet.error or 'it did not run here'}"
    r = fleet.against_host
    where = f"timed on this CPU, not on a {fleet.cpu}"
    if r.paired.verdict in (stats.NO_DIFFERENCE, stats.SAME_MODULE):
        return f"as fast as the host build here ({r.value:.2f}× its time; {where})"
    return f"{r.value:.2f}× the host build's time here ({r.span()}; {where})"


def _faster_routes(a: Advice, routed: Sequence[Advice]) -> list[str]:
    """Another export of this function answered faster on this identity (a recipe's: MobileNetV3-small's
    `~fx+decompose` pools by a mean, not torch-mlir's gather), said where no gap line names it."""
    faster = [o for o in routed if o.function == a.function and o.ms and a.ms and o.ms < a.ms]
    return [
        f"    faster by another export (its own sitting): `{o.model}` takes {formats.duration_ms(o.ms or 0)}"
        + (f" ({times_text(o.vs_peer, o.best_peer, short=True)})" if o.best_peer else "")
        + f": `iree-matrix query model {o.model}`"
        for o in faster
    ]


def lines(chosen: Chosen, model: str, fleet: bool = True, argument: str = "") -> list[str]:
    """The answer in a few lines per function (`query model`: `fleet` False; `advise`: each fleet
    CPU's flags and time). The commands it suggests name the model as `argument`, else `model`."""
    first, led = chosen.advice[0], list[str]()
    answered = {o.model: times_text(o.vs_peer, o.best_peer, short=True) for o in chosen.routed if o.best_peer}
    argument = argument or model
    where = (
        f"on this CPU ({first.identity.label})"
        if chosen.here
        else f"NEAREST identity measured ({chosen.how_near}): {first.identity.label} — not this CPU; "
        f"ratios do not carry between CPUs: `{COMMAND} {argument}` measures them here"
        + (f" ({cost_text(first)})" if cost_text(first) else "")
    )
    out = [f"{model}: the answer {where}"]
    for a in chosen.advice:
        name = a.function if a.function not in ("", "main", model) else model
        ms = f" ({formats.duration_ms(a.ms)} of one thread's CPU per call)" if a.ms else ""
        config = "default flags" if a.config == "default" else f"`{a.config}`"
        if (taken := a.kernel) is not None:
            config += f" and the kernel `{taken.kernel}`" + f" ({taken.directory})" * bool(taken.directory)
        out.append(f"  {name}: take IREE {a.release} with {config}{ms}")
        led += gaps.leads_on(name, a.vs_peer.value if a.vs_peer else None, a.best_peer, a.gap)
        # the kernel's directory absolute where it lies here: each line runs from any directory
        here = functools.partial(placed, directory=taken.directory if taken is not None else "")
        if taken is not None and taken.build:
            out.append(f"    build its object: {here(taken.build)}")
        if taken is not None and taken.run_flags:  # a plugin, a worker stack: the module runs only with them
            out.append(f"    run with: {here('iree-run-module ' + ' '.join(taken.run_flags))} ...")
        out.extend(f"    {here(line)}" for line in compile_lines(a))
        naive = speedup_text(a.over_naive, "the naive build (generic CPU)")
        out.append(f"    {speedup_text(a.over_default, 'default')}; {naive}")
        said_why = any(m.startswith("torch eager:") for m in a.peers_missing)
        if a.vs_eager is not None or not said_why:  # a failed peer is said below, with its error
            out.append(f"    {times_text(a.vs_eager, 'torch eager')}")
        if a.best_peer and a.best_peer != "torch eager":
            out.append(f"    {times_text(a.vs_peer, a.best_peer)}")
        out.extend(f"    no {said}" for said in a.peers_missing)
        out.extend(f"    other release: {rival_text(rival, a.release, argument)}" for rival in a.rivals)
        out.extend(f"    {kernel_text(trial)}" for trial in a.kernel_trials)
        proof = neighbourhood.summary(a.proof, a.config, kernel=a.kernel_name) if a.proof else None
        earlier = f" (timed in an earlier sitting of this pick: {a.proof_from})" if a.proof_from else ""
        unproved = neighbourhood.untimed(argument, a.proof_cpu, a.proof_skipped)
        out.append(f"    proof: {proof or unproved}{earlier}")
        if a.gap is not None:
            out.append(f"    where the gap is: {gaps.summary(a.gap)}")
            out.append(f"      IREE's slowest dispatches in context: {gaps.dispatches_text(a.gap)}")
            out += gaps.next_routes(COMMAND, argument, a.gap, answered)
        elif a.gap_error:
            out.append(f"    where the gap is: not profiled: {a.gap_error}")
        out += _faster_routes(a, chosen.routed) if a.gap is None else []
        for f in a.fleet if fleet else ():
            out += [f"    for a fleet of {f.cpu}: {compile_line(f.flags)}", f"      {fleet_text(f)}"]
    out.append(f"  from {first.sitting} ({first.source})")
    if any("target-cpu=host" in f for a in chosen.advice for f in a.flags):
        measured = sorted({f.cpu for a in chosen.advice for f in a.fleet})
        known = f" (measured: {', '.join(measured)})" if measured and not fleet else ""
        x86 = first.identity.host.machine in (None, "", "x86_64")  # an aarch64 fleet: its LLVM CPU's name
        out.append(
            "  target-cpu=host is the compiling CPU: for other CPUs, "
            f"`{COMMAND} {argument} --fleet {'x86-64-v3' if x86 else 'CPU'}` gives the flags{known}"
        )
    return out + led  # a slow answer's next step last, as a run's summary says it


def as_json(a: Advice) -> dict[str, Any]:
    """An Advice as compat.json and `query --json` give it."""
    return {
        **{k: getattr(a, k) for k in ("model", "function", "release", "config")},
        "flags": shown_flags(a.flags, a.kernel.directory) if a.kernel else list(a.flags),
        "cpu_ms": a.ms,
        "identity": {
            "key": a.identity.key,
            "label": a.identity.label,
            **dict(zip(("vendor", "family", "model"), a.identity.cpu)),
            "llvm_cpu": a.identity.llvm_cpu,
        },
        "time_over_default": ratio_json(a.over_default),
        "time_over_naive": ratio_json(a.over_naive),
        "time_over_eager": ratio_json(a.vs_eager),
        "best_peer": a.best_peer,
        "time_over_best_peer": ratio_json(a.vs_peer),
        "fleet": [
            {
                "cpu": f.cpu,
                "flags": list(f.flags),
                "time_over_host_build": ratio_json(f.against_host),
                "error": f.error,
            }
            for f in a.fleet
        ],
        "rivals": [
            {
                "release": r.release,
                "config": r.config,
                "time_over_answer": ratio_json(r.against_answer),
                "error": r.error,
            }
            for r in a.rivals
        ],
        # A proof carried from an earlier sitting of the pick says which (`proof_from`); null: this one's.
        "proof": {**a.proof.published(), "from_sitting": a.proof_from or None}
        if a.proof is not None
        else None,
        "gap": a.gap.to_json() if a.gap is not None else None,
        "gap_error": a.gap_error,
        "sitting": a.sitting,
        "source": a.source,
        # Only where the sitting timed a kernel with the answer's configuration (`advise --kernel`).
        **(
            {
                "kernel": kernel_json(a.kernel) if a.kernel is not None else None,
                "kernel_trials": [kernel_json(t) for t in a.kernel_trials],
            }
            if a.kernel_trials
            else {}
        ),
    }
