"""The compile stage's metrics (stages/compile.py): iree-compile's module of an export, its size,
digests and what it asks of a runtime, or a failed compile's first error."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from iree_matrix.core.model.metrics_view import StageMetrics, metric


class CompileMetrics(StageMetrics, stage="compile"):
    seconds: Optional[float] = metric("iree-compile's wall time")
    peak_memory_bytes: Optional[float] = metric("its peak resident memory")
    module_bytes: Optional[float] = metric("the module's size")
    module_sha256: Optional[str] = metric("the module's digest")
    module_parts_sha256: dict[str, str] = metric(
        "per part (bytecode, each executable): where two modules differ", {}
    )
    module_versions: dict[str, str] = metric("what the module asks of a runtime (vmfb.module_versions)", {})
    artifact_sha256: Mapping[str, Any] = metric("every other file the compile left, by path", {})
    dispatch_count: Optional[int] = metric("dispatches, from the compiler's scheduling statistics")
    executable_count: Optional[int] = metric("executables, from the same")
    constant_bytes: Optional[int] = metric("constants, from the same")
    dispatch_benchmarks: Optional[int] = metric(
        "executables compiled to a benchmark module each ([benchmark] dispatches)"
    )
    dispatch_benchmark_failures: list[Any] = metric(
        "those that did not compile, with the compiler's words", []
    )
    host_cpu: Optional[str] = metric("what target-cpu=host resolved to")
    llvm_host_cpu: Optional[str] = metric(
        "LLVM's name for this CPU, as the compiler resolved target-cpu=host (znver4)"
    )
    llvm_host_cpu_features: Optional[str] = metric("the whole feature string target-cpu=host compiles for")
    kernel: Mapping[str, Any] = metric(
        "a target with a dispatch code check (armv6): its dispatch code's ARM attributes and the verdict", {}
    )
    custom_kernel: Mapping[str, Any] = metric(
        "a cell with a kernel swapped in: its name, object and spec digests, the module of the same cell "
        "without it, and whether the kernel changed it (applied)",
        {},
    )
    first_error: Optional[str] = metric("a failed compile's first error (compile_errors)")
    failing_op: Optional[str] = metric("the op it names")
    source_op: Optional[str] = metric(
        "the model's torch op on the line of the exported MLIR the error points at"
    )
    source_line: Optional[str] = metric(
        "the model's Python line that op came from, with its code (model.py:8: z = torch.gru(…))"
    )

    @property
    def kernel_applied(self) -> Optional[bool]:
        """Whether the cell's kernel changed its module (`custom_kernel`'s applied; False where the
        cell names no kernel), None where the record holds no such facts."""
        facts = self.custom_kernel
        return bool(facts.get("applied")) if isinstance(facts, Mapping) else None
