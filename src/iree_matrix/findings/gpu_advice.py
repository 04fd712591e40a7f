"""The answer on a GPU, one per (function, GPU identity): the release and chip flag to take, whether it
matches torch, its synchronised wall time per call and its ratio to each of torch's peers there, from
one paired sitting (a run bundle's `--target` sitting, schema 3). Never carried to another GPU or to
the host's CPU; arms that differ from torch are named, a software device's times are marked as a
CPU's, and an answer without a proof of its own arm says its neighbourhood is not yet measured."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

from iree_matrix.bundle_runner import gpu_peers
from iree_matrix.core import formats
from iree_matrix.core.model import stats
from iree_matrix.core.model.host_identity import HostIdentity
from iree_matrix.findings import advice, neighbourhood
from iree_matrix.iree.flags import compile_line, flags_text
from iree_matrix.kernel.findings.kernel_trials import ratio_json

CONFIG = "default"  # what a GPU sitting's IREE arms compile (advise/gpu_sitting.py): a proof's centre
DRIVERS = {"cuda": "CUDA", "vulkan": "Vulkan", "hip": "HIP"}  # a device's driver, as a reader names it
SOFTWARE = "software device"
# How a run's mismatch begins (stages/run.py `mismatch_words`): an arm whose cell did not run is
# recorded with matches false too, its error saying why.
DIFFERS = "outputs differ from torch"
TIMING = "synchronised wall time"  # what a GPU sitting times: each call's, its outputs read back


@dataclasses.dataclass(frozen=True)
class GpuIdentity:
    """A GPU as its sitting names it: the device, its driver, and the host it was plugged into."""

    name: str  # "NVIDIA H200"; a software device's own name ("llvmpipe (LLVM 15.0.6, 256 bits)")
    driver: str  # the HAL driver it was timed with: cuda, vulkan, hip
    driver_version: str = ""
    compute_capability: str = ""  # NVIDIA's ("9.0"); "" for another vendor
    software: bool = False  # llvmpipe/lavapipe, SwiftShader: a CPU emulating a GPU
    host: HostIdentity = dataclasses.field(default_factory=HostIdentity)

    @classmethod
    def of(cls, device: Mapping[str, Any], host: Any = None) -> GpuIdentity:
        named = {k: str(device.get(k) or "") for k in "name driver driver_version compute_capability".split()}
        return cls(**named, software=device.get("software") is True, host=HostIdentity.of(host))

    @property
    def slug(self) -> str:
        """The GPU as a folder names it (results/answers/<slug>/): "nvidia-h200-cc9.0"; a software
        device by its own kind ("software-llvmpipe"), never beside a GPU's."""
        if self.software:
            parts = ["software", self.name.split(" ", 1)[0]]
        else:
            parts = [self.name, f"cc{self.compute_capability}" if self.compute_capability else ""]
        return (
            re.sub(r"[^a-z0-9.]+", "-", "-".join(p for p in parts if p).lower()).strip("-") or "unknown-gpu"
        )

    @property
    def key(self) -> str:
        """One GPU identity's answers, one per model (the newest sitting's): the GPU and the driver
        it was timed with (an H200's CUDA sitting and its Vulkan sitting are two answers)."""
        return f"{self.slug}/{self.driver}"

    @property
    def api(self) -> str:
        return DRIVERS.get(self.driver, self.driver)

    @property
    def label(self) -> str:
        """ "NVIDIA H200 (compute capability 9.0, driver 580.159.04, CUDA)"; a software device says so."""
        if self.software:
            return f"{self.name} ({SOFTWARE}, not a GPU: {self.api} on the CPU)"
        said = [f"compute capability {self.compute_capability}" if self.compute_capability else ""]
        said += [f"driver {self.driver_version}" if self.driver_version else "", self.api]
        return f"{self.name} ({', '.join(s for s in said if s)})"

    @property
    def short(self) -> str:
        """ "NVIDIA H200 (cc 9.0, CUDA)"; "llvmpipe (software device, Vulkan)"."""
        if self.software:
            return f"{self.name.split(' (', 1)[0]} ({SOFTWARE}, {self.api})"
        capability = f"cc {self.compute_capability}, " if self.compute_capability else ""
        return f"{self.name} ({capability}{self.api})"


@dataclasses.dataclass(frozen=True)
class Excluded:
    """An IREE arm of the sitting that is not the answer because it differs from torch (`ran`: it
    ran and its outputs are wrong) or did not run at all."""

    release: str
    target: str
    error: str
    ran: bool

    def text(self) -> str:
        head = f"IREE {self.release} {self.target}"
        if self.error.startswith(DIFFERS):  # the run's own words say it
            return f"{head}: {self.error}"
        return f"{head}: {'differs from torch' if self.ran else 'did not run'} ({self.error})"


@dataclasses.dataclass(frozen=True)
class Against:
    """IREE's time over one of torch's peers' on that GPU, or why there is no ratio."""

    peer: gpu_peers.GpuPeer
    ratio: Optional[advice.Ratio] = None
    error: str = ""  # why there is no ratio ("torch sees no CUDA device")

    def text(self) -> str:
        """IREE's time over the peer's (advice.times_text's words), or why not measured."""
        said = advice.times_text(self.ratio, self.peer.display)
        return f"{said} ({self.error})" if self.ratio is None and self.error else said


@dataclasses.dataclass(frozen=True)
class GpuAnswer:
    model: str
    function: str
    identity: GpuIdentity
    peers: tuple[Against, ...]  # IREE against each GPU peer, in their order (nothing measured: no answer)
    excluded: tuple[Excluded, ...]
    sitting: str
    source: str
    release: str = ""  # "" when no IREE arm ran and matched torch (`why` says)
    target: str = ""  # the chip as `--target` names it: "cuda:sm_80", "vulkan-spirv"
    flags: tuple[str, ...] = ()
    ms: Optional[float] = None  # median synchronised wall time per call
    as_fast: tuple[tuple[str, str], ...] = ()  # (release, target) no different from the answer's
    why: str = ""  # no answer: why
    proof: Optional[neighbourhood.Proof] = None  # the answer's arm's one-knob neighbourhood
    proved: tuple[tuple[str, str], ...] = ()  # (release, target) of every proof the sitting timed

    @property
    def answered(self) -> bool:
        return bool(self.release)

    @property
    def chip(self) -> str:
        """ "sm_80", or the backend where it takes no chip ("vulkan-spirv")."""
        return self.target.split(":", 1)[1] if ":" in self.target else self.target

    @property
    def chip_flag(self) -> str:
        """The compile flag that names the chip, as a user types it (from the arm's own flags)."""
        named = [f for f in self.flags if self.chip in f and f.startswith("--")]
        return named[0] if named else self.target

    @property
    def targets(self) -> tuple[str, ...]:
        """Every target that ran and matched torch as fast as the answer (the answer's first)."""
        return tuple(dict.fromkeys([self.target, *(t for _, t in self.as_fast)]))


def label_of(target: str) -> str:
    """A sitting's target ("cuda:sm_80") as the records label it ("cuda-sm_80")."""
    return target.replace(":", "-")


# --------------------------------------------------------------------------- derivation


def derive(document: Mapping[str, Any], source: str = "") -> list[GpuAnswer]:
    """Each function's GPU answer from one GPU sitting document (findings/advice.py `is_gpu`)."""
    if not advice.is_gpu(document):
        return []
    identity = GpuIdentity.of(document["device"], document.get("host"))
    found, model = [], str(document.get("model") or "")
    for entry in document.get("functions") or ():
        arms = [advice.Arm.of(a) for a in entry.get("arms") or () if isinstance(a, Mapping)]
        sitting = advice.sitting_text(document, entry, of=TIMING)
        answer = _answer(model, str(entry.get("function") or ""), identity, arms, sitting, source)
        found.append(_with_proof(answer, entry.get("proofs")))
    return found


def _with_proof(answer: GpuAnswer, proofs: Any) -> GpuAnswer:
    """The answer with the proof whose centre is its own arm (release and target), and the centres
    of every proof the sitting timed (to say which one it has, when it is not the answer's)."""
    given = [p for p in proofs or () if isinstance(p, Mapping)]
    proved = tuple((str(p.get("release") or ""), str(p.get("target") or "")) for p in given)
    centre = (answer.release, answer.target) if answer.answered else None
    mine = [p for p, proof_centre in zip(given, proved) if proof_centre == centre]
    return dataclasses.replace(answer, proof=neighbourhood.Proof.of(mine[0]) if mine else None, proved=proved)


def _why_not(arm: advice.Arm) -> str:
    if arm.error:
        return arm.error
    return "its outputs differ from the reference" if arm.matches is False else "no round was timed"


def _miscomputed(arm: advice.Arm) -> bool:
    """The arm ran and its outputs differ from torch's (not: it did not run, or could not be loaded)."""
    return arm.matches is False and (not arm.error or arm.error.startswith(DIFFERS))


def _answer(
    model: str, function: str, identity: GpuIdentity, arms: Sequence[advice.Arm], sitting: str, source: str
) -> GpuAnswer:
    iree = [a for a in arms if a.kind == advice.GPU]
    usable = [a for a in iree if a.usable]
    excluded = tuple(
        Excluded(a.release, a.target, _why_not(a), ran=_miscomputed(a)) for a in iree if not a.usable
    )
    peers = {a.config: a for a in arms if a.kind == advice.PEER}
    unmeasured = tuple(map(Against, gpu_peers.ordered()))
    none = GpuAnswer(model, function, identity, unmeasured, excluded, sitting, source)
    if not usable:
        tried = "; ".join(e.text() for e in excluded)
        why = f"no IREE arm ran and matched torch: {tried}" if iree else "no IREE arm in the sitting"
        return dataclasses.replace(none, why=why)
    # The fastest by median; the arms the paired rounds cannot tell from it are named beside it.
    chosen = min(usable, key=lambda a: a.median or float("inf"))
    as_fast = tuple(
        (a.release, a.target)
        for a in usable
        if a is not chosen
        and (r := advice.paired(chosen, a)) is not None
        and r.paired.verdict in (stats.NO_DIFFERENCE, stats.SAME_MODULE)
    )
    return dataclasses.replace(
        none,
        release=chosen.release,
        target=chosen.target,
        flags=chosen.flags,
        ms=chosen.median,
        peers=tuple(_against(p, peers.get(p.config), chosen) for p in gpu_peers.ordered()),
        as_fast=as_fast,
    )


def _against(peer: gpu_peers.GpuPeer, arm: Optional[advice.Arm], chosen: advice.Arm) -> Against:
    """IREE's time over the peer's arm from the sitting's rounds, or why there is none."""
    if arm is None:
        return Against(peer, error="not in the sitting")
    if not arm.usable:
        return Against(peer, error=_why_not(arm))
    ratio = advice.paired(arm, chosen)
    return Against(peer, ratio, "" if ratio is not None else "no rounds to pair")


# --------------------------------------------------------------------------- the published answers


def sittings(paths: Iterable[Path]) -> list[GpuAnswer]:
    """The answers of the newest GPU sitting of each (model, GPU identity) among `paths` (by the
    time it started; CPU sittings and files that are not sittings are skipped)."""
    newest: dict[tuple[str, str], tuple[advice.When, Path, dict[str, Any]]] = {}
    for when, path, data in advice.of_kind(paths, gpu=True):
        key = (str(data.get("model") or ""), GpuIdentity.of(data["device"]).key)
        if key not in newest or when > newest[key][0]:
            newest[key] = (when, path, data)
    return [a for _, path, data in newest.values() for a in derive(data, str(path))]


def published(root: Path) -> list[GpuAnswer]:
    """Every GPU answer under `root` (results/answers: one folder per identity)."""
    return sittings(sorted(Path(root).glob(f"*/{advice.FILE_PREFIX}*.json")))


def for_target(found: Iterable[GpuAnswer], label: str) -> list[GpuAnswer]:
    """The answers that speak for a GPU target's label: a GPU of that chip's compute capability, a
    module compiled for that very target, or for a backend without a chip, one timed with its driver."""
    from iree_matrix.findings import gpu_measured

    capability = gpu_measured.compute_capability(label)

    def fits(a: GpuAnswer) -> bool:  # `targets` begins with the answer's own
        i = a.identity
        same_capability = i.driver == "cuda" and i.compute_capability == capability  # never a None one
        vulkan = (label, i.driver) == ("vulkan-spirv", "vulkan")
        return same_capability or vulkan or label in map(label_of, a.targets)

    return [a for a in found if fits(a)]


# --------------------------------------------------------------------------- words


def ms_text(a: GpuAnswer) -> str:
    """ "2.93 ms" on a GPU; a software device's time says it is not a GPU's."""
    if a.ms is None:
        return "–"
    said = formats.duration_ms(a.ms)
    return f"{said} ({SOFTWARE}, not a GPU's time)" if a.identity.software else said


def lines(found: Sequence[GpuAnswer], model: str) -> list[str]:
    """A model's GPU answers in a few lines each (`query model`)."""
    if not found:
        return []
    out = [f"  on GPUs (each from one paired sitting of a run bundle on that GPU, {TIMING}):"]
    for a in found:
        name = "" if a.function in ("", "main", model, a.model) else f"{a.function}: "
        out.append(f"    {name}{a.identity.label}")
        out += [f"      {line}" for line in answer_lines(a)]
    return out


# A GPU sitting takes no picks yet: a faster neighbour is said with its flags, not bundled again.
AGAIN = "a GPU bundle times `default` only: compile with `{flags}` and time it by hand"


def proof_text(a: GpuAnswer) -> str:
    """The answer's neighbourhood in one line (neighbourhood.summary's words), or that it is not yet
    measured on this GPU and which bundle carries it."""
    if not a.answered:
        return ""
    if a.proof is not None:
        winner = a.proof.steps[-1].winner if a.proof.steps else None
        again = AGAIN.format(flags=flags_text(winner.flags)) if winner is not None else ""
        said = neighbourhood.summary(a.proof, CONFIG, again=again)
        soft = f" (on a {SOFTWARE}: says nothing of a GPU)" if a.identity.software else ""
        return f"Neighbourhood{soft}: {said}"
    other = (
        f"; this sitting timed that of {', '.join(f'IREE {r} {t}' for r, t in a.proved)}, not this answer's"
        if a.proved
        else ""
    )
    return (
        f"neighbourhood: not yet measured on this GPU (`bundle --advise {a.model} --target {a.target}"
        f" --release {a.release}` carries it){other}"
    )


def answer_lines(a: GpuAnswer) -> list[str]:
    """One GPU answer: what to take and how it compares, the arms that differ, the sitting."""
    source = f"  from {a.sitting} ({a.source})"
    if not a.answered:  # `why` names the arms that differ
        return [f"no answer: {a.why}", source]
    ms = f" ({ms_text(a)} a call)" if a.ms is not None else ""
    out = [f"take IREE {a.release} for {a.chip}{ms}: matches torch", f"  {compile_line(a.flags)}"]
    if a.identity.software:
        out.append(f"  timed on a {SOFTWARE}: says it runs, not how fast a GPU runs it")
    else:
        out += [f"  {against.text()}" for against in a.peers]
    out += [f"  as fast (no difference in the paired rounds): IREE {r} {t}" for r, t in a.as_fast]
    return [*out, f"  {proof_text(a)}", *(f"  {e.text()}" for e in a.excluded), source]


def as_json(a: GpuAnswer) -> dict[str, Any]:
    """A GPU answer as compat.json and `query --json` give it."""
    g = a.identity
    return {
        **{k: getattr(a, k) for k in ("model", "function")},
        "gpu": {
            **{
                k: getattr(g, k)
                for k in "key label name driver driver_version compute_capability software".split()
            },
            "host": g.host.identity or "",
        },
        **{k: getattr(a, k) for k in ("release", "target")},
        "chip_flag": a.chip_flag if a.answered else "",
        "flags": list(a.flags),
        "wall_ms": a.ms,
        **_peers_json(a),
        "as_fast": [{"release": r, "target": t} for r, t in a.as_fast],
        "differs": [dataclasses.asdict(e) for e in a.excluded],
        "no_answer": a.why,
        "proof": a.proof.published() if a.proof is not None else None,
        "neighbourhood": proof_text(a),
        **{k: getattr(a, k) for k in ("sitting", "source")},
    }


def _peers_json(a: GpuAnswer) -> dict[str, Any]:
    """ "time_over_eager", "eager_error", ...: each GPU peer's ratio and why none, by its module's name."""
    out: dict[str, Any] = {}
    for against in a.peers:
        out[f"time_over_{against.peer.name}"] = ratio_json(against.ratio)
        out[f"{against.peer.name}_error"] = against.error
    return out
