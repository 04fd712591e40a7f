"""COMPATIBILITY.md's "Your kernels across releases": per kernel of the user's (kernel/kernels.py),
architecture and IREE release, whether the same spec and object compile with the kernel applied,
load and match torch (kernel/findings/kernel_windows.py, the window `query kernel` answers from)."""

from __future__ import annotations

from collections.abc import Iterable

from iree_matrix.core.model.results import Record
from iree_matrix.kernel.findings import kernel_windows
from iree_matrix.report.markdown import github_table
from iree_matrix.report.sections import Document, Section

TITLE = "Your kernels across releases"


def render(records: Iterable[Record]) -> list[str]:
    if not (names := kernel_windows.names(records := list(records))):
        return []
    lines = [
        "## " + TITLE,
        "",
        "Each kernel compiled with each release (its transform spec and its object, built for the "
        "target by Zig's clang), run and checked against torch: `takes it` where a module with the "
        "kernel applied matched; `matches nothing` where the spec left every module byte for byte "
        "the kernel-less one. `iree-matrix query kernel NAME` says the same with every job.",
        "",
    ]
    for name in names:
        rows = [
            [v.arch, v.release, v.verdict, v.compile, v.load, v.match, v.reason or "", v.evidence[-1]]
            for v in kernel_windows.window(records, name)
        ]
        headers = ["arch", "IREE", "verdict", "compile", "load", "match", "why", "evidence"]
        lines += [f"### {name}", "", github_table(rows, headers), ""]
    return lines


SECTION = Section(
    name="custom_kernels",
    document=Document.COMPATIBILITY,
    rank=85,  # after the load windows (80): a kernel's window beside them
    title=TITLE,
    stages=("kernel", "compile", "run"),
    render=lambda view: render(view.records),
)
