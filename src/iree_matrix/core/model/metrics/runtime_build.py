"""The runtime-build stage's metrics (stages/runtime_build.py): the tools it built from source, how,
and what they need from the target's C library."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from iree_matrix.core.model.metrics_view import StageMetrics, metric, number


class RuntimeBuildMetrics(StageMetrics, stage="runtime-build"):
    release: str = metric("the IREE release of the source", "")
    # The build options (`+static`, `+Os`: versions.BUILD_OPTIONS), stored under their first name.
    variants: tuple[str, ...] = metric("the runtime value's build options (+static, +Os)", ())
    built_in: str = metric("the toolchain image, or the host's toolchain", "")
    source: str = metric("the source's identity (tarball sha256, git URL and tag, directory)", "")
    target: str = metric("the target triple", "")
    linkage: str = metric("static or dynamic", "")
    cflags: str = metric("the C flags of the build", "")
    build_type: str = metric("CMake's build type", "")
    toolchain: dict[str, str] = metric("the compilers' and CMake's version lines", {})
    build_seconds: Optional[float] = metric("the build's wall time")
    run_module_bytes: Optional[float] = metric("the tool's size", key="iree-run-module_bytes")
    run_module_stripped_bytes: Optional[float] = metric(
        "the same, stripped", key="iree-run-module_stripped_bytes"
    )
    benchmark_module_bytes: Optional[float] = metric("the tool's size", key="iree-benchmark-module_bytes")
    benchmark_module_stripped_bytes: Optional[float] = metric(
        "the same, stripped", key="iree-benchmark-module_stripped_bytes"
    )
    bytes: Optional[int] = metric("iree-run-module's size (elf.binary_facts)")
    attributes: Mapping[str, Any] = metric("iree-run-module's ARM attributes", {})
    needed: tuple[str, ...] = metric("the shared libraries it needs (dynamic)", ())
    glibc_versions: tuple[str, ...] = metric("the GLIBC symbol versions it needs", ())
    interpreter: Optional[str] = metric("its ELF interpreter")
    float_abi: Optional[str] = metric("the float calling convention of the target")

    def tool_bytes(self, tool: str, stripped: bool = False) -> Optional[float]:
        """The size of a tool it built ("iree-run-module", "iree-benchmark-module"), as built or stripped."""
        return number(self.written().get(f"{tool}_stripped_bytes" if stripped else f"{tool}_bytes"))
