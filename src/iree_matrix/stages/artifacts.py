"""What stages store for each other: one typed handle per file or directory, declared here by the
stage that stores it. A producer writes `out / MODULE.path`, a consumer reads `ctx.read(MODULE)`:
neither imports the other."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from iree_matrix.core.hashing import digest, file_sha256
from iree_matrix.core.model.store import Entry


@dataclasses.dataclass(frozen=True)
class Artifact:
    """A file or directory `stage` stores at `path` (relative to its entry)."""

    stage: str
    path: str

    def of(self, entry: Entry) -> Path:
        return entry.artifact(self.path)


# export (scripts/export_model.py writes them)
EXPORT_INFO = Artifact("export", "export.json")  # function, inputs, outputs, tolerance, timings
MLIR = Artifact("export", "model.mlir")
MLIRBC = Artifact("export", "model.mlirbc")  # with a bytecode form in the matrix
ONNX = Artifact("export", "model.onnx")  # an `onnx` form's export: torch.onnx.export at its opset
INPUTS = Artifact("export", "inputs")  # input<i>.npy
REFERENCE = Artifact("export", "reference")  # output<i>.npy: torch eager's outputs
# lower (a `linalg:<release>` form: the export lowered to linalg-on-tensors by that release)
LOWERED = Artifact("lower", "model.mlir")
# compile
MODULE = Artifact("compile", "module.vmfb")
DISPATCHES = Artifact("compile", "dispatches")  # one benchmark module per executable
# kernel (a user's C kernel built for one target, and the transform spec that swaps it in)
KERNEL_SPEC = Artifact("kernel", "spec.mlir")
KERNEL_OBJECTS = Artifact("kernel", "objects")  # the object, by the name the spec gives it
KERNEL_SPECS = Artifact("kernel", "specs")  # a kernel's specs by release window, by their own names
# runtime-build
TOOLS = Artifact("runtime-build", "tools")  # iree-run-module, iree-benchmark-module


def export_digest(export: Entry, metric: str) -> str:
    """A content digest the export stage recorded (`mlir_sha256`, `io_sha256`); computed from the
    stored artifacts for exports stored before the metric existed."""
    value = export.record.metrics.get(metric)
    return value if isinstance(value, str) and value else export_digests(export.path)[metric]


def export_digests(folder: Path) -> dict[str, str]:
    """`mlir_sha256`: the MLIR (`onnx_sha256`: an `onnx` form's ONNX file); `io_sha256`: what a run compares
    against (inputs, torch's outputs, tolerance) — equal for exporters that differ only in turbine release."""
    info = json.loads((folder / EXPORT_INFO.path).read_text())
    arrays = sorted([*(folder / INPUTS.path).glob("*.npy"), *(folder / REFERENCE.path).glob("*.npy")])
    io = {
        "arrays": {f"{p.parent.name}/{p.name}": file_sha256(p) for p in arrays},
        "tolerance": [info.get("atol"), info.get("rtol")],
        "function": info.get("function"),
    }
    # An ONNX export has no MLIR: each compiler imports it.
    source = ONNX if (folder / ONNX.path).is_file() else MLIR
    name = Path(source.path).suffix[1:]  # mlir_sha256 or onnx_sha256
    digests = {f"{name}_sha256": file_sha256(folder / source.path), "io_sha256": digest(io)}
    if (folder / MLIRBC.path).is_file():
        digests["mlirbc_sha256"] = file_sha256(folder / MLIRBC.path)
    return digests
