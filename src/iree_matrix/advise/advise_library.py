"""The kernel library tried against an answer's gap, unasked: each kernel of the library (kernels/ with
`op_kinds`) meant for the model that computes an op kind holding the gap, and not in the sitting already,
is swapped into default and the picks and sat again, as `--kernel` would; taken only where it matches
torch and is faster beyond noise. Pure choices here; the builds and sitting are tasks/advise.py's."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from iree_matrix.core import console
from iree_matrix.iree import torch_ops
from iree_matrix.kernel import kernels as kernel_files
from iree_matrix.kernel import mechanism
from iree_matrix.kernel.kernels import Kernel

logger = console.logger(__name__)


def library(root: Path) -> dict[str, Kernel]:
    """The kernels under `root` that declare what they compute (`op_kinds`), by name; one that does
    not load is said in one line and left out (the library is the tool's, not the user's input)."""
    found: dict[str, Kernel] = {}
    for toml in sorted(root.glob(f"*/{kernel_files.KERNEL_FILE}")):
        try:
            kernel = kernel_files.load(toml.parent)
        except kernel_files.KernelError as exc:
            logger.warning(f"the kernel library: {exc} (left out)")
            continue
        if kernel.op_kinds and not mechanism.of(kernel.mechanism).needs_iree_source:  # asked only
            found.setdefault(kernel.name, kernel)
    return found


def wanted(
    found: Sequence[Any], shelf: Mapping[str, Kernel], tried: Collection[str], model: str
) -> dict[str, list[str]]:
    """Each kernel of `shelf` not in `tried`, meant for `model`, with the answers of `found` whose gap it
    would close: a leading kind it computes, or with no profile (3.9.0's runtime has none) the model named."""
    out: dict[str, list[str]] = {}
    for a in found:
        kinds = {k.kind for k in a.gap.leading()} if a.gap is not None else set()
        for name, kernel in shelf.items():
            named = a.gap is None and a.gap_error and model in kernel.models  # no profile: the model's own
            if name not in tried and kernel.for_model(model) and (kinds & set(kernel.op_kinds) or named):
                out.setdefault(name, []).append(a.function or "main")
    return out


def lacking(kernel: Kernel, lines: Mapping[str, str]) -> str:
    """The torch op(s) a kernel declared only by op would replace that the model (its model.mlir `lines`)
    does not hold ("op aten.gelu approximate=tanh"): its spec would match nothing. "" when it may apply
    (a declaration by module, an op found, or `lines` unknown)."""
    ops = [d for d in kernel.declared if d.op]
    if lines and ops and len(ops) == len(kernel.declared):
        if not any(torch_ops.lines_of(lines, d.op, dict(d.where)) for d in ops):
            return " or ".join(dict.fromkeys(d.said(False) for d in ops))
    return ""


def for_ops(
    asked: Mapping[str, list[str]], shelf: Mapping[str, Kernel], lines: Mapping[str, str]
) -> tuple[dict[str, list[str]], str]:
    """`asked` (`wanted`'s) without the kernels the model's ops rule out, and those said in one line ("":
    none), so a kernel the gap asked for and the library did not try is never a silence."""
    lacks = {n: why for n in asked if (why := lacking(shelf[n], lines))}
    said = "; ".join(f"{n} (no {why} in its model.mlir)" for n, why in lacks.items())
    kept = {n: functions for n, functions in asked.items() if n not in lacks}
    return kept, f"the kernel library: not trying {said}" if said else ""


def said(chosen: Mapping[str, Sequence[str]], shelf: Mapping[str, Kernel], found: Sequence[Any]) -> str:
    """What the library phase is about to do, in one line, with the kinds that hold each function's gap
    (so a kind the library has no kernel for, or one IREE is faster at here, is seen as such)."""
    held: dict[str, list[str]] = {}
    for a in found:
        for k in a.gap.leading() if a.gap is not None else ():
            held.setdefault(a.function or "main", []).append(k.kind)
    gaps = "; ".join(f"{f}: {', '.join(dict.fromkeys(kinds))}" for f, kinds in held.items())
    parts = [
        f"{name} ({', '.join(shelf[name].op_kinds)}; for {', '.join(functions)})"
        for name, functions in chosen.items()
    ]
    return (
        f"the kernel library: trying {'; '.join(parts)} against the op kinds that hold the gap ({gaps}), "
        "each swapped into default and the picks and sat again beside them (taken only where it matches "
        "torch and is faster beyond noise; --library none skips it)"
    )
