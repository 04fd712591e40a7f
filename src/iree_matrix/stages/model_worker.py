"""What the export and peer stages share: a worker script that builds the model in an environment,
its arguments, its key fields, its result file, and the quiet handshake."""

from __future__ import annotations

import dataclasses
import json
import shutil
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Optional

from iree_matrix.core import shipped
from iree_matrix.core.errors import StageFailure
from iree_matrix.core.hashing import file_sha256
from iree_matrix.core.system import process_output, processes
from iree_matrix.core.system.locks import LockCancelled
from iree_matrix.core.system.process_request import ProcessRequest
from iree_matrix.envs import Environment
from iree_matrix.matrix.models import ModelRef, readable_beside
from iree_matrix.matrix.plan import Job
from iree_matrix.stages.base import Context, QuietLock

# export_model.py's side of the handshake: its HANDSHAKE_READY and HANDSHAKE_GO files, in the
# directory it is given with --quiet-handshake (here, one in the stage's output, removed after).
HANDSHAKE_DIR = ".quiet-handshake"
READY = "ready"
GO = "go"
TIMED = "timed"  # the worker's timing is over: its lock (and turn) can go before its export
POLL = 0.05  # seconds between two looks for READY (a stat)


def model_sources(ref: ModelRef) -> dict[str, str]:
    """Hashes of the code that defines the model: editing it invalidates its results."""
    scripts = shipped.scripts_dir()
    # export_model.py and the modules it is split into (each worker imports them), and the models' API
    workers = ("export_model.py", "export_phases.py", "export_reference.py")
    files = [*(scripts / w for w in workers), scripts / "models" / "api.py"]
    return {**{f.name: file_sha256(f) for f in files}, "model": file_sha256(ref.file)}


def key_fields(job: Job, ctx: Context) -> dict[str, Any]:
    """Everything about the model and the measurement that decides a worker's output."""
    weights = ctx.spec.weights.get(job.label.model)
    return {
        "model": job.model,
        "function": job.function,
        "sources": model_sources(ctx.spec.models[job.model or ""]),
        "weights": file_sha256(weights) if weights is not None else None,
        "seed": ctx.spec.benchmark.seed,
        **ctx.timing(),
    }


def command(job: Job, ctx: Context, python: str, script: str, *extra: str) -> tuple[list[str], list[Path]]:
    """The worker's argv and the paths it reads (the script's directory, the model, the weights)."""
    ref = ctx.spec.models[job.model or ""]
    bench = ctx.spec.benchmark
    worker = shipped.scripts_dir() / script
    argv = [python, str(worker), *ref.worker_args(), "--function", job.function, "--seed", str(bench.seed)]
    argv += ["--repetitions", str(bench.repetitions), "--threads", str(bench.thread_count()), *extra]
    weights = ctx.spec.weights.get(job.label.model)
    if weights is not None:
        argv += ["--weights", str(weights)]
    return argv, [worker.parent, *ref.mounts(), *([readable_beside(weights)] if weights else [])]


def read_result(
    path: Path, done: processes.Completed, required: Mapping[str, tuple[type, ...]] = {}
) -> dict[str, Any]:
    """The worker's result file. The model's code runs in the worker's process: a missing file (it ended
    the process) or one that is not a JSON object with each of `required` (name: its types) is the
    model's failure, said in one line."""
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        said = "Its last words: " + process_output.excerpt(done.output, max_lines=5) if done.output else ""
        raise StageFailure(
            "model-error",
            f"the model's process exited (status {done.returncode}) before writing its result "
            f"({path.name}): does the model's code call os._exit() or sys.exit()? "
            + (said or "It printed nothing."),
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        why = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    else:
        got = found if isinstance(found, dict) else {}
        wrong = [n for n, t in required.items() if not isinstance(v := got.get(n), t) or isinstance(v, bool)]
        why = ("it lacks " + ", ".join(wrong) if wrong else "") if got is found else "not a JSON object"
    if why:
        raise StageFailure(
            "model-error",
            f"the worker's result {path.name} is not the worker's ({why}): the model's code runs in the "
            "worker's process; did it write or change that file?",
        )
    return got


class QuietHandshake:
    """The tool's side of the workers' quiet handshake (export_model.py's `warm_up`): once the worker's
    first call wrote READY, a thread takes the quiet lock, writes GO, and holds it until TIMED or the
    end; a worker whose first call hangs holds up no other run. `paused()`: the seconds it waited for
    the lock, which its timeout does not count. Without `quiet` it adds and waits for nothing."""

    def __init__(self, out: Path, quiet: Optional[QuietLock]) -> None:
        self.directory = out / HANDSHAKE_DIR
        self._quiet = quiet
        self._ended = threading.Event()
        self._guard = threading.Lock()
        self._waited = 0.0
        self._waiting_since: Optional[float] = None
        self._thread: Optional[threading.Thread] = None

    def argv(self) -> list[str]:
        return ["--quiet-handshake", str(self.directory)] if self._quiet is not None else []

    def paused(self) -> float:
        with self._guard:
            since = self._waiting_since
            return self._waited + (time.monotonic() - since if since is not None else 0.0)

    def __enter__(self) -> QuietHandshake:
        if self._quiet is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory.mkdir(parents=True)
            self._thread = threading.Thread(
                target=self._watch, args=(self._quiet,), daemon=True, name="quiet-handshake"
            )
            self._thread.start()
        return self

    def __exit__(
        self, kind: Optional[type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None:
        self._ended.set()
        if self._thread is not None:
            self._thread.join()
            shutil.rmtree(self.directory, ignore_errors=True)  # never stored with the stage's output

    def _watch(self, quiet: QuietLock) -> None:
        while not (self.directory / READY).exists():
            if self._ended.wait(POLL):
                return  # the worker ended before its model's first call returned
        self._pause(True)
        try:
            with quiet(self._ended.is_set):
                self._pause(False)
                (self.directory / GO).touch()
                while not self._ended.wait(POLL) and not (self.directory / TIMED).exists():
                    pass
        except LockCancelled:  # the worker ended (or Ctrl-C) while it waited
            pass
        finally:
            self._pause(False)

    def _pause(self, waiting: bool) -> None:
        with self._guard:
            if waiting:
                self._waiting_since = time.monotonic()
            elif self._waiting_since is not None:
                self._waited += time.monotonic() - self._waiting_since
                self._waiting_since = None


def run_timed(env: Environment, request: ProcessRequest, ctx: Context, out: Path) -> processes.Completed:
    """Run a model worker's `request` with the quiet handshake; its timeout counts none of the wait."""
    with QuietHandshake(out, ctx.quiet) as shake:
        paused = shake.paused if ctx.quiet is not None else None
        return env.run(dataclasses.replace(request, argv=[*request.argv, *shake.argv()], paused=paused))


def run(
    stage: str, env: Environment, job: Job, ctx: Context, out: Path, *args: str
) -> tuple[list[str], processes.Completed]:
    """`stage`'s worker script (`args`: it, then its arguments) in the model's sandbox, writing only
    `out`, with the quiet handshake: its argv and what it did."""
    argv, reads = command(job, ctx, env.python(), *args)
    request = ctx.request(argv, read_only=reads, writable=[out], check=False, model_code=stage)
    return argv, run_timed(env, request, ctx, out)


def result(stage: str, job: Job, ctx: Context, out: Path, name: str, *args: str) -> tuple[list[str], Any]:
    """`run` in the job's environment: its argv and the worker's result file `name` in `out`; a worker
    that failed is the model's error."""
    argv, done = run(stage, ctx.environment(job), job, ctx, out, *args)
    if done.returncode != 0:
        raise processes.failure(done, "model-error")
    return argv, read_result(out / name, done)
