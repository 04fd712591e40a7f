"""ONNX export worker: the `onnx` form's export (the ONNX front door), inside an exporter
environment (torch + onnx). Python 3.9 syntax; imports only the stdlib, torch, numpy, onnx and
export_model.py (the model loading, eager timing and file layout it shares).

    python export_onnx.py --module models.tiny_cnn --import-root SCRIPTS --factory build \
        --seed 0 --repetitions 5 --opset 17 --out DIR

writes into DIR what export_model.py writes, except that the model is `model.onnx` (torch.onnx.export
at --opset; each compiler's iree-import-onnx turns it into MLIR), not `model.mlir`; export.json's
`function` is the ONNX graph's name (the function iree-import-onnx gives the module) and it adds
`onnx_opset` and `onnx_exporter`. On failure, error.json (phase "onnx": torch.onnx.export refused)
and exit code 1.
"""

from __future__ import annotations

import argparse
import inspect
import time
from pathlib import Path

import export_model as base


def export_onnx(spec, path, opset):
    """torch.onnx.export at `opset` with the TorchScript exporter (torch >= 2.9 defaults to the
    dynamo one, which writes opset 18 and up and converts other opsets afterwards). Returns
    (seconds, exporter, the graph's name)."""
    import torch

    start = time.perf_counter()
    kwargs = {"opset_version": opset}
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False
    with torch.no_grad():
        torch.onnx.export(spec.module, tuple(spec.inputs), str(path), **kwargs)
    seconds = time.perf_counter() - start
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    written = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")]
    if written and written[0] != opset:
        raise ValueError(f"asked for opset {opset}, torch.onnx.export wrote opset {written[0]}")
    return seconds, "TorchScript", model.graph.name or "main_graph"


def run(args):
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    base.track_phases(out)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    spec = base._phase("model", base.load_model, args)
    # No traced check (export_model's `check_traced`): torch.onnx's TorchScript exporter traces by
    # torch.jit.trace, not torch.export, and only an ONNX runtime runs what it writes.
    measured, _ = base.measure(spec, args, out)
    seconds, exporter, function = base._phase("onnx", export_onnx, spec, out / "model.onnx", args.opset)
    info = {
        "factory": args.factory,
        "model_function": args.function,
        "function": function,
        **measured,
        "seconds": seconds,
        "onnx_opset": args.opset,
        "onnx_exporter": exporter,
    }
    base.write_json(out / "export.json", info)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    base.add_model_arguments(parser)
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--opset", type=int, required=True, help="the ONNX opset to export at")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    return base.run_reporting(run, args)


if __name__ == "__main__":
    base._exit_now(main())
