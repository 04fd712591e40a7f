"""The one way iree-matrix starts a process: argument lists only, echoed into the job's log, output
captured and logged. Each command's whole tree ends with it (timeout, Ctrl-C, strays); when the tool is
killed, its children get a parent-death signal and the watchdog kills what they started."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
import selectors
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Optional

from iree_matrix.core import console
from iree_matrix.core.atomic_files import DISK_FULL_TEXT
from iree_matrix.core.errors import EnvironmentFault, StageFailure
from iree_matrix.core.system import bubblewrap, landlock, process_tree, shm_namespace
from iree_matrix.core.system.process_output import Capture, environment_fault, excerpt, flag_output
from iree_matrix.core.system.process_request import ProcessRequest

logger = console.logger(__name__)

# prctl is looked up once, at import (`process_tree.prctl`), not in the child: between fork and exec
# only this call and getppid run.
_PR_SET_PDEATHSIG = 1


def _die_with_parent(
    parent: int,
    watchdog: Optional[int],
    message: bytes = b"",
    join: Sequence[int] = (),
    rlimits: Sequence[tuple[int, tuple[int, int]]] = (),
    writes_beneath: Optional[Sequence[str]] = None,
    landlock_abi: int = 0,
    shm_size: Optional[int] = None,
) -> None:
    """preexec hook: SIGKILL this child when the tool dies; join its tree's cgroups, take its limits and
    register with the watchdog before exec, so a tool killed just after `Popen` leaves nothing."""
    if process_tree.prctl is not None:
        process_tree.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    process_tree.child_setup(join, rlimits)
    if watchdog is not None:
        with contextlib.suppress(OSError):
            # One write under PIPE_BUF: atomic. An older watchdog ignores the "tree" line.
            os.write(watchdog, b'["pg", %d]\n' % os.getpid() + message)
    if shm_size is not None and not shm_namespace.private_shm(shm_size) and writes_beneath is not None:
        # No /dev/shm of its own: none at all (a model wrote 64 MB into the host's and deleted
        # another program's file there), the devices a program writes still allowed.
        writes_beneath = [*(w for w in writes_beneath if w != "/dev"), *landlock.DEVICES]
    if shm_size is not None and process_tree.prctl is not None:  # a user namespace's new credentials clear it
        process_tree.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the tool died before prctl took effect
        os._exit(1)
    if writes_beneath is not None:  # last: joining the cgroups above writes to the cgroup files
        landlock.restrict_writes(writes_beneath, landlock_abi)


class _Watchdog:
    """The tool's side of `watchdog.py`, started at the first command."""

    def __init__(self) -> None:
        self._proc: Optional[subprocess.Popen[str]] = None
        self._owner = 0  # the pid that started it: a forked child needs a watchdog of its own
        self._lock = threading.Lock()

    def fileno(self) -> Optional[int]:
        with self._lock:
            stdin = self._stdin()
            return None if stdin is None else stdin.fileno()

    def send(self, *message: object) -> None:
        with self._lock:
            if (stdin := self._stdin()) is None:
                return
            try:
                stdin.write(json.dumps(message) + "\n")
                stdin.flush()
            except (OSError, ValueError):
                self._proc = None  # it died: the next message starts another

    def _stdin(self) -> Optional[IO[str]]:
        if self._proc is not None and self._owner == os.getpid():
            return self._proc.stdin
        self._owner = os.getpid()
        try:
            # Its own session: a signal to the tool's process group must not reach it. Not a
            # parent-death child either: it is the one that must outlive the tool.
            self._proc = subprocess.Popen(
                [sys.executable, "-I", "-S", str(Path(__file__).with_name("watchdog.py"))],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd="/",
                text=True,
                start_new_session=True,
            )
        except OSError:
            self._proc = None  # without it the parent-death signal still kills direct children
        return None if self._proc is None else self._proc.stdin


_watchdog = _Watchdog()


def watch_container(remove: Sequence[str], name: str) -> None:
    """Have `name` removed (`remove` + names) if the tool dies before `unwatch_container(name)`."""
    _watchdog.send("ct", list(remove), name)


def unwatch_container(name: str) -> None:
    _watchdog.send("-ct", name)


_live: set[_Popen] = set()
_live_lock = threading.Lock()
# Set by `kill_all`: a worker thread whose child was just killed must not start its next command
# (the real compile after `--help-hidden`), which the tool would then wait for after Ctrl-C.
_stopping = threading.Event()


@dataclasses.dataclass(frozen=True)
class Completed:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    # The largest resident set of the process or a descendant it waited for (wait4's ru_maxrss); a
    # floor (Linux copies the spawner's high-water mark into the child at exec); None for a docker client.
    peak_rss_bytes: Optional[int] = None
    # Why its limits or the system ended it, when that was not the tool's own answer.
    killed: Optional[str] = None

    @property
    def output(self) -> str:
        return (self.stdout + "\n" + self.stderr).strip()


class Timeout(Exception):
    def __init__(self, argv: Sequence[str], seconds: float, output: str) -> None:
        super().__init__(f"{Path(argv[0]).name} did not finish within {seconds:.0f} s")
        self.argv = tuple(argv)
        self.seconds = seconds
        self.output = output
        # What the process was doing when the limit came, where its stage can tell (the export's phase).
        self.doing = ""


class _Popen(subprocess.Popen[bytes]):
    """Popen that keeps the child's resource usage (through `os.wait4`) and its tree."""

    rusage: Optional[os.struct_rusage] = None  # type: ignore[name-defined]
    tree: process_tree.Tree

    def _try_wait(self, wait_flags: int) -> tuple[int, int]:  # overrides CPython's private hook
        try:
            pid, status, rusage = os.wait4(self.pid, wait_flags)
        except ChildProcessError:
            return self.pid, 0  # what CPython's own _try_wait returns here
        if pid == self.pid:
            self.rusage = rusage
        return pid, status


def format_command(argv: Sequence[str]) -> str:
    return " ".join(shlex.quote(str(a)) for a in argv)


# What is kept of a stream's output: its first and last KEEP bytes (`--help-hidden` is 0.5 MB); the
# job's log gets its first and last LOG_KEEP bytes.
KEEP = 4 << 20
LOG_KEEP = 256 << 10
# How long a command's pipes are still read after it and its tree ended: an escapee may hold them forever.
PIPE_GRACE = 2.0
_TERM_GRACE = 3.0  # SIGTERM first (a docker client passes it on to its container), then SIGKILL


def run(request: ProcessRequest) -> Completed:
    """Run `request`; `StageFailure` on a non-zero exit when it `check`s, `Timeout` after its `timeout`."""
    if (sandbox := request.sandbox) is None:
        return _run(request)
    try:
        # As root: its writable paths become uid 65534's.
        if (unreachable := bubblewrap.hand_over(sandbox)) is not None:
            raise StageFailure("no-sandbox", unreachable, cacheable=False)
        return _run(request)
    finally:
        bubblewrap.take_back(sandbox)


def _run(request: ProcessRequest) -> Completed:
    argv, cwd, timeout, log = tuple(request.argv), request.cwd, request.timeout, request.log
    sandbox = request.sandbox
    started = argv if sandbox is None else tuple(bubblewrap.wrap(argv, sandbox))
    # bubblewrap replaces the request's `writes_beneath` and `private_shm`
    writes_beneath, shm = (request.writes_beneath, request.private_shm) if sandbox is None else (None, False)
    _log(log, f"$ {format_command(started)}\n")
    logger.debug(f"$ {format_command(started)}" + (f"  (in {cwd})" if cwd is not None else ""))
    start = time.monotonic()
    tree = process_tree.Tree(request.limits)
    # A sandboxed command gets only `bubblewrap.environment` of the tool's; HOME is its temporary directory.
    base = os.environ if sandbox is None else bubblewrap.environment(os.environ)
    full_env = {**base, **(request.env or {}), process_tree.TOKEN_ENV: tree.token}
    if sandbox is not None:
        full_env["HOME"] = full_env.get("TMPDIR", "/tmp")
    stdin, feeder = (subprocess.DEVNULL, None) if request.feed is None else _Feeder.pipe(request.feed)
    with _live_lock:  # held while starting, so `kill_all` either sees this child or stops it starting
        watchdog = _watchdog.fileno()
        try:
            if _stopping.is_set():
                raise KeyboardInterrupt
            setup = functools.partial(
                _die_with_parent,
                os.getpid(),
                watchdog,
                tree.watchdog_message(),
                tuple(g.procs_fd for g in tree.cgroups if g.procs_fd is not None),
                tree.rlimits(),
                tuple(writes_beneath) if writes_beneath is not None else None,
                landlock.abi() if writes_beneath is not None else 0,
                # its own /dev/shm's size: the memory limit (its pages count there), else half the machine's
                (tree.limits.memory or process_tree.machine_memory() // 2) if shm else None,
            )
            proc = _Popen(
                started,
                cwd=cwd,
                env=full_env,
                stdin=stdin,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                preexec_fn=setup,
            )
        except BaseException:
            if feeder is not None:
                feeder.finish()
            tree.close()
            raise
        tree.started(proc.pid)
        proc.tree = tree
        _live.add(proc)
    if feeder is not None:
        feeder.start()
    try:
        got = _collect(proc, request, start)
    finally:
        with _live_lock:
            _live.discard(proc)
        left = _end_tree(proc.pid, tree)
        if feeder is not None:
            feeder.finish()
    stdout, stderr = got.out.text(), got.err.text()
    logged = got.out.text(LOG_KEEP) + got.err.text(LOG_KEEP) + got.note
    if got.strays + left:
        logged += f"\n[{got.strays + left} process(es) it left running killed]"
    if got.timed_out:
        _log(log, logged + f"\n[timed out after {timeout:.0f} s]\n")
        raise Timeout(argv, timeout or 0.0, (stdout + stderr).strip())
    seconds = time.monotonic() - start
    returncode = -signal.SIGKILL if proc.returncode is None else proc.returncode  # None: unkillable
    if sandbox is not None:
        returncode = bubblewrap.signal_status(returncode)
    killed = _why_killed(returncode, tree, stdout + stderr)
    said = f"; {killed}" if killed else ""
    _log(log, logged + f"\n[exit {returncode} after {seconds:.1f} s{said}]\n")
    peak = proc.rusage.ru_maxrss * 1024 if proc.rusage is not None else None  # Linux: KiB
    done = Completed(argv, returncode, stdout, stderr, seconds, peak, killed)
    if request.check and returncode != 0:
        raise failure(done, request.error_class)
    return done


@dataclasses.dataclass
class _Collected:
    out: Capture
    err: Capture
    timed_out: bool = False
    strays: int = 0  # processes it left running, killed when it ended
    note: str = ""  # said in the log: what was done to end it


def _collect(proc: _Popen, request: ProcessRequest, start: float) -> _Collected:
    """Read the command's output until it has ended and both pipes are closed (strays holding them
    killed); a timeout gets SIGTERM then SIGKILL. The deadline moves on by what `paused()` says."""
    assert proc.stdout is not None and proc.stderr is not None
    tree, timeout, paused = proc.tree, request.timeout, request.paused
    got = _Collected(Capture(KEEP), Capture(KEEP))
    captures = {proc.stdout.fileno(): got.out, proc.stderr.fileno(): got.err}
    deadline = None if timeout is None else start + timeout
    terminating: Optional[float] = None  # when the SIGTERM of a timeout was sent
    ended: Optional[float] = None  # when its own process was seen to have ended
    with selectors.DefaultSelector() as selector:
        for fd in captures:
            selector.register(fd, selectors.EVENT_READ)
        while True:
            now = time.monotonic()
            if paused is not None and timeout is not None:
                deadline = start + timeout + paused()
            if ended is None:
                if _exited(proc):
                    ended = now
                    if selector.get_map():  # something it left holds the pipes: ended with it
                        got.strays += tree.kill()
                elif terminating is not None:
                    if now - terminating >= _TERM_GRACE:
                        tree.kill()
                    if now - terminating >= _TERM_GRACE + PIPE_GRACE:  # unkillable (state D)
                        ended = now
                elif deadline is not None and now >= deadline:
                    got.timed_out = True
                    tree.signal(signal.SIGTERM)
                    terminating = now
            if ended is not None:
                if not selector.get_map():
                    break
                if now - ended >= PIPE_GRACE:
                    got.note += (
                        f"\n[stopped reading its output {PIPE_GRACE:.0f} s after it ended: a process "
                        "outside its tree holds the pipe open]"
                    )
                    break
            wait = 0.2
            if terminating is None and ended is None and deadline is not None:
                wait = max(0.0, min(wait, deadline - now))
            if not selector.get_map():  # both closed, the process not ended yet: wait for it
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=wait)
                continue
            for key, _ in selector.select(wait):
                if data := os.read(key.fd, 1 << 16):
                    captures[key.fd].add(data)
                else:
                    selector.unregister(key.fd)
    proc.stdout.close()
    proc.stderr.close()
    try:
        proc.wait(timeout=PIPE_GRACE)  # reaped here (wait4: its rusage kept), not by the check above
    except subprocess.TimeoutExpired:
        got.note += "\n[its process could not be killed]"
    return got


def _exited(proc: subprocess.Popen[bytes]) -> bool:
    """Whether the process has ended, without reaping it (`Popen.poll` would, losing its rusage)."""
    if proc.returncode is not None:
        return True
    with contextlib.suppress(ChildProcessError):  # reaped meanwhile (`kill_all`'s wait): True below
        return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    return True


def _why_killed(returncode: int, tree: process_tree.Tree, output: str) -> Optional[str]:
    """Why a failed command was stopped by its limits or the system (memory, processes), if it was."""
    if returncode == 0:
        return None
    memory = tree.limits.memory
    limit = tree.limits.memory_text()
    if tree.oom_killed:
        return f"killed: out of memory ({limit})"
    if memory and not tree.memory_by_cgroup and any(w in output for w in process_tree.ALLOCATION_FAILED):
        size = process_tree.size_text(memory)
        space = limit.replace(size, f"{size} of address space", 1)
        return f"out of memory ({space})"
    if returncode in (-signal.SIGKILL, 128 + signal.SIGKILL) and tree.machine_oom_killed():
        return f"killed: out of memory (the machine's; {limit})"
    return f"out of processes (limit {tree.limits.processes} tasks)" if tree.refused_forks else None


class _Feeder(threading.Thread):
    """Writes chunks into a child's stdin; a child that stops reading (exit, kill) ends it."""

    def __init__(self, chunks: Iterable[bytes], fd: int, child_end: int) -> None:
        super().__init__(name="stdin feeder", daemon=True)
        self._chunks, self._fd, self._child_end = chunks, fd, child_end
        self.error: Optional[BaseException] = None

    @classmethod
    def pipe(cls, chunks: Iterable[bytes]) -> tuple[int, _Feeder]:
        read_end, write_end = os.pipe()  # neither inherited by other children (O_CLOEXEC)
        return read_end, cls(chunks, write_end, read_end)

    def run(self) -> None:
        try:
            with open(self._fd, "wb") as f:
                f.writelines(self._chunks)
        except BrokenPipeError:
            pass  # the child stopped reading: its exit status says why
        except BaseException as exc:  # noqa: BLE001 - the source's error, raised in the caller
            self.error = exc

    def start(self) -> None:
        os.close(self._child_end)  # the child has its copy: EOF and EPIPE need ours closed
        super().start()

    def finish(self) -> None:
        """Wait for the writer; raise what the source raised."""
        if self.ident is None:  # the child never started
            os.close(self._child_end)
            os.close(self._fd)
            return
        self.join()
        if self.error is not None:
            raise self.error


# Exits that say nothing about the inputs, never stored: 126/127 (not executable), SIGKILL (likely the
# OOM killer), SIGHUP, SIGINT and SIGTERM (from outside).
_NOT_A_RESULT = (126, 127, -9, -1, -2, -15)


def failure(
    done: Completed, error_class: Optional[str] = None, message: Optional[str] = None
) -> StageFailure:
    tool = Path(done.argv[0]).name
    if done.killed:  # a limit's (or the machine's) answer, not the inputs': never stored
        said = excerpt(done.output, max_lines=5)
        memory = "memory" in done.killed
        env, limit = (
            (process_tree.MEMORY_ENV, "memory") if memory else (process_tree.PROCESSES_ENV, "processes")
        )
        return StageFailure(
            "out-of-memory" if memory else "process-limit",
            f"{done.killed}; {tool} exited {done.returncode}"
            + (f". Its last words: {said}" if said else "")
            + f". Raise the limit with ${env} or a matrix file's [limits] {limit}",
            cacheable=False,
        )
    if any(text in done.output for text in DISK_FULL_TEXT):  # the disk's state, not the inputs'
        return StageFailure("disk-full", message or excerpt(done.output), cacheable=False)
    if done.returncode in (126, 127):  # the tool (or a library it needs) could not be started
        fault = environment_fault(done.output, done.argv, done.returncode)
        said = fault.cause if fault else "not runnable"
        return EnvironmentFault(
            f"{tool} could not be started (exit {done.returncode}: {said}): its environment is incomplete "
            "or damaged, not an answer about the inputs"
        )
    flagged = next((f for f in (flag_output(ln, done.argv) for ln in done.output.splitlines()) if f), None)
    if flagged is not None and message is None:
        return StageFailure(
            "flag-output",
            f"{tool} could not write {flagged[0]!r} ({flagged[1]}), a file one of its flags names: a stage "
            "may write only in its scratch working directory and its own output, never over its inputs or "
            "outside; give the flag a relative file name other than the input's (it lands in the scratch "
            "directory, removed after the stage)",
            cacheable=False,
        )
    said = message or excerpt(done.output) or f"{tool} exited {done.returncode}"
    return StageFailure(error_class or f"{tool}-error", said, cacheable=done.returncode not in _NOT_A_RESULT)


def kill_all() -> None:
    """Stop every child still running (SIGTERM, then SIGKILL) and start no more."""
    with _live_lock:
        _stopping.set()
        procs = list(_live)
    for proc in procs:
        proc.tree.signal(signal.SIGTERM)
    end = time.monotonic() + _TERM_GRACE
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.0, end - time.monotonic()))
    for proc in procs:
        proc.tree.kill()


def stopping() -> bool:
    """Whether the run is stopping (`kill_all`): a command that fails now says nothing of its environment."""
    return _stopping.is_set()


def resume() -> None:
    _stopping.clear()


def _end_tree(pgid: int, tree: process_tree.Tree) -> int:
    """End what a finished command left running; how many were left."""
    left = tree.close()
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the usual case: nothing left
        os.killpg(pgid, signal.SIGKILL)
    _watchdog.send("-pg", pgid)
    _watchdog.send("-tree", tree.token)
    return left


def _log(log: Optional[Path], text: str) -> None:
    if log is not None:
        with open(log, "a", encoding="utf-8", errors="replace") as f:
            f.write(text)


def note(log: Optional[Path], text: str) -> None:
    """One line of the tool's own in a job's log, and on stderr at -v, named by the log's job."""
    _log(log, text.rstrip("\n") + "\n")
    logger.debug(f"{log.parent.name if log is not None else '-'}: {text.rstrip()}")
