"""The kernel stage's metrics (kernel/stages/kernel_build.py): a user's C kernel built for one target."""

from __future__ import annotations

from typing import Optional

from iree_matrix.core.model.metrics_view import StageMetrics, metric


class KernelMetrics(StageMetrics, stage="kernel"):
    seconds: Optional[float] = metric("the C compile's wall time (every source and the link of several)")
    object_bytes: Optional[int] = metric("the object's size")
    object_sha256: Optional[str] = metric("the object's digest (in each compile key that links it)")
    spec_sha256: Optional[str] = metric("the transform spec's digest (in each compile key that reads it)")
    specs_sha256: Optional[dict[str, str]] = metric(
        "a kernel with specs by release window: each spec file's digest (the compile takes its release's)"
    )
    sources_sha256: Optional[str] = metric("the sources' and the kernel's flags' digest")
    object_functions: list[str] = metric(
        "the functions the object defines (global or hidden): a module that linked it holds their names", []
    )
    steps: list[list[str]] = metric(
        "every command the build ran, in order: each source's compile, then the link of several (the "
        "record's `command` is the last alone); what an answer prints for a user to build the object",
        [],
    )
    cc: Optional[str] = metric("the C compiler, as it names itself (Zig's clang, its versions)")
    mechanism: Optional[str] = metric(
        '"plugin": a standalone plugin the runtime loads (else linked into the module)'
    )
    plugin_header_sha256: Optional[str] = metric(
        "a plugin: the digest of IREE's executable_plugin.h it was built against"
    )
    first_error: Optional[str] = metric("a failed C compile: the C compiler's first error")
