"""A run on a bare-metal target (targets.Arch.bare_metal): the run stage hands it here with the files its
dependencies stored (`Given`); IREE's runtime is cross-built from the `src:<release>` source once per key
(cortex_m.build_runtime), linked with the compile's static library and the inputs into a firmware, and run;
its outputs are checked against torch as on every target, and the record has its flash and RAM."""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from iree_matrix.bundle_runner.arrays import mismatch_words
from iree_matrix.core.errors import StageFailure, UserError
from iree_matrix.core.hashing import digest, file_sha256
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.outcome import Outcome
from iree_matrix.core.model.results import Status
from iree_matrix.core.system.process_request import Bounds
from iree_matrix.iree import versions
from iree_matrix.source_builds import cmake_runtime, cortex_m

_identity = functools.cache(cortex_m.toolchain_identity)  # asked once per process (every key needs it)


def key(cpu: str, runtime_source: str, module: str, export: str) -> str:
    """The run's key: `module` the compile's key, `export` the export's inputs and outputs digest."""
    try:
        source = cmake_runtime.source_digest(runtime_source)
    except UserError as exc:  # a missing source: said in one line, tried again next run
        raise StageFailure("runtime-source", str(exc), cacheable=False) from None
    return digest(
        {
            "stage": "run",
            "firmware": 1,
            "module": module,
            "export": export,
            "runtime": cortex_m.runtime_key(source, cpu, _identity()),
            "files": {p.name: file_sha256(p) for p in sorted(cortex_m.files_dir().iterdir()) if p.is_file()},
            "machine": repr(cortex_m.machine(cpu)),
            "stack": cortex_m.STACK_BYTES,
        }
    )


@dataclasses.dataclass(frozen=True)
class Given:
    """What the run's dependencies stored: the export's info, inputs and torch's outputs, the
    compile's module (its static library and header beside it)."""

    export_info: Path  # export.json: the function, its inputs and outputs, the tolerance
    inputs: Path  # input<i>.npy
    references: Path  # torch's output<i>.npy
    module: Path  # module.vmfb


def execute(
    cpu: str,
    runtime: str,
    runtime_source: str,
    given: Given,
    out: Path,
    *,
    cache: Path,
    under: Bounds,
    compare: Callable[..., dict[str, Any]],
) -> Outcome:
    """`runtime`: the job's `src:<release>` value; `compare`: the run stage's comparison with torch
    (the one every target uses), a mismatch said in the run stage's words."""
    machine = cortex_m.machine(cpu)
    release, _ = versions.parse_source_runtime(runtime)
    log = under.log
    cmake_runtime.check_release(cmake_runtime.source(runtime_source, cache, log=log), release)
    built = cortex_m.build_runtime(runtime_source, cpu, cache, under)

    info = json.loads(given.export_info.read_text())
    module = given.module
    kernels = module.parent / cortex_m.KERNELS
    if not kernels.is_file():
        why = f"the compile stage wrote no {cortex_m.KERNELS} beside {module.name}"
        raise StageFailure("static-library", why)
    inputs = [given.inputs / f"input{i}.npy" for i in range(len(info["inputs"]))]
    data = cortex_m.model_data(module, kernels.with_suffix(".h"), inputs, info["function"], out)
    elf = cortex_m.link(built, cpu, kernels, data, out, log=log)
    size = cortex_m.sizes(elf, log=log)
    dtypes = [o.get("dtype", "float32") for o in info["outputs"]]
    ran = cortex_m.run(elf, cpu, dtypes, under)

    # Beside its check, a firmware's run records flash and RAM (sections, the heap's and the stack's
    # peaks) against the emulated machine's, the module's and the runtime build's sizes, qemu's time.
    flash = size["text"] + size["rodata"] + size["data"]
    ram = size["data"] + size["bss"] + (ran.heap_peak or 0) + (ran.stack_peak or 0)
    metrics: dict[str, Any] = {
        "machine": machine.qemu,
        "cpu": cpu,
        "sections": size,
        "flash_bytes": flash,
        "ram_bytes": ram,
        "heap_peak_bytes": ran.heap_peak,
        "stack_peak_bytes": ran.stack_peak,
        # The runtime's own share: the heap in use once everything is set up, before the call.
        "heap_at_bytes": dict(ran.heap_at),
        "machine_flash_bytes": machine.flash[1],
        "machine_ram_bytes": machine.ram[1],
        "fits": cortex_m.fits(flash, cortex_m.linked_ram(ram, ran.stack_peak), cpu),
        "module_bytes": module.stat().st_size,
        "kernels_bytes": kernels.stat().st_size,
        "runtime_build": {k: built.facts.get(k) for k in ("build_seconds", "library_bytes", "defines")},
        "qemu_seconds": round(ran.seconds, 2),
        "timing": f"emulated (qemu-system-arm {machine.qemu}): not the board's speed",
        "device": "local-sync",
    }

    def outcome(status: Status, error_class: Optional[str] = None, message: Optional[str] = None) -> Outcome:
        return Outcome(status, RunMetrics.checked(metrics), message, error_class)  # the metrics by then

    if not ran.ok:
        return outcome(Status.FAIL, "firmware-error", ran.message)
    if len(ran.outputs) != len(info["outputs"]):
        why = f"the firmware printed {len(ran.outputs)} outputs, torch gave {len(info['outputs'])}"
        return outcome(Status.FAIL, "output-count", why)
    paths = [out / f"output{i}.npy" for i in range(len(ran.outputs))]
    for path, array in zip(paths, ran.outputs):
        np.save(path, array)
    references = [given.references / p.name for p in paths]
    check = compare(paths, references, atol=info["atol"], rtol=info["rtol"], described=info["outputs"])
    metrics.update(check)
    if check["matches"]:
        return outcome(Status.OK)
    return outcome(Status.MISMATCH, "numeric-mismatch", mismatch_words(check))
