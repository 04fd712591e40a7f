"""What a person watching a long run sees: which stage of which cell, n of N, elapsed time and the ETA
(execution/eta.py). Every event is a plain log line (stderr; `-q` hides it); on a terminal a live status
line from `rich` stays under them."""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Optional, TextIO

from iree_matrix.core import console, formats
from iree_matrix.core.cache_layout import CacheLayout
from iree_matrix.core.model import metrics, refusals
from iree_matrix.core.model.metrics.compile import CompileMetrics
from iree_matrix.core.model.metrics.export import ExportMetrics
from iree_matrix.core.model.metrics.install import InstallMetrics
from iree_matrix.core.model.metrics.lower import LowerMetrics
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.results import Record, Status
from iree_matrix.core.system import locks
from iree_matrix.execution.eta import Estimates, LoadTrace, load_factor
from iree_matrix.iree import compile_errors, hints
from iree_matrix.matrix.plan import Job

logger = console.logger(__name__)


def mark(record: Record) -> str:
    """How a finished job's outcome is printed: a failure in capitals ("FAIL", "TIMEOUT"), the rest as
    its status reads ("ok", "not run"); a cross cell's refusal is an answer, not a FAIL."""
    if refusals.is_answer(record):
        return refusals.EXPECTED
    failed = record.status in (Status.FAIL, Status.MISMATCH, Status.TIMEOUT)
    return record.status.value.upper() if failed else record.status.value.replace("_", " ")


_LOCATED = re.compile(r"^(?P<where>\S+?:\d+(?::\d+)?):\s*(?P<what>(?:error|warning)\b.*)$", re.IGNORECASE)


def headline(message: Optional[str], cache: Optional[Path] = None, width: int = 160) -> str:
    """The line a person needs first: the tool's own error, not the path it was found at.
    `…/store/export/cfbc…/model.mlir:525:12: error: 'linalg.generic' op …` becomes
    `error: 'linalg.generic' op … (at <store>/export/cfbc…/model.mlir:525:12)`."""
    if not (lines := [ln.strip() for ln in (message or "").strip().splitlines() if ln.strip()]):
        return ""
    found = hints.find(message)  # the line a known failure signature matches, else the first error
    line = found.line if found is not None else next((ln for ln in lines if "error" in ln.lower()), lines[0])
    if cache is not None:
        line = line.replace(str(CacheLayout(Path(cache)).store), "<store>").replace(str(cache), "<cache>")
    # pip lists every version it knows, oldest first; the newest are the ones a reader needs.
    if versions := _FROM_VERSIONS.search(line):
        if len(known := [v.strip() for v in versions.group(1).split(",") if v.strip()]) > 6:
            line = line.replace(versions.group(0), f"(from versions: {known[0]} … {', '.join(known[-4:])})")
    if located := _LOCATED.match(line):
        line = f"{located['what']} (at {located['where']})"
    return line if len(line) <= width else line[: width - 1] + "…"


def first_words(record: Record, cache: Optional[Path] = None) -> str:
    """A failed job's line: a compile's first error and the op it names, uncut, else `headline`."""
    named = compile_errors.of_record(record.metrics, None) if record.stage == "compile" else None
    return named.text() if named is not None else headline(record.message, cache)


_FROM_VERSIONS = re.compile(r"\(from versions: ([^)]*)\)")


HEARTBEAT_SECONDS = 60.0


def clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _stamped(done: int, total: int, elapsed: float, eta: str, text: str) -> str:
    """A progress line, a run's job's or a command's step's: "[ 3/10 0:02:31 ETA 0:04:10] text"."""
    return f"[{done:>{len(str(total))}}/{total} {clock(elapsed)}{' ' + eta if eta else ''}] {text}"


# The stages whose metrics hold their own wall time (`seconds`).
_SECONDS = (ExportMetrics, CompileMetrics, LowerMetrics, InstallMetrics)


class Progress:
    """One line per job start and end, and a heartbeat for stages that run long (a compile of
    YOLOX takes minutes): a person watching knows it is working, and on what."""

    def __init__(
        self,
        total: int,
        out: Optional[TextIO] = None,
        cache: Optional[Path] = None,
        heartbeat: float = HEARTBEAT_SECONDS,
        estimates: Optional[Estimates] = None,
        live: Optional[bool] = None,
    ) -> None:
        self.total = total
        self.cache = cache
        self.done = 0
        self.out = out  # None: the log
        self.start = time.monotonic()
        self._lock = threading.Lock()
        self._running: dict[str, tuple[Job, float]] = {}
        # job id -> when it began to wait for the machine's quiet lock: started, but waiting for it
        self._wait_began: dict[str, float] = {}
        self._waited: dict[str, float] = {}  # job id -> seconds it waited for the lock (`finished`)
        self._stop = threading.Event()
        self._heartbeat = heartbeat
        self._beat: Optional[threading.Thread] = None
        self.estimates = estimates
        self._pending = set(estimates.seconds) if estimates is not None else set()
        self._loads = LoadTrace()
        if estimates is not None:
            self._loads.note(estimates.factor.load, self.start)  # the load the first estimate took
        use_live = live if live is not None else out is None and console.shows() and _is_terminal(sys.stderr)
        self._live = _LiveLine(out or sys.stderr, self._status) if use_live else None

    def restart(self, estimates: Estimates) -> None:
        """From now, with `estimates` made now: after a wait for the cache, whose time is not the run's
        and after which the other run's stored jobs are reused (the first ETA counted both)."""
        self.start, self.estimates, self._pending = time.monotonic(), estimates, set(estimates.seconds)
        self._loads.note(estimates.factor.load, self.start)

    def close(self) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join(timeout=2)
        if self._live is not None:
            self._live.stop()

    def expected(self, job: Job) -> Optional[float]:
        """The job's expected seconds on this host now (None without estimates)."""
        return self.estimates.expected(job.id) if self.estimates is not None else None

    def eta(self) -> str:
        """ "ETA 0:12:30", or "" when there is nothing to go on; a job waiting for the machine's quiet
        lock counts whole, plus what the lock's holder is still expected to take (`Estimates.left_ahead`)."""
        if self.estimates is None:
            return ""
        now = time.monotonic()
        self._measure_load(now)
        # Copies, not the lock: the live display's refresh thread calls this while another thread
        # may hold the lock and wait on the display (dict and set copies are atomic in CPython).
        waiting = set(self._wait_began)
        running = {
            job_id: since for job_id, (_, since) in dict(self._running).items() if job_id not in waiting
        }
        held = self._held_for() if waiting else 0.0
        left = self.estimates.left_ahead(self._loads, set(self._pending), running, now, waiting, held)
        return f"ETA {clock(left)}"

    def _measure_load(self, now: float) -> None:
        """The load now, into the trace; the estimate takes the recent load (`LoadTrace.recent`), so it
        follows a load that rose after the run began."""
        assert self.estimates is not None
        self._loads.note(load_factor(), now)
        self.estimates.factor.load = self._loads.recent(now) or self.estimates.factor.load

    def _held_for(self) -> float:
        """What another run's timed stage, holding the machine's quiet lock, is still expected to take."""
        who = locks.holder(locks.quiet_lock_path())
        return who.left() if who is not None and who.pid != os.getpid() else 0.0

    def _beats(self) -> None:
        while not self._stop.wait(self._heartbeat):
            with self._lock:
                running = list(self._running.values())
            for job, since in running:
                if time.monotonic() - since < self._heartbeat / 2:
                    continue  # it just started: its start line is news enough
                minutes, seconds = divmod(int(time.monotonic() - since), 60)
                doing = "waiting for the machine's quiet lock" if job.id in self._wait_began else "running"
                self.note(f"{job.stage:<7} {job.cell} still {doing} ({minutes} min {seconds:02d} s)")

    def note(self, text: str) -> None:
        line = _stamped(self.done, self.total, time.monotonic() - self.start, self.eta(), text)
        if self._live is not None:
            self._live.print(line)
            return
        with self._lock:
            _say(line, self.out)

    def _status(self) -> str:
        """The live line under the log, redrawn twice a second by rich's refresh thread."""
        running = ", ".join(f"{job.stage} {job.cell}" for job, _ in list(self._running.values())) or "-"
        eta = f" · {self.eta()}" if self.estimates is not None else ""
        elapsed = clock(time.monotonic() - self.start)
        return f"{self.done}/{self.total} jobs · {elapsed} elapsed{eta} · running: {running}"

    def started(self, job: Job) -> None:
        with self._lock:
            self._pending.discard(job.id)
            self._running[job.id] = (job, time.monotonic())
            if self._beat is None and self._heartbeat > 0:
                self._beat = threading.Thread(target=self._beats, name="heartbeat", daemon=True)
                self._beat.start()
        self.note(f"{job.stage:<7} {job.cell} ...")

    def waiting(self, job: Job) -> None:
        """A started timed stage waits for the machine's quiet lock (another run times): the
        heartbeat says so rather than "still running"."""
        with self._lock:
            self._wait_began[job.id] = time.monotonic()

    def running(self, job: Job) -> None:
        """It has the lock (or goes on without it): its clock, which the estimate reads, starts now."""
        with self._lock:
            if (began := self._wait_began.pop(job.id, None)) is not None:
                self._running[job.id] = (job, time.monotonic())
                # a run waits after its warm-up call, so per job, not per wait
                self._waited[job.id] = self._waited.get(job.id, 0.0) + time.monotonic() - began

    def reused(self, job: Job, record: Record) -> None:
        with self._lock:
            self._pending.discard(job.id)
            self.done += 1
        self.note(f"{job.stage:<7} {job.cell} = {mark(record)} (stored result)")

    def finished(self, job: Job, record: Record, log: Optional[Path] = None) -> None:
        with self._lock:
            self._pending.discard(job.id)
            self.done += 1
            ran = self._running.pop(job.id, None)
            began = self._wait_began.pop(job.id, None)  # ended while it waited (Ctrl-C)
            waited = self._waited.pop(job.id, 0.0) + (time.monotonic() - began if began is not None else 0.0)
        if self.estimates is not None and ran is not None and job.id in self.estimates.exclusive:
            # every timed job that ran says how long it waited, 0 included (`LockWaits`)
            self.estimates.waits.note(waited, time.monotonic())
        # A timeout's seconds are its limit, not how fast this host is: it teaches the factor nothing.
        learns = record.status not in (Status.NOT_RUN, Status.TIMEOUT)
        if self.estimates is not None and ran is not None and learns:
            kind = self.estimates.kind(job.id)
            before = self.estimates.factor.of(kind)
            now = time.monotonic()
            self._measure_load(now)
            self.estimates.finished(job.id, record.seconds, self._loads.mean(ran[1], now))
            after = self.estimates.factor.of(kind)
            if self.estimates.source.get(job.id) == "published" and abs(after / before - 1) > 0.25:
                self.note(f"estimate: host factor {self.estimates.factor.describe()}")
        measured = record.metric.of(stage) if (stage := metrics.of_stage(record.stage)) else None
        seconds = measured.seconds if isinstance(measured, _SECONDS) else None
        detail = f" {seconds:.1f} s" if seconds is not None else ""
        if isinstance(measured, RunMetrics) and (median := measured.latency_median) is not None:
            n = measured.budgeted_n
            detail += f", {formats.duration_ms(median)}/call" + (f" (n={n})" if n else "")
        self.note(f"{job.stage:<7} {job.cell} -> {mark(record)}{detail}")
        if refusals.is_answer(record):
            self.note(f"        the runtime says: {refusals.reason(record.message)}")
        elif record.status not in (Status.OK, Status.NOT_RUN) and record.message:
            first = first_words(record, self.cache)
            where = f" (log: {log})" if log is not None and record.status is not Status.SKIP else ""
            self.note(f"        {record.error_class or record.status.value}: {first}{where}")


def _say(line: str, out: Optional[TextIO]) -> None:
    if out is None:
        logger.info(line)
    else:
        print(line, file=out, flush=True)


def _is_terminal(out: TextIO) -> bool:
    with contextlib.suppress(AttributeError, ValueError):
        return out.isatty()
    return False


class _LiveLine:
    """rich's live display: log lines scroll above one status line that is redrawn in place."""

    def __init__(self, out: TextIO, status: Callable[[], str]) -> None:
        from rich.console import Console
        from rich.live import Live
        from rich.text import Text

        class _Status:
            def __rich__(self) -> Text:
                return Text(status(), overflow="ellipsis", no_wrap=True)

        self._text = Text
        self.live = Live(
            _Status(),
            console=Console(file=out, highlight=False),
            refresh_per_second=2,
            transient=True,
            redirect_stdout=False,  # an answer printed meanwhile stays on stdout
        )
        self.live.start()

    def print(self, line: str) -> None:
        self.live.console.print(self._text(line), soft_wrap=True)

    def stop(self) -> None:
        self.live.stop()


# --- commands made of steps (compare, calibrate, reproduce) ----------------------------------------


def cost(what: str, count: str, seconds: float, cheaper: str) -> str:
    """What a long command says before it starts: "compare: 10 functions x 8 paired rounds, about
    0:08:20 on this machine now (load 3.1 on 2 CPUs); cheaper: --functions GLOB, --rounds 6"."""
    load = "load unknown"
    with contextlib.suppress(OSError):
        load = f"load {os.getloadavg()[0]:.1f} on {os.cpu_count() or 1} CPUs"
    return f"{what}: {count}, about {clock(seconds)} on this machine now ({load}); cheaper: {cheaper}"


class Steps:
    """A command's steps, each with its expected seconds, as they finish: "[3/10 0:02:31 ETA
    0:04:10] mobilenet_v2: no difference". The ETA is the steps still to come at their expected
    times, scaled by how the finished ones ran against theirs (the slowdown measured here, now)."""

    def __init__(self, expected: Sequence[float], out: Optional[TextIO] = None) -> None:
        self.expected = list(expected)
        self.out = out  # None: the log
        self.start = self._last = time.monotonic()
        self.done = 0
        self._took = 0.0  # seconds the finished steps took
        self._thought = 0.0  # and what they were expected to take

    @property
    def total(self) -> int:
        return len(self.expected)

    def begin(self) -> None:
        """The steps start now (after a wait that is not theirs, e.g. for the machine's quiet lock)."""
        self.start = self._last = time.monotonic()

    def slowdown(self) -> float:
        return self._took / self._thought if self._thought > 0 and self._took > 0 else 1.0

    def left(self) -> float:
        return sum(self.expected[self.done :]) * self.slowdown()

    def finished(self, text: str, learn: bool = True) -> None:
        """The next step ended, taking the time since the previous one did; `learn` False: a step
        that did not do its work (not comparable, skipped), which says nothing of the slowdown."""
        now = time.monotonic()
        took = now - self._last
        self._last = now
        if learn and self.done < self.total:
            self._thought += self.expected[self.done]
            self._took += took
        self.done += 1
        _say(_stamped(self.done, self.total, now - self.start, f"ETA {clock(self.left())}", text), self.out)
