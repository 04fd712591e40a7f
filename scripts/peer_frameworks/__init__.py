"""The peers: one module each, what scripts/peers.py times beside IREE; and what every peer shares.

A peer is a module of this package (not starting with `_`) with two things (CONTRIBUTING.md,
"Adding a peer"):

- `PEER`, its declaration, a dict of literals only (the tool reads it without importing the
  module, `iree_matrix/matrix/peers.py`; `DECLARED` names its keys): its place in the order (`rank`:
  eager, the reference the others are checked against, comes first), the name a reader sees, the
  pinned packages its environment needs beside torch and numpy, the distributions whose versions
  peers.json records, the name prefixes of the packages the site's environment listing shows, the
  op-kind vocabulary of its `--op-profile` (`iree_matrix/iree/opkinds.py`:
  "torch", "onnxruntime", or None for a peer that has none) and how its one-thread figure is taken,
  in the report's words after its name ("with one intra-op thread");
- `run(ctx, entry)`: convert, time and return the model's outputs as a list of numpy arrays, with
  the helpers below (`timed_run` for the wall timing, `one_thread_cpu` for the one-thread CPU
  figure). The model's torch inputs are `ctx.inputs()`, a fresh copy of the inputs as built each
  time: a converter gets one, and so does each call where the peer hands torch tensors to the model
  (`arguments=ctx.inputs`), so a model that changes its input in place changes only its own copy and
  every call computes what the reference computed. It sets `entry["_phase"]` ("import", "convert",
  "run") before each step, so a failure is recorded with the step it happened in, and may add its
  own fields (notes, convert_seconds).

Runs inside a peer environment: Python 3.9 syntax; the stdlib at the top of each module, torch,
numpy and the peer's own library imported inside `run` (a missing library is the peer's recorded
failure at "import", not a crash).
"""

from __future__ import annotations

import importlib
import pkgutil
import statistics
import time
import traceback

import export_model as em  # scripts/ is on sys.path: peers.py puts it there

# The keys of a peer's PEER declaration (iree_matrix/matrix/peers.py checks each module has these).
DECLARED = ("rank", "display", "requirements", "distributions", "shown", "op_kinds", "one_thread")
MESSAGE_CHARS = 2000


def discover():
    """{name: module} for every peer of this package, in the order of their `rank`."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        found.append((module.PEER["rank"], info.name, module))
    return {name: module for _, name, module in sorted(found, key=lambda f: (f[0], f[1]))}


def said(exc):
    """`Type: message`, once: some exporters' messages already start with their type's name
    (and a wrapped error repeats it), which would otherwise read "XError: XError: ..."."""
    name, text = type(exc).__name__, str(exc)
    return text if text.startswith(f"{name}:") else f"{name}: {text}"


def quoted(text, limit=MESSAGE_CHARS):
    """`text` whole up to `limit` characters; past it cut at a word with its length said (the worker
    prints the whole traceback to the log), never a sentence cut with nothing said."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    cut = (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:(")
    return f"{cut} …({len(text)} characters; the whole in the log)"


def error_info(phase, exc, limit=MESSAGE_CHARS):
    """A failure record: the phase, the exception type and its message (`quoted`)."""
    return {"phase": phase, "type": type(exc).__name__, "message": quoted(said(exc), limit)}


class Context:
    """What every peer gets: the model, its inputs as built (`inputs()` copies them, `numpy_inputs`
    holds them as numpy), torch's reference outputs, and the shared policy."""

    def __init__(self, spec, threads, warmup, repetitions, out, op_profile=False):
        self.op_profile = op_profile
        self.spec = spec
        self.threads = threads
        self.warmup = warmup
        self.repetitions = repetitions
        self.out = out
        # taken before the model's first call: what the export saves and IREE is given
        self.as_built = em.copy_tensors(spec.inputs)
        # copies (numpy shares a tensor's memory); ONNX Runtime and LiteRT read a feed, never write it
        self.numpy_inputs = to_numpy(self.inputs())
        self.reference = None  # list of numpy arrays: torch's first call (peers.torch_reference)

    def inputs(self):
        """A fresh copy of the inputs as built, for one call (or conversion) to change as it likes."""
        return em.copy_tensors(self.as_built)


def time_calls(call, warmup, repetitions, clock=time.perf_counter, arguments=None):
    """Call `call` `warmup` times untimed, then `repetitions` times timed (milliseconds). With
    `arguments`, each call is `call(*arguments())`, `arguments()` made before it, untimed.

    Returns the last call's result and the list of timings."""
    given = arguments or tuple
    result = None
    for _ in range(warmup):
        result = call(*given())
    times = []
    for _ in range(repetitions):
        args = given()
        start = clock()
        result = call(*args)
        times.append((clock() - start) * 1000.0)
    return result, times


def to_numpy(tensors):
    """Tensors as numpy arrays; a dtype numpy lacks (bfloat16, the float8s) widened to float32, which
    holds each of its values exactly (to compare, never to time)."""
    import torch

    arrays = []
    for t in tensors:
        t = t.detach().cpu()
        try:
            arrays.append(t.numpy())
        except TypeError:  # "Got unsupported ScalarType BFloat16"
            arrays.append(t.to(torch.float32).numpy())
    return arrays


def timed_run(ctx, entry, call, to_arrays, arguments=None):
    """The wall timing: `ctx.warmup` untimed calls, `ctx.repetitions` timed (entry "latency_ms"),
    the last call's result as numpy arrays (`arguments`: as `time_calls`)."""
    entry["_phase"] = "run"
    result, times = time_calls(call, ctx.warmup, ctx.repetitions, arguments=arguments)
    entry["latency_ms"] = em.summary(times)
    return to_arrays(result)


def cpu_times(ctx, call, arguments=None):
    """The same warm-up and repetitions as the wall timing, each call timed by the process's CPU
    time (ms), once the wall timing's threads have gone idle (em.process_time_calls; `arguments`: as
    `time_calls`)."""
    return em.process_time_calls(call, ctx.warmup, ctx.repetitions, arguments=arguments)


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


def guarded(profiler, *args):
    """A profiler's failure is a note on the peer, never the peer's failure."""
    try:
        return profiler(*args)
    except Exception as exc:  # the timing stands without it
        traceback.print_exc()
        return {"unavailable": error_info("op-profile", exc)["message"]}


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
