"""A sitting's timing worker: a process that loads arms (IREE modules on local-sync, ONNX Runtime and
torch eager on one thread, a GPU's arms) and times them on command, one JSON line in, one out."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from . import gap, gpu
from .arrays import check_outputs
from .base import clip, command
from .cell import load_function, load_plugins
from .manifest import within
from .modules import plugin_flag

if TYPE_CHECKING:
    from .base import Array, Json


class _Arms:
    """What a worker holds: each arm's call, a GPU arm's synchronisation around its timed calls
    (torch's), an ONNX Runtime arm's model and feeds (for its profile)."""

    def __init__(self) -> None:
        self.calls: dict[str, Callable[[], object]] = {}
        self.syncs: dict[str, Callable[[], object]] = {}
        self.onnx: dict[str, tuple[Path, dict[str, Array]]] = {}
        self.driver_made = False  # IREE's local driver, made by the first IREE arm (with its plugins)


def worker_loop(root: Path) -> int:
    """A timing worker: one JSON order per line on stdin (LOADERS make an arm; {"time": arm, "calls": n}
    times it: one untimed call, then n, each by this process's CPU time), one answer per line on stdout."""
    arms = _Arms()
    for line in sys.stdin:
        order = json.loads(line)
        try:
            answer = _answer(root, order, arms)
        except Exception as exc:  # noqa: BLE001 - the arm's failure is the answer
            answer = {"ok": False, "error": clip(exc)}
        print(json.dumps(answer), flush=True)
    return 0


def _answer(root: Path, order: Json, arms: _Arms) -> Json:
    """One command's answer: the first of LOADERS the order names, else a timing."""
    for key, load in LOADERS:
        if key in order:
            return load(root, order, arms)
    # A GPU's call by synchronised wall time; a CPU arm's by this process's CPU time (`worker_loop`).
    clock = time.perf_counter if order.get("clock") == "wall" else time.process_time
    arm = order["time"]
    return {
        "ok": True,
        "ms": gpu.time_calls(arms.calls[arm], int(order["calls"]), arms.syncs.get(arm), clock),
    }


def _load_iree(root: Path, order: Json, arms: _Arms) -> Json:
    import iree.runtime as rt  # type: ignore[import-untyped,import-not-found,unused-ignore]  # no stubs; absent where mypy runs
    import numpy as np

    cell = order["load"]
    export = within(root, cell["export"])
    inputs = [np.load(export / "inputs" / n) for n in cell["inputs"]]
    if not arms.driver_made:  # every plugin an arm of this worker may load: the order names them
        load_plugins(rt, [plugin_flag(within(root, p)) for p in order.get("plugins") or ()])
        arms.driver_made = True
    function = load_function(rt, rt.SystemContext(config=rt.Config("local-sync")), root, cell)

    def call(f: Any = function, x: list[Array] = inputs) -> object:
        return f(*x)

    arms.calls[cell["job"]] = call
    return {"ok": True}


def _load_onnx(root: Path, order: Json, arms: _Arms) -> Json:
    """ONNX Runtime on one thread, sequential, its outputs checked against torch's."""
    import numpy as np
    import onnxruntime as ort  # type: ignore[import-untyped,import-not-found,unused-ignore]  # no stubs; absent where mypy runs

    session = ort.InferenceSession(
        str(within(root, order["load_onnx"])), gap.one_thread(ort), providers=["CPUExecutionProvider"]
    )
    export = within(root, order["export"])
    feeds = {i.name: np.load(export / "inputs" / n) for i, n in zip(session.get_inputs(), order["inputs"])}
    references = [np.load(export / "reference" / n) for n in order["references"]]
    check = check_outputs([np.asarray(o) for o in session.run(None, feeds)], references, order)

    def call(s: Any = session, f: dict[str, Array] = feeds) -> object:
        return s.run(None, f)

    arms.calls[order["name"]] = call
    arms.onnx[order["name"]] = (within(root, order["load_onnx"]), feeds)
    return {"ok": True, "version": ort.__version__, **check}


def _load_gpu(root: Path, order: Json, arms: _Arms) -> Json:
    import iree.runtime as rt  # type: ignore[import-untyped,import-not-found,unused-ignore]  # no stubs; absent where mypy runs

    call, answer = gpu.load_arm(rt, root, order["load_gpu"])
    if call is not None:
        arms.calls[order["load_gpu"]["job"]] = call
    return answer


def _profile_onnx(root: Path, order: Json, arms: _Arms) -> Json:
    import onnxruntime as ort  # type: ignore[import-untyped,import-not-found,unused-ignore]  # no stubs; absent where mypy runs

    model, feeds = arms.onnx[order["profile_onnx"]]
    return {"ok": True, "op_profile": gap.profile_onnx(ort, model, feeds, order["calls"])}


def _load_torch(root: Path, order: Json, arms: _Arms) -> Json:
    """torch eager on one thread (gpu.py `torch_model`), run on the export's inputs."""
    import torch  # type: ignore[import-not-found,unused-ignore]  # absent where mypy runs

    torch.set_num_threads(1)
    module, inputs, references = gpu.torch_model(root, order)

    def call() -> Any:
        with torch.no_grad():
            return module(*inputs)

    out = call()
    outs = out if isinstance(out, (list, tuple)) else [out]
    check = check_outputs([o.detach().numpy() for o in outs], references, order)
    arms.calls["eager"] = call
    return {"ok": True, "version": torch.__version__, **check}


class Worker:
    """A timing worker's process (`worker_loop`), with `pythonpath` (a runtime's wheel) on its path."""

    def __init__(self, root: Path, pythonpath: str) -> None:
        env = dict(
            os.environ, PYTHONPATH=os.pathsep.join(p for p in (pythonpath, os.environ.get("PYTHONPATH")) if p)
        )
        argv = command("--worker", "--bundle", str(root))
        self.process = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, start_new_session=True
        )

    def ask(self, order: Json) -> Json:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(order) + "\n")
        self.process.stdin.flush()
        if not (line := self.process.stdout.readline()):
            code = self.process.wait()
            name = signal.Signals(-code).name if code < 0 else f"exit {code}"
            return {"ok": False, "error": f"the timing process ended ({name})"}
        answer: Json = json.loads(line)
        return answer

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


# The orders that load an arm, by the key that names each.
LOADERS: tuple[tuple[str, Callable[[Path, Json, _Arms], Json]], ...] = (
    ("load", _load_iree),
    ("load_onnx", _load_onnx),
    ("load_torch", _load_torch),
    ("load_gpu", _load_gpu),
    ("load_torch_cuda", lambda root, order, arms: gpu.load_torch_cuda(root, order, arms.calls, arms.syncs)),
    ("profile_onnx", _profile_onnx),
)


def importable(name: str) -> bool:
    return subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True).returncode == 0
