"""ONNX Runtime: torch.onnx.export to DIR/model.onnx (the dynamo exporter, else TorchScript), run by
its CPUExecutionProvider (intra-op N, inter-op 1 threads)."""

from __future__ import annotations

import importlib
import json
import time
import traceback
from pathlib import Path

import peer_frameworks as base

PEER = {
    "rank": 30,
    "display": "ONNX Runtime",
    # resolve with torch 2.13.0 (IREE-NOTES.md); pinned so its figures come from a known release
    "requirements": ("onnxruntime==1.31.1", "onnx==1.23.2", "onnxscript==0.7.2"),
    "distributions": ("onnxruntime", "onnx", "onnxscript"),
    "shown": ("onnx",),  # onnx, onnxruntime, onnxscript
    "op_kinds": "onnxruntime",  # its profiler's node op types
    "one_thread": "with one intra-op thread",  # and one inter-op thread
}


def export_onnx(module, inputs, path):
    """torch.onnx.export with the dynamo exporter, else the TorchScript one.

    Returns (exporter used, the dynamo exporter's error message or None)."""
    import torch

    try:
        torch.onnx.export(module, inputs, str(path), dynamo=True)
        return "dynamo", None
    except Exception as exc:  # any failure: try the other exporter
        dynamo_error = base.quoted(base.said(exc))
        traceback.print_exc()
    for stale in (path, Path(str(path) + ".data")):
        if stale.exists():
            stale.unlink()
    torch.onnx.export(module, inputs, str(path), dynamo=False)
    return "torchscript", dynamo_error


def run(ctx, entry):
    entry["_phase"] = "import"
    ort = importlib.import_module("onnxruntime")
    path = ctx.out / "model.onnx"
    entry["_phase"] = "convert"
    start = time.perf_counter()
    # the TorchScript exporter runs the model on them: a copy of its own
    exporter, dynamo_error = export_onnx(ctx.spec.module, ctx.inputs(), path)
    entry["convert_seconds"] = time.perf_counter() - start
    entry["exporter"] = exporter
    if dynamo_error:
        entry["dynamo_error"] = dynamo_error

    entry["_phase"] = "run"
    start = time.perf_counter()
    options = ort.SessionOptions()
    options.intra_op_num_threads = ctx.threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    entry["load_seconds"] = time.perf_counter() - start
    entry["providers"] = session.get_providers()
    names = [i.name for i in session.get_inputs()]
    if len(names) != len(ctx.numpy_inputs):
        raise ValueError(
            f"the ONNX model takes {len(names)} inputs {names}, the model {len(ctx.numpy_inputs)}"
        )
    feed = dict(zip(names, ctx.numpy_inputs))
    outputs = base.timed_run(ctx, entry, lambda: session.run(None, feed), list)
    base.one_thread_cpu(entry, lambda: cpu_times(ort, path, feed, ctx))
    if ctx.op_profile:
        entry["op_profile"] = base.guarded(op_profile, ort, path, options, feed, ctx)
    entry["notes"] = (
        f"torch.onnx.export ({exporter} exporter) to model.onnx; CPUExecutionProvider, "
        f"intra_op_num_threads={ctx.threads}, inter_op_num_threads=1; load_seconds is the "
        "InferenceSession creation"
    )
    return outputs


def cpu_times(ort, path, feed, ctx):
    """CPU time per call of a second session on one thread (intra-op 1, inter-op 1)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    return base.cpu_times(ctx, lambda: session.run(None, feed))


def op_profile(ort, path, options, feed, ctx):
    """A second session with ONNX Runtime's profiler on (the timed one ran without it): each
    node's kernel time per call, by op type and weight shape."""
    options.enable_profiling = True
    options.profile_file_prefix = str(ctx.out / "onnxruntime-profile")
    session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    for _ in range(ctx.warmup):
        session.run(None, feed)
    session.end_profiling()  # the warm-up calls go into a file of their own
    session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    for _ in range(ctx.repetitions):
        session.run(None, feed)
    profile_path = Path(session.end_profiling())
    events = json.loads(profile_path.read_text())
    for stale in ctx.out.glob("onnxruntime-profile*.json"):
        stale.unlink()
    calls = ctx.repetitions
    return {
        "source": "onnxruntime profiling (Node kernel_time)",
        "calls": calls,
        **ops(events, calls),
    }


def ops(events, calls):
    """ONNX Runtime's profile events -> per (op type, weight shape): ms and nodes per call."""

    def samples():
        for event in events:
            args = event.get("args") or {}
            if event.get("cat") != "Node" or not str(event.get("name", "")).endswith("_kernel_time"):
                continue
            op = args.get("op_name", "?")
            typed = args.get("input_type_shape", [])  # [{"float": [1, 3, 224, 224]}, ...]
            shapes = [list(s.values())[0] for s in typed if isinstance(s, dict) and s]
            weight = [int(d) for d in shapes[1]] if op.endswith("Conv") and len(shapes) > 1 else None
            yield op, weight, float(event.get("dur", 0)) / 1000.0, 1

    return base.ops_per_call(samples(), calls)
