"""Export worker: runs inside an exporter environment (torch + iree-turbine), never in the
orchestrator's. Python 3.9 syntax; imports only the stdlib, torch, numpy and turbine.

    python export_model.py --module models.mobilenet_v2 --import-root SCRIPTS --factory build \
        [--function encoder] --seed 0 --repetitions 5 --out DIR
    python export_model.py --file path/to/my_model.py --factory build ...     (a user's model)

writes into DIR:
    model.mlir                 turbine's export of the model's forward
    model.mlirbc               the same as MLIR bytecode (with --bytecode; turbine's save_mlir)
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
model's failure. A tensor of a dtype numpy lacks (bfloat16, float8) is saved as its raw bits (a
void dtype of its width, which IREE's tools read as that type) with the dtype named in export.json.

While it runs, .phase in DIR names the phase last entered: if the process is ended from outside (the
model killing it, or this worker's supervisor), the export stage knows whose code was running.

The export runs in a child interpreter that ends the normal way, watched by this one (`supervise`):
some releases' MLIR bindings never let a process end after an export (iree-base-compiler 3.6.0:
stuck in PyGILState_Ensure while MLIR's resources are destroyed at exit; 3.3.0/3.4.0: a deadlock in
_mlir.so's teardown). When the child's outputs are complete (export.json or error.json, written
last and atomically) and it has neither ended within EXIT_GRACE seconds nor used CPU for IDLE
seconds, it is killed and export.json says so (`exit_hang`): a finding about the environment, with
the export itself complete and used.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import importlib.util
import inspect
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent


class PhaseError(Exception):
    def __init__(self, phase, exc):
        super().__init__(str(exc))
        self.phase = phase
        self.exc = exc


class ModelFinding(Exception):
    """What the model itself does that leaves nothing for IREE to be checked against: said in these
    words (no exception type before them)."""


# The phase last entered, in DIR/.phase (see the docstring; `track_phases` starts it). Each is written
# whole (replaced, never truncated) and not reset when the phase ends: a model that kills this
# process's parent goes on running until the sandbox ends it, and its next note must still be whole.
PHASE_FILE = ".phase"
HARNESS = "harness"  # the worker's own code, before the model is built
_phase_file = None


_last_phase = HARNESS
# Descriptors held from the start and let go when the worker must write its outcome: a model that
# opens files until EMFILE left the worker unable to write error.json, and its failure read as "the
# model ended its process".
_spare_fds = []


def reserve_fds(count=2):
    while len(_spare_fds) < count:
        try:
            _spare_fds.append(os.open(os.devnull, os.O_RDONLY))
        except OSError:
            return


def release_fds():
    while _spare_fds:
        os.close(_spare_fds.pop())


def note_phase(name):
    global _last_phase
    _last_phase = name
    if _phase_file is not None:
        tmp = _phase_file.with_name(_phase_file.name + ".part")
        tmp.write_text(name)
        os.replace(str(tmp), str(_phase_file))


def _phase(name, fn, *args):
    try:
        note_phase(name)  # fails when the model's code has used up the descriptors: its failure too
        return fn(*args)
    except Exception as exc:  # the worker's whole job is to report what failed, and where
        raise PhaseError(name, exc) from exc


def out_of_descriptors(exc):
    """`exc`, or what it was raised from, is EMFILE or ENFILE: no file descriptor left."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in (errno.EMFILE, errno.ENFILE):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def import_model(args):
    sys.path.insert(0, str(HERE))  # so a user's model can `from models.api import ModelSpec`
    if args.module:
        sys.path.insert(0, args.import_root)
        return importlib.import_module(args.module)
    path = Path(args.file)
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


def flat_outputs(result):
    import torch.utils._pytree as pytree

    leaves, _ = pytree.tree_flatten(result)
    return [leaf for leaf in leaves if hasattr(leaf, "detach")]


def copy_tensors(tensors):
    """Copies that share no storage with `tensors` (a model's in-place change of one stays there)."""
    return tuple(t.detach().clone() for t in tensors)


def tensor_outputs(result):
    """The reference's outputs, copied (a later call cannot change them); a Python number among them
    is the model's finding: an exported function returns tensors, and turbine's importer fails on it
    with only the number for a message (`KeyError: 3.0`)."""
    import torch.utils._pytree as pytree

    leaves, _ = pytree.tree_flatten(result)
    for i, leaf in enumerate(leaves):
        if isinstance(leaf, (bool, int, float, complex)):
            raise ModelFinding(
                f"the model's forward() returns a Python {type(leaf).__name__} ({leaf!r}) as output {i}: an "
                "exported function returns tensors, and only tensors are checked against IREE's; return "
                f"it as a tensor (torch.tensor({leaf!r})) or leave it out"
            )
    return [leaf.detach().clone() for leaf in leaves if hasattr(leaf, "detach")]


def _bits(tensor):
    """A tensor's dtype, shape and bytes: equal exactly when nothing in it changed (NaN included)."""
    t = tensor.detach().contiguous()
    return t.dtype, tuple(t.shape), _raw_bytes(t).tobytes()


def _raw_bytes(tensor):
    """A contiguous tensor's bytes as a flat numpy uint8 array (any dtype, numpy's or not)."""
    import torch

    return tensor.reshape(-1).view(torch.uint8).numpy()


def changed_inputs(before, after):
    """Which of the inputs a call was given it changed in place: 'input 0: 8 of 8 values'."""
    said = []
    for i, (was, now) in enumerate(zip(before, after)):
        if _bits(was) == _bits(now):
            continue
        if was.shape == now.shape and was.dtype == now.dtype:
            differ = (was != now) & ~((was != was) & (now != now))  # NaN where it was NaN is unchanged
            said.append(f"input {i}: {int(differ.sum())} of {was.numel()} values")
        else:
            said.append(f"input {i}: now {tuple(now.shape)} {now.dtype}, was {tuple(was.shape)} {was.dtype}")
    return said


def nonfinite(outputs):
    """Per output with NaN or inf in it: {"output0": {"nan": n, "inf": n, "of": size}}."""
    import torch

    found = {}
    for i, t in enumerate(outputs):
        if not (t.is_floating_point() or t.is_complex()) or t.numel() == 0:
            continue
        nan = int(torch.isnan(t).sum())
        inf = int(torch.isinf(t).sum())
        if nan or inf:
            found[f"output{i}"] = {"nan": nan, "inf": inf, "of": t.numel()}
    return found


def nonfinite_words(found):
    """'output0: 8 NaN of 8 values; output1: 2 inf of 6 values'."""
    parts = []
    for name, n in found.items():
        kinds = " and ".join(f"{n[k]} {'NaN' if k == 'nan' else 'inf'}" for k in ("nan", "inf") if n[k])
        parts.append(f"{name}: {kinds} of {n['of']} values")
    return "; ".join(parts)


def module_state(module):
    """What the model's own tensors are before a call: its buffers copied (a counter, running
    statistics: small, and restored after), its parameters by digest (a copy of every weight would
    double a large model's memory). ({}, {}) for a callable that is no torch module."""
    named = getattr(module, "named_buffers", None), getattr(module, "named_parameters", None)
    if not all(callable(n) for n in named):
        return {}, {}
    try:
        buffers = {name: t.detach().clone() for name, t in module.named_buffers()}
        parameters = {name: _digest(t) for name, t in module.named_parameters()}
    except Exception:  # noqa: BLE001 - a model's own accessors failing is no reason to stop
        return {}, {}
    return buffers, parameters


def _digest(tensor):
    """A tensor's dtype, shape and the sha256 of its bytes (no copy of a contiguous one)."""
    import hashlib

    t = tensor.detach().contiguous()
    return t.dtype, tuple(t.shape), hashlib.sha256(memoryview(_raw_bytes(t))).hexdigest()


def changed_state(module, before):
    """Which of the model's buffers and parameters a call changed in place ('buffer calls: 1 of 1
    values', 'parameter w: changed'), as `changed_inputs` names inputs."""
    buffers, parameters = before
    now_buffers, now_parameters = module_state(module)
    said = []
    for name, was in buffers.items():
        after = now_buffers.get(name)
        if after is None:
            said.append(f"buffer {name}: removed")
        elif _bits(was) != _bits(after):
            if was.shape == after.shape and was.dtype == after.dtype:
                differ = (was != after) & ~((was != was) & (after != after))
                said.append(f"buffer {name}: {int(differ.sum())} of {was.numel()} values")
            else:
                now_is, was_is = f"{tuple(after.shape)} {after.dtype}", f"{tuple(was.shape)} {was.dtype}"
                said.append(f"buffer {name}: now {now_is}, was {was_is}")
    for name, was in parameters.items():
        if now_parameters.get(name) != was:
            said.append(f"parameter {name}: changed")
    return said


def restore_state(module, before):
    """The model's buffers back to `before` (as built), so that what is exported is the model its
    reference call saw, not the one its timed calls left (a parameter it changes is named only)."""
    import torch

    buffers = before[0] if before else {}
    if not buffers:
        return
    now = dict(module.named_buffers())
    with torch.no_grad():
        for name, saved in buffers.items():
            tensor = now.get(name)
            if tensor is not None and tensor.shape == saved.shape and tensor.dtype == saved.dtype:
                tensor.copy_(saved)  # one whose shape it changed: named, exported as left


class Reference:
    """torch's answer: the model's first call, on a copy of the inputs as built."""

    def __init__(self, outputs, changes_inputs, reference_nonfinite, changes_state=()):
        self.outputs = outputs
        self.changes_inputs = changes_inputs
        self.nonfinite = reference_nonfinite
        self.changes_state = list(changes_state)


def reference_call(spec, as_built):
    """The model's first call (under no_grad, as every timed call), on a copy of `as_built`: its
    outputs, and what it changed of that copy. None of its outputs finite leaves nothing to check
    IREE's against: that is the model's finding."""
    import torch

    given = copy_tensors(as_built)
    state = module_state(spec.module)
    with torch.no_grad():
        outputs = tensor_outputs(spec.module(*given))
    found = nonfinite(outputs)
    finite = sum(t.numel() for t in outputs) - sum(n["nan"] + n["inf"] for n in found.values())
    if found and finite <= 0:
        raise ModelFinding(
            f"torch's own outputs are all NaN or inf ({nonfinite_words(found)}): there is nothing to check "
            "IREE's against; the model's weights or example inputs make its result undefined"
        )
    reference = Reference(outputs, changed_inputs(as_built, given), found, changed_state(spec.module, state))
    reference.state = state
    return reference


# The quiet handshake (`--quiet-handshake DIR`, from iree-matrix's export and peer stages): the
# model's first call, the one that pays its one-off costs and the one a model that hangs never returns
# from, runs before the machine's quiet lock is taken. The worker then writes DIR/ready and waits for
# DIR/go, which iree-matrix writes once it holds the lock; it times from there. A model hung in its
# first call never holds the lock, so it holds up no other run's timing.
HANDSHAKE_READY = "ready"
HANDSHAKE_GO = "go"
HANDSHAKE_POLL = 0.02


def wait_for_quiet(directory, poll=HANDSHAKE_POLL):
    """Say the first call returned (`HANDSHAKE_READY` in `directory`), then wait for the go."""
    directory = Path(directory)
    (directory / HANDSHAKE_READY).write_text(str(os.getpid()))
    while not (directory / HANDSHAKE_GO).exists():
        time.sleep(poll)


def warm_up(spec, args, as_built):
    """The model's first call, `reference_call` on a copy of `as_built` (its failure is the eager
    phase's), then, with --quiet-handshake, the handshake; returns the `Reference`. One warm-up call
    fewer follows in `eager`, so as many untimed calls precede the timing as before."""
    reference = _phase("eager", reference_call, spec, as_built)
    if getattr(args, "quiet_handshake", None):
        wait_for_quiet(args.quiet_handshake)
    return reference


def measure(spec, args, out):
    """The eager side every export worker shares: the reference (`warm_up`), the timings (each call on
    a copy of the inputs as built, so a model that changes its input changes only that copy), the
    inputs as built and the reference saved in `out`. Returns export.json's fields for them; leaves
    `spec.inputs` a fresh copy of the inputs as built, for the export to trace."""
    import torch

    as_built = copy_tensors(spec.inputs)
    reference = warm_up(spec, args, as_built)
    spec.inputs = copy_tensors(as_built)
    times = _phase("eager", eager, spec, args.repetitions, 1)[1]
    try:  # the model's code runs: its phase, should the model end the process
        cpu = {"eager_cpu_ms": _phase("eager", eager_cpu, spec, args.repetitions)}
    except PhaseError as err:  # the wall timing and the export stand without it
        traceback.print_exception(type(err.exc), err.exc, err.exc.__traceback__)
        cpu = {"eager_cpu_ms_error": f"{type(err.exc).__name__}: {err.exc}"[:4000]}
    spec.inputs = copy_tensors(as_built)
    # A model that changes its own buffers or parameters in forward() (a call counter, a running
    # statistic) is exported in the state its reference call started from: IREE's first call then
    # answers what torch's first call did (exported as its timed calls left it, it was IREE's mismatch).
    restore_state(spec.module, reference.state)
    findings = {}
    if reference.changes_inputs:
        findings["changes_inputs"] = reference.changes_inputs
    if reference.changes_state:
        findings["changes_state"] = reference.changes_state
    if reference.nonfinite:
        findings["reference_nonfinite"] = reference.nonfinite
    return {
        "atol": spec.atol,
        "rtol": spec.rtol,
        "inputs": save_arrays(out / "inputs", "input", as_built),
        "outputs": save_arrays(out / "reference", "output", reference.outputs),
        "eager_ms": summary(times),
        **cpu,
        "torch_threads": torch.get_num_threads(),
        "torch_version": torch.__version__,
        "parameters": sum(p.numel() for p in spec.module.parameters()),
        **findings,
    }


def eager(spec, repetitions, warmup=2):
    import torch

    with torch.no_grad():
        for _ in range(warmup):
            spec.module(*spec.inputs)
        times = []
        for _ in range(repetitions):
            start = time.perf_counter()
            result = spec.module(*spec.inputs)
            times.append((time.perf_counter() - start) * 1000.0)
    return flat_outputs(result), times


def summary(times):
    return {
        "median": statistics.median(times),
        "min": min(times),
        "max": max(times),
        "stdev": statistics.stdev(times) if len(times) > 1 else 0.0,
        "n": len(times),
    }


def cpu_summary(times):
    """One-thread CPU time per call (ms): `summary`'s fields, each repetition's time (for the
    median's interval) and the thread count it was measured on (always 1)."""
    return dict(summary(times), times=list(times), threads=1)


@contextlib.contextmanager
def torch_threads(count):
    """torch's intra-op thread count set to `count` for the block, the previous one restored after."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


# Before a CPU timing: the wall timing's thread pools (torch's OpenMP, ONNX Runtime's) spin for a few
# ms after their last call before they sleep, and the kernel charges another thread's CPU time to
# the process in tick-sized lumps (4 ms at HZ=250), which landed in one timed call of ten (4.2 ms
# against 0.18 ms for tiny_cnn). Waiting first lets them go idle; 10 ms sufficed here.
SETTLE_SECONDS = 0.2


def process_time_calls(call, warmup, repetitions, settle=SETTLE_SECONDS, arguments=None):
    """After `settle` seconds' pause, `warmup` untimed calls, then `repetitions` calls each timed by
    the process's CPU time (time.process_time: every thread of the process, so a helper thread's
    work is counted), in ms. With `arguments`, each call is `call(*arguments())`, `arguments()` made
    before it, untimed (a fresh copy of the inputs for a model that changes them)."""
    given = arguments or tuple
    time.sleep(settle)
    for _ in range(warmup):
        call(*given())
    times = []
    for _ in range(repetitions):
        args = given()
        start = time.process_time()
        call(*args)
        times.append((time.process_time() - start) * 1000.0)
    return times


def eager_cpu(spec, repetitions, warmup=2):
    """torch eager's CPU time per call on one thread: the figure the machine's load moves least
    (a shared machine moves wall time 2-5x, one thread's CPU time a few per cent)."""
    import torch

    def call():
        return spec.module(*spec.inputs)

    with torch_threads(1), torch.no_grad():
        return cpu_summary(process_time_calls(call, warmup, repetitions))


def export(aot, spec, path, bytecode=False):
    """turbine's export, saved as MLIR text; with `bytecode`, also as MLIR bytecode (`save_mlir`
    writes bytecode for a `.mlirbc` suffix). Returns (seconds, why the bytecode is missing)."""
    start = time.perf_counter()
    exported = aot.export(spec.module, *spec.inputs)
    save_text(exported, path)
    seconds = time.perf_counter() - start
    error = None
    if bytecode:
        try:
            exported.save_mlir(str(path.with_suffix(".mlirbc")))
        except Exception as exc:  # recorded: the compile of the bytecode form says it
            path.with_suffix(".mlirbc").unlink(missing_ok=True)
            error = f"{type(exc).__name__}: {exc}"
    return seconds, error


def save_text(exported, path):
    """turbine's `save_mlir` of the text form. shark-turbine 0.9.x's calls `print(f, binary=True)`,
    which the MLIR bindings of its own importer (iree-compiler 20231218.742 on) refuse ("print():
    incompatible function arguments": the file is a keyword argument there); the same module is then
    printed with `file=` by hand, as that save_mlir meant to."""
    try:
        exported.save_mlir(str(path))
    except TypeError as exc:
        if "incompatible function arguments" not in str(exc) or not hasattr(exported, "mlir_module"):
            raise
        with open(str(path), "wb") as f:
            exported.mlir_module.print(file=f, binary=True)


def importer_version():
    """The IREE compiler package in this environment (turbine's torch importer lives there)."""
    from importlib import metadata

    for name in ("iree-base-compiler", "iree-compiler"):
        try:
            return f"{name} {metadata.version(name)}"
        except metadata.PackageNotFoundError:
            continue
    return None


def as_numpy(tensor):
    """(array, saved_as): the tensor as numpy has it; a dtype numpy lacks (bfloat16, the float8s) as its
    raw bits in a void dtype of the same width, `saved_as` naming that dtype ('|V2'; None otherwise).
    IREE's tools read a void .npy as the function's own type of that width. ml_dtypes is not used: its
    arrays are saved with the same void header, and one form keeps the files (and their digests) the
    same whichever environment wrote them."""
    import numpy as np  # noqa: F401  (torch's .numpy() needs it)

    tensor = tensor.detach().cpu()
    try:
        return tensor.numpy(), None
    except TypeError:  # "Got unsupported ScalarType BFloat16"
        pass
    t = tensor.contiguous()
    width = t.element_size()
    raw = _raw_bytes(t).view(f"V{width}").reshape(tuple(t.shape))
    return raw, raw.dtype.str


def dtype_name(tensor):
    """torch's name of its dtype, without the module: 'float32', 'bfloat16'."""
    return str(tensor.dtype).replace("torch.", "")


def save_arrays(directory, prefix, tensors):
    import numpy as np

    directory.mkdir(parents=True, exist_ok=True)
    described = []
    for i, tensor in enumerate(tensors):
        array, saved_as = as_numpy(tensor)
        np.save(str(directory / f"{prefix}{i}.npy"), array)
        if saved_as is None:
            described.append({"shape": list(array.shape), "dtype": str(array.dtype)})
        else:
            described.append({"shape": list(array.shape), "dtype": dtype_name(tensor), "saved_as": saved_as})
    return described


def track_phases(out):
    """From now on, `_phase` notes in out/.phase whose code is running."""
    global _phase_file
    _phase_file = out / PHASE_FILE
    note_phase(HARNESS)
    reserve_fds()


def run(args):
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    track_phases(out)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)

    spec = _phase("model", load_model, args)
    measured = measure(spec, args, out)
    aot, aot_module = _phase("import", import_aot)
    seconds, bytecode_error = _phase("export", export, aot, spec, out / "model.mlir", args.bytecode)
    info = {
        "factory": args.factory,
        "model_function": args.function,
        "function": "main",  # the name turbine gives an exported forward
        **measured,
        "seconds": seconds,
        "aot_module": aot_module,
        "importer": importer_version(),
    }
    if bytecode_error:
        info["bytecode_error"] = bytecode_error
    write_json(out / "export.json", info)


def write_json(path, data):
    """Whole or not at all: the supervisor takes the file's presence for a finished export."""
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(str(tmp), str(path))


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
    args = parser.parse_args(argv)
    return run_reporting(run, args)


def run_reporting(work, args):
    """`work(args)`, its failure written to error.json: a phase's with its phase, any other the
    worker's own (phase `harness`: iree-matrix's code failed, not the model's nor turbine's)."""
    try:
        work(args)
    except PhaseError as err:
        write_error(args.out, err.phase, err.exc)
        return 1
    except Exception as exc:
        write_error(args.out, HARNESS, exc)
        return 1
    return 0


def write_error(out, phase, exc):
    traceback.print_exception(type(exc), exc, exc.__traceback__)
    release_fds()  # the outcome is written whatever the model left open
    if out_of_descriptors(exc):
        if phase == HARNESS:  # the worker holds a handful of files: the model's code used them up
            phase = _last_phase if _last_phase != HARNESS else "model"
        limit = _descriptor_limit()
        exc = ModelFinding(
            f"the model's code used up the process's file descriptors ({exc}; the limit is {limit}): "
            "does it open files, sockets or pipes without closing them?"
        )
    said = f"{exc}" if isinstance(exc, ModelFinding) else f"{type(exc).__name__}: {exc}"
    error = {"phase": phase, "type": type(exc).__name__, "message": said[:4000]}
    Path(out).mkdir(parents=True, exist_ok=True)
    write_json(Path(out) / "error.json", error)


def _descriptor_limit():
    try:
        import resource

        return resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, OSError, ValueError):
        return "unknown"


# A finished export's process that has not ended EXIT_GRACE seconds after its outputs were complete,
# and has used less than IDLE_CPU seconds of CPU in the last IDLE seconds, is hung (a teardown that
# still computes is waited for: the stage's timeout bounds it). Without /proc (no CPU time to read),
# NO_PROC_GRACE seconds.
EXIT_GRACE = 20.0
IDLE = 10.0
IDLE_CPU = 0.05
NO_PROC_GRACE = 120.0
POLL = 0.25


class ExitWatch:
    """Whether a process whose outputs are complete is hung at exit, from CPU-time samples."""

    def __init__(
        self, complete_at, grace=EXIT_GRACE, idle=IDLE, idle_cpu=IDLE_CPU, no_proc_grace=NO_PROC_GRACE
    ):
        self.complete_at = complete_at
        self.grace, self.idle, self.idle_cpu, self.no_proc_grace = grace, idle, idle_cpu, no_proc_grace
        self.samples = []  # (time, cpu seconds) since complete_at

    def hung(self, now, cpu):
        """After a sample (`cpu`: the process's CPU seconds, None when unreadable): is it hung?"""
        waited = now - self.complete_at
        if cpu is None:
            return waited >= self.no_proc_grace
        self.samples.append((now, cpu))
        if waited < self.grace:
            return False
        # CPU time only grows: what it used since the last sample at least `idle` seconds old
        before = [c for t, c in self.samples if t <= now - self.idle]
        return bool(before) and cpu - before[-1] < self.idle_cpu

    def idle_seconds(self, now):
        """How long the CPU time has not moved (by more than `idle_cpu`), up to `now`."""
        if not self.samples:
            return 0.0
        last = self.samples[-1][1]
        since = now
        for t, c in reversed(self.samples):
            if last - c >= self.idle_cpu:
                break
            since = t
        return now - since


def cpu_seconds(pid):
    """A process's user + system CPU time (all its threads) from /proc, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def supervise(argv, out, command=None):
    """Run this worker in a child interpreter (`--child`, which ends the normal way; `command`
    instead, in tests) and wait for it; kill it if it hangs at exit after its outputs are complete,
    saying so in export.json (or error.json)."""
    child = subprocess.Popen(command or [sys.executable, str(Path(__file__).resolve()), "--child", *argv])

    def forward(signum, frame):  # a stop from outside stops the export too
        child.send_signal(signum)
        raise SystemExit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, forward)
    watch = None
    while True:
        try:
            code = child.wait(timeout=POLL)
            return code if code >= 0 else 128 - code
        except subprocess.TimeoutExpired:
            pass
        now = time.monotonic()
        if watch is None:
            if (out / "export.json").is_file() or (out / "error.json").is_file():
                watch = ExitWatch(now)
            continue
        if watch.hung(now, cpu_seconds(child.pid)):
            child.kill()
            child.wait()
            return record_exit_hang(out, now - watch.complete_at, watch.idle_seconds(now))


def record_exit_hang(out, waited, idle):
    """export.json's `exit_hang` (the export is complete and stands: exit 0); after a failure,
    error.json's (the failure stands: exit 1)."""
    hang = {"seconds_after_outputs": round(waited, 1), "idle_seconds": round(idle, 1)}
    for name, code in (("export.json", 0), ("error.json", 1)):
        path = out / name
        if path.is_file():
            data = json.loads(path.read_text())
            data["exit_hang"] = hang
            write_json(path, data)
            print(
                f"[export_model: the exporting process did not end {waited:.0f} s after its outputs "
                f"were complete, idle for {idle:.0f} s: killed]",
                file=sys.stderr,
                flush=True,
            )
            return code
    return 1


def entry(argv=None):
    """The worker's command line: the export in a watched child (`supervise`)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--out")
    known, _ = parser.parse_known_args(argv)
    if not known.out:
        return main(argv)  # argparse's own error (or --help)
    return supervise(argv, Path(known.out))


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
    if sys.argv[1:2] == ["--child"]:
        sys.exit(main(sys.argv[2:]))  # the normal end, teardown included: the supervisor watches it
    _exit_now(entry())
