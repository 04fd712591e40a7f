"""torch's side of an export (export_model.py's `measure`, shared by every export worker): the
model's reference call, on a copy of the inputs as built, what it changed of them and of its own
state, its NaN and inf, the eager timings (wall, and one thread's CPU time), and the inputs and
outputs saved as .npy. Python 3.9 syntax; the stdlib, torch and numpy.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import time
import traceback
from pathlib import Path

from export_phases import ModelFinding, PhaseError, _phase


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


def difference(got, ref, atol, rtol):
    """(max abs err, max |ref|, differs) of float64 arrays, as the run checks IREE's against torch's
    (bundle_runner/arrays.py `compare`): where torch's own value is finite (its NaN or inf is the
    model's, not IREE's to match; IREE's NaN or inf there differs), within atol and rtol."""
    import numpy as np

    checked = np.isfinite(ref)
    got, ref = got.reshape(ref.shape)[checked], ref[checked]
    if not ref.size:
        return 0.0, 0.0, False
    finite = np.isfinite(got)
    err = float(np.max(np.abs(got[finite] - ref[finite]))) if finite.any() else float("inf")
    differs = not finite.all() or not np.allclose(got, ref, rtol=rtol, atol=atol)
    return err, float(np.max(np.abs(ref))), differs


def output_difference(got, eager, atol, rtol, unordered=None, program="torch.export's program"):
    """How `got` (a program's outputs) is not `eager`, checked as the run checks IREE's
    (`difference`); None when they agree. `unordered`: {output: dim} whose order along dim is
    unspecified (an unsorted topk's), compared as a set: each side sorted along it first."""
    import numpy as np
    import torch

    if len(got) != len(eager):
        return f"{len(got)} outputs where eager returns {len(eager)}"
    for i, (out, ref) in enumerate(zip(got, eager)):
        if out.shape != ref.shape:
            return f"output{i} of shape {tuple(out.shape)} where eager's is {tuple(ref.shape)}"
        pair = [t.detach().to(torch.float64).numpy() for t in (out, ref)]
        if i in (unordered or {}):
            pair = [np.sort(a, axis=unordered[i]) for a in pair]
        err, _, differs = difference(*pair, atol, rtol)
        if differs:
            return f"max abs err {err:.3g} between {program} and eager on output{i}, atol {atol}"
    return None


def traced_words(traced, eager, atol, rtol, unordered=None):
    """Why the outputs of the model's traced program (torch.export's: what IREE compiles) are not its
    eager ones (`output_difference`); None when they agree. A model that computes something else
    while traced was stored as IREE's mismatch: it is the model's answer."""
    said = output_difference(traced, eager, atol, rtol, unordered)
    if not said:
        return None
    return (
        f"the model's forward() computes something else while traced ({said}): a branch on "
        "torch.compiler.is_compiling() or on tracing state, or random numbers drawn in forward()? IREE "
        "compiles the traced program"
    )


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
HANDSHAKE_TIMED = "timed"
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
    inputs as built and the reference saved in `out`. Returns export.json's fields for them and the
    reference's outputs; leaves `spec.inputs` a fresh copy of the inputs as built, for the export to
    trace."""
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
    if getattr(args, "quiet_handshake", None):  # what follows (the export) needs no quiet machine
        (Path(args.quiet_handshake) / HANDSHAKE_TIMED).write_text(str(os.getpid()))
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
    }, reference.outputs


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
