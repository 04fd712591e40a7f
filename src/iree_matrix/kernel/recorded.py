"""A recorded cell's kernel job, as `show JOB --commands` prints its cell's commands
(stages/shell_commands.py): which kernel job built what the compile linked, its commands as recorded,
and where its files were."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Optional

from iree_matrix.core.model.metrics.compile import CompileMetrics
from iree_matrix.core.model.results import Record
from iree_matrix.kernel import mechanism
from iree_matrix.kernel.model.metrics import KernelMetrics

STAGE = "kernel"
# What a record made before the kernel job kept every step says after its one command (a link).
ONLY_LAST = "; only its last command was recorded (the sources' compiles are in its store entry's log.txt)"


@dataclasses.dataclass(frozen=True)
class Built:
    """The kernel job whose object a recorded cell's compile linked, as `show --commands` prints it."""

    record: Record
    steps: tuple[tuple[str, tuple[str, ...]], ...]  # (what, argv) as recorded; () where it kept none
    note: str  # where its files were


def built(
    record: Record, latest: Mapping[str, Record], compiled: Optional[Record], store: Path
) -> tuple[Built, ...]:
    """The kernel job whose object the record's compile (`compiled`) linked, its steps and where its
    files were; () for a cell without a kernel, or none recorded."""
    if not record.label.kernel or record.stage == STAGE:
        return ()
    linked = compiled.metric.of(CompileMetrics).custom_kernel.get("object_sha256") if compiled else None
    wanted = (STAGE, record.label.kernel, record.label.arch)
    found = [r for r in latest.values() if (r.stage, r.label.kernel, r.label.arch) == wanted]
    same = [r for r in found if linked and r.metric.of(KernelMetrics).object_sha256 == linked]
    return tuple(Built(r, tuple(_steps(r)), _note(r, store)) for r in (same or found)[:1])


def _steps(build: Record) -> list[tuple[str, tuple[str, ...]]]:
    """The kernel job's commands as recorded, each (what, argv): its `steps`, or an older record's last
    `command` (said so where it is a link); none where it recorded no command."""
    if not (kept := build.metric.of(KernelMetrics).steps):
        last = ONLY_LAST if "ld.lld" in build.command else ""
        return [(f"{build.job}: {STAGE} (as recorded){last}", tuple(build.command))] if build.command else []
    return [
        (f"{build.job}: kernel, step {i} of {len(kept)} (as recorded)", tuple(a))
        for i, a in enumerate(kept, 1)
    ]


def _note(build: Record, store: Path) -> str:
    """Where the kernel job's files were: a plugin is no input of the compile (its spec names no
    object) but of every run, which loads it (`--executable_plugin=embedded:`, in the run's command)."""
    entry = store / STAGE / build.key
    held = mechanism.of(build.metric.of(KernelMetrics).mechanism).note(entry)
    return f"the kernel's C compiler ran in {entry}/src (its sources as built); {held}"
