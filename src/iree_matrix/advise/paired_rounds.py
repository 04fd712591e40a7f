"""A paired sitting of several arms (IREE modules and peers kept loaded by scripts/peer_arm.py), each
timed on one thread by its CPU time per call in rounds that rotate their order, so every ratio an answer
quotes is between arms of the same rounds (one module's time moved 10-31 % between sittings at load 4-8)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Optional, Protocol

from iree_matrix.core import console, excerpts, shipped
from iree_matrix.core.model.results import Record, Status
from iree_matrix.core.system import bubblewrap
from iree_matrix.envs import venv as venv_env
from iree_matrix.envs.cache_usage import default_cache
from iree_matrix.execution import abtest, progress
from iree_matrix.matrix import models

logger = console.logger(__name__)

PEER_WORKER = "peer_arm.py"
# How long a peer may take to build its model and convert it (ONNX) before its first answer, and
# to answer one request (a request's calls are the same few a benchmark makes).
READY_SECONDS = 900.0
UNKNOWN_STEP_SECONDS = 2.0  # an arm whose stage recorded no one-thread time: a guess, small


@dataclasses.dataclass(frozen=True)
class Request:
    """What a sitting is asked, taken from a command's settings once (advise's `--rounds` and
    `--repetitions`) and handed to each of its sittings: its own and every proof's."""

    rounds: int  # paired rounds
    repetitions: int  # timed calls per arm and round


class TimedArm(Protocol):
    """Something the sitting can time: `time(repetitions)` is its CPU ms per call (a median);
    `step_seconds(repetitions)` what one round's step of it is expected to take."""

    name: str

    def time(self, repetitions: int) -> float: ...

    def step_seconds(self, repetitions: int) -> float: ...


def module_step_seconds(call_ms: Optional[float], repetitions: int) -> float:
    """One round's step of a module arm from its run stage's one-thread ms per call: iree-benchmark-module's
    `repetitions` plus the pass that sizes them, each one call where a call outlasts the min time (the naive
    Whisper encoder's 3 calls of 93 s took 281 s a round)."""
    from iree_matrix.stages.benchmark_tool import pass_seconds

    return pass_seconds(call_ms / 1000.0, repetitions) if call_ms else UNKNOWN_STEP_SECONDS


@dataclasses.dataclass(frozen=True)
class ModuleArm:
    """An IREE module, timed by iree-benchmark-module on local-sync (abtest's arm); `call_ms`: its
    run stage's one-thread CPU ms per call (None: not recorded)."""

    name: str
    arm: abtest.Arm
    call_ms: Optional[float] = None
    timer: Callable[[abtest.Arm, int], float] = abtest.time_arm

    def time(self, repetitions: int) -> float:
        return self.timer(self.arm, repetitions)

    def step_seconds(self, repetitions: int) -> float:
        return module_step_seconds(self.call_ms, repetitions)


class PeerFailed(Exception):
    """A peer arm could not start or answer; says why in the worker's words."""


class PeerArm:
    """A peer kept loaded in its own process (scripts/peer_arm.py), asked for N timed calls per round; its
    process group ends when the sitting does. `call_ms`: its peer stage's one-thread CPU ms per call."""

    def __init__(self, name: str, argv: Sequence[str], work: Path, call_ms: Optional[float] = None):
        self.name = name
        self.argv = list(argv)
        self.work = work
        self.call_ms = call_ms
        self.about: dict[str, object] = {}
        self._proc: Optional[subprocess.Popen[str]] = None
        self._asked = False  # a request is out and its answer not read (Ctrl-C came meanwhile)

    def __enter__(self) -> PeerArm:
        self._proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
            cwd=self.work,
        )
        assert self._proc.stdout is not None
        self._lines = _Lines(self._proc.stdout.fileno())
        self.about = self._answer()
        if not self.about.get("ready"):
            raise PeerFailed(f"{self.name}: did not start ({self.about})")
        return self

    def __exit__(self, *exc: object) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if not self._asked:  # idle: it ends when its stdin closes
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                if proc.stdin:
                    proc.stdin.close()
                proc.wait(timeout=5)
                return
        # Interrupted mid-request (it would time on for seconds before it read its stdin again: an
        # advise stopped in round 1 took 6 s to end), or it did not end: the whole group, at once.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # its own session: the whole group
        proc.wait()

    def _answer(self) -> dict[str, object]:
        """The worker's next JSON line; lines before it that are not JSON (a library's words on stdout) are
        kept, and the last of them said when no answer comes."""
        assert self._proc is not None
        said: list[str] = []
        while True:
            if not (line := self._lines.next(READY_SECONDS)):
                code = self._proc.poll()
                last = f": {excerpts.quoted(said[-1], 300)}" if said else ""
                raise PeerFailed(f"{self.name}: the worker ended without an answer (exit {code}){last}")
            try:
                answer = json.loads(line)
            except ValueError:
                answer = None
            if isinstance(answer, dict):
                break
            if line.strip():
                said = [*said[-19:], line.strip()]
        if "error" in answer:
            error = answer["error"]
            raise PeerFailed(f"{self.name}: {error.get('type', '')}: {error.get('message', '')}".strip())
        return dict(answer)

    def step_seconds(self, repetitions: int) -> float:
        """`repetitions` calls at its peer stage's time: no sizing pass."""
        return repetitions * self.call_ms / 1000.0 if self.call_ms else UNKNOWN_STEP_SECONDS

    def time(self, repetitions: int) -> float:
        assert self._proc is not None and self._proc.stdin is not None
        self._asked = True
        self._proc.stdin.write(f"{repetitions}\n")
        self._proc.stdin.flush()
        answer = self._answer()
        self._asked = False
        times = answer.get("cpu_ms")
        if not isinstance(times, list) or not times:
            raise PeerFailed(f"{self.name}: no times in its answer")
        return float(statistics.median(times))


class _Lines:
    """A worker's stdout line by line within a timeout, read from its pipe directly: a text stream would
    buffer what one read brought beyond the first line, where select() cannot see it."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.pending = b""
        self.ended = False

    def next(self, timeout: float) -> str:
        """The next line, "" once the worker's stdout ended."""
        import select

        deadline = time.monotonic() + timeout
        while b"\n" not in self.pending and not self.ended:
            if (left := deadline - time.monotonic()) <= 0 or not select.select([self.fd], [], [], left)[0]:
                raise PeerFailed(f"no answer within {timeout:.0f} s")
            chunk = os.read(self.fd, 65536)
            self.ended = not chunk
            self.pending += chunk
        line, newline, self.pending = self.pending.partition(b"\n")
        return (line + newline).decode("utf-8", "replace")


def peer_argv(
    record: Record,
    peer: str,
    onnx: Optional[Path],
    work: Path,
    caches: Sequence[Path] = (),
    ref: Optional[models.ModelRef] = None,
) -> list[str]:
    """The peer worker's command from a peer record's own (its Python and the model's arguments), or
    NotComparable where that Python is not here or not an intact venv of `caches` or the default cache.
    `ref`: where the model is now (a reused record may name a path that is gone)."""
    if record.stage != "peer" or record.status is not Status.OK or not record.command:
        raise abtest.NotComparable(f"{record.job}: not a peer run that finished")
    python = Path(record.command[0])
    if not python.is_file():
        raise abtest.NotComparable(f"{record.job}: {python} is not on this host (a container's, or pruned)")
    why = abtest.vouched_against(python.parent.parent / "pyvenv.cfg", [*caches, default_cache()])
    if why is not None:
        raise abtest.NotComparable(f"{record.job}: its Python {python}: the venv's pyvenv.cfg {why}")
    model_args, reads = _model_args(list(record.command[2:]), ref)
    worker = shipped.scripts_dir() / PEER_WORKER
    extra = ["--onnx", str(onnx)] if onnx is not None and peer == "onnxruntime" else []
    reads += [worker.parent, *([onnx.parent] if extra and onnx is not None else [])]
    command = [str(python), str(worker), *model_args, "--peer", peer, *extra, "--work", str(work)]
    return sandboxed(command, python.parent.parent, reads, work)


def _model_args(argv: Sequence[str], ref: Optional[models.ModelRef]) -> tuple[list[str], list[Path]]:
    """The model's arguments in a peer record's worker command (`argv`), located by `ref` when given, and
    what the worker reads for them: the model (never a directory holding the home), its weights."""
    located = ("--module", "--file", "--import-root", "--factory")
    keep = (*(located if ref is None else ()), "--function", "--weights", "--seed")
    given_args = [x for flag, value in zip(argv, argv[1:]) if flag in keep for x in (flag, value)]
    model_args = [*(ref.worker_args() if ref is not None else ()), *given_args]
    given = dict(zip(model_args[::2], model_args[1::2]))
    reads = [models.readable_beside(Path(given[f])) for f in ("--file", "--weights") if f in given]
    if ref is None and "--import-root" in given:
        root = Path(given["--import-root"])
        module = given.get("--module")
        ref = models.ModelRef("", root, "", module=module, import_root=root) if module else None
        reads += ref.mounts() if ref is not None else [root]
    elif ref is not None and ref.module is not None:
        reads += ref.mounts()
    return model_args, reads


def sandboxed(argv: Sequence[str], venv: Path, reads: Sequence[Path], work: Path) -> list[str]:
    """A peer arm's command in the sandbox its peer stage ran in (bubblewrap, `work` its one writable
    directory); unsandboxed only with `--unsandboxed`, else NotComparable saying why."""
    if bubblewrap.problem() is None:
        sandbox = venv_env.model_sandbox(venv, reads, [work], work)
        if (unreachable := bubblewrap.hand_over(sandbox)) is not None:  # as root: `work` becomes uid 65534's
            raise abtest.NotComparable(unreachable)
        # The environment a stage's sandboxed command gets (processes.run): no token of the tool's.
        env = {**bubblewrap.environment(os.environ), "HOME": str(work), "TMPDIR": str(work)}
        return bubblewrap.wrap(["env", "-i", *(f"{k}={v}" for k, v in sorted(env.items())), *argv], sandbox)
    if (refused := bubblewrap.refusal("peer")) is not None:
        raise abtest.NotComparable(refused)
    return list(argv)


@dataclasses.dataclass(frozen=True)
class Rounds:
    """Each arm's CPU ms per call, round by round (arms[i][r]: arm i in round r)."""

    names: tuple[str, ...]
    ms: tuple[tuple[float, ...], ...]
    interrupted: bool = False  # Ctrl-C: the rounds every arm finished, no more

    def of(self, name: str) -> tuple[float, ...]:
        return self.ms[self.names.index(name)]


def sit(
    arms: Sequence[TimedArm],
    rounds: int,
    repetitions: int,
    progress: Optional[Callable[[int, int, str], None]] = None,
) -> Rounds:
    """`rounds` rounds; round r times every arm once, the order rotated by r (A B C, B C A, …, and
    reversed on odd rounds, so no arm always follows the same one)."""
    times: list[list[float]] = [[] for _ in arms]
    total = rounds * len(arms)
    done = 0
    interrupted = False
    try:
        for r in range(rounds):
            shift = r % len(arms)
            order = [*range(shift, len(arms)), *range(shift)]
            for i in reversed(order) if r % 2 else order:
                if progress is not None:
                    progress(done, total, arms[i].name)
                times[i].append(arms[i].time(repetitions))
                done += 1
    except KeyboardInterrupt:  # what every arm finished is kept: whole rounds only, still paired
        interrupted = True
    whole = min((len(t) for t in times), default=0)
    return Rounds(tuple(a.name for a in arms), tuple(tuple(t[:whole]) for t in times), interrupted)


def timed(request: Request, arms: Sequence[TimedArm], title: str, label: str, hint: str, job: str) -> Rounds:
    """`arms` timed in `request`'s paired rounds under the machine's quiet lock (`job` names the holder),
    the cost said first (`title`, `hint`: how to make it cheaper) and a progress line before each step."""
    from iree_matrix.core.system import locks

    per_arm = {a.name: a.step_seconds(request.repetitions) for a in arms}
    slowest = max(per_arm, key=per_arm.__getitem__, default="")
    logger.info(
        progress.cost(
            title,
            f"{len(arms)} arms × {request.rounds} rounds on one thread"
            + (f" (the slowest, {slowest}: {per_arm[slowest]:.0f} s a round)" if slowest else ""),
            sum(per_arm.values()) * request.rounds,
            hint,
        )
    )
    with locks.machine_lock(True, job=job, report=logger.info):
        return sit(arms, request.rounds, request.repetitions, progress=progress_of(label, per_arm))


def progress_of(
    label: str, per_arm: Mapping[str, float], clock: Callable[[], float] = time.monotonic
) -> Callable[[int, int, str], None]:
    """The sitting's line before each step: the elapsed time and what is left, the steps to come at their
    arms' expected seconds scaled by how the steps so far ran against theirs."""
    start = clock()
    each_round = sum(per_arm.values())

    def say(done: int, total: int, arm: str) -> None:
        elapsed = clock() - start
        arms = max(1, len(per_arm))
        thought = each_round * done / arms
        slowdown = elapsed / thought if done and thought > 0 and elapsed > 0 else 1.0
        left = each_round * (total - done) / arms * slowdown
        stamp = f"{progress.clock(elapsed)} ETA {progress.clock(left)}"
        logger.info(f"  [{done + 1}/{total} {stamp}] {label}: {arm}")

    return say


def scratch() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="iree-matrix-sitting-")
