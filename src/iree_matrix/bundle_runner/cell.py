"""One cell by IREE's Python binding, in a process of its own (a module built for an instruction this
CPU lacks kills that process, not the run): loaded on its device, checked against torch's outputs,
timed (one thread's CPU time per call on local-sync; synchronised wall time on a GPU)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from .arrays import check_outputs, mismatch_words, outputs_digest
from .base import GPU_KINDS, MIN_REPETITION_SECONDS, clip, command, summary
from .manifest import within
from .modules import module_path, plugin_flags

if TYPE_CHECKING:
    from .base import Array, Json


def run_cell(root: Path, cell: Json, repetitions: int) -> Json:
    """Load, check and time one cell; its result as a dict (printed as the child's last line)."""
    import iree.runtime as rt  # type: ignore[import-untyped,import-not-found,unused-ignore]  # no stubs; absent where mypy runs
    import numpy as np

    driver = cell["device"]
    export = within(root, cell["export"])
    inputs = [np.load(export / "inputs" / name) for name in cell["inputs"]]
    references = [np.load(export / "reference" / name) for name in cell["references"]]
    result: Json = {"device": driver, "runtime_version": getattr(rt, "__version__", "")}
    try:
        load_plugins(rt, plugin_flags(root, cell))
        config = rt.Config(driver)
    except Exception as exc:  # noqa: BLE001 - the runtime's words are the answer
        if kind := GPU_KINDS.get(driver):
            return {**result, "status": "skip", "message": f"not run: no {kind} device here ({clip(exc)})"}
        return {**result, "status": "fail", "error_class": "device", "message": clip(exc)}
    if driver in GPU_KINDS:
        with contextlib.suppress(Exception):  # the list is a description, the run goes on
            found = rt.get_driver(driver).query_available_devices()
            result["gpu_devices"] = [str(d.get("name") or d.get("path") or d) for d in found]
    try:
        function = load_function(rt, rt.SystemContext(config=config), root, cell)
    except Exception as exc:  # noqa: BLE001
        return {**result, "status": "fail", "error_class": "load", "message": clip(exc)}

    # A GPU's inputs are copied to the device once (a host pointer handed to Vulkan must meet the
    # device's import alignment, 4096 bytes on lavapipe, which numpy's arrays do not): the timed
    # call is the module's, not the upload's.
    arguments = [rt.asdevicearray(config.device, x) for x in inputs] if driver in GPU_KINDS else inputs
    call = host_call(rt, function, arguments)
    try:
        got = call()
    except Exception as exc:  # noqa: BLE001
        return {**result, "status": "fail", "error_class": "run", "message": clip(exc)}
    check = check_outputs(got, references, cell)
    if "error" in check:
        return {**result, "status": "fail", "error_class": "output-shape", "message": check["error"]}
    result.update(check, outputs_sha256=outputs_digest(got))
    gpu = driver in GPU_KINDS
    walls, cpus = _timed(call, repetitions, time.perf_counter if gpu else time.thread_time)
    result["latency_ms"] = summary(walls, "wall time per call, outputs read back (run.py)")
    software = [d for d in result.get("gpu_devices", []) if d.startswith(("llvmpipe", "SwiftShader"))]
    if software:  # iree-matrix never ranks an emulated device's time with a real one's
        result["timing"] = f"emulated (software Vulkan device: {software[0]})"
    if not gpu:
        result["cpu_ms"] = summary(cpus, "one thread's CPU time per call, local-sync (run.py)")
    return verdict(result, check)


def load_plugins(rt: Any, flags: list[str]) -> None:
    """Every plugin flag a process may need, parsed before its first driver: the binding makes each driver
    once per process, and a plugin parsed later is never loaded ("no executable loader registered")."""
    if flags:
        rt.flags.parse_flags(*dict.fromkeys(flags))


def load_function(rt: Any, context: Any, root: Path, cell: Json) -> Any:
    """The cell's function, its module loaded into `context`."""
    context.add_vm_module(rt.VmModule.copy_buffer(context.instance, module_path(root, cell).read_bytes()))
    return context.modules.module[cell["function"]]


def host_call(rt: Any, function: Any, arguments: list[Any]) -> Callable[[], list[Array]]:
    """`function` called on `arguments`, its outputs read back to the host (a GPU call synchronised)."""
    import numpy as np

    def call() -> list[Array]:
        out = function(*arguments)
        outs = out if isinstance(out, (list, tuple)) else [out]
        return [np.asarray(to_host(rt, o)) if hasattr(o, "to_host") else np.asarray(o) for o in outs]

    return call


def _timed(
    call: Callable[[], object], repetitions: int, clock: Callable[[], float]
) -> tuple[list[float], list[float]]:
    """Per repetition of at least MIN_REPETITION_SECONDS wall: the wall and `clock` ms per call (the
    one thread's CPU clock on local-sync, which runs in this thread; wall again on a GPU)."""
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(repetitions):
        calls, wall0, cpu0 = 0, time.perf_counter(), clock()
        while not calls or time.perf_counter() - wall0 < MIN_REPETITION_SECONDS:
            call()  # the outputs read back to the host: a GPU call is synchronised
            calls += 1
        walls.append((time.perf_counter() - wall0) * 1e3 / calls)
        cpus.append((clock() - cpu0) * 1e3 / calls)
    return walls, cpus


def verdict(result: Json, check: Json) -> Json:
    """`result` with its status from the output check: ok, or a mismatch worded as the run stage words it
    (the Python binding's path and the carried tools' path share it)."""
    if not check["matches"]:
        return {**result, "status": "mismatch", "message": mismatch_words(check)}
    return {**result, "status": "ok"}


def to_host(rt: Any, array: Any) -> object:
    """`DeviceArray.to_host()`, else the runtime's own staging copy (allocate, queue_copy, map): IREE
    3.13.0's binding imports an unaligned numpy buffer where host memory is importable, which Mesa's
    lavapipe refuses ("does not satisfy Vulkan minImportedHostPointerAlignment 4096")."""
    try:
        return array.to_host()
    except Exception as exc:  # noqa: BLE001
        if "minImportedHostPointerAlignment" not in str(exc):
            raise
    view, device = array._buffer_view, array._device
    source = view.get_buffer()
    usage = int(rt.BufferUsage.TRANSFER_TARGET | rt.BufferUsage.MAPPING_SCOPED)
    memory = int(rt.MemoryType.HOST_LOCAL | rt.MemoryType.DEVICE_VISIBLE)
    staging = device.allocator.allocate_buffer(
        memory_type=memory, allowed_usage=usage, allocation_size=source.byte_length()
    )
    semaphore = device.create_semaphore(0)
    fence = rt.HalFence.create_at
    device.queue_copy(
        source, staging, wait_semaphores=fence(semaphore, 0), signal_semaphores=fence(semaphore, 1)
    )
    fence(semaphore, 1).wait()
    return staging.map().asarray(view.shape, rt.HalElementType.map_to_dtype(view.element_type)).copy()


def child(root: Path, cell: Json, runtime: Path, repetitions: int, timeout: float) -> Json:
    """Run one cell in a process of its own, with the runtime on its path."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(runtime), os.environ.get("PYTHONPATH", "")]))
    argv = command("--child", cell["job"], "--repetitions", str(repetitions), "--bundle", str(root))
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except BaseException as exc:  # out of time, or Ctrl-C: the cell's process goes with the run
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        if not isinstance(exc, subprocess.TimeoutExpired):
            raise
        return {"status": "timeout", "message": f"no answer within {timeout:.0f} s (--timeout)"}
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if process.returncode == 0 and lines:
        answer: Json = json.loads(lines[-1])
        return answer
    if process.returncode < 0:
        name = signal.Signals(-process.returncode).name
        lacks = " (an instruction this CPU lacks: the module was built for another CPU)"
        said = f"the cell's process died of {name}{lacks if name == 'SIGILL' else ''}"
        return {"status": "fail", "error_class": "crash", "message": said}
    last = err.strip().splitlines()[-1] if err.strip() else f"exit {process.returncode}"
    return {"status": "fail", "error_class": "runner", "message": clip(last)}
