"""Export worker: runs inside an exporter environment (torch + iree-turbine), never in the
orchestrator's. Python 3.9 syntax; imports only the stdlib, torch, numpy and turbine.

    python export_model.py --module models.mobilenet_v2 --import-root SCRIPTS --factory build \
        [--function encoder] --seed 0 --repetitions 5 --out DIR
    python export_model.py --file path/to/my_model.py --factory build ...     (a user's model)

writes into DIR:
    model.mlir                 turbine's export of the model's forward
    model.mlirbc               the same as MLIR bytecode (with --bytecode; turbine's save_mlir)
    model.where.json           the model's Python line each op of model.mlir came from (mlir_where)
    inputs/input<i>.npy        the example inputs
    reference/output<i>.npy    torch eager's outputs on them (the numeric reference)
    export.json                function name, tolerance, shapes, export seconds, eager latency
                               (eager_ms: wall time per call on --threads threads) and torch
                               eager's CPU time per call on one thread (eager_cpu_ms: {median, min,
                               max, stdev, n, times, threads: 1}, from time.process_time; if that
                               timing fails, eager_cpu_ms_error: its message instead)
or, on failure, error.json (which phase failed and the exception's own message) and exit code 1.
A failure outside the model's code and turbine's is the worker's own (phase `harness`).

What the model does is the model's answer, never IREE's: its reference is its first call, on a copy
of the inputs as built, and those inputs are what inputs/ holds (what IREE is given), so a model
that changes its input in place is compared on the same inputs and export.json says so
(`changes_inputs`); torch's NaN or inf outputs are named (`reference_nonfinite`) and left unchecked,
and a model none of whose outputs is finite, or that returns a Python number among them, is the
model's failure. The program torch.export traced, which IREE is given, is run once in torch on the
same inputs (`check_traced`): one whose outputs are not eager's within the model's tolerance (a
branch on torch.compiler.is_compiling()) is the model's failure too. A tensor of a dtype numpy
lacks (bfloat16, float8) is saved as its raw bits (a void dtype of its width, which IREE's tools read
as that type) with the dtype named in export.json.

While it runs, .phase in DIR names the phase last entered: if the process is ended from outside (the
model killing it, or its parent), the export stage knows whose code was running.

The process ends with os._exit once its outputs are written (`_exit_now`), never by the
interpreter's teardown: some releases' MLIR bindings never let a process end after an export
(iree-base-compiler 3.6.0: stuck in PyGILState_Ensure while MLIR's resources are destroyed at exit;
3.3.0/3.4.0: a deadlock in _mlir.so's teardown). So a process that does not end is never this
worker's: the model's code runs here and can write any file, so the stage takes a timeout as a
timeout, whatever files exist (the hang is said from the tool's own table, `versions.EXIT_HANGS`).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import inspect
import os
import sys
import time
from pathlib import Path

import mlir_where

# The phases and torch's reference live in their own modules; their names stay reachable here,
# where the other workers (peers.py, export_recipe.py, ...) and the tests take them.
from export_phases import (  # noqa: F401
    HARNESS,
    PHASE_FILE,
    ModelFinding,
    PhaseError,
    _phase,
    note_phase,
    out_of_descriptors,
    release_fds,
    reserve_fds,
    run_reporting,
    track_phases,
    write_error,
    write_json,
)
from export_reference import (  # noqa: F401
    HANDSHAKE_GO,
    HANDSHAKE_POLL,
    HANDSHAKE_READY,
    SETTLE_SECONDS,
    Reference,
    _bits,
    _raw_bytes,
    as_numpy,
    changed_inputs,
    changed_state,
    copy_tensors,
    cpu_summary,
    difference,
    dtype_name,
    eager,
    eager_cpu,
    flat_outputs,
    measure,
    module_state,
    nonfinite,
    nonfinite_words,
    output_difference,
    process_time_calls,
    reference_call,
    restore_state,
    save_arrays,
    summary,
    tensor_outputs,
    torch_threads,
    traced_words,
    wait_for_quiet,
    warm_up,
)  # fmt: skip

HERE = Path(__file__).resolve().parent


def import_model(args):
    sys.path.insert(0, str(HERE))  # so a user's model can `from models.api import ModelSpec`
    if args.module:
        sys.path.insert(0, args.import_root)
        return importlib.import_module(args.module)
    path = Path(args.file)
    # Its folder first, as `python model.py` puts it: the model imports its sibling modules (`import
    # nets`), which the sandbox binds beside it; without it they were a ModuleNotFoundError. The
    # harness's own modules are imported by now (a sibling of the same name cannot replace them).
    sys.path.insert(0, os.path.dirname(os.path.abspath(str(path))))  # as the sandbox binds it
    loader_spec = importlib.util.spec_from_file_location("user_model_" + path.stem, str(path))
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[loader_spec.name] = module
    loader_spec.loader.exec_module(module)
    return module


def call_factory(factory, seed):
    try:
        takes_seed = bool(inspect.signature(factory).parameters)
    except (TypeError, ValueError):
        takes_seed = True
    return factory(seed) if takes_seed else factory()


def load_model(args):
    module = import_model(args)
    factory = getattr(module, args.factory, None)
    if not callable(factory):
        raise TypeError(f"{module.__name__} has no callable {args.factory!r}")
    built = call_factory(factory, args.seed)
    if isinstance(built, dict):
        if args.function not in built:
            raise KeyError(f"{args.factory}() returned functions {sorted(built)}, not {args.function!r}")
        built = built[args.function]
    elif args.function != "main":
        raise TypeError(f"{args.factory}() returned one model, but FUNCTIONS names {args.function!r}")
    spec = check_spec(built, args.factory)
    if args.weights:
        state = torch_load(args.weights)
        spec.module.load_state_dict(state, strict=True)  # a mismatch names the missing/unexpected keys
        spec.module.eval()
    return spec


def torch_load(path):
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except TypeError:  # torch < 1.13 has no weights_only
        return torch.load(path, map_location="cpu")


def check_spec(spec, factory):
    import torch

    problems = []
    if not isinstance(getattr(spec, "module", None), torch.nn.Module):
        problems.append(("module", "a torch.nn.Module"))
    inputs = getattr(spec, "inputs", None)
    if not isinstance(inputs, (tuple, list)) or not all(isinstance(t, torch.Tensor) for t in inputs):
        problems.append(("inputs", "a tuple of tensors"))
    for name in ("atol", "rtol"):
        value = getattr(spec, name, None)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
            problems.append((name, "a number, 0 or more"))
    if problems and all(hasattr(spec, name) for name, _ in problems):
        # The right object with a wrong value: say which value, not that the object is of the wrong
        # class ("returned ModelSpec; expected a ModelSpec ..." was said of an atol given as a string).
        raise TypeError(
            "{}() returned a {} whose {}".format(
                factory,
                type(spec).__name__,
                "; whose ".join(
                    f"`{name}` is {_shown(getattr(spec, name))} ({type(getattr(spec, name)).__name__}), "
                    f"not {what}"
                    for name, what in problems
                ),
            )
        )
    if problems:
        raise TypeError(
            "{}() returned {}; expected a ModelSpec (from models.api) or an object with {}".format(
                factory, type(spec).__name__, ", ".join(f"`{name}` ({what})" for name, what in problems)
            )
        )
    spec.inputs = tuple(inputs)
    spec.module.eval()
    return spec


def _shown(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def import_aot():
    try:
        from iree.turbine import aot

        return aot, "iree.turbine.aot"
    except ImportError:
        from shark_turbine import aot  # iree-turbine < 2.5 shipped under this name

        return aot, "shark_turbine.aot"


def export(aot, spec, path, bytecode=False, modules=False):
    """turbine's export, saved as MLIR text; with `bytecode`, also as MLIR bytecode (`save_mlir`
    writes bytecode for a `.mlirbc` suffix). Returns (seconds, why the bytecode is missing)."""
    start = time.perf_counter()
    exported = aot.export(spec.module, *spec.inputs)
    save_text(exported, path, _module_nodes(spec) if modules else None)
    seconds = time.perf_counter() - start
    error = None
    if bytecode:
        try:
            exported.save_mlir(str(path.with_suffix(".mlirbc")))
        except Exception as exc:  # recorded: the compile of the bytecode form says it
            path.with_suffix(".mlirbc").unlink(missing_ok=True)
            error = f"{type(exc).__name__}: {exc}"
    return seconds, error


def _module_nodes(spec):
    """The torch module of each node (mlir_where.module_nodes) of the model exported once more by
    torch.export: turbine's own program is not kept. Decomposed as turbine decomposes its own
    (iree-turbine's aot/exporter.py, `run_decompositions(current_aot_decompositions())`): the n-th
    op of a trace is the n-th node only then (a BatchNorm2d is one node before, its sub/mul/add
    after; undecomposed, MobileNetV2's ops were joined to the wrong layers or to none). None where
    that fails (no modules then)."""
    import importlib

    import torch

    try:
        program = torch.export.export(spec.module, tuple(spec.inputs))
        table = importlib.import_module(import_aot()[1] + ".decompositions").current_aot_decompositions()
        return mlir_where.module_nodes(program.run_decompositions(table) if table else program)
    except Exception:
        return None


def save_text(exported, path, nodes=None):
    """turbine's `save_mlir` of the text form. shark-turbine 0.9.x's calls `print(f, binary=True)`,
    which the MLIR bindings of its own importer (iree-compiler 20231218.742 on) refuse ("print():
    incompatible function arguments": the file is a keyword argument there); the same module is then
    printed with `file=` by hand, as that save_mlir meant to. Beside it, model.where.json: the model's
    line each op came from (mlir_where)."""
    try:
        exported.save_mlir(str(path))
    except TypeError as exc:
        if "incompatible function arguments" not in str(exc) or not hasattr(exported, "mlir_module"):
            raise
        with open(str(path), "wb") as f:
            exported.mlir_module.print(file=f, binary=True)
    if hasattr(exported, "mlir_module"):  # where each op came from: a compile error then names the line
        mlir_where.save(exported.mlir_module, Path(path), nodes)


@contextlib.contextmanager
def traced_program():
    """For the block, torch.export.export keeps the first program it makes (turbine's, or the fx
    route's: what IREE is given), for `check_traced` to run. Empty where it made none."""
    import torch

    real, kept = getattr(getattr(torch, "export", None), "export", None), []
    if real is None:  # a torch without torch.export: nothing traced to check
        yield kept
        return

    def keeping(*args, **kwargs):
        program = real(*args, **kwargs)
        kept[:] = kept or [program]
        return program

    torch.export.export = keeping
    try:
        yield kept
    finally:
        torch.export.export = real


def unordered_outputs(traced):
    """{output: dim} of the traced program's outputs that are an unsorted topk's values or indices
    (`sorted=False`), whose order along dim torch leaves unspecified: the checks, IREE's run's too,
    compare them as sets (export.json's output entry `unordered`)."""
    import operator

    import torch

    if not traced:
        return {}
    program = traced[0]
    names = list(getattr(program.graph_signature, "user_outputs", ()))
    nodes = {n.name: n for n in program.graph.nodes}
    found = {}
    for i, name in enumerate(names):
        node = nodes.get(name)
        if node is None or node.target is not operator.getitem:
            continue
        top = node.args[0]
        if getattr(top, "target", None) is not torch.ops.aten.topk.default:
            continue
        args = dict(zip(("self", "k", "dim", "largest", "sorted"), top.args), **top.kwargs)
        if args.get("sorted", True):
            continue
        rank = len(top.args[0].meta["val"].shape) if "val" in top.args[0].meta else 1
        found[i] = int(args.get("dim", -1)) % max(rank, 1)
    return found


def check_traced(traced, spec, as_built, reference, unordered=None):
    """The traced program (`traced_program`) run in torch on the inputs as built, against the eager
    reference: a model that computes something else while traced is the model's failure, never
    IREE's mismatch. export.json's `traced_check`: its seconds, or why it was not run."""
    import torch

    if not traced:  # turbine before torch.export (shark-turbine's dynamo.export): nothing kept
        return {"unchecked": "no torch.export program was made"}
    start = time.perf_counter()
    try:
        with torch.no_grad():
            outputs = flat_outputs(traced[0].module()(*copy_tensors(as_built)))
    except Exception as exc:  # noqa: BLE001 - torch cannot run its own program: no verdict either way
        return {"unchecked": f"{type(exc).__name__}: {exc}"[:400]}
    words = traced_words(outputs, reference, spec.atol, spec.rtol, unordered)
    if words:
        raise ModelFinding(words)
    return {"seconds": round(time.perf_counter() - start, 4)}


def importer_version():
    """The IREE compiler package in this environment (turbine's torch importer lives there)."""
    from importlib import metadata

    for name in ("iree-base-compiler", "iree-compiler"):
        try:
            return f"{name} {metadata.version(name)}"
        except metadata.PackageNotFoundError:
            continue
    return None


def run(args):
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    track_phases(out)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)

    spec = _phase("model", load_model, args)
    measured, reference = measure(spec, args, out)
    as_built = copy_tensors(spec.inputs)
    aot, aot_module = _phase("import", import_aot)
    with traced_program() as traced:
        seconds, bytecode_error = _phase(
            "export", export, aot, spec, out / "model.mlir", args.bytecode, args.modules
        )
    unordered = unordered_outputs(traced)
    for i, dim in unordered.items():  # an unsorted topk's: compared as a set, here and at the run
        if i < len(measured["outputs"]):
            measured["outputs"][i]["unordered"] = dim
    info = {
        "factory": args.factory,
        "model_function": args.function,
        "function": "main",  # the name turbine gives an exported forward
        **measured,
        "traced_check": _phase("eager", check_traced, traced, spec, as_built, reference, unordered),
        "seconds": seconds,
        "aot_module": aot_module,
        "importer": importer_version(),
    }
    if bytecode_error:
        info["bytecode_error"] = bytecode_error
    write_json(out / "export.json", info)


def add_model_arguments(parser):
    """The arguments `load_model` reads (shared with the other workers, e.g. peers.py)."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--module", help="import the model as this module (from --import-root)")
    source.add_argument("--file", help="import the model from this .py file")
    parser.add_argument("--import-root", default=str(HERE))
    parser.add_argument("--factory", default="build")
    parser.add_argument("--function", default="main", help="which of the factory's functions (a dict key)")
    parser.add_argument("--weights", help="a torch state dict to load into the model (strict)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--quiet-handshake",
        metavar="DIR",
        help="after the model's first call, write DIR/ready and wait for DIR/go before timing",
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_arguments(parser)
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--bytecode", action="store_true", help="also write model.mlirbc (MLIR bytecode)")
    parser.add_argument("--modules", action="store_true", help="model.where.json names each op's module")
    args = parser.parse_args(argv)
    return run_reporting(run, args)


def _exit_now(code):
    """End without interpreter finalisation. The compiler's MLIR bindings of some releases (the
    iree-base-compiler 3.3.0 and 3.4.0 that turbine 3.3.0 / 3.4.0 pin) deadlock while tearing down
    at exit, after the export is complete and written: seen here as a process idle in
    pthread_cond_timedwait inside _mlir.so until the stage timeout. Everything this worker writes is
    closed by then, so skipping the teardown loses nothing."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    _exit_now(main())
