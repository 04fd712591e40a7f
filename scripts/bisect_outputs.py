"""Bisect a mismatch to the first module (and op) whose IREE output leaves torch's.

Runs inside an exporter environment (torch + iree-turbine; Python 3.9 syntax). The model's function
is wrapped so that it returns, besides its own outputs, the output of every submodule it calls
(forward hooks, in call order) and the input of every leaf module that takes one (so the op between
two modules is bracketed too: an attention's `out_proj` input is its SDPA's result). The wrapper is
exported with turbine's ``aot.export`` as the pipeline exports the model, compiled with the given
``iree-compile`` for llvm-cpu (host CPU), run once with ``iree-run-module`` on the model's example
inputs, and every returned tensor is compared with torch's. The table says, in call order, each
tensor's largest absolute error against its largest magnitude; the first row past the model's own
tolerance is where IREE leaves torch.

    python bisect_outputs.py --module models.whisper_tiny__transformers --function encoder \
        --compile .../iree-compile --run .../iree-run-module --out DIR [--limit 40]

A truncated model (``--limit N``: only the first N recorded tensors are returned) lets the
compiler drop everything after them, so one op's lowering can be looked at in a small module.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import export_model  # noqa: E402  (the pipeline's own model loading and export)


def wrap(spec, limit):
    """A module returning spec.module's outputs and every recorded activation, and their names."""
    import torch
    import torch.utils._pytree as pytree

    names = []
    recorded = []
    seen = {}

    def add(name, value):
        if isinstance(value, torch.Tensor) and value.is_floating_point():
            count = seen.get(name, 0)
            seen[name] = count + 1
            names.append(name if count == 0 else f"{name}#{count}")
            recorded.append(value)

    hooks = []
    for name, module in spec.module.named_modules():
        if not name:
            continue
        leaf = not any(True for _ in module.children())
        if leaf:
            hooks.append(
                module.register_forward_pre_hook(
                    lambda m, args, name=name: add(name + " (input)", args[0] if args else None)
                )
            )
        hooks.append(
            module.register_forward_hook(
                # the first tensor of its output (a hook that returned a value would replace the output)
                lambda m, args, out, name=name: add(name, (pytree.tree_flatten(out)[0] or [None])[0])
            )
        )

    class Recorded(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *inputs):
            del names[:], recorded[:]
            seen.clear()
            out = pytree.tree_flatten(self.inner(*inputs))[0]
            extra = recorded[:limit] if limit else recorded
            return tuple(out) + tuple(extra)

    return Recorded(spec.module).eval(), names, hooks


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    export_model.add_model_arguments(parser)
    parser.add_argument("--compile", required=True, help="the iree-compile to test")
    parser.add_argument("--run", required=True, help="an iree-run-module of the same release")
    parser.add_argument("--out", required=True)
    parser.add_argument("--limit", type=int, default=0, help="return only the first N activations")
    parser.add_argument("--flag", action="append", default=[], help="an extra iree-compile flag")
    args = parser.parse_args(argv)
    import numpy as np
    import torch

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    spec = export_model.load_model(args)
    wrapped, names, _ = wrap(spec, args.limit)
    with torch.no_grad():
        reference = [t.detach().numpy() for t in wrapped(*spec.inputs)]
    labels = [f"output {i}" for i in range(len(reference) - len(names[: len(reference)]))]
    labels = (labels + names)[: len(reference)]
    aot, _ = export_model.import_aot()
    exported = aot.export(wrapped, *spec.inputs)
    export_model.save_text(exported, out / "model.mlir")
    flags = ["--iree-hal-target-backends=llvm-cpu", "--iree-llvmcpu-target-cpu=host", *args.flag]
    subprocess.run([args.compile, str(out / "model.mlir"), *flags, "-o", str(out / "model.vmfb")], check=True)
    command = [args.run, "--device=local-task", "--module=" + str(out / "model.vmfb"), "--function=main"]
    for i, tensor in enumerate(spec.inputs):
        np.save(str(out / f"input{i}.npy"), tensor.numpy())
        command.append("--input=@" + str(out / f"input{i}.npy"))
    command += ["--output=@" + str(out / f"result{i}.npy") for i in range(len(reference))]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    print(
        "{:>4}  {:<58} {:>18} {:>11} {:>9}  {}".format("#", "tensor", "shape", "max abs err", "max |ref|", "")
    )
    first = None
    for i, (label, ref) in enumerate(zip(labels, reference)):
        got = np.load(str(out / f"result{i}.npy"))
        err = float(np.max(np.abs(got.astype(np.float64) - ref))) if ref.size else 0.0
        bad = not np.allclose(got, ref, rtol=spec.rtol, atol=spec.atol)
        if bad and first is None and label.startswith("output") is False:
            first = label
        print(
            "{:>4}  {:<58} {:>18} {:>11.3g} {:>9.3g}  {}".format(
                i,
                label[:58],
                "x".join(map(str, ref.shape)),
                err,
                float(np.max(np.abs(ref))) if ref.size else 0.0,
                "DIFFERS" if bad else "",
            )
        )
    print("first activation past atol {} rtol {}: {}".format(spec.atol, spec.rtol, first or "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
