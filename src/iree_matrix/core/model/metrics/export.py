"""The export stage's metrics (stages/export.py): torch's export of a function to MLIR (or ONNX),
torch eager's own latency, and what the model itself does to its inputs and outputs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from iree_matrix.core.model.metrics_view import Timed, TimingContext, metric


class ExportMetrics(TimingContext, stage="export"):
    seconds: Optional[float] = metric("the export's wall time")
    mlir_bytes: Optional[float] = metric("the MLIR text's size")
    mlirbc_bytes: Optional[int] = metric("the MLIR bytecode's size (a bytecode form in the matrix)")
    eager_ms: Any = metric("torch eager's latency")
    eager_cpu_ms: Any = metric(
        "torch eager's CPU time per call on one thread (process_time; the load-robust "
        "signal): median, min, max, stdev, n, times, threads (1)"
    )
    eager_cpu_ms_error: Optional[str] = metric(
        "why the one-thread CPU timing failed (the export and eager_ms stand)"
    )
    parameters: Optional[int] = metric("the model's parameter count")
    torch_threads: Optional[int] = metric("the threads torch ran with")
    importer: Optional[str] = metric("the compiler package whose importer wrote the MLIR")
    mlir_sha256: Optional[str] = metric("the MLIR text's digest (artifacts.export_digests)")
    mlirbc_sha256: Optional[str] = metric("the MLIR bytecode's digest")
    io_sha256: Optional[str] = metric("inputs, torch's outputs and the tolerance, by content")
    onnx_opset: Optional[int] = metric("an `onnx` form's export: the opset torch.onnx.export wrote")
    onnx_bytes: Optional[int] = metric("its model.onnx's size")
    onnx_sha256: Optional[str] = metric("its digest (each compiler's iree-import-onnx reads it)")
    onnx_exporter: Optional[str] = metric("which torch.onnx exporter wrote it (TorchScript)")
    exit_hang: Mapping[str, Any] = metric(
        "the importer's bindings hang at exit after an export (compiler 3.3.0, 3.4.0, 3.6.0; the "
        "worker ends by os._exit): `known`, why, from the tool's table; an older record's, seconds "
        "after its outputs and idle seconds before it was killed; the export stands",
        {},
    )
    changes_inputs: tuple[str, ...] = metric(
        "the model changes its input in place: which inputs, how many values (the "
        "reference and the inputs IREE is given are the inputs as built)",
        (),
    )
    changes_state: tuple[str, ...] = metric(
        "the model changes its own buffers or parameters in forward(): which, how many values (the "
        "reference is its first call from its state as built; its buffers as built are what is exported)",
        (),
    )
    reference_nonfinite: Mapping[str, Any] = metric(
        "torch's own outputs that hold NaN or inf, per output: nan, inf, of (the "
        "runs check only where torch's are finite)",
        {},
    )

    @property
    def eager(self) -> Optional[Timed]:
        return Timed.of(self.eager_ms)

    @property
    def eager_median(self) -> Optional[float]:
        return self.eager.median if self.eager is not None else None

    @property
    def eager_cpu(self) -> Optional[Timed]:
        return Timed.of(self.eager_cpu_ms)
