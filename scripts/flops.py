"""FLOP worker: counts the floating-point operations and the bytes one call of a model moves.

Runs inside an exporter environment (torch; no IREE). Python 3.9 syntax; imports only the stdlib
and torch.

    python flops.py --module models.mobilenet_v2 --import-root SCRIPTS --factory build \
        [--function encoder] [--weights W.pt] --seed 0 --out DIR

FLOPs are torch's own count: `torch.utils.flop_counter.FlopCounterMode` (the formulas PyTorch
keeps for matmuls, convolutions and attention: 2 per multiply-add; elementwise ops, norms and
softmax count nothing — they are not what a roofline's FLOP peak is about). Every ATen op one
eager call runs is seen once, after FlopCounterMode's own decomposition (a `linear` is an `addmm`,
attention on CPU its matmuls unless the fused kernel's formula applies), with the weight shape of
each convolution so the tool can group ops by kind (iree_matrix/iree/opkinds.py: pointwise convolutions
are matmuls, one input channel per group is depthwise). Bytes:

    bytes_ops   every op's tensor inputs and outputs, once per op (what an unfused execution moves;
                views move nothing)
    bytes_min   the parameters and buffers, the inputs and the outputs, once each (what any
                execution must at least read and write)

writes DIR/flops.json:
    {"torch_version", "method", "flops", "bytes_ops", "bytes_min", "parameters_bytes",
     "ops": [{"op", "weight_shape", "calls", "flops", "bytes"}]}
or, when the model does not load or run, error.json (phase, type, message) and exit code 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import export_model as em  # noqa: E402  (needs HERE on sys.path)

METHOD = "torch.utils.flop_counter.FlopCounterMode (2 FLOPs per multiply-add), one eager call"


def _tensors(tree):
    import torch
    import torch.utils._pytree as pytree

    leaves, _ = pytree.tree_flatten(tree)
    return [t for t in leaves if isinstance(t, torch.Tensor)]


def _nbytes(tensor):
    return tensor.numel() * tensor.element_size()


def _storage(tensor):
    try:
        return tensor.untyped_storage().data_ptr()
    except (RuntimeError, NotImplementedError):
        return None


def weight_shape(op, args):
    """A convolution's weight shape (OC, IC/groups, *kernel): the second argument."""
    if "conv" in op and len(args) > 1 and hasattr(args[1], "shape"):
        return [int(d) for d in args[1].shape]
    return None


def counter_class():
    """FlopCounterMode that also keeps, per ATen op (and convolution weight shape), the calls,
    FLOPs and bytes: the per-op view FlopCounterMode's per-module table does not give."""
    from torch.utils.flop_counter import FlopCounterMode

    class Counter(FlopCounterMode):
        def __init__(self):
            super().__init__(display=False)
            self.ops = {}

        def _count_flops(self, func_packet, out, args, kwargs):
            op = getattr(func_packet, "__name__", str(func_packet))
            flops = 0
            if func_packet in self.flop_registry:
                flops = int(self.flop_registry[func_packet](*args, **kwargs, out_val=out))
            inputs, outputs = _tensors((args, kwargs)), _tensors(out)
            read = {_storage(t) for t in inputs}
            # a view (its output shares an input's storage, and it mutates nothing) moves nothing
            view = bool(outputs) and not op.endswith("_") and all(_storage(t) in read for t in outputs)
            moved = 0 if view else sum(_nbytes(t) for t in inputs) + sum(_nbytes(t) for t in outputs)
            shape = weight_shape(op, args)
            entry = self.ops.setdefault((op, tuple(shape) if shape else None), [0, 0, 0])
            entry[0] += 1
            entry[1] += flops
            entry[2] += moved
            return super()._count_flops(func_packet, out, args, kwargs)

    return Counter


def count(module, inputs):
    """flops.json's content for one call of `module` on `inputs` (under no_grad)."""
    import torch

    counter = counter_class()()
    with torch.no_grad(), counter:
        result = module(*inputs)
    outputs = _tensors(result)
    state = [*module.parameters(), *module.buffers()]
    parameters = sum(_nbytes(t) for t in state)
    ops = [
        {"op": op, "weight_shape": list(shape) if shape else None, "calls": c, "flops": f, "bytes": b}
        for (op, shape), (c, f, b) in sorted(counter.ops.items(), key=lambda item: -item[1][1])
    ]
    return {
        "torch_version": torch.__version__,
        "method": METHOD,
        "flops": int(counter.get_total_flops()),
        "bytes_ops": sum(o["bytes"] for o in ops),
        "bytes_min": parameters + sum(_nbytes(t) for t in inputs) + sum(_nbytes(t) for t in outputs),
        "parameters_bytes": parameters,
        "ops": ops,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    em.add_model_arguments(parser)
    parser.add_argument("--repetitions", type=int, default=1, help="ignored: one call is counted")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    phase = "model"
    try:
        spec = em.load_model(args)
        phase = "count"
        if args.threads:
            import torch

            torch.set_num_threads(args.threads)
        result = count(spec.module, spec.inputs)
    except Exception as exc:  # the worker's whole job is to report what failed, and where
        traceback.print_exc()
        error = {"phase": phase, "type": type(exc).__name__, "message": f"{type(exc).__name__}: {exc}"[:4000]}
        (out / "error.json").write_text(json.dumps(error, indent=1))
        return 1
    (out / "flops.json").write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
