"""A recorded cell's kernel job, as `show JOB --commands` prints its cell's commands
(stages/shell_commands.py): which kernel job built what the compile linked, its commands as recorded,
and where its files were."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Optional

from iree_matrix.core.model.metrics.compile import CompileMetrics
from iree_matrix.core.model.metrics.kernel import KernelMetrics
from iree_matrix.core.model.results import Record
from iree_matrix.kernel import mechanism

STAGE = "kernel"
# What a record made before the kernel job kept every step says after its one command (a link).
ONLY_LAST = "; only its last command was recorded (the sources' compiles are in its store entry's log.txt)"


def made_with(record: Record) -> bool:
    """Whether the record's cell took a kernel of the user's (its commands are then the records')."""
    return bool(record.label.kernel)


def build_of(record: Record, latest: Mapping[str, Record], compiled: Optional[Record]) -> Optional[Record]:
    """The kernel job whose object the record's compile (`compiled`) linked, if the cell has a kernel
    and it is recorded."""
    if not record.label.kernel or record.stage == STAGE:
        return None
    linked = compiled.metric.of(CompileMetrics).custom_kernel.get("object_sha256") if compiled else None
    found = [
        r
        for r in latest.values()
        if r.stage == STAGE and r.label.kernel == record.label.kernel and r.label.arch == record.label.arch
    ]
    same = [r for r in found if linked and r.metric.of(KernelMetrics).object_sha256 == linked]
    chosen = same or found
    return chosen[0] if chosen else None


def steps(build: Record) -> list[tuple[str, tuple[str, ...]]]:
    """The kernel job's commands as recorded, each (what, argv): each source's compile and the link
    (`steps`); a record made before it kept them has only its last (`command`), said so where it is
    a link; none where it recorded no command."""
    kept = build.metric.of(KernelMetrics).steps
    if not kept:
        last = ONLY_LAST if "ld.lld" in build.command else ""
        return [(f"{build.job}: {STAGE} (as recorded){last}", tuple(build.command))] if build.command else []
    return [
        (f"{build.job}: kernel, step {i} of {len(kept)} (as recorded)", tuple(a))
        for i, a in enumerate(kept, 1)
    ]


def note(build: Record, store: Path) -> str:
    """Where the kernel job's files were: a plugin is no input of the compile (its spec names no
    object) but of every run, which loads it (`--executable_plugin=embedded:`, in the run's command)."""
    entry = store / STAGE / build.key
    held = mechanism.of(build.metric.of(KernelMetrics).mechanism).note(entry)
    return f"the kernel's C compiler ran in {entry}/src (its sources as built); {held}"
