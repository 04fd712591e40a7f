"""TFLite (LiteRT): litert_torch.convert to DIR/model.tflite, run by ai_edge_litert's Interpreter
(num_threads N; XNNPACK is its default delegate)."""

from __future__ import annotations

import time

import peer_frameworks as base

PEER = {
    "rank": 40,
    "display": "TFLite",
    # resolve with torch 2.13.0 (IREE-NOTES.md); pinned so its figures come from a known release
    "requirements": ("litert-torch==0.10.0", "ai-edge-litert==2.3.0"),
    "distributions": ("litert-torch", "litert-converter", "ai-edge-litert"),
    "shown": ("ai-edge", "tflite"),  # ai-edge-litert and its kin
    "op_kinds": None,  # the Python Interpreter has no per-op profiler
    "one_thread": "with `num_threads=1`",  # a second Interpreter
}

NO_PROFILE = (
    "ai_edge_litert's Python Interpreter exposes no per-op profiler (TFLite's benchmark_model "
    "--enable_op_profiling does, and is not in the wheel); XNNPACK runs the graph as delegate nodes"
)


def runner(interpreter):
    """The model's signature (serving_default, else the first by name) and its runner."""
    signatures = interpreter.get_signature_list()
    key = "serving_default" if "serving_default" in signatures else sorted(signatures)[0]
    return key, interpreter.get_signature_runner(key)


def run(ctx, entry):
    def import_libs():
        import litert_torch
        from ai_edge_litert.interpreter import Interpreter

        return litert_torch, Interpreter

    entry["_phase"] = "import"
    litert_torch, Interpreter = import_libs()
    path = ctx.out / "model.tflite"
    entry["_phase"] = "convert"
    start = time.perf_counter()
    edge_model = litert_torch.convert(ctx.spec.module, ctx.inputs())  # a copy: conversion may run it
    edge_model.export(str(path))
    entry["convert_seconds"] = time.perf_counter() - start
    del edge_model

    entry["_phase"] = "run"
    start = time.perf_counter()
    interpreter = Interpreter(model_path=str(path), num_threads=ctx.threads)
    interpreter.allocate_tensors()
    entry["load_seconds"] = time.perf_counter() - start
    # Delegates (XNNPACK by default) show up as DELEGATE nodes once tensors are allocated.
    ops = [op.get("op_name") for op in interpreter._get_ops_details()]
    entry["delegate_nodes"] = ops.count("DELEGATE")
    key, signature = runner(interpreter)
    details = signature.get_input_details()
    feed = {}
    casts = []
    for i, array in enumerate(ctx.numpy_inputs):
        name = f"args_{i}"
        if name not in details:
            raise ValueError(f"the LiteRT signature {key!r} takes {sorted(details)}, not {name!r}")
        want = details[name]["dtype"]
        if array.dtype != want:  # litert converts int64/float64 to 32 bits unless enable_x64
            casts.append(f"{name} {array.dtype}->{want.__name__}")
            array = array.astype(want)
        feed[name] = array
    if len(details) != len(feed):
        raise ValueError(f"the LiteRT signature {key!r} takes {sorted(details)}")

    def to_arrays(result):
        names = sorted(result, key=lambda n: (len(n), n))  # output_0, output_1, ..., output_10
        return [result[n] for n in names]

    outputs = base.timed_run(ctx, entry, lambda: signature(**feed), to_arrays)

    def one_thread():
        single = Interpreter(model_path=str(path), num_threads=1)
        single.allocate_tensors()
        run_single = runner(single)[1]
        return base.cpu_times(ctx, lambda: run_single(**feed))

    base.one_thread_cpu(entry, one_thread)
    if ctx.op_profile:
        entry["op_profile"] = {"unavailable": NO_PROFILE}
    notes = [
        f"litert_torch.convert to model.tflite; ai_edge_litert Interpreter num_threads={ctx.threads}",
        "XNNPACK delegate applied ({} DELEGATE node(s))".format(entry["delegate_nodes"])
        if entry["delegate_nodes"]
        else "no delegate applied (reference CPU kernels)",
        "load_seconds is Interpreter creation + allocate_tensors",
    ]
    if casts:
        notes.append("inputs cast: " + ", ".join(casts))
    entry["notes"] = "; ".join(notes)
    return outputs
