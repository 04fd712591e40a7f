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
    python bisect_outputs.py --model path/to/my_model.py:build ...   (a user's model, as the export
        loads it: `FILE:FACTORY`, or `MODULE:FACTORY` importable from the current directory)

The last line names where IREE leaves torch: the first module (qualified name and class) whose
output differs, or the module whose own code runs between two recorded tensors (a leaf's input that
differs was computed by its parent before calling it), or "every recorded tensor matches".

A truncated model (``--limit N``: only the first N recorded tensors are returned) lets the
compiler drop everything after them, so one op's lowering can be looked at in a small module.

As the pipeline does: torch's reference is a call on a copy of the inputs as built (a model that
changes its input in place changes only that copy), the inputs are saved by the export's own saver
(a dtype numpy lacks, bfloat16, as its raw bits, which iree-run-module reads as that type), such an
output is asked for as raw contents (``--output=@resultN.bin``: iree-run-module cannot write a
bfloat16 .npy) and read back as the reference tensor's dtype, and where torch's own value is NaN or
inf it is not compared.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import export_model  # noqa: E402  (the pipeline's own model loading and export)


def model_arguments(argv):
    """`argv` with `--model FILE:FACTORY` (or `MODULE:FACTORY`) spelled as export_model's own
    arguments (`--file FILE --factory FACTORY`, or `--module`), so the model is loaded as the export
    loads it. A recipe (`~RECIPE`) is refused: bisecting exports the wrapper the default way."""
    argv = list(argv)
    for i, arg in enumerate(argv):
        if arg == "--model" or arg.startswith("--model="):
            value = arg.split("=", 1)[1] if "=" in arg else (argv[i + 1] if i + 1 < len(argv) else "")
            end = i + 1 if "=" in arg else i + 2
            return argv[:i] + model_reference(value) + argv[end:]
    return argv


def model_reference(value):
    """export_model's arguments for one `FILE:FACTORY` / `MODULE:FACTORY` reference."""
    if "~" in value:
        raise SystemExit(f"--model {value}: a recipe (~...) is not bisected; name the model without it")
    where, sep, factory = value.rpartition(":")
    if not sep or not where or not factory:
        raise SystemExit(f"--model {value}: a model is FILE:FACTORY, e.g. my_model.py:build")
    if where.endswith(".py") or "/" in where or Path(where).is_file():
        return ["--file", where, "--factory", factory]
    return ["--module", where, "--import-root", str(Path.cwd()), "--factory", factory]


def where_it_leaves(first, classes, root, err):
    """The verdict line: where IREE leaves torch, given the first differing recorded tensor's label
    (`first`, None when every recorded one matches), each module's class by qualified name, the
    model's own class (`root`) and that tensor's largest error. A leaf's input is computed by the
    code of the module that calls it (its parent), before the call."""
    if first is None:
        return "every recorded tensor matches"
    if first.startswith("output"):
        return (
            f"IREE leaves torch in the model's own forward ({root}): {first} differs (max abs err "
            f"{err:.3g}) while every recorded module's output matches"
        )
    name = first.split("#")[0]
    if name.endswith(" (input)"):
        leaf = name[: -len(" (input)")]
        parent = leaf.rpartition(".")[0]
        holder = (
            "`{}` ({})".format(parent, classes.get(parent, "?"))
            if parent
            else f"the model's own forward ({root})"
        )
        return (
            "IREE leaves torch in {}, before it calls `{}` ({}): that call's input differs (max abs err "
            "{:.3g})".format(holder, leaf, classes.get(leaf, "?"), err)
        )
    return (
        "IREE leaves torch in `{}` ({}): its output differs (max abs err {:.3g}), every tensor "
        "recorded before it matches".format(name, classes.get(name, "?"), err)
    )


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


def result_name(index, tensor):
    """The file iree-run-module writes output `index` (torch's `tensor`) to: .npy, or the raw contents
    (.bin) of a dtype numpy lacks (the export saves it as raw bits), as the run stage asks for it."""
    _, saved_as = export_model.as_numpy(tensor)
    return "result{}.{}".format(index, "bin" if saved_as else "npy")


def read_result(path, reference):
    """IREE's output at `path` as float64, read as the reference tensor's dtype and shape."""
    import numpy as np
    import torch

    if path.suffix != ".bin":
        return np.load(str(path)).astype(np.float64)
    bits = torch.from_numpy(np.fromfile(str(path), dtype=np.uint8))
    return bits.view(reference.dtype).reshape(reference.shape).to(torch.float64).numpy()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    export_model.add_model_arguments(parser)
    parser.add_argument("--compile", required=True, help="the iree-compile to test")
    parser.add_argument("--run", required=True, help="an iree-run-module of the same release")
    parser.add_argument("--out", required=True)
    parser.add_argument("--limit", type=int, default=0, help="return only the first N activations")
    parser.add_argument("--flag", action="append", default=[], help="an extra iree-compile flag")
    parser.add_argument(
        "--only-flags", action="store_true", help="the --flag flags replace the llvm-cpu host defaults"
    )
    parser.add_argument("--model", metavar="FILE:FACTORY", help="a user's model (instead of --module/--file)")
    args = parser.parse_args(model_arguments(sys.argv[1:] if argv is None else argv))
    import torch

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    spec = export_model.load_model(args)
    as_built = export_model.copy_tensors(spec.inputs)
    wrapped, names, _ = wrap(spec, args.limit)
    with torch.no_grad():  # on a copy: what the model changes in place stays there
        reference = [t.detach().clone() for t in wrapped(*export_model.copy_tensors(as_built))]
    labels = [f"output {i}" for i in range(len(reference) - len(names[: len(reference)]))]
    labels = (labels + names)[: len(reference)]
    aot, _ = export_model.import_aot()
    exported = aot.export(wrapped, *export_model.copy_tensors(as_built))
    export_model.save_text(exported, out / "model.mlir")
    # A cell's own compile flags (`iree-matrix bisect`) replace the defaults: an option given twice
    # is an error to iree-compile.
    defaults = (
        [] if args.only_flags else ["--iree-hal-target-backends=llvm-cpu", "--iree-llvmcpu-target-cpu=host"]
    )
    flags = [*defaults, *args.flag]
    subprocess.run([args.compile, str(out / "model.mlir"), *flags, "-o", str(out / "model.vmfb")], check=True)
    command = [args.run, "--device=local-task", "--module=" + str(out / "model.vmfb"), "--function=main"]
    export_model.save_arrays(out, "input", as_built)
    command += ["--input=@" + str(out / f"input{i}.npy") for i in range(len(as_built))]
    results = [out / result_name(i, t) for i, t in enumerate(reference)]
    command += ["--output=@" + str(path) for path in results]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    print(
        "{:>4}  {:<58} {:>18} {:>11} {:>9}  {}".format("#", "tensor", "shape", "max abs err", "max |ref|", "")
    )
    first, first_err, output_err = None, 0.0, None
    classes = {name: type(m).__name__ for name, m in spec.module.named_modules() if name}
    for i, (label, ref, path) in enumerate(zip(labels, reference, results)):
        ref64 = ref.to(torch.float64).numpy()
        err, scale, bad = export_model.difference(read_result(path, ref), ref64, spec.atol, spec.rtol)
        if bad and first is None and not label.startswith("output"):
            first, first_err = label, err
        elif bad and not output_err and label.startswith("output"):
            output_err = (label, err)
        print(
            "{:>4}  {:<58} {:>18} {:>11.3g} {:>9.3g}  {}".format(
                i,
                label[:58],
                "x".join(map(str, ref.shape)),
                err,
                scale,
                "DIFFERS" if bad else "",
            )
        )
    print("first activation past atol {} rtol {}: {}".format(spec.atol, spec.rtol, first or "none"))
    if first is None and output_err:
        first, first_err = output_err
    print(where_it_leaves(first, classes, type(spec.module).__name__, first_err))
    return 0


if __name__ == "__main__":
    sys.exit(main())
