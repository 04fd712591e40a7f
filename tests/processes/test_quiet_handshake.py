"""The model's first call runs before the machine's quiet lock is taken (issue #52): real worker
processes (scripts/export_model.py, scripts/peers.py on this test environment's torch), a real lock
file, and another process standing for another run's timed stage."""

from __future__ import annotations

import contextlib
import dataclasses
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Optional

import pytest

from iree_matrix.core.model.outcome import from_exception
from iree_matrix.core.model.results import Status
from iree_matrix.core.system import locks, processes
from iree_matrix.core.system.process_request import ProcessRequest
from iree_matrix.envs.venv import VenvEnvironment
from iree_matrix.stages import model_worker

pytestmark = pytest.mark.processes  # real worker processes hold and wait for the quiet lock

SCRIPTS = Path(__file__).parents[2] / "scripts"

# forward() notes each call's time in CALLS (in the worker's writable output), then, for HANG, never
# returns.
MODEL = """
import time
import torch
from models.api import ModelSpec

CALLS = {calls!r}
HANG = {hang!r}


class Model(torch.nn.Module):
    def forward(self, x):
        with open(CALLS, "a") as f:
            f.write(f"{{time.time()}}\\n")
        while HANG:
            time.sleep(1)
        return x * 2.0 + 1.0


def build():
    return ModelSpec(Model().eval(), (torch.ones(2, 3),), 1e-6, 1e-6)
"""

# Another run's timed stage: takes the quiet lock, says when it got it, and holds it until `release`
# exists (or at once when there is none to wait for).
OTHER_RUN = """
import os, sys, time
from pathlib import Path
from iree_matrix.core.system import locks

lock, release = Path(sys.argv[1]), sys.argv[2]
with locks.machine_lock(True, lock, job="run:another-run/e"):
    print(f"locked {time.time()}", flush=True)
    while release and not os.path.exists(release):
        time.sleep(0.05)
print(f"released {time.time()}", flush=True)
"""


@dataclasses.dataclass(frozen=True)
class _Ctx:
    """What `model_worker.run_timed` reads of a stage's context."""

    timeout: float
    log: Path
    quiet: Optional[Callable[[Callable[[], bool]], Any]]


def _model(tmp_path: Path, out: Path, hang: bool) -> tuple[Path, Path]:
    calls = out / "calls.txt"
    model = tmp_path / "model.py"
    model.write_text(MODEL.format(calls=str(calls), hang=hang))
    return model, calls


def _env() -> VenvEnvironment:
    return VenvEnvironment("test", Path(sys.prefix), {})  # this test environment's torch


def _export_argv(model: Path, out: Path) -> list[str]:
    """The export worker's command on `model` (three timed calls on one thread), as the stage starts it."""
    timing = ["--function", "main", "--repetitions", "3", "--threads", "1"]
    worker = SCRIPTS / "export_model.py"
    return [_env().python(), str(worker), "--file", str(model), *timing, "--out", str(out)]


def _quiet(lock: Path) -> Callable[[Callable[[], bool]], Any]:
    return lambda ended: locks.machine_lock(True, lock, cancelled=ended, job="export:model/e")


def _other_run(lock: Path, release: str = "") -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", OTHER_RUN, str(lock), release], stdout=subprocess.PIPE, text=True
    )


def _wait_for(path: Path, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{what} did not happen within {seconds:.0f} s"
        time.sleep(0.05)


def _request(argv: list[str], ctx: Any, out: Path, tmp_path: Path) -> ProcessRequest:
    """What the export and peer stages ask of `run_timed`."""
    reads = [SCRIPTS, tmp_path]
    return ProcessRequest(
        argv, timeout=ctx.timeout, log=ctx.log, read_only=reads, writable=[out], check=False
    )


@pytest.mark.torch
def test_a_model_hung_in_its_first_call_holds_up_no_other_run(tmp_path: Path):
    pytest.importorskip("torch")
    lock, out = tmp_path / "quiet.lock", tmp_path / "out"
    out.mkdir()
    model, calls = _model(tmp_path, out, hang=True)
    argv = _export_argv(model, out)
    ctx = _Ctx(timeout=60.0, log=tmp_path / "export.log", quiet=_quiet(lock))
    ended: dict[str, BaseException] = {}

    def export() -> None:
        try:
            model_worker.run_timed(_env(), _request(argv, ctx, out, tmp_path), ctx, out)  # type: ignore[arg-type]
        except BaseException as exc:  # noqa: BLE001 - the test reads it
            ended["exc"] = exc

    worker = threading.Thread(target=export)
    worker.start()
    try:
        _wait_for(calls, 55, "the model's first call")  # it is inside forward() now, for good
        other = _other_run(lock)
        said, _ = other.communicate(timeout=60)
        # Another run's timed stage took the lock and let it go while the model was still hung in
        # its first call: the export never held it.
        assert other.returncode == 0 and said.startswith("locked"), said
        assert worker.is_alive() and "exc" not in ended
        assert not (out / model_worker.HANDSHAKE_DIR / model_worker.READY).exists()
    finally:
        worker.join(timeout=120)
    exc = ended.get("exc")
    assert isinstance(exc, processes.Timeout), exc
    outcome = from_exception(exc, "export")
    assert outcome.status is Status.TIMEOUT
    assert outcome.message.startswith("your model did not return within 60 s, the export stage's limit")
    assert not (out / model_worker.HANDSHAKE_DIR).exists()  # never stored with the output
    assert len(calls.read_text().split()) == 1  # its first call, never returned


@pytest.mark.torch
def test_the_first_call_runs_before_the_lock_and_every_timed_call_after(tmp_path: Path):
    """Another run holds the lock: the worker's first call runs meanwhile, its timed calls only once
    the lock is let go, and the wait is no part of its timeout."""
    pytest.importorskip("torch")
    lock, out = tmp_path / "quiet.lock", tmp_path / "out"
    out.mkdir()
    model, calls = _model(tmp_path, out, hang=False)
    release = tmp_path / "release"
    other = _other_run(lock, str(release))
    assert other.stdout is not None and other.stdout.readline().startswith("locked")
    argv = [_env().python(), str(SCRIPTS / "peers.py"), "--file", str(model), "--function", "main",
            "--threads", "1", "--warmup", "1", "--repetitions", "3", "--peers", "eager",
            "--out", str(out)]  # fmt: skip
    ctx = _Ctx(timeout=600.0, log=tmp_path / "peer.log", quiet=_quiet(lock))
    done: dict[str, Any] = {}
    worker = threading.Thread(
        target=lambda: done.update(
            result=model_worker.run_timed(_env(), _request(argv, ctx, out, tmp_path), ctx, out)  # type: ignore[arg-type]
        )
    )
    worker.start()
    try:
        _wait_for(out / model_worker.HANDSHAKE_DIR / model_worker.READY, 120, "the handshake's ready")
        time.sleep(1.0)  # it waits for the lock: no further call
        assert len(calls.read_text().split()) == 1 and worker.is_alive()
        assert not (out / model_worker.HANDSHAKE_DIR / model_worker.GO).exists()
    finally:
        release.touch()
    said, _ = other.communicate(timeout=60)
    released = float(said.split()[-1])
    worker.join(timeout=300)
    result = done["result"]
    assert result.returncode == 0, result.output
    times = [float(t) for t in calls.read_text().split()]
    # the first call before the other run let go; eager's warm-up, 3 timed calls, then one thread's
    # warm-up and 3 timed calls (a round that spread is timed again), all after
    assert times[0] < released and len(times) >= 9 and all(t > released for t in times[1:])
    assert (out / "peers.json").is_file() and not (out / model_worker.HANDSHAKE_DIR).exists()


def test_a_pause_is_not_counted_against_the_timeout(tmp_path: Path):
    """`processes.run`'s deadline moves on by what `paused()` says (the wait for the quiet lock)."""
    done = processes.run(ProcessRequest(["sleep", "2"], timeout=1.0, paused=lambda: 5.0))
    assert done.returncode == 0
    with pytest.raises(processes.Timeout):
        processes.run(ProcessRequest(["sleep", "2"], timeout=1.0, paused=lambda: 0.0))


def test_without_a_quiet_lock_to_take_there_is_no_handshake(tmp_path: Path):
    """A context whose lock is held around the stage (or none): no flag, nothing waited for."""
    with model_worker.QuietHandshake(tmp_path, None) as shake:
        assert shake.argv() == [] and shake.paused() == 0.0
    assert not (tmp_path / model_worker.HANDSHAKE_DIR).exists()


@pytest.mark.torch
def test_an_export_gives_the_lock_back_when_its_timing_is_done_not_when_it_ends(tmp_path: Path):
    """export_model.py says TIMED after torch eager's timed calls: the lock (and the executor's turn)
    goes back then, so turbine's export, the long part, runs beside other jobs (issue 97). Before,
    the lock was held until the worker ended."""
    pytest.importorskip("torch")
    lock, out = tmp_path / "quiet.lock", tmp_path / "out"
    out.mkdir()
    model, calls = _model(tmp_path, out, hang=False)
    argv = _export_argv(model, out)
    seen: dict[str, Any] = {}
    handshake = out / model_worker.HANDSHAKE_DIR

    @contextlib.contextmanager
    def quiet(ended: Callable[[], bool]) -> Iterator[None]:
        with locks.machine_lock(True, lock, cancelled=ended, job="export:model/e"):
            yield
            seen["timed_at_release"] = (handshake / model_worker.TIMED).exists()
            seen["calls_at_release"] = len(calls.read_text().split())

    ctx = _Ctx(timeout=600.0, log=tmp_path / "export.log", quiet=quiet)
    model_worker.run_timed(_env(), _request(argv, ctx, out, tmp_path), ctx, out)  # type: ignore[arg-type]
    assert seen["timed_at_release"] is True, (tmp_path / "export.log").read_text()[-2000:]
    assert seen["calls_at_release"] >= 4  # the first call, then the timed ones, all before the release
