"""Sittings that arrive from elsewhere (an `advise` results folder or a bundle's): `merge SITTING_DIR --to
RESULTS` puts each at RESULTS/answers/<identity>/ (a GPU sitting under its GPU's slug) with its records
beside it as evidence. A sitting is another machine's data, so all of it is checked before anything is
written (schema, identity, names of a safe alphabet, finite positive times, every module one its own
records compiled, bounded proofs and profiles); anything else is one line naming the file and the reason.
A bundle's raw profiles are read into the answer's `gap` here, by the code `advise` uses (`explain`)."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

from iree_matrix.core.atomic_files import write_atomically
from iree_matrix.core.errors import UserError
from iree_matrix.core.model import metrics
from iree_matrix.core.model.configuration import Config
from iree_matrix.core.model.host_identity import HostIdentity
from iree_matrix.core.model.results import LOG, Record, ResultsLog
from iree_matrix.findings import advice, bundles, gpu_advice
from iree_matrix.kernel import kernels
from iree_matrix.kernel.iree import custom_dispatch

RESULTS = LOG
_NAME = re.compile(r"[A-Za-z0-9@][A-Za-z0-9._+@~-]{0,119}")  # "@decomposed+…": a variant first
_TEXT = re.compile(r"[^\x00-\x1f\x7f-\x9f]{1,200}")  # an arm's name: "dt-ukernels on 3.13.0", no control
# A kernel arm's directory, object and build command: one line of text, no control characters.
_LINE = re.compile(r"[^\x00-\x1f\x7f-\x9f]{0,4000}")
_MAX_MS = 1e7  # a call of nearly three hours: anything longer is not a measurement


@dataclasses.dataclass(frozen=True)
class Sitting:
    path: Path
    document: Mapping[str, Any]
    identity: advice.Identity
    records: tuple[Record, ...]  # the sitting's own log (its builds and runs)
    explained: bool = False  # `document` gained its gap from its profiles (`explain`): written anew
    gpu: Optional[gpu_advice.GpuIdentity] = None  # a GPU sitting's device: its answers are that GPU's

    @property
    def destination(self) -> str:
        slug = self.gpu.slug if self.gpu is not None else self.identity.slug
        return f"{advice.DIRNAME}/{slug}/{self.path.name}"


def is_sitting_dir(directory: Path) -> bool:
    return Path(directory).is_dir() and any(Path(directory).glob(f"{advice.FILE_PREFIX}*.json"))


def read(directory: Path, manifests: bundles.Manifests) -> list[Sitting]:
    """Every sitting of `directory`, each checked (module docstring); a UserError naming the first that
    fails. A bundle's sitting comes with its records, checked against the bundle like any bundle's."""
    directory = Path(directory)
    if bundles.is_bundle_results(log := directory / RESULTS):
        records: tuple[Record, ...] = tuple(bundles.read(log, manifests))
    else:
        records = tuple(bundles.vouched(log, ResultsLog(log) if log.is_file() else (), manifests))
    compiled = {digest for r in records if (digest := metrics.module_sha256(r))}
    found = []
    for path in sorted(directory.glob(f"{advice.FILE_PREFIX}*.json")):
        if path.is_symlink() or not path.is_file():  # a received folder's files are read as its own
            raise UserError(
                f"merge: {path}: a symbolic link or not a regular file: a sitting is a regular file in "
                "its folder; nothing merged"
            )
        if (document := advice.read(path)) is None:
            readable = ", ".join(map(str, advice.SCHEMAS))
            raise UserError(
                f"merge: {path}: not a sitting this iree-matrix reads (schema {readable}); nothing merged"
            )
        if why := problem(document, compiled):
            raise UserError(f"merge: {path}: {why}; nothing merged")
        identity = advice.Identity.of(HostIdentity.of(document["host"]), str(document.get("llvm_cpu") or ""))
        explained = explain(document)
        gpu = (
            gpu_advice.GpuIdentity.of(document["device"], document["host"])
            if advice.is_gpu(document)
            else None
        )
        found.append(Sitting(path, explained, identity, records, explained is not document, gpu))
    return found


def problem(document: Mapping[str, Any], compiled: set[str]) -> Optional[str]:
    """Why a sitting document cannot be published, or None."""
    about = HostIdentity.of(document.get("host"))
    if not about.recorded_identity or not about.family:
        return "no machine identity (host.identity, family)"
    if not about.consistent:
        return "its identity string does not agree with the CPU fields it is made of"
    for key in ("llvm_cpu", "bundle_cpu"):  # each is shown in a command to run
        if (llvm := str(document.get(key) or "")) and not _NAME.fullmatch(llvm):
            return f"LLVM CPU name {llvm[:40]!r} is not a name"
    if not _NAME.fullmatch(model := str(document.get("model") or "")):
        return f"model name {model[:40]!r} is not a name (letters, digits, ._+@~-; at most 120)"
    gpu = "device" in document
    if gpu and (why := _device_problem(document)):
        return why
    checks: dict[str, Callable[[Any], Optional[str]]] = {
        "proof": lambda proof: _proof_problem(proof, compiled),
        "proofs": lambda proofs: (
            _gpu_proofs_problem(proofs, compiled) if gpu else "only a GPU sitting has proofs"
        ),
        "op_profiles": _profiles_problem,
    }
    for function in document.get("functions") or ():
        if not isinstance(function, Mapping) or not isinstance(function.get("arms"), list):
            return "a function without arms"
        for arm in function["arms"]:
            if why := _arm_problem(arm, compiled) or (_gpu_arm_problem(arm) if gpu else None):
                return f"{function.get('function')}: arm {str(arm.get('name'))[:60]!r}: {why}"
        for key, check in checks.items():
            if function.get(key) is not None and (why := check(function[key])):
                return f"{function.get('function')}: {key}: {why}"
    return None


_CAPABILITY = re.compile(r"(\d{1,2}\.\d{1,2})?")  # NVIDIA's "9.0"; "" for another vendor
_TARGET = re.compile(r"[a-z][a-z0-9-]{0,40}(:[A-Za-z0-9_.+-]{1,40})?")  # "cuda:sm_80", "vulkan-spirv"


def _device_problem(document: Mapping[str, Any]) -> Optional[str]:
    """Why a GPU sitting's `device` and timing cannot be published, or None."""
    device = document["device"]
    if document.get("schema") != 3:
        return f"a GPU sitting (it names a device) is schema 3, not {str(document.get('schema'))[:20]}"
    if not isinstance(device, Mapping):
        return "its device is not a device (driver, name, driver_version, compute_capability, software)"
    if not _TEXT.fullmatch(str(device.get("name") or "")):
        return "its device has no name (the GPU's, or the software device's)"
    if device.get("driver") not in gpu_advice.DRIVERS:
        known = ", ".join(gpu_advice.DRIVERS)
        return f"its device's driver {str(device.get('driver'))[:20]!r} is not one of {known}"
    if not _CAPABILITY.fullmatch(str(device.get("compute_capability") or "")):
        return f"compute capability {str(device.get('compute_capability'))[:20]!r} is not one (e.g. 9.0)"
    version = str(device.get("driver_version") or "")
    if version and not _TEXT.fullmatch(version):  # Vulkan's may be words: "1.3.277 (NVIDIA 580.159.04)"
        return f"driver version {version[:40]!r} is not words"
    if not isinstance(device.get("software", False), bool):
        return "its device's `software` is not true or false"
    if document.get("timing") != "wall":
        return f"its timing {str(document.get('timing'))[:20]!r} is not a GPU sitting's (wall)"
    return None


def _gpu_arm_problem(arm: Mapping[str, Any]) -> Optional[str]:
    """Why an IREE arm of a GPU sitting cannot be published: it names its target and release, and one that was
    timed names the module it timed (checked against the bundle's records by `_arm_problem`)."""
    if arm.get("kind") != advice.GPU:
        return None
    if not _TARGET.fullmatch(str(arm.get("target") or "")):
        return f"target {str(arm.get('target'))[:40]!r} is not a GPU target (e.g. cuda:sm_80)"
    if not _NAME.fullmatch(str(arm.get("release") or "")):
        return "no release"
    if arm.get("ms") and not arm.get("module_sha256"):
        return "it was timed but names no module"
    flags = arm.get("flags") or []
    if not isinstance(flags, list) or not all(isinstance(f, str) and _TEXT.fullmatch(f) for f in flags):
        return "its flags are not a list of flags"
    return None


_MAX_GPU_PROOFS = 64  # one per (release, target) centre: a bundle's targets


def _gpu_proofs_problem(proofs: Any, compiled: set[str]) -> Optional[str]:
    """Why a GPU sitting's proofs (one per centre arm: its release, target and a proof in the CPU
    proof's form) cannot be published; each is checked as a CPU proof is."""
    if not isinstance(proofs, list) or len(proofs) > _MAX_GPU_PROOFS:
        return f"not a list of at most {_MAX_GPU_PROOFS} proofs"
    for proof in proofs:
        if not isinstance(proof, Mapping):
            return "a proof that is not one (release, target, start, max_steps, steps)"
        if not _TARGET.fullmatch(str(proof.get("target") or "")):
            return f"target {str(proof.get('target'))[:40]!r} is not a GPU target (e.g. cuda:sm_80)"
        if not _NAME.fullmatch(str(proof.get("release") or "")):
            return "a proof without its release"
        if why := _proof_problem(proof, compiled):
            return f"{proof['release']} {proof['target']}: {why}"
    return None


# A dispatch's function (`main$async_dispatch_61_matmul_49x160x960_f32`), an ONNX op type (`Conv`,
# `com.microsoft.FusedConv`).
_SYMBOL = re.compile(r"[A-Za-z0-9_$.:@-]{1,300}")
_MAX_ROWS = 20000  # a model's dispatch functions or (op type, weight shape) rows
_MAX_PROFILED = 20  # arms profiled per function: default and the picks


def _profiles_problem(profiles: Any) -> Optional[str]:
    """Why a bundle's op-by-op profiles (bundle_runner/gap.py's form) cannot be published."""
    if not isinstance(profiles, Mapping) or not isinstance(profiles.get("iree"), list):
        return "not profiles (iree, peers)"
    if not _number(profiles.get("threads"), 1, 4096) or not _number(profiles.get("over"), 0, 1e6):
        return "its threads or threshold is not a number in range"
    if len(profiles["iree"]) > _MAX_PROFILED:
        return f"{len(profiles['iree'])} profiled arms, more than {_MAX_PROFILED}"
    for profiled in profiles["iree"]:
        if not isinstance(profiled, Mapping) or not all(
            _NAME.fullmatch(str(profiled.get(k) or "")) for k in ("config", "release")
        ):
            return "a profiled arm without a configuration and release name"
        if why := _profile_problem(profiled.get("op_profile"), "dispatches", "name"):
            return f"{str(profiled['config'])[:60]!r}: {why}"
    peers = profiles.get("peers")
    if not isinstance(peers, Mapping) or set(peers) - {"onnxruntime"}:
        return "its peers are not ONNX Runtime's profile"
    for name, peer in peers.items():
        if not isinstance(peer, Mapping) or peer.get("status") not in ("ok", "error"):
            return f"{name}: not a peer's result (status ok or error)"
        if peer["status"] == "error":
            if not _TEXT.fullmatch(str(peer.get("error") or "?")[:200]):
                return f"{name}: its error is not words"
            continue
        if why := _profile_problem(peer.get("op_profile"), "ops", "op"):
            return f"{name}: {why}"
    return None


def _profile_problem(profile: Any, rows_key: str, name_key: str) -> Optional[str]:
    if not isinstance(profile, Mapping):
        return "no profile"
    if "unavailable" in profile:
        words = profile["unavailable"]
        ok = (
            isinstance(words, str)
            and len(words) <= 1000
            and not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", words)
        )
        return None if ok and len(profile) == 1 else "its reason is not words"
    rows = profile.get(rows_key)
    if not isinstance(rows, list) or len(rows) > _MAX_ROWS or not _number(profile.get("calls"), 1, 1e6):
        return f"not a profile ({rows_key} of at most {_MAX_ROWS}, calls)"
    if not _number(profile.get("sum_ms"), 0, _MAX_MS):
        return "its sum is not finite non-negative milliseconds"
    for row in rows:
        if not isinstance(row, Mapping) or not _SYMBOL.fullmatch(str(row.get(name_key) or "")):
            named = row.get(name_key) if isinstance(row, Mapping) else row
            return f"a row's {name_key} {str(named)[:60]!r} is not a name"
        if not _number(row.get("ms_per_call"), 0, _MAX_MS) or not _number(row.get("per_call"), 0, 1e9):
            return f"{str(row[name_key])[:60]!r}: its times are not finite non-negative numbers"
        if (shape := row.get("weight_shape")) is not None and not (
            isinstance(shape, list) and len(shape) <= 8 and all(_number(d, 0, 1e9) for d in shape)
        ):
            return f"{str(row[name_key])[:60]!r}: its weight shape is not a shape"
    return None


def _number(value: Any, low: float, high: float) -> bool:
    """A finite number from `low` to `high` (a bool is not one)."""
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    return numeric and math.isfinite(value) and low <= value <= high


def explain(document: Mapping[str, Any]) -> Mapping[str, Any]:
    """`document` with each function's `gap` (or `gap_error`) read from a bundle's op-by-op profiles for
    the arm home chose as its answer, as `advise` stores its own; unchanged where none carries profiles."""
    from iree_matrix.findings import gap as gaps

    if not any(isinstance(f, Mapping) and f.get("op_profiles") for f in document.get("functions") or ()):
        return document
    out = {**document, "functions": [dict(f) for f in document["functions"]]}
    chosen = {a.function: a for a in advice.derive(out)}
    for entry in out["functions"]:
        profiles = entry.get("op_profiles")
        answer = chosen.get(str(entry.get("function") or ""))
        if not profiles or answer is None:
            continue
        entry.pop("gap", None)
        entry.pop("gap_error", None)
        # the first profile of the answer's configuration and release, with its kernel where it took one
        config = str(Config.parse(answer.config).with_kernel(answer.kernel_name))
        mine = {(p["config"], p["release"]): p["op_profile"] for p in reversed(profiles["iree"])}.get(
            (config, answer.release)
        )
        if mine is None:
            entry["gap_error"] = (
                f"the answer `{config}` took at most {profiles['over']}× ONNX Runtime's time there"
            )
            continue
        found, why = gaps.measure(
            mine,
            profiles["peers"],
            config=config,
            release=answer.release,
            threads=int(profiles["threads"]),
            run_job="run bundle",
        )
        entry.update({"gap_error": why} if found is None else {"gap": found.to_json()})
    return out


_MAX_PROOF_STEPS = 20
_MAX_NEIGHBOURS = 200


def _proof_problem(proof: Any, compiled: set[str]) -> Optional[str]:
    """Why a pick's proof (findings/neighbourhood.py's form) cannot be published: its verdicts are taken
    here from its rounds, so only its shape, names, times and modules are checked."""
    if not isinstance(proof, Mapping) or not isinstance(proof.get("steps"), list):
        return "not a proof (start, max_steps, steps)"
    if not _NAME.fullmatch(str(proof.get("start") or "")):
        return f"its start {str(proof.get('start'))[:60]!r} is not a configuration name"
    bound = proof.get("max_steps")
    if not isinstance(bound, int) or isinstance(bound, bool) or not 1 <= bound <= _MAX_PROOF_STEPS:
        return f"max_steps {str(bound)[:20]!r} is not a whole number from 1 to {_MAX_PROOF_STEPS}"
    if len(proof["steps"]) > bound:
        return f"{len(proof['steps'])} steps, over its max_steps {bound}"
    for index, step in enumerate(proof["steps"], 1):
        if not isinstance(step, Mapping) or not isinstance(step.get("neighbours"), list):
            return f"step {index} is not a step (centre, neighbours)"
        if len(step["neighbours"]) > _MAX_NEIGHBOURS:
            return f"step {index}: {len(step['neighbours'])} neighbours, more than one knob's changes make"
        for timed in [step.get("centre"), *step["neighbours"]]:
            if why := _timed_problem(timed, compiled):
                name = str(timed.get("config"))[:60] if isinstance(timed, Mapping) else "?"
                return f"step {index}: {name!r}: {why}"
    return None


def _timed_problem(timed: Any, compiled: set[str]) -> Optional[str]:
    if why := _named_problem(timed, "config", _NAME, "not a configuration (letters, digits, ._+@~-)"):
        return why
    if (same_as := str(timed.get("same_as") or "")) and not _NAME.fullmatch(same_as):
        return f"same_as {same_as[:40]!r} is not a configuration name"
    flags = timed.get("flags") or []
    if not isinstance(flags, list) or not all(isinstance(f, str) and _TEXT.fullmatch(f) for f in flags):
        return "its flags are not a list of flags"
    if not isinstance(timed.get("error") or "", str) or timed.get("matches") not in (True, False, None):
        return "its error or matches is not what a proof records"
    return _module_problem(timed, compiled)


def _named_problem(entry: Any, key: str, name: re.Pattern[str], not_named: str) -> Optional[str]:
    """An arm or a proof's timed configuration: named (`key`, matching `name`), with round times."""
    if not isinstance(entry, Mapping) or not name.fullmatch(str(entry.get(key) or "")):
        return not_named
    ms = entry.get("ms") or []
    if not isinstance(ms, list) or not all(_number(x, 0, _MAX_MS) and 0 < x < _MAX_MS for x in ms):
        return "its round times are not finite positive milliseconds"
    return None


def _module_problem(entry: Mapping[str, Any], compiled: set[str]) -> Optional[str]:
    if (digest := entry.get("module_sha256")) and compiled and digest not in compiled:
        return f"module {str(digest)[:12]} is not one the sitting's own records compiled"
    return None


def _arm_problem(arm: Any, compiled: set[str]) -> Optional[str]:
    if why := _named_problem(arm, "name", _TEXT, "not a named arm") or _module_problem(arm, compiled):
        return why
    if arm.get("kind") == advice.KERNEL:  # its files and command are shown as what to run
        if not _NAME.fullmatch(str(arm.get("kernel") or "")):
            return "a kernel arm whose kernel is not a name"
        for key in ("kernel_dir", "kernel_build", "kernel_object"):
            if not isinstance(arm.get(key, ""), str) or not _LINE.fullmatch(arm.get(key, "")):
                return f"its {key} is not one line of text"
        run = arm.get("kernel_run") or []
        if not isinstance(run, list) or not all(isinstance(f, str) and _kernel_run_flag(f) for f in run):
            return "its kernel_run is not a list of a plugin's flag and a kernel's runtime flags"
    return None


def _kernel_run_flag(flag: str) -> bool:
    """A kernel arm's runtime flag (`kernel_run`): its plugin's, or one of its kernel's `run_flags`."""
    if flag.startswith(f"{custom_dispatch.RUNTIME_PLUGIN_FLAG}="):
        return _LINE.fullmatch(flag) is not None
    return kernels.run_flag_problem(flag) is None


def publish(sittings: Sequence[Sitting], to: Path) -> list[Path]:
    """Each sitting under TO/answers/<identity>/, its records merged into the evidence log there."""
    from iree_matrix.findings.merge import merge_records

    written = []
    by_folder: dict[Path, list[Sitting]] = {}
    for sitting in sittings:
        target = Path(to) / sitting.destination
        target.parent.mkdir(parents=True, exist_ok=True)
        text = (
            json.dumps(sitting.document, indent=1, sort_keys=True) + "\n"
            if sitting.explained
            else sitting.path.read_text(encoding="utf-8")
        )
        write_atomically(target, text)
        written.append(target)
        by_folder.setdefault(target.parent, []).append(sitting)
    for folder, found in by_folder.items():
        log = folder / RESULTS
        sources = [(str(log), list(ResultsLog(log)))] if log.is_file() else []
        sources += [(str(s.path.parent), list(s.records)) for s in found if s.records]
        merged = merge_records(sources, histories=frozenset({str(log)}))
        write_atomically(log, "".join(r.to_json() + "\n" for r in merged.records))
        written.append(log)
    return written
