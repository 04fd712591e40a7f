"""Peer worker: times one PyTorch model under torch eager, torch.compile, ONNX Runtime and LiteRT.

Runs inside a "peer" environment (torch + onnxruntime + litert-torch + ai-edge-litert + numpy;
no IREE), on CPU. Python 3.9 syntax; imports only the stdlib, torch, numpy and, each inside
its own peer, the peer libraries (a missing library is that peer's recorded failure, not a crash).

    python peers.py --module models.mobilenet_v2 --import-root SCRIPTS --factory build \
        [--function encoder] [--weights W.pt] --seed 0 \
        --threads 2 --warmup 3 --repetitions 10 \
        --peers eager,torch_compile,onnxruntime,tflite --out DIR
    python peers.py --file path/to/my_model.py --factory build ...     (a user's model)

Peers, always run in this order, on the same inputs, thread count and repetition policy
(W untimed calls, then R calls each timed with perf_counter):
    eager          torch eager under no_grad; its outputs are the reference for the others
    torch_compile  torch.compile(module, backend="inductor"); the first call is the compile
    onnxruntime    torch.onnx.export to DIR/model.onnx (dynamo exporter, else TorchScript),
                   run by onnxruntime's CPUExecutionProvider (intra-op N, inter-op 1 threads)
    tflite         litert_torch.convert to DIR/model.tflite, run by ai_edge_litert's
                   Interpreter (num_threads N; XNNPACK is its default delegate)

After its wall timing each peer is timed again on one thread, by CPU time per call: a pause for
the wall timing's threads to go idle, W untimed calls, then R calls each timed by
time.process_time (the whole process's CPU time, so a helper thread's work counts). eager and
torch_compile run under torch.set_num_threads(1) (torch_compile compiled again under it, since
inductor's C++ kernels fix their thread count when compiled), onnxruntime in a second session with
intra_op_num_threads=1 and inter_op_num_threads=1, tflite in a second Interpreter with
num_threads=1. Wall times on a shared machine move 2-5x with its load; one thread's CPU time per
call moves a few per cent, so it is the figure to compare across runs.

With --op-profile, after timing, eager and onnxruntime also report where their time goes per op
(torch.profiler's self CPU time per ATen op, ONNX Runtime's per-node profile), as
"op_profile": {"source", "calls", "ops": [{"op", "weight_shape", "ms_per_call", "per_call"}]};
the others say why they have none. The report groups ops by kind (iree_matrix/iree/opkinds.py).

writes DIR/peers.json:
    {"threads", "warmup", "repetitions", "torch_version", "versions": {distribution: version},
     "cpu_count", "load_average": {"start", "end"}, "atol", "rtol",
     "peers": {name: {"status": "ok" | "fail" | "mismatch",
     "latency_ms": {"median", "min", "max", "stdev", "n"} (wall, N threads),
     "cpu_ms": {"median", "min", "max", "stdev", "n", "times", "threads": 1} (CPU, one thread;
     a round spread beyond RETIME_SPREAD is timed again, the round not kept "cpu_ms_other_round")
     or, when only that timing failed, "cpu_ms_error": its message,
     "convert_seconds", "load_seconds", "max_abs_err", "max_rel_err", "matches", "notes",
     "load_average", "error": {"phase": "import" | "convert" | "run", "type", "message"}, ...}}}
and exits 0 (a peer's failure is a result). Only when the model itself does not load does it
write error.json (as export_model.py does, phase "model") and exit 1.

The load averages are there to judge the timings by: on a machine shared with other jobs,
threads that wait on each other (torch's OpenMP) can be slowed a hundredfold.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import export_model as em  # noqa: E402  (needs HERE on sys.path)

PEERS = ("eager", "torch_compile", "onnxruntime", "tflite")
# distributions whose versions go into peers.json (None when not installed)
DISTRIBUTIONS = (
    "torch",
    "numpy",
    "onnxruntime",
    "onnx",
    "onnxscript",
    "litert-torch",
    "litert-converter",
    "ai-edge-litert",
)
MESSAGE_CHARS = 2000


# ---------------------------------------------------------------- pure helpers (unit-tested)


def parse_peers(text):
    """'tflite,eager' -> ['eager', 'tflite']: the known peers named, in the canonical order."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = sorted(set(names) - set(PEERS))
    if unknown:
        raise argparse.ArgumentTypeError(
            "unknown peer(s) {}; choose from {}".format(", ".join(unknown), ",".join(PEERS))
        )
    if not names:
        raise argparse.ArgumentTypeError("no peer named")
    return [name for name in PEERS if name in names]


def time_calls(call, warmup, repetitions, clock=time.perf_counter):
    """Call `call` `warmup` times untimed, then `repetitions` times timed (milliseconds).

    Returns the last call's result and the list of timings."""
    result = None
    for _ in range(warmup):
        result = call()
    times = []
    for _ in range(repetitions):
        start = clock()
        result = call()
        times.append((clock() - start) * 1000.0)
    return result, times


def _finite_or_none(value):
    return value if math.isfinite(value) else None


def compare(reference, outputs, atol, rtol):
    """Compare a peer's outputs with eager's (both lists of arrays, in pytree-flattened order).

    Returns max_abs_err (over all outputs), max_rel_err (max abs err / max |reference|),
    matches (numpy.allclose with the model's own atol/rtol, on every output) and a note naming
    anything odd (count or shape differences, non-finite values). Errors that are not finite
    numbers are reported as None."""
    import numpy as np

    notes = []
    if len(outputs) != len(reference):
        return {
            "max_abs_err": None,
            "max_rel_err": None,
            "matches": False,
            "compare_note": f"{len(outputs)} outputs, eager has {len(reference)}",
        }
    max_abs = 0.0
    max_ref = 0.0
    finite = True
    matches = True
    for i, (ref, out) in enumerate(zip(reference, outputs)):
        ref = np.asarray(ref)
        out = np.asarray(out)
        if out.shape != ref.shape:
            if out.size != ref.size:
                notes.append(f"output {i}: shape {list(out.shape)}, eager {list(ref.shape)}")
                matches = False
                continue
            notes.append(f"output {i}: shape {list(out.shape)} reshaped to eager's {list(ref.shape)}")
            out = out.reshape(ref.shape)
        if out.dtype != ref.dtype:
            notes.append(f"output {i}: dtype {out.dtype}, eager {ref.dtype}")
        if ref.size == 0:
            continue
        ref64 = ref.astype(np.float64)
        out64 = out.astype(np.float64)
        if not (np.isfinite(out64).all() and np.isfinite(ref64).all()):
            notes.append(f"output {i}: non-finite values")
            finite = False
        else:
            max_abs = max(max_abs, float(np.max(np.abs(out64 - ref64))))
            max_ref = max(max_ref, float(np.max(np.abs(ref64))))
        matches = matches and bool(np.allclose(out64, ref64, rtol=rtol, atol=atol, equal_nan=True))
    if max_ref > 0:
        max_rel = max_abs / max_ref
    else:
        max_rel = 0.0 if max_abs == 0 else math.inf
    result = {
        "max_abs_err": _finite_or_none(max_abs) if finite else None,
        "max_rel_err": _finite_or_none(max_rel) if finite else None,
        "matches": matches,
    }
    if notes:
        result["compare_note"] = "; ".join(notes)
    return result


def error_info(phase, exc, limit=MESSAGE_CHARS):
    """A failure record: the phase, the exception type and its (clipped) message."""
    return {
        "phase": phase,
        "type": type(exc).__name__,
        "message": f"{type(exc).__name__}: {exc}"[:limit],
    }


def status_of(entry):
    """'fail' when the peer raised, 'mismatch' when its outputs differ from eager's, else 'ok'."""
    if "error" in entry:
        return "fail"
    if entry.get("matches") is False:
        return "mismatch"
    return "ok"


def load_average():
    """The 1-minute load average (None where the OS has none): timings taken while it exceeds the
    CPU count are noise, OpenMP-threaded peers (eager, torch_compile) suffering most."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def distribution_versions(names=DISTRIBUTIONS):
    from importlib import metadata

    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


# ---------------------------------------------------------------- the peers


class Context:
    """What every peer gets: the model, its inputs (torch and numpy), eager's reference
    outputs, and the shared policy."""

    def __init__(self, spec, threads, warmup, repetitions, out, op_profile=False):
        self.op_profile = op_profile
        self.spec = spec
        self.threads = threads
        self.warmup = warmup
        self.repetitions = repetitions
        self.out = out
        self.numpy_inputs = [t.detach().cpu().numpy() for t in spec.inputs]
        self.reference = None  # list of numpy arrays, set by the eager peer


def _to_numpy(tensors):
    return [t.detach().cpu().numpy() for t in tensors]


def _timed_run(ctx, entry, call, to_arrays):
    entry["_phase"] = "run"
    result, times = time_calls(call, ctx.warmup, ctx.repetitions)
    entry["latency_ms"] = em.summary(times)
    return to_arrays(result)


def cpu_times(ctx, call):
    """The same warm-up and repetitions as the wall timing, each call timed by the process's CPU
    time (ms), once the wall timing's threads have gone idle (em.process_time_calls)."""
    return em.process_time_calls(call, ctx.warmup, ctx.repetitions)


# One thread's CPU time per call moves a few per cent between repetitions; a round whose repetitions
# spread (max - min) beyond this share of their median was disturbed (a tick of another thread's
# CPU charged to one call, a page-in), and is timed once more.
RETIME_SPREAD = 0.5


def spread(times):
    """(max - min) / median of a round of timings (ms); 0 for an empty or zero round."""
    middle = statistics.median(times) if times else 0.0
    return (max(times) - min(times)) / middle if middle > 0 else 0.0


def retimed(timing, limit=None):
    """`timing()`'s round, and if its spread exceeds `limit` (RETIME_SPREAD), a second round: the one
    with the lower median is kept (interference only adds time; of equal medians the tighter), the
    other returned beside it (None if one round)."""
    first = timing()
    if spread(first) <= (RETIME_SPREAD if limit is None else limit):
        return first, None
    second = timing()
    # the lower median (interference only adds time); of equal medians the tighter round
    kept, other = sorted((first, second), key=lambda times: (statistics.median(times), spread(times)))
    return kept, other


def one_thread_cpu(entry, timing):
    """Record `timing()` (a list of ms) as the peer's "cpu_ms", or its failure as "cpu_ms_error":
    never raises, so the peer's wall timing and comparison stand whatever happens here. A round that
    spread beyond RETIME_SPREAD is timed again (`retimed`); the round not kept is "cpu_ms_other_round"."""
    try:
        kept, other = retimed(timing)
        entry["cpu_ms"] = em.cpu_summary(kept)
        if other is not None:
            entry["cpu_ms_other_round"] = em.cpu_summary(other)
    except Exception as exc:  # the one-thread figure is extra, not the peer's result
        traceback.print_exc()
        entry["cpu_ms_error"] = error_info("cpu", exc)["message"]


def _torch_reference(ctx):
    import torch

    with torch.no_grad():
        return _to_numpy(em.flat_outputs(ctx.spec.module(*ctx.spec.inputs)))


def peer_eager(ctx, entry):
    import torch

    torch.set_num_threads(ctx.threads)

    def call():
        with torch.no_grad():
            return ctx.spec.module(*ctx.spec.inputs)

    outputs = _timed_run(ctx, entry, call, lambda r: _to_numpy(em.flat_outputs(r)))
    ctx.reference = outputs

    def one_thread():
        with em.torch_threads(1):
            return cpu_times(ctx, call)

    one_thread_cpu(entry, one_thread)
    entry["notes"] = "torch eager under no_grad; its outputs are the reference for the other peers"
    if ctx.op_profile:
        entry["op_profile"] = guarded(torch_op_profile, call, ctx.repetitions)
    return outputs


def guarded(profiler, *args):
    """A profiler's failure is a note on the peer, never the peer's failure."""
    try:
        return profiler(*args)
    except Exception as exc:  # the timing stands without it
        traceback.print_exc()
        return {"unavailable": error_info("op-profile", exc)["message"]}


def torch_op_profile(call, calls):
    """torch.profiler over `calls` calls: each ATen op's self CPU time (its own work, not its
    children's, so the rows add up) per call, with the weight shape of convolutions (which decides
    pointwise / depthwise / ordinary)."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        for _ in range(calls):
            call()

    def samples():
        for event in prof.key_averages(group_by_input_shape=True):
            if event.self_cpu_time_total <= 0:
                continue
            shapes = list(event.input_shapes or [])
            weight = None
            if "conv" in event.key and len(shapes) > 1 and shapes[1]:
                weight = [int(d) for d in shapes[1]]
            yield event.key, weight, event.self_cpu_time_total / 1000.0, event.count

    return {"source": "torch.profiler self CPU time", "calls": calls, **ops_per_call(samples(), calls)}


def peer_torch_compile(ctx, entry):
    import torch

    def import_inductor():
        import torch._inductor  # noqa: F401  (fails early on builds without inductor)

    entry["_phase"] = "import"
    import_inductor()
    torch.set_num_threads(ctx.threads)
    # A fresh inductor cache, so convert_seconds is a cold compile whatever ran before.
    cache = tempfile.mkdtemp(prefix="peers-inductor-")
    saved = os.environ.get("TORCHINDUCTOR_CACHE_DIR")
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = cache
    try:
        compiled = torch.compile(ctx.spec.module, backend="inductor")

        def call():
            with torch.no_grad():
                return compiled(*ctx.spec.inputs)

        entry["_phase"] = "convert"
        start = time.perf_counter()
        call()  # torch.compile is lazy: the first call traces and compiles
        entry["convert_seconds"] = time.perf_counter() - start
        outputs = _timed_run(ctx, entry, call, lambda r: _to_numpy(em.flat_outputs(r)))

        def one_thread():
            with em.torch_threads(1):
                if ctx.threads == 1:
                    return cpu_times(ctx, call)
                # inductor's C++ kernels fix their OpenMP thread count when compiled: compile again
                torch._dynamo.reset()
                single = torch.compile(ctx.spec.module, backend="inductor")

                def call_single():
                    with torch.no_grad():
                        return single(*ctx.spec.inputs)

                call_single()  # the compile, untimed
                return cpu_times(ctx, call_single)

        one_thread_cpu(entry, one_thread)
    finally:
        if saved is None:
            os.environ.pop("TORCHINDUCTOR_CACHE_DIR", None)
        else:
            os.environ["TORCHINDUCTOR_CACHE_DIR"] = saved
        shutil.rmtree(cache, ignore_errors=True)
        try:
            torch._dynamo.reset()
        except Exception:  # cleanup only
            pass
    entry["notes"] = (
        "inductor, CPU, under no_grad; convert_seconds is the first call (cold cache: trace + compile + run)"
    )
    if ctx.op_profile:
        entry["op_profile"] = {
            "unavailable": "inductor fuses ops into generated kernels; not profiled per op"
        }
    return outputs


def export_onnx(module, inputs, path):
    """torch.onnx.export with the dynamo exporter, else the TorchScript one.

    Returns (exporter used, the dynamo exporter's error message or None)."""
    import torch

    try:
        torch.onnx.export(module, inputs, str(path), dynamo=True)
        return "dynamo", None
    except Exception as exc:  # any failure: try the other exporter
        dynamo_error = f"{type(exc).__name__}: {exc}"[:MESSAGE_CHARS]
        traceback.print_exc()
    for stale in (path, Path(str(path) + ".data")):
        if stale.exists():
            stale.unlink()
    torch.onnx.export(module, inputs, str(path), dynamo=False)
    return "torchscript", dynamo_error


def peer_onnxruntime(ctx, entry):
    entry["_phase"] = "import"
    ort = importlib.import_module("onnxruntime")
    path = ctx.out / "model.onnx"
    entry["_phase"] = "convert"
    start = time.perf_counter()
    exporter, dynamo_error = export_onnx(ctx.spec.module, ctx.spec.inputs, path)
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
    outputs = _timed_run(ctx, entry, lambda: session.run(None, feed), list)
    one_thread_cpu(entry, lambda: onnxruntime_cpu_times(ort, path, feed, ctx))
    if ctx.op_profile:
        entry["op_profile"] = guarded(onnxruntime_op_profile, ort, path, options, feed, ctx)
    entry["notes"] = (
        f"torch.onnx.export ({exporter} exporter) to model.onnx; CPUExecutionProvider, "
        f"intra_op_num_threads={ctx.threads}, inter_op_num_threads=1; load_seconds is the "
        "InferenceSession creation"
    )
    return outputs


def onnxruntime_cpu_times(ort, path, feed, ctx):
    """CPU time per call of a second session on one thread (intra-op 1, inter-op 1)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    return cpu_times(ctx, lambda: session.run(None, feed))


def onnxruntime_op_profile(ort, path, options, feed, ctx):
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
        **onnxruntime_ops(events, calls),
    }


def onnxruntime_ops(events, calls):
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

    return ops_per_call(samples(), calls)


def ops_per_call(samples, calls):
    """(op, weight shape or None, ms, count) samples over `calls` calls -> one row per op and
    weight shape with its ms and occurrences per call, slowest first, and their sum."""
    rows = {}
    for op, weight, ms, count in samples:
        key = (op, tuple(weight) if weight else None)
        row = rows.setdefault(key, {"op": op, "weight_shape": weight, "ms_per_call": 0.0, "per_call": 0.0})
        row["ms_per_call"] += ms / calls
        row["per_call"] += count / calls
    ops = sorted(rows.values(), key=lambda r: r["ms_per_call"], reverse=True)
    return {"ops": ops, "sum_ms": sum(r["ms_per_call"] for r in ops)}


TFLITE_NO_PROFILE = (
    "ai_edge_litert's Python Interpreter exposes no per-op profiler (TFLite's benchmark_model "
    "--enable_op_profiling does, and is not in the wheel); XNNPACK runs the graph as delegate nodes"
)


def tflite_runner(interpreter):
    """The model's signature (serving_default, else the first by name) and its runner."""
    signatures = interpreter.get_signature_list()
    key = "serving_default" if "serving_default" in signatures else sorted(signatures)[0]
    return key, interpreter.get_signature_runner(key)


def peer_tflite(ctx, entry):
    def import_libs():
        import litert_torch
        from ai_edge_litert.interpreter import Interpreter

        return litert_torch, Interpreter

    entry["_phase"] = "import"
    litert_torch, Interpreter = import_libs()
    path = ctx.out / "model.tflite"
    entry["_phase"] = "convert"
    start = time.perf_counter()
    edge_model = litert_torch.convert(ctx.spec.module, ctx.spec.inputs)
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
    key, runner = tflite_runner(interpreter)
    details = runner.get_input_details()
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

    outputs = _timed_run(ctx, entry, lambda: runner(**feed), to_arrays)

    def one_thread():
        single = Interpreter(model_path=str(path), num_threads=1)
        single.allocate_tensors()
        run_single = tflite_runner(single)[1]
        return cpu_times(ctx, lambda: run_single(**feed))

    one_thread_cpu(entry, one_thread)
    if ctx.op_profile:
        entry["op_profile"] = {"unavailable": TFLITE_NO_PROFILE}
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


PEER_FUNCTIONS = {
    "eager": peer_eager,
    "torch_compile": peer_torch_compile,
    "onnxruntime": peer_onnxruntime,
    "tflite": peer_tflite,
}


def run_peer(name, ctx, function=None):
    """Run one peer; never raises (a failure is recorded in the entry)."""
    function = function or PEER_FUNCTIONS[name]
    entry = {"_phase": "import", "load_average": load_average()}
    print(f"[peers] {name} ...", file=sys.stderr, flush=True)
    try:
        outputs = function(ctx, entry)
    except Exception as exc:  # a peer's failure is a result, the others go on
        traceback.print_exc()
        entry["error"] = error_info(entry["_phase"], exc)
    else:
        if ctx.reference is not None:
            entry.update(compare(ctx.reference, outputs, ctx.spec.atol, ctx.spec.rtol))
        else:
            entry["compare_note"] = "no eager reference to compare with"
    del entry["_phase"]
    entry["status"] = status_of(entry)
    latency = entry.get("latency_ms", {}).get("median")
    cpu = entry.get("cpu_ms", {}).get("median")
    print(
        f"[peers] {name}: {entry['status']}, median {latency} ms, one thread's CPU {cpu} ms",
        file=sys.stderr,
        flush=True,
    )
    return entry


def run(args, spec):
    import torch

    out = Path(args.out)
    torch.set_num_threads(args.threads)
    ctx = Context(spec, args.threads, args.warmup, args.repetitions, out, op_profile=args.op_profile)
    try:  # the model's first call, before the quiet lock (em.warm_up); a failure is each peer's again
        em.first_call(spec)
    except Exception:
        traceback.print_exc()
    if args.quiet_handshake:
        em.wait_for_quiet(args.quiet_handshake)
    load_start = load_average()
    peers = {}
    if "eager" not in args.peers:  # the others still need eager's outputs to compare with
        try:
            ctx.reference = _torch_reference(ctx)
        except Exception:  # then they are timed but not compared
            traceback.print_exc()
    for name in args.peers:
        peers[name] = run_peer(name, ctx)
        torch.set_num_threads(args.threads)  # in case a converter changed it
    return {
        "threads": args.threads,
        "warmup": args.warmup,
        "repetitions": args.repetitions,
        "torch_version": torch.__version__,
        "versions": distribution_versions(),
        "cpu_count": os.cpu_count(),
        "load_average": {"start": load_start, "end": load_average()},
        "atol": spec.atol,
        "rtol": spec.rtol,
        "peers": peers,
    }


def _positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _non_negative(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, not {value}")
    return value


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    em.add_model_arguments(parser)
    parser.add_argument("--threads", type=_positive, default=1, help="CPU threads for every peer")
    parser.add_argument("--warmup", type=_non_negative, default=3, help="untimed calls first")
    parser.add_argument("--repetitions", type=_positive, default=10, help="timed calls")
    parser.add_argument(
        "--peers",
        type=parse_peers,
        default=list(PEERS),
        help="comma-separated, from {} (always run in that order)".format(",".join(PEERS)),
    )
    parser.add_argument(
        "--op-profile",
        action="store_true",
        help="after timing, where eager's and onnxruntime's time goes per op",
    )
    parser.add_argument("--out", required=True)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        spec = em.load_model(args)
    except Exception as exc:  # the model itself: nothing to compare
        traceback.print_exc()
        # the same shape as export_model.py's error.json
        (out / "error.json").write_text(json.dumps(error_info("model", exc, limit=4000), indent=1))
        return 1
    result = run(args, spec)
    (out / "peers.json").write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
