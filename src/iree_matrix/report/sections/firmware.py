"""The bare-metal section of COMPATIBILITY.md: per firmware run (source_builds/firmware.py), did it build,
link and run on the emulated Cortex-M, do its outputs match torch, and how much flash and RAM it
needs against the machine and real boards (the bare-metal targets' boards, iree/targets.py)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Optional

from iree_matrix.core import formats
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.results import Record, Status
from iree_matrix.findings import runs_view
from iree_matrix.iree import targets
from iree_matrix.report.markdown import github_table
from iree_matrix.report.sections import Document, Section, on_records
from iree_matrix.source_builds import cortex_m

TITLE = "Bare-metal Cortex-M firmware"


def firmware_section(records: Iterable[Record]) -> list[str]:
    runs = sorted(
        (r for r in records if r.stage == "run" and _bare_metal(r.label.arch)),
        key=lambda r: (r.label.model, runs_view.version_key(r.label.compiler), r.job),
    )
    if not runs:
        return []
    headers = [
        "model",
        "compiler",
        "runtime",
        "machine",
        "result",
        "vs torch (max abs err)",
        "flash",
        "RAM",
        "heap before the call",
        "heap peak",
        "stack peak",
        "RAM as linked",
        "fits as linked",
        "fits with the stack cut to its peak",
        "qemu",
    ]
    boards = "; ".join(
        f"{b.name}: {formats.size(b.flash or 0)} flash, {formats.size(b.ram)} RAM ({b.source})"
        for b in cortex_m.boards()
    )
    intro = (
        "Each compiler's module as a static library in a firmware with that release's runtime, cross-built "
        "here (arm-none-eabi-gcc + newlib, local-sync HAL, no threads, no file system), run under "
        "qemu-system-arm with semihosting output (docs/cortex-m.md). Flash = text + rodata + data's initial "
        "values; RAM = data + bss + the heap's peak (every runtime allocation) + the stack's peak; the heap "
        "before the call is what the runtime holds once set up, inputs included (the VM, the device, the "
        "module, the context). RAM as linked: the same with the stack's peak replaced by the "
        f"{formats.size(cortex_m.STACK_BYTES)} the firmware's linker script reserves for the stack (the heap "
        "ends where it begins): what a board must have as built. A board listed only under 'with the stack "
        "cut to its peak' fits once that reserve is cut to the measured peak (`STACK_BYTES` in "
        "source_builds/cortex_m.py), with what is left said: nothing else of the application fits in it. "
        f"Boards compared: {boards}. qemu's time is the emulator's, not a board's."
    )
    return ["## " + TITLE, "", intro, "", github_table([_row(r) for r in runs], headers), ""]


def _bare_metal(arch: str) -> bool:
    return (target := targets.known(arch)) is not None and target.arch.bare_metal


def _row(r: Record) -> list[str]:
    m = r.metric.of(RunMetrics)
    status = r.status.value
    if r.status is not Status.OK:
        status += ": " + runs_view.clip(runs_view.first_line(r.message or ""), 160)
    err = m.max_abs_err
    check = "" if err is None else f"{'ok' if m.matches else 'differs'} ({err:.2g})"
    # Recomputed from the recorded figures, so a record made before the stack reserve was counted
    # reads the same as a new one (its `fits` compared the stack's peak, not the reserve).
    flash, ram, cpu = m.flash_bytes, m.ram_bytes, m.cpu or ""
    linked: Optional[int] = None
    as_linked: dict[str, bool] = {}
    only_cut: list[str] = []
    if isinstance(flash, int) and isinstance(ram, int) and cpu:
        linked = cortex_m.linked_ram(ram, m.stack_peak_bytes)
        as_linked = cortex_m.fits(flash, linked, cpu)
        room = {b.name: b.ram for b in cortex_m.boards()}
        only_cut = [
            f"{name.split(' (')[0]} ({formats.size(room[name] - ram)} left)"
            for name, ok in cortex_m.fits(flash, ram, cpu).items()
            if ok and not as_linked.get(name)
        ]
    return [
        r.label.model,
        r.label.compiler,
        r.label.runtime,
        f"{m.machine} ({m.cpu})" if m.machine else r.label.arch,
        status,
        check,
        _of(m.flash_bytes, m.machine_flash_bytes),
        _of(m.ram_bytes, m.machine_ram_bytes),
        formats.size_or(m.heap_at_bytes.get("inputs")),  # before the call
        formats.size_or(m.heap_peak_bytes),
        formats.size_or(m.stack_peak_bytes),
        _of(linked, m.machine_ram_bytes),
        ", ".join(name.split(" (")[0] for name, ok in as_linked.items() if ok)
        or ("none" if as_linked else "no board listed"),
        ", ".join(only_cut) or "—",
        formats.seconds(m.qemu_seconds) if m.qemu_seconds is not None else "",
    ]


def _of(used: Any, limit: Any) -> str:
    if not isinstance(used, (int, float)):
        return ""
    share = (
        f" ({100 * used / limit:.0f} % of {formats.size(limit)})" if isinstance(limit, (int, float)) else ""
    )
    return formats.size(used) + share


SECTION = Section("firmware", Document.COMPATIBILITY, 120, TITLE, ("run",), on_records(firmware_section))
