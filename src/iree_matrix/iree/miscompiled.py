"""Ops of an exported model that IREE's releases compute wrongly without an error, each measured alone
(tests/integration/test_routes.py): a run whose outputs differ from torch names those it finds in the
model's MLIR, with the model's line, so the mismatch has a cause to act on."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

from iree_matrix.core.model.records import Labels
from iree_matrix.iree import compile_errors, targets

# `%int-1 = torch.constant.int -1`: the exported MLIR's integer constants, by their SSA name
_INT = re.compile(r"^\s*(%[\w.-]+)\s*=\s*torch\.constant\.int\s+(-?\d+)\b")
_LIST = re.compile(r"^\s*(%[\w.-]+)\s*=\s*torch\.prim\.ListConstruct\s+([^:]*):")
# torch.aten.pad (F.pad) and constant_pad_nd (its decomposition): the input, then the list of pads
_PAD = re.compile(
    r"^\s*%[\w.-]+\s*=\s*(?P<op>torch\.aten\.(?:pad|constant_pad_nd))\s+%[\w.-]+,\s*(?P<pads>%[\w.-]+)"
)


def _at(where: str, number: int) -> str:
    """Where a finding is: ", at model.py:30: …" for MLIR line `number` ("" if `where` has none)."""
    at = compile_errors.model_line(where, number) if where else ""
    return f", at {at}" if at else ""


def negative_pads(mlir: str, where: str = "") -> tuple[str, ...]:
    """Each constant padding by a negative amount (a crop: `F.pad(x, (0, 0, 1, -1))`, a token shift)
    in `mlir`, in words: "torch.aten.pad with a negative padding [0, 0, 1, -1], at model.py:30: …".
    Measured on 3.10.0, 3.12.0 and 3.13.0: one that keeps the size (a shift) compiles and its
    output differs from torch; one that shrinks the tensor fails to compile (tensor.insert_slice)."""
    ints: dict[str, int] = {}
    lists: dict[str, list[str]] = {}
    found = []
    for number, line in enumerate(mlir.splitlines(), start=1):
        if m := _INT.match(line):
            ints[m[1]] = int(m[2])
        elif m := _LIST.match(line):
            lists[m[1]] = [name.strip() for name in m[2].split(",") if name.strip()]
        elif (m := _PAD.match(line)) and m["pads"] in lists:
            values = [ints.get(name) for name in lists[m["pads"]]]
            if any(v is not None and v < 0 for v in values):
                shown = ", ".join("?" if v is None else str(v) for v in values)
                found.append(f"{m['op']} with a negative padding [{shown}]{_at(where, number)}")
    return tuple(found)


# x86-64 CPUs without AVX2 (LLVM's names): the determinant ops below are wrong compiled for them
_NO_AVX2 = ("generic", "x86-64", "x86-64-v2")
_DET = re.compile(r"^\s*%[\w.:-]+(?:,\s*%[\w.:-]+)*\s*=\s*(?P<op>torch\.aten\.linalg_(?:slog)?det)\b")


def determinants(mlir: str, where: str = "", target_cpu: str = "", host_avx2: bool = True) -> tuple[str, ...]:
    """`torch.linalg.slogdet` / `det` in `mlir` compiled for an x86-64 CPU without AVX2
    (`target_cpu`; `host` where the machine that compiled it has none: `host_avx2` False, a user's
    older CPU under the `default` profile), in words; () for any other CPU. Measured on 3.13.0 (an
    8x8 matrix): for generic, x86-64 and x86-64-v2 the result differs from torch by 6.5 (values up
    to 3.2); x86-64-v3, x86-64-v4 and znver5 match."""
    if target_cpu not in _NO_AVX2 and not (target_cpu == "host" and not host_avx2):
        return ()
    return tuple(
        f"{m['op']} compiled for a CPU without AVX2 (target-cpu={target_cpu}){_at(where, number)}"
        for number, line in enumerate(mlir.splitlines(), start=1)
        if (m := _DET.match(line))
    )


def words(mlir: str, where: str = "", target_cpu: str = "", host_avx2: bool = True) -> str:
    """What a mismatch's message adds about the ops in `mlir` known to be computed wrongly ("" when none): a
    line of its own, "the model has an op IREE computes wrongly: …", which the summary's headline shows (the
    line hint `negative-pad` matches) where the message's first line, the errors, would cut it off."""
    found = negative_pads(mlir, where) + determinants(mlir, where, target_cpu, host_avx2)
    return "" if not found else "\nthe model has an op IREE computes wrongly: " + "; ".join(found)


def cannot_compile(source: Path, source_op: str) -> str:
    """What a failed compile's message adds where the model's op it stopped at (`source_op`) is a
    constant padding and the exported MLIR `source` pads by a negative amount ("" otherwise): a crop,
    `F.pad(y, (0, 0, 0, -1))`, which 3.13.0 refuses ("slice along dimension 0 runs out-of-bounds",
    lowered from torch.aten.pad)."""
    if not source_op.startswith(("torch.aten.pad", "torch.aten.constant_pad_nd")) or not source.is_file():
        return ""
    where = source.with_name(source.stem + compile_errors.WHERE_SUFFIX)
    text = where.read_text(errors="replace") if where.is_file() else ""
    found = negative_pads(source.read_text(errors="replace"), text)
    return "\nthe model has an op IREE cannot compile: " + "; ".join(found) if found else ""


def bisectable(label: Labels) -> bool:
    """Whether `iree-matrix bisect` takes a run of this cell (its `label`): a CPU target of llvm-cpu
    (no GPU, no bare-metal firmware), turbine's own MLIR of the model's default export (no ONNX form,
    no MLIR lowered by another release, no recipe). Labels alone, never the host: a published
    report renders the same on every machine (the command itself refuses another host's CPU)."""
    try:
        target = targets.parse(label.arch)
    except ValueError:
        return False
    plain = label.form in ("", "bytecode")
    return (
        target.gpu is None
        and not target.arch.bare_metal
        and plain
        and "+linalg-" not in label.exporter
        and "~" not in label.model
    )


def bisect_offer(job: str, results_dir: Optional[str] = None) -> str:
    """What to do about a run whose outputs differ from torch's that no known op (no hint) explains:
    the command that finds the first module whose output leaves torch's (`iree-matrix bisect`, for
    the run `job` of `results_dir`: its flag left out for the default `results`; None where the
    caller does not know the folder, which the line then says how to name)."""
    import shlex

    # quoted always (a job id holds `:`, `/`, a `~` or `@` of a model's name), as the docs show it
    quoted = f"'{job}'" if "'" not in job else shlex.quote(job)
    command = f"iree-matrix bisect {quoted}"
    if results_dir is not None and results_dir not in ("results", "results/"):
        command += f" --results-dir {shlex.quote(results_dir)}"
    where = " (with --results-dir DIR where the results are not in ./results)" if results_dir is None else ""
    return (
        f"no known op explains this mismatch; `{command}`{where} compiles the model with every module's "
        "output returned and names the first module whose output leaves torch's (docs/failures.md, "
        "'Where IREE leaves torch')"
    )
