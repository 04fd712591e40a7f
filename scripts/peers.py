"""Peer worker: times one PyTorch model under each peer asked for: torch eager, torch.compile, ONNX
Runtime, LiteRT — the modules of peer_frameworks/, one per peer (CONTRIBUTING.md, "Adding a peer").

Runs inside a "peer" environment (torch, numpy and the asked peers' packages; no IREE), on CPU.
Python 3.9 syntax; imports only the stdlib, torch, numpy and, each inside its own peer, the peer
libraries (a missing library is that peer's recorded failure, not a crash).

    python peers.py --module models.mobilenet_v2 --import-root SCRIPTS --factory build \
        [--function encoder] [--weights W.pt] --seed 0 \
        --threads 2 --warmup 3 --repetitions 10 \
        --peers eager,torch_compile,onnxruntime,tflite --out DIR
    python peers.py --file path/to/my_model.py --factory build ...     (a user's model)

torch's reference is taken as the export takes it: the model's first call (before the quiet lock),
on a copy of the inputs as built; peers.json names what the model did to that copy
(`changes_inputs`) and torch's own NaN or inf (`reference_nonfinite`), or why there is no reference
(`reference_error`: then the peers are timed but not compared).

Peers, always run in the order of their `rank`, on the same inputs, thread count and repetition
policy (W untimed calls, then R calls each timed with perf_counter), every call and conversion that
hands the model torch tensors on a fresh copy of the inputs as built; the four shipped:
    eager          torch eager under no_grad
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
     ["changes_inputs": ["input 0: 8 of 8 values"], "reference_nonfinite": {"output0": {"nan", "inf",
     "of"}}, "reference_error": message,]
     "peers": {name: {"status": "ok" | "fail" | "mismatch",
     "latency_ms": {"median", "min", "max", "stdev", "n"} (wall, N threads),
     "cpu_ms": {"median", "min", "max", "stdev", "n", "times", "threads": 1} (CPU, one thread; a
     round spread beyond peer_frameworks.RETIME_SPREAD is timed again, the round not kept
     "cpu_ms_other_round")
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
import json
import math
import os
import sys
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import export_model as em  # noqa: E402  (needs HERE on sys.path)
import peer_frameworks as base  # noqa: E402
from peer_frameworks import error_info  # noqa: E402,F401  (peer_arm.py and the tests use it from here)

FRAMEWORKS = base.discover()  # {name: module}, in the peers' order
PEERS = tuple(FRAMEWORKS)
# distributions whose versions go into peers.json (None when not installed)
DISTRIBUTIONS = ("torch", "numpy", *(d for m in FRAMEWORKS.values() for d in m.PEER["distributions"]))


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


def run_peer(name, ctx, function=None):
    """Run one peer; never raises (a failure is recorded in the entry)."""
    function = function or FRAMEWORKS[name].run
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
            entry["compare_note"] = "no torch reference to compare with (reference_error says why)"
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


def torch_reference(ctx):
    """torch's answer as the export takes it (em.reference_call): the model's first call, on a copy of
    the inputs as built. Returns its outputs as numpy arrays and what peers.json says of the model
    (`changes_inputs`, `reference_nonfinite`)."""
    reference = em.reference_call(ctx.spec, ctx.as_built)
    said = {}
    if reference.changes_inputs:
        said["changes_inputs"] = reference.changes_inputs
    if reference.nonfinite:
        said["reference_nonfinite"] = reference.nonfinite
    return base.to_numpy(reference.outputs), said


def reference_error(exc):
    """Why there is no reference: a model finding in its own words, anything else with its type."""
    return base.quoted(str(exc) if isinstance(exc, em.ModelFinding) else base.said(exc))


def run(args, spec):
    import torch

    out = Path(args.out)
    torch.set_num_threads(args.threads)
    ctx = base.Context(spec, args.threads, args.warmup, args.repetitions, out, op_profile=args.op_profile)
    try:  # the model's first call, before the quiet lock (em.warm_up)
        ctx.reference, said = torch_reference(ctx)
    except Exception as exc:  # the peers are timed but not compared; a failure is each peer's again
        traceback.print_exc()
        said = {"reference_error": reference_error(exc)}
    if args.quiet_handshake:
        em.wait_for_quiet(args.quiet_handshake)
    load_start = load_average()
    peers = {}
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
        **said,
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
