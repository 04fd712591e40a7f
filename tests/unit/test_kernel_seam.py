"""A kernel is one seam (kernel/stages/kernel_seam.py): the compile, run and shell-command stages ask it,
for every cell, and hold no kernel branch of their own; a cell without a kernel gets empty parts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from iree_matrix.kernel import mechanism
from iree_matrix.kernel.mechanism import EMBEDDED, PLUGIN
from iree_matrix.kernel.stages import kernel_seam as seam

STAGES = Path(__file__).resolve().parents[2] / "src" / "iree_matrix" / "stages"
# What a kernel branch reads: the cell's kernel label, the kernel's definition or built entry, a
# mechanism by name. The seam's own functions (`kernel.compile_part`, ...) are how they ask instead.
BRANCH = re.compile(
    r"label\.kernel|cell\.kernel|\bkernels\.|kernel_files|plugin|KernelMetrics|custom_dispatch|"
    r"KERNEL_(OBJECTS|SPEC)|compile_kernel|kernel_stage|spec_of|requires_flags|run_flags|"
    r"iree_matrix\.kernel\b(?!\.stages import kernel_seam\b)",  # the kernel package itself, past the seam
    re.IGNORECASE,
)


@pytest.mark.parametrize("module", ["compile.py", "run.py", "shell_commands.py"])
def test_the_stages_hold_no_kernel_branch(module: str) -> None:
    found = [
        f"{module}:{n}: {line.strip()}"
        for n, line in enumerate((STAGES / module).read_text().splitlines(), 1)
        if BRANCH.search(line)
    ]
    assert found == [], "ask the kernel seam (kernel/stages/kernel_seam.py) instead:\n" + "\n".join(found)


def test_the_branch_pattern_finds_what_it_forbids() -> None:
    """The count above can fail: each spelling the stages once had is found."""
    for line in ("if job.label.kernel:", "kernels.profile_label(", "_plugin_path(job, ctx)",
                 "ctx.read(KERNEL_OBJECTS)", "kernel_stage.spec_of(job, ctx)",
                 "from iree_matrix.kernel import recorded as kernel"):  # fmt: skip
        assert BRANCH.search(line), line
    assert BRANCH.search("from iree_matrix.kernel.stages import kernel_build")
    assert not BRANCH.search("kernel.compile_part(job, ctx)")
    assert not BRANCH.search("from iree_matrix.kernel.stages import kernel_seam as kernel")  # the seam


class _Job:
    label: Any = type("L", (), {"kernel": ""})()


def test_a_cell_without_a_kernel_gets_empty_parts_and_no_verdict() -> None:
    job: Any = _Job()
    ctx: Any = None  # never read for a cell without a kernel
    assert seam.compile_part(job, ctx) == seam.NO_COMPILE_PART
    assert seam.compile_key(job, ctx) == {}
    assert seam.run_part(job, ctx) == seam.NO_RUN_PART
    assert seam.judge_compile(seam.NO_COMPILE_PART, job, ctx, {}, Path("m.vmfb")) == ({}, None)
    assert seam.judge_mismatch(job, "outputs differ") == ("numeric-mismatch", "outputs differ")
    seam.check_compiler(seam.NO_COMPILE_PART, job, "  --anything\n")  # nothing to lack


def test_each_mechanism_is_a_class_in_the_registry() -> None:
    assert list(mechanism.REGISTRY) == [EMBEDDED, PLUGIN]
    plugin, embedded = mechanism.of(PLUGIN), mechanism.of(EMBEDDED)
    assert mechanism.of(None) is embedded  # what a record before plugins says
    assert plugin.run_loads and not embedded.run_loads
    assert plugin.load_flags("/k/p.so") == ("--executable_plugin=embedded:/k/p.so",)
    assert embedded.links_built and not plugin.links_built  # the spec alone: imports the plugin resolves
