"""The run stage's metrics (stages/run.py): a module run against torch's outputs and timed, on a
machine, under qemu, or as bare-metal firmware (source_builds/firmware.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from iree_matrix.core.model import stats
from iree_matrix.core.model.metrics_view import Timed, TimingContext, metric, number

DISAGREES = "disagrees"  # the metric `runs_view.cross_checked` adds to a run it marks
PAIRED = "paired"  # the metric `answers.paired.attach` adds to a run a compare document timed


class RunMetrics(TimingContext, stage="run"):
    matches: bool = metric("whether every output is within the model's tolerance of torch's", False)
    max_abs_err: Optional[float] = metric("the largest absolute error (where both are finite)")
    max_rel_err: Optional[float] = metric("the largest error relative to the output's scale")
    nonfinite_values: Optional[int] = metric(
        "IREE's NaN or inf values where torch's are finite (each a mismatch)"
    )
    unchecked_values: Optional[int] = metric(
        "values not checked: where torch's own output is NaN or inf (the model's)"
    )
    atol: Optional[float] = metric("the model's tolerance, absolute")
    rtol: Optional[float] = metric("and relative")
    latency_ms: Any = metric("iree-benchmark-module's repetitions: median, min, max, stdev, n, times")
    cpu_ms: Any = metric(
        "CPU time per call on one thread (local-sync; under qemu the emulator's): the "
        "load-robust signal, same shape as latency_ms"
    )
    time_budget_seconds: Optional[float] = metric(
        "[benchmark] time_budget: the seconds of calls each timed pass had (latency_ms's n: how many it "
        "timed); none: every repetition"
    )
    process_cpu_ms: Any = metric(
        "the process's CPU time per call on the cell's own HAL driver (every thread)"
    )
    module_bytes: Optional[float] = metric("the module's size")
    module_sha256: Optional[str] = metric("the module's digest")
    outputs_sha256: Optional[str] = metric("the outputs' exact values")
    device: str = metric("the HAL driver", "")
    iree_run_module_bytes: Optional[float] = metric("the runtime tool's size")
    peak_memory_bytes: Optional[float] = metric("iree-run-module's peak memory")
    peak_memory_of: Optional[str] = metric("whose peak that is (a container's cgroup)")
    timing: Optional[str] = metric("native, or emulated (qemu-user): never ranked with native")
    op_profile: Optional[Mapping[str, Any]] = metric(
        "each dispatch in context (IREE's HAL profiler; [benchmark] op_timings)"
    )
    gpu_devices: tuple[str, ...] = metric(
        "a GPU target's devices the runtime listed (--dump_devices): names, else URIs", ()
    )
    # a firmware run (bare metal, under qemu-system-arm): what it needs of a board
    machine: str = metric("the emulated machine (qemu-system-arm)", "")
    cpu: str = metric("its CPU", "")
    sections: Mapping[str, Any] = metric("the firmware's section sizes", {})
    flash_bytes: Optional[int] = metric("text + rodata + the initial values of data")
    ram_bytes: Optional[int] = metric("data + bss + the heap's and the stack's peaks")
    heap_peak_bytes: Optional[int] = metric("the heap's peak")
    stack_peak_bytes: Optional[int] = metric("the stack's peak")
    heap_at_bytes: Mapping[str, Any] = metric(
        "the heap in use at each step (the runtime's own share: before the call)", {}
    )
    machine_flash_bytes: Optional[int] = metric("the machine's flash")
    machine_ram_bytes: Optional[int] = metric("the machine's RAM")
    fits: Mapping[str, Any] = metric(
        "on which boards it fits as linked (its RAM with the stack reserve, cortex_m.linked_ram)", {}
    )
    kernels_bytes: Optional[int] = metric("the compile's static library")
    runtime_build: Mapping[str, Any] = metric("the runtime's build: seconds, library size, defines", {})
    qemu_seconds: Optional[float] = metric("the emulation's wall time")
    # what the answers add to a run they read (never written by the stage)
    disagrees: Optional[str] = metric(
        "a quieter figure of the same module: what, where, when (runs_view.cross_checked)"
    )
    paired: Mapping[str, Any] = metric(
        "the other arm's name -> this run's paired verdict against it (answers.paired.attach)", {}
    )

    @property
    def latency(self) -> Optional[Timed]:
        return Timed.of(self.latency_ms)

    @property
    def budgeted_n(self) -> Optional[int]:
        """How many repetitions the figure had, where the matrix's time budget decided it (a report
        says "n=3" beside it); None for a run that had every repetition, or an older record."""
        timed = self.latency
        return timed.n if self.time_budget_seconds and timed is not None and timed.n else None

    @property
    def latency_median(self) -> Optional[float]:
        return self.latency.median if self.latency is not None else None

    @property
    def latency_interval(self) -> Optional[stats.Interval]:
        """The interval of the latency's median (`stats.of_latency`), None when it cannot be had."""
        return stats.of_latency(self.latency_ms)

    @property
    def cpu_time(self) -> Optional[Timed]:
        """CPU time per call on one thread: the figure the machine's load moves least."""
        return Timed.of(self.cpu_ms)

    @property
    def cpu_times(self) -> Optional[list[float]]:
        """The one-thread CPU time of each repetition, when kept (paired verdicts use them)."""
        times = self.cpu_ms.get("times") if isinstance(self.cpu_ms, Mapping) else None
        if isinstance(times, list) and times and all(number(t) is not None for t in times):
            return [float(t) for t in times]
        return None

    @property
    def cpu_interval(self) -> Optional[stats.Interval]:
        return stats.of_latency(self.cpu_ms)

    @property
    def emulated(self) -> bool:
        """Timed under an emulator (qemu) or on a software device: never ranked with native."""
        return (self.timing or "").startswith("emulated")

    @property
    def runtime_defines(self) -> list[str]:
        """A firmware run's runtime build: the API switches read off the release's headers."""
        defines = self.runtime_build.get("defines")
        return [str(d) for d in defines] if isinstance(defines, list) else []
