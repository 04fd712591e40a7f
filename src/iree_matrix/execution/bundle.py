"""A run bundle: compile here, answer there. `iree-matrix bundle` builds a plan's exports and compiles here,
then packs what a machine needs to run and check them with nothing but Python and numpy: each cell's
module, inputs and torch's references, IREE's runtime (execution/bundle_runtimes.py), a manifest (also
kept in the cache, so `merge` can check records coming home) and the runner (`bundle_runner/`, run by
run.py). Layout and figures: docs/bundles.md."""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import shutil
import tarfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, Optional

from iree_matrix import __version__, bundle_runner
from iree_matrix.core import console
from iree_matrix.core.atomic_files import write_atomically
from iree_matrix.core.cache_layout import CacheLayout
from iree_matrix.core.hashing import file_sha256
from iree_matrix.core.model.configuration import Config, NamedCpu
from iree_matrix.core.model.records import Labels
from iree_matrix.core.model.results import Record, Status
from iree_matrix.core.model.store import Store
from iree_matrix.core.shipped import scripts_dir
from iree_matrix.core.system import host
from iree_matrix.execution.bundle_runtimes import BundleError, Tools, Wheel, Where, stored
from iree_matrix.iree import targets, versions
from iree_matrix.iree.flags import compile_flags, target_cpu
from iree_matrix.kernel.model.metrics import KernelMetrics
from iree_matrix.matrix.plan import Job, Plan
from iree_matrix.stages import artifacts
from iree_matrix.stages.artifacts import EXPORT_INFO, INPUTS, KERNEL_OBJECTS, MODULE, REFERENCE

logger = console.logger(__name__)

MANIFEST = "bundle.json"
SUMS = "SHA256SUMS"
RUNNER = "run.py"  # bundle_runner's LAUNCHER: what users run
RUNNER_PACKAGE = "bundle_runner"  # beside it: the runner itself, iree_matrix/bundle_runner's files
SCHEMA = 1  # the manifest's; bundle_runner/base.py MANIFEST_SCHEMA reads exactly this
CPU_DEVICE = "local-sync"  # the calling thread only: its CPU time is the call's


@dataclasses.dataclass(frozen=True)
class BundledRun:
    """One module the bundle runs: the run job it answers for, and the files that answer it."""

    job: str  # run:<compile cell>[/rt...]: the id a run of it here would have
    labels: Mapping[str, str]
    compile_job: str
    compile_key: str
    export_key: str
    module: Path  # in the store
    export: Path  # the export's store entry
    device: str  # the runtime's HAL driver
    runtime: str  # the release whose wheel runs it
    target: str  # the arch label
    machine: str  # the CPU architecture its runtime runs on
    plugin: Optional[Path] = None  # a plugin kernel's plugin, which the runtime loads beside the module
    run_flags: tuple[str, ...] = ()  # the cell's kernel's runtime flags (kernel.toml `run_flags`)


def cells(
    plan: Plan,
    latest: Mapping[str, Record],
    store: Store,
    where: Where,
    kernel_run_flags: Mapping[str, Sequence[str]] = MappingProxyType({}),
) -> tuple[list[BundledRun], list[str]]:
    """The plan's compiled cells as bundle cells, and one line for each cell that cannot travel
    (failed or missing compile, a module for this host's CPU only). `kernel_run_flags`: each kernel's
    runtime flags by name, which its cells' runs pass."""
    runs = {
        dep: job for job in plan.jobs if job.stage == "run" for dep in job.deps if dep.startswith("compile:")
    }
    found: list[BundledRun] = []
    left: list[str] = []
    for job in (j for j in plan.jobs if j.stage == "compile"):
        why = _cannot_travel(job)
        record = latest.get(job.id)
        if why is None and (record is None or record.status is not Status.OK):
            why = f"its compile {'did not run' if record is None else 'ended ' + repr(record.status.value)}"
        export_id = next((d for d in job.deps if d.startswith("export:")), "")
        entry = store.get("compile", record.key) if why is None and record is not None else None
        source = stored(store, "export", latest.get(export_id))
        if why is None and (entry is None or source is None):
            why = "its module or export is not in the store (run again)"
        if why is not None or entry is None or source is None:
            left.append(f"{job.id}: {why}")
            continue
        run = runs.get(job.id)
        # The kernel job whose plugin its run loads: a run depends on one only for a plugin kernel
        # (stages/run.py; an embedded kernel's object is in the module).
        kernel = next((d for d in run.deps if d.startswith("kernel:")), None) if run is not None else None
        plugin = _plugin(kernel, latest, store) if kernel is not None else None
        if kernel is not None and plugin is None:
            left.append(f"{job.id}: its plugin kernel's plugin ({kernel}) is not in the store (run again)")
            continue
        labels = Labels.of(run.labels if run is not None else {**job.labels, "runtime": job.label.compiler})
        target = targets.parse(job.label.arch)
        gpu = target.gpu
        found.append(
            BundledRun(
                job=run.id if run is not None else f"run:{job.cell}",
                # the cell's plain run, on its device
                labels=dataclasses.replace(labels, device="").as_dict(),
                compile_job=job.id,
                compile_key=entry.record.key,
                export_key=source.record.key,
                module=MODULE.of(entry),
                export=source.path,
                device=gpu.driver if gpu is not None else CPU_DEVICE,
                runtime=labels.runtime,
                target=job.label.arch,
                machine=where.machine if gpu is not None else target.run_arch(),
                plugin=plugin,
                run_flags=tuple(kernel_run_flags.get(job.label.kernel, ())) if job.label.kernel else (),
            )
        )
    return found, left


def _plugin(kernel: str, latest: Mapping[str, Record], store: Store) -> Optional[Path]:
    """That kernel job's plugin: in its entry's objects/, the file of the digest its record gives."""
    record = latest.get(kernel)
    entry = stored(store, "kernel", record)
    if record is None or entry is None or not KERNEL_OBJECTS.of(entry).is_dir():
        return None
    sha = record.metric.of(KernelMetrics).object_sha256
    return next((p for p in sorted(KERNEL_OBJECTS.of(entry).iterdir()) if file_sha256(p) == sha), None)


def _cannot_travel(job: Job) -> Optional[str]:
    target = job.target
    if target.arch.bare_metal:
        return "a bare-metal firmware links its runtime here (cortex_m.py); it does not travel as a module"
    if versions.is_source_runtime(job.label.compiler):
        return "a compiler built from source does not travel: compile with a released one"
    profile = job.profile
    # A board target's own CPU (armv6-arm1176jzf-s) replaces the profile's "host" (flags.target_cpu).
    if target.gpu is None and profile is not None and target_cpu(target, profile) == "host":
        return (
            f'profile {profile.name!r} compiles for this machine\'s CPU (target_cpu = "host"), '
            "not the target's: "
            f'name the target\'s LLVM CPU in the profile (target_cpu = "znver4", "x86-64-v3", ...)'
        )
    return None


@dataclasses.dataclass(frozen=True)
class Packed:
    archive: Path
    digest: str  # the manifest's sha256: what every record the bundle makes names
    bytes: int
    archive_bytes: int


def plan_files(
    found: Sequence[BundledRun], wheels_: Sequence[Wheel], tools: Sequence[Tools] = ()
) -> dict[str, Path]:
    """Bundle path -> source file, for every file but the manifest, the sums and the runner."""
    files: dict[str, Path] = {}
    for cell in found:
        files[_module_name(cell)] = cell.module
        if cell.plugin is not None:
            files[_plugin_name(cell.plugin)] = cell.plugin
        base = f"exports/{cell.export_key[:16]}"
        files[f"{base}/{EXPORT_INFO.path}"] = cell.export / EXPORT_INFO.path
        for kind in (INPUTS, REFERENCE):
            for array in sorted((cell.export / kind.path).glob("*.npy")):
                files[f"{base}/{kind.path}/{array.name}"] = array
    files.update({f"runtime/{path.name}": path for wheel in wheels_ for path in wheel.files})
    files.update({f"{built.folder}/{path.name}": path for built in tools for path in built.files})
    return files


def _module_name(cell: BundledRun) -> str:
    return f"modules/{file_sha256(cell.module)}.vmfb"


def _plugin_name(plugin: Path) -> str:
    return f"plugins/{file_sha256(plugin)}{plugin.suffix}"


def manifest(
    name: str,
    found: Sequence[BundledRun],
    wheels_: Sequence[Wheel],
    files: Mapping[str, Path],
    sittings_: Sequence[Mapping[str, Any]] = (),
    calls: int = 3,
    tools: Sequence[Tools] = (),
    gap: float = 1.5,
) -> dict[str, Any]:
    digests = {path: file_sha256(source) for path, source in files.items()}
    return {
        "schema": SCHEMA,
        "kind": "iree-matrix run bundle",
        "name": name,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "tool_version": __version__,
        "made_on": {k: v for k, v in host.describe().items() if k != "instance"},
        "cells": [_cell_row(cell, files, digests) for cell in found],
        "sittings": list(sittings_),
        "calls": calls,  # a sitting's calls per arm per round
        # an answer's arm taking more than this times ONNX Runtime's time is profiled op by op there
        "gap": gap,
        "runtimes": _runtime_rows(wheels_, tools, digests),
    }


def _cell_row(cell: BundledRun, files: Mapping[str, Path], digests: Mapping[str, str]) -> dict[str, Any]:
    """One cell as the manifest lists it: what the runner needs to load, check and time it."""
    info = json.loads((cell.export / EXPORT_INFO.path).read_text())
    module = _module_name(cell)
    return {
        "job": cell.job,
        "labels": dict(cell.labels),
        **{k: getattr(cell, k) for k in ("target", "device", "runtime", "machine")},
        "module": module,
        "module_sha256": digests[module],
        "module_bytes": files[module].stat().st_size,
        "compile_key": cell.compile_key,
        **_export_io(cell),
        "function": str(info.get("function") or "main"),
        "io_sha256": artifacts.export_digests(cell.export)["io_sha256"],
        # The board's CPU as qemu-user names it: where its tools are emulated, pinned to it.
        "qemu_cpu": targets.parse(cell.target).qemu_cpu,
        # A plugin kernel's plugin, which loading the module needs (bundle_runner/modules.py).
        **({"plugin": _plugin_name(cell.plugin)} if cell.plugin is not None else {}),
        # Its kernel's runtime flags (a bigger worker stack), which every run of it passes.
        **({"run_flags": list(cell.run_flags)} if cell.run_flags else {}),
    }


def _runtime_rows(
    wheels_: Sequence[Wheel], tools: Sequence[Tools], digests: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The runtimes the bundle carries: each wheel, then each source-built runtime's tools."""
    return [
        {
            "kind": "wheel",
            **_fields(w),
            "wheels": [f"runtime/{p.name}" for p in w.files],
            "sha256": digests[f"runtime/{w.files[0].name}"],
        }
        for w in wheels_
    ] + [
        {
            "kind": "tools",
            **_fields(t),
            "tools": {p.name: f"{t.folder}/{p.name}" for p in t.files},
            "tools_sha256": {p.name: digests[f"{t.folder}/{p.name}"] for p in t.files},
            "sha256": digests[f"{t.folder}/{t.files[0].name}"],  # iree-run-module's: the record's runtime
        }
        for t in tools
    ]


def _fields(runtime: Wheel | Tools) -> dict[str, Any]:
    """A runtime's fields as its manifest row names them (its files are listed by bundle path)."""
    return {f.name: getattr(runtime, f.name) for f in dataclasses.fields(runtime) if f.name != "files"}


def _export_io(cell: BundledRun) -> dict[str, Any]:
    """A cell's export as the runner checks against it: its folder, arrays and tolerance."""
    info = json.loads((cell.export / EXPORT_INFO.path).read_text())
    return {
        "export": f"exports/{cell.export_key[:16]}",
        "inputs": sorted(p.name for p in (cell.export / INPUTS.path).glob("*.npy")),
        "references": sorted(p.name for p in (cell.export / REFERENCE.path).glob("*.npy")),
        "atol": info.get("atol"),
        "rtol": info.get("rtol"),
        # Each array's dtype and shape as the export described it: a dtype numpy lacks (bfloat16) is
        # saved as raw bits (`saved_as`), which the runner decodes by this, and an output whose order
        # is unspecified (an unsorted topk's `unordered`) is compared as a set, by IREE's arms and
        # the peers' (ONNX Runtime, torch there) alike.
        "arrays": {"inputs": info.get("inputs") or [], "outputs": info.get("outputs") or []},
    }


def size_of(files: Mapping[str, Path]) -> int:
    sizes = [p.stat().st_size for p in (*files.values(), *runners().values())]
    return sum(sizes) + len(bundle_runner.LAUNCHER.encode())


def runners() -> dict[str, Path]:
    """The runner's package, by each file's name in the bundle (run.py is written from its LAUNCHER):
    the same files iree-matrix imports as iree_matrix.bundle_runner, its subpackages' (gpu_peers/) too."""
    package = Path(bundle_runner.__file__).parent
    return {f"{RUNNER_PACKAGE}/{p.relative_to(package).as_posix()}": p for p in sorted(package.rglob("*.py"))}


def write(to: Path, document: Mapping[str, Any], files: Mapping[str, Path], cache: Path) -> Packed:
    """The bundle's folder (written beside `to`, then renamed: an interrupted write leaves no half
    bundle under the name) and its archive `to.tar.gz`; the manifest kept in the cache."""
    to = Path(to)
    if to.exists() and not (to / MANIFEST).is_file():
        raise BundleError(f"bundle --to {to}: exists and is not a bundle; name a new folder")
    staging = to.with_name(f".{to.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        for relative, source in {**files, **runners()}.items():
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            if relative.startswith("runtimes/"):  # a carried runtime's tools run as they are
                os.chmod(target, 0o755)
        (staging / RUNNER).write_text(bundle_runner.LAUNCHER)
        os.chmod(staging / RUNNER, 0o755)
        (staging / MANIFEST).write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
        (staging / "README.txt").write_text(_readme(document))
        listed = sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file())
        (staging / SUMS).write_text("".join(f"{file_sha256(staging / n)}  {n}\n" for n in listed))
        digest = file_sha256(staging / MANIFEST)
        keep(cache, digest, (staging / MANIFEST).read_bytes())
        if to.exists():
            shutil.rmtree(to)
        os.replace(staging, to)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    archive = to.with_name(to.name + ".tar.gz")
    partial = archive.with_name(archive.name + ".partial")
    with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
        tar.add(to, arcname=to.name, filter=_without_local)
    os.replace(partial, archive)
    total = sum(p.stat().st_size for p in to.rglob("*") if p.is_file())
    return Packed(archive, digest, total, archive.stat().st_size)


def _without_local(info: tarfile.TarInfo) -> Optional[tarfile.TarInfo]:
    """What a runner left in the folder (unpacked runtimes, results) does not travel."""
    parts = Path(info.name).parts
    if len(parts) > 1 and parts[1] in (".runtime", "results"):
        return None
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def keep(cache: Path, digest: str, text: bytes) -> Path:
    """The manifest under its digest in the cache: what `merge` checks records coming home against."""
    path = CacheLayout(cache).bundles / f"{digest}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, text)
    return path


def _readme(document: Mapping[str, Any]) -> str:
    runtimes = ", ".join(
        f"IREE {r['release']} for Python {r['python']} on {r['machine']}"
        if r.get("kind", "wheel") == "wheel"
        else f"IREE {r['release']} built from source, its tools for {r['machine']} ({r['elf_machine']})"
        for r in document["runtimes"]
    )
    return (
        f"iree-matrix run bundle {document['name']!r}: {len(document['cells'])} cells; "
        f"runtimes: {runtimes}.\n\n"
        "On the machine to answer (Python >= 3.9 and numpy; no network, torch or compiler needed):\n\n"
        "    python3 run.py --list            # the cells and this machine's identity\n"
        "    python3 run.py [--out DIR]       # check and time every cell; Ctrl-C keeps what is done\n\n"
        "Bring the results folder home and: iree-matrix merge DIR --to RESULTS_DIR\n"
    )


# --------------------------------------------------------------------------- a sitting there


def arm_of(config: Config, cpu: NamedCpu) -> tuple[Config, str]:
    """(configuration, kind) of a sitting's arm from its cell's configuration: the one advise named
    the arm by, without the bundle's CPU (nor the variant: an arm is named by its cell's profile); a
    kernel swapped into default or a pick ("cpu-znver4+k:depthwise3x3") is advise's "default+k:NAME"."""
    fleet = config.cpu == cpu
    arm = (config.with_cpu(None) if fleet else config).with_variant("")
    if config.kernel:
        return arm, KERNEL_ARM
    if fleet and arm == Config():
        return arm, "default"
    return arm, "naive" if arm == Config(knobs=("generic",)) else "pick"


KERNEL_ARM = "kernel"  # findings/advice.py's KERNEL: a kernel swapped into default or a pick


def _sitting_arm(config: Config, kind: str, cell: BundledRun, flags: list[str]) -> dict[str, Any]:
    """A sitting's module arm as the manifest lists it; a kernel arm's configuration is the one its
    kernel is swapped into, as advise's (home pairs the two)."""
    name = str(config)
    arm = {
        "name": name,
        "kind": kind,
        "config": name,
        "release": cell.runtime,
        "flags": flags,
        "job": cell.job,
    }
    if kind == KERNEL_ARM:
        base = str(config.without_kernel())  # the configuration the kernel is swapped into
        arm.update(config=base, base=base, kernel=Labels.of(cell.labels).kernel)
    return arm


def sittings(
    plan: Plan,
    latest: Mapping[str, Record],
    store: Store,
    found: Sequence[BundledRun],
    cpu: str,
    picks: Optional[Sequence[str]] = None,
    proofs: Optional[Mapping[str, tuple[str, Sequence[str]]]] = None,
) -> tuple[list[dict[str, Any]], dict[str, Path]]:
    """Each function's sitting (its arms: the CPU cells of `found` that are default, the naive build or one of
    `picks`, None: every other cell; ONNX Runtime's model where the peer stage made one), with its proof where
    `proofs` names the function ("" every function); and the peer files that travel with them."""
    files: dict[str, Path] = {}
    jobs = plan.by_id()
    peers = {
        (j.label.source_model or j.label.model, j.label.function): j for j in plan.jobs if j.stage == "peer"
    }

    def flags_of(cell: BundledRun) -> list[str]:
        # The flags as a user types them (advise's spelling), not the recorded command's store
        # paths and statistics dumps.
        job = jobs.get(cell.compile_job)
        return compile_flags(cell.runtime, cell.target, job.profile) if job and job.profile else []

    out = []
    by_cpu = by_function(c for c in found if c.device == CPU_DEVICE)
    for (model, function, _), cells_ in sorted(by_cpu.items()):
        arms = []
        named: dict[str, BundledRun] = {}
        for cell in cells_:
            config, kind = arm_of(Labels.of(cell.labels).config, NamedCpu(cpu))
            name = str(config)  # as the manifest and `picks` spell it
            named[name] = cell
            if kind == "pick" and picks is not None and name not in picks:
                continue  # a proof's neighbour only: timed in the proof, never an answer
            arms.append(_sitting_arm(config, kind, cell, flags_of(cell)))
        sitting: dict[str, Any] = {
            "model": model,
            "function": function,
            "release": cells_[0].runtime,
            "arms": arms,
        }
        peer = peers.get((model, function))
        entry = stored(store, "peer", latest.get(peer.id) if peer is not None else None)
        if entry is not None and (entry.path / "model.onnx").is_file():
            base = f"peers/{entry.record.key[:16]}"
            for name in ("model.onnx", "model.onnx.data"):
                if (entry.path / name).is_file():
                    files[f"{base}/{name}"] = entry.path / name
            sitting["onnx"] = {"model": f"{base}/model.onnx", **_export_io(cells_[0])}
        # A reference model: torch eager can build it there.
        if "onnx" in sitting and (torch := torch_spec(model, function, cells_[0], files)):
            sitting["torch"] = torch
        proof = (proofs or {}).get(function) or (proofs or {}).get("")
        if proof is not None and proof[0] in {a["config"] for a in arms}:
            sitting["proof"] = proof_of(*proof, named, flags_of)
        out.append(sitting)
    return out, files


def by_function(cells: Iterable[BundledRun]) -> dict[tuple[str, str, str], list[BundledRun]]:
    """Cells by (model, function, HAL driver): what a sitting times together."""
    grouped: dict[tuple[str, str, str], list[BundledRun]] = {}
    for cell in cells:
        labels = Labels.of(cell.labels)
        key = (labels.source_model or labels.model, labels.function, cell.device)
        grouped.setdefault(key, []).append(cell)
    return grouped


def proof_of(
    centre: str, around: Sequence[str], cells: Mapping[str, Any], flags_of: Callable[[Any], list[str]]
) -> dict[str, Any]:
    """A centre's proof as the manifest carries it: each neighbour with the cell that compiled it
    (`cells`, by its name), or why it did not travel."""
    failed = "its compile did not succeed here, so it did not travel (the bundle's output says why)"
    neighbours = [
        {"config": n, "flags": flags_of(made), "job": made.job} if made else {"config": n, "error": failed}
        for n, made in ((n, cells.get(n)) for n in around)
    ]
    return {"centre": centre, "max_steps": 1, "neighbours": neighbours}


def torch_spec(model: str, function: str, cell: Any, files: dict[str, Path]) -> dict[str, Any]:
    """What run.py needs to build the model in torch there and check it: the reference models'
    sources (added to `files`), the export's inputs and references and the model's tolerance; {}
    for a model that is not a reference model (its source is not the tool's to carry)."""
    models = scripts_dir() / "models"
    source = models / f"{model.replace('@', '__')}.py"
    if not source.is_file():
        return {}
    files.update({f"torch/models/{path.name}": path for path in sorted(models.glob("*.py"))})
    return {
        **_export_io(cell),
        "root": "torch",
        "module": f"models.{source.stem}",
        "function": function,
        "seed": 0,
    }
