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
    """Each constant padding by a negative amount (a crop or token shift: `F.pad(x, (0, 0, 1, -1))`) in
    `mlir`, in words; measured on 3.10.0-3.13.0: a shift compiles and differs from torch, a crop fails."""
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
    """`torch.linalg.slogdet` / `det` in `mlir` compiled for an x86-64 CPU without AVX2 (`target_cpu`;
    `host` where `host_avx2` is False), in words; () otherwise. Measured on 3.13.0: generic, x86-64 and
    x86-64-v2 differ from torch by 6.5 on an 8x8 matrix; x86-64-v3 and newer match."""
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
    """What a failed compile's message adds where it stopped at a constant padding and `source` pads by a
    negative amount (a crop, which 3.13.0 refuses: "slice along dimension 0 runs out-of-bounds"); "" else."""
    if not source_op.startswith(("torch.aten.pad", "torch.aten.constant_pad_nd")) or not source.is_file():
        return ""
    where = source.with_name(source.stem + compile_errors.WHERE_SUFFIX)
    text = where.read_text(errors="replace") if where.is_file() else ""
    found = negative_pads(source.read_text(errors="replace"), text)
    return "\nthe model has an op IREE cannot compile: " + "; ".join(found) if found else ""


def bisectable(label: Labels) -> bool:
    """Whether `iree-matrix bisect` takes a run of this cell: llvm-cpu on a CPU target, turbine's own MLIR
    of the default export. Labels alone, never the host: a published report renders the same everywhere."""
    try:
        target = targets.parse(label.arch)
    except ValueError:
        return False
    plain = label.form in ("", "bytecode") and "+linalg-" not in label.exporter and "~" not in label.model
    return plain and target.gpu is None and not target.arch.bare_metal


def bisect_offer(job: str, results_dir: Optional[str] = None) -> str:
    """The `iree-matrix bisect` command for a run whose outputs differ from torch's that no hint explains
    (for `job` of `results_dir`; None: the line says how to name the folder)."""
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
