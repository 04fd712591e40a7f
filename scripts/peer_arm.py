"""One peer as an arm of a paired sitting (`iree-matrix advise`): torch eager or ONNX Runtime on
one thread, kept loaded while the orchestrator interleaves it with IREE's modules.

Runs inside a "peer" environment (torch + onnxruntime + numpy). Python 3.9 syntax; stdlib, torch,
numpy and onnxruntime only.

    python peer_arm.py --module models.mobilenet_v2 --import-root SCRIPTS --factory build \
        [--function encoder] [--weights W.pt] --seed 0 --peer onnxruntime [--onnx model.onnx] \
        --warmup 3 --work DIR

It builds the model, prepares the peer on one thread (eager: torch.set_num_threads(1); ONNX
Runtime: a session with intra_op_num_threads=1 and inter_op_num_threads=1, from --onnx when that
file exists — the peer stage's own conversion — else converted again into --work), makes `--warmup`
untimed calls and prints one JSON line {"ready": true, ...}. Then, for each line N it reads on
stdin, it makes N calls, each timed by the process's CPU time (time.process_time, so a helper
thread's work counts, as peers.py times them), and prints {"cpu_ms": [N times]}. It ends on EOF.
A failure prints {"error": {"phase", "type", "message"}} and exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import export_model as em  # noqa: E402  (needs HERE on sys.path)
import peer_frameworks.onnxruntime as onnx_peer  # noqa: E402
import peers  # noqa: E402

ARMS = ("eager", "onnxruntime")


def _say(document):
    sys.stdout.write(json.dumps(document) + "\n")
    sys.stdout.flush()


def eager_call(spec):
    import torch

    torch.set_num_threads(1)

    def call():
        with torch.no_grad():
            return spec.module(*spec.inputs)

    return call, {"threads": torch.get_num_threads(), "torch": torch.__version__}


def onnxruntime_call(spec, onnx, work):
    import onnxruntime as ort

    path = Path(onnx) if onnx and Path(onnx).is_file() else None
    exporter = "the peer stage's model.onnx"
    if path is None:
        path = Path(work) / "model.onnx"
        exporter, _ = onnx_peer.export_onnx(spec.module, spec.inputs, path)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    if len(names) != len(spec.inputs):
        raise ValueError(f"the ONNX model takes {len(names)} inputs {names}, the model {len(spec.inputs)}")
    feed = dict(zip(names, [t.detach().cpu().numpy() for t in spec.inputs]))
    return (lambda: session.run(None, feed)), {"onnxruntime": ort.__version__, "model": exporter}


def serve(call, lines, say):
    """For each line N: N calls timed by process CPU time (ms). Pure loop, tested with a fake call."""
    for line in lines:
        text = line.strip()
        if not text:
            continue
        count = int(text)
        times = []
        for _ in range(max(1, count)):
            start = time.process_time()
            call()
            times.append((time.process_time() - start) * 1000.0)
        say({"cpu_ms": times})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    em.add_model_arguments(parser)
    parser.add_argument("--peer", choices=ARMS, required=True)
    parser.add_argument("--onnx", help="an ONNX file of the model to load (else converted again)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--work", required=True, help="a scratch directory")
    args = parser.parse_args(argv)
    phase = "model"
    try:
        spec = em.load_model(args)
        phase = "prepare"
        if args.peer == "eager":
            call, about = eager_call(spec)
        else:
            call, about = onnxruntime_call(spec, args.onnx, args.work)
        for _ in range(args.warmup):
            call()
        _say({"ready": True, "peer": args.peer, **about})
        phase = "run"
        serve(call, sys.stdin, _say)
    except Exception as exc:  # the orchestrator records the peer's failure in its words
        traceback.print_exc()
        _say({"error": peers.error_info(phase, exc)})
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
