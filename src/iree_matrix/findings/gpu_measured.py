"""IREE on a real GPU, measured by hand outside the project (an NVIDIA H200 that could not host the
tool): the one table of those facts, said by `query model --target` (findings/gpu.py) and shown in
docs/gpu.md "On a real GPU" (tests/unit/test_gpu_measured.py writes its rows out). Marked as measured
outside until a run bundle of the project's own re-makes them as records; then this table goes."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Optional

from iree_matrix.bundle_runner import gpu_peers
from iree_matrix.core import formats

PROVENANCE = "measured by hand outside the project, 2026-11-26, not yet re-made by a run bundle"
TORCH_VERSION = "2.11.0+cu130"  # the machine's own torch, not the project's pin


@dataclasses.dataclass(frozen=True)
class Sitting:
    """One sitting on one machine: IREE's and torch's figures compared only within one (the same
    rule as the CPU answers' rounds)."""

    name: str
    gpu: str
    driver: str
    compute_capability: str
    family: str  # the GPU generation a user names: "Hopper"
    host: str
    api: str  # the driver the modules ran on: "CUDA", "NVIDIA's Vulkan driver"


@dataclasses.dataclass(frozen=True)
class Run:
    """One module (compiled by `release` for `target`, run by the same release's runtime wheel)."""

    sitting: Sitting
    model: str
    release: str
    target: str  # the label of the chip it was compiled for: "cuda-sm_80", "vulkan-spirv"
    max_abs_err: float
    matches: bool  # numpy.allclose(outputs, torch's, rtol, atol) with the export's tolerances
    call_ms: float  # iree.runtime: median of 100 calls, each reading its output back to the host
    benchmark_ms: Optional[float] = None  # iree-benchmark-module --device=cuda: median of 5 repetitions
    flags: tuple[str, ...] = ()  # compile flags beside the target's own

    @property
    def chip(self) -> str:
        """The chip flag's value ("sm_80"), or the backend where it takes none ("vulkan-spirv")."""
        return self.target.split("-", 1)[1] if self.target.startswith("cuda-") else self.target

    @property
    def iree_ms(self) -> float:
        """The figure compared with torch: iree-benchmark-module's where it was taken, else the call's."""
        return self.benchmark_ms if self.benchmark_ms is not None else self.call_ms


@dataclasses.dataclass(frozen=True)
class Torch:
    """torch (TORCH_VERSION) on the same GPU in the same sitting: the model built with seed 0, fp32 with
    TF32 off, median of 100 synchronised calls after 10 warm-ups, per GPU peer (by its config)."""

    sitting: Sitting
    model: str
    ms: Mapping[str, float]  # {peer config: ms}: eager, and torch.compile (mode="reduce-overhead")


@dataclasses.dataclass(frozen=True)
class CompileFailure:
    """A chip the compiler did not take, by hand there (the published cells hold their own)."""

    release: str
    target: str
    error: str


_HOST = "16 Intel cores (GenuineIntel family 6 model 207, Emerald Rapids), Python 3.12, no network"
_H200 = dict(gpu="NVIDIA H200", driver="580.159.04", compute_capability="9.0", family="Hopper", host=_HOST)
CUDA_FIRST = Sitting("CUDA, first sitting", api="CUDA", **_H200)
CUDA_SECOND = Sitting("CUDA, second sitting", api="CUDA", **_H200)
VULKAN = Sitting("Vulkan", api="NVIDIA's Vulkan driver", **_H200)

# (atol, rtol): each export's own (export.json), which the runs were checked with.
TOLERANCES = {"mobilenet_v2": (5e-05, 1e-4), "tiny_cnn": (2e-06, 1e-05), "yolox_nano": (5e-03, 5e-03)}

_A, _B, _V, _O3 = CUDA_FIRST, CUDA_SECOND, VULKAN, ("--iree-opt-level=O3",)
RUNS: tuple[Run, ...] = (
    # sitting, model, release, compiled for, max abs err, matches, call ms, benchmark ms, flags
    Run(_A, "mobilenet_v2", "3.13.0", "cuda-sm_80", 2.980e-06, True, 3.32, 2.93),
    Run(_A, "mobilenet_v2", "3.9.0", "cuda-sm_80", 2.898e-06, True, 3.20),
    Run(_A, "yolox_nano", "3.13.0", "cuda-sm_80", 0.02779, True, 4.49),
    Run(_A, "tiny_cnn", "3.13.0", "cuda-sm_80", 5.960e-08, True, 0.233),
    Run(_A, "tiny_cnn", "3.13.0", "cuda-sm_89", 5.960e-08, True, 0.230),
    Run(_A, "tiny_cnn", "3.9.0", "cuda-sm_80", 5.960e-08, True, 0.127),
    Run(_B, "mobilenet_v2", "3.13.0", "cuda-sm_80", 2.980e-06, True, 3.44, 2.93),
    Run(_B, "mobilenet_v2", "3.13.0", "cuda-sm_89", 2.980e-06, True, 3.46, 2.95, _O3),
    Run(_B, "yolox_nano", "3.13.0", "cuda-sm_80", 0.02779, True, 4.64, 3.99),
    Run(_B, "tiny_cnn", "3.13.0", "cuda-sm_80", 5.960e-08, True, 0.375, 0.087),
    Run(_V, "mobilenet_v2", "3.13.0", "vulkan-spirv", 0.2977, False, 9.50),
    Run(_V, "mobilenet_v2", "3.9.0", "vulkan-spirv", 2.950e-06, True, 11.6),
    Run(_V, "tiny_cnn", "3.13.0", "vulkan-spirv", 7.451e-08, True, 3.03),
    Run(_V, "tiny_cnn", "3.9.0", "vulkan-spirv", 7.451e-08, True, 4.59),
)

TORCH: tuple[Torch, ...] = (
    Torch(CUDA_FIRST, "mobilenet_v2", {"eager": 2.64, "torch.compile": 0.725}),
    Torch(CUDA_FIRST, "yolox_nano", {"eager": 6.13, "torch.compile": 1.23}),
    Torch(CUDA_FIRST, "tiny_cnn", {"eager": 0.197, "torch.compile": 0.116}),
    Torch(CUDA_SECOND, "mobilenet_v2", {"eager": 4.79, "torch.compile": 0.752}),
    Torch(CUDA_SECOND, "yolox_nano", {"eager": 10.7, "torch.compile": 1.23}),
    Torch(CUDA_SECOND, "tiny_cnn", {"eager": 0.219, "torch.compile": 0.129}),
)

_NO_TARGET = "missing GPU target in #hal.executable.target"
COMPILE_FAILURES: tuple[CompileFailure, ...] = (
    CompileFailure("3.13.0", "cuda-sm_90", _NO_TARGET),
    CompileFailure("3.13.0", "cuda-sm_90a", _NO_TARGET),
)


def compute_capability(label: str) -> Optional[str]:
    """A CUDA chip's compute capability: "cuda-sm_90a" and "sm_90" -> "9.0"; None for another target."""
    found = re.fullmatch(r"(?:cuda-)?sm_(\d+)(\d)a?", label)
    return f"{found.group(1)}.{found.group(2)}" if found else None


def runs(model: str, target: str) -> list[Run]:
    return [r for r in RUNS if r.model == model and r.target == target]


def foreign_chip_runs(label: str) -> list[Run]:
    """Modules compiled for another CUDA chip that ran, and matched torch, on a GPU of `label`'s compute
    capability (sm_80's PTX on Hopper): the measured way round a chip the compiler does not take."""
    capability = compute_capability(label)
    if capability is None:
        return []

    def older(target: str) -> bool:  # PTX runs on its own compute capability and newer ones only
        own = compute_capability(target)
        return own is not None and _version(own) <= _version(capability)

    return [
        r
        for r in RUNS
        if r.sitting.compute_capability == capability and r.target != label and older(r.target) and r.matches
    ]


def _version(capability: str) -> tuple[int, ...]:
    return tuple(int(part) for part in capability.split("."))


def peers() -> tuple[gpu_peers.GpuPeer, ...]:
    """The GPU peers these sittings timed, in their order (a peer added since has no figure here)."""
    return tuple(p for p in gpu_peers.ordered() if any(p.config in t.ms for t in TORCH))


def torch_ms(run: Run) -> dict[gpu_peers.GpuPeer, float]:
    """Each GPU peer's figure in the run's own sitting, in their order (none where it timed no torch)."""
    torch = torch_of(run)
    return {p: torch.ms[p.config] for p in gpu_peers.ordered() if torch is not None and p.config in torch.ms}


def torch_of(run: Run) -> Optional[Torch]:
    """torch's figures for the run's model in the run's own sitting (never another sitting's)."""
    return next((t for t in TORCH if t.sitting == run.sitting and t.model == run.model), None)


def error(x: float) -> str:
    """A max abs err as the docs write it, three significant digits: "2.98e-6", "0.298"."""
    if x != 0 and abs(x) < 1e-3:
        mantissa, exponent = f"{x:.2e}".split("e")
        return f"{mantissa}e{int(exponent)}"
    return formats.sig3(x)
