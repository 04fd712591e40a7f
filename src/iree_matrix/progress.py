"""What a person watching a long run sees: which stage of which cell, n of N, elapsed time and an
estimate of what is left (from how long the same stages took before).

Every event is a plain line (a log, a pipe, CI); on a terminal a live status line from `rich`
stays under them: jobs done of total, the stages running now, elapsed, and the estimate."""

from __future__ import annotations

import dataclasses
import re
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Optional, TextIO

from iree_matrix import formats, refusals
from iree_matrix.plan import Job
from iree_matrix.results import Record, Status

MARKS = {
    Status.OK: "ok",
    Status.FAIL: "FAIL",
    Status.MISMATCH: "MISMATCH",
    Status.TIMEOUT: "TIMEOUT",
    Status.SKIP: "skip",
    Status.NOT_RUN: "not run",
}


def mark(record: Record) -> str:
    """How a finished job's outcome is printed: a cross cell's refusal is an answer, not a FAIL."""
    return refusals.EXPECTED if refusals.is_answer(record) else MARKS[record.status]


_LOCATED = re.compile(r"^(?P<where>\S+?:\d+(?::\d+)?):\s*(?P<what>(?:error|warning)\b.*)$", re.IGNORECASE)


def headline(message: Optional[str], cache: Optional[Path] = None, width: int = 160) -> str:
    """The line a person needs first: the tool's own error, not the path it was found at.
    `…/store/export/cfbc…/model.mlir:525:12: error: 'linalg.generic' op …` becomes
    `error: 'linalg.generic' op … (at <store>/export/cfbc…/model.mlir:525:12)`."""
    lines = [ln.strip() for ln in (message or "").strip().splitlines() if ln.strip()]
    if not lines:
        return ""
    line = next((ln for ln in lines if "error" in ln.lower()), lines[0])
    if cache is not None:
        line = line.replace(str(Path(cache) / "store"), "<store>").replace(str(cache), "<cache>")
    # pip lists every version it knows, oldest first; the newest are the ones a reader needs.
    versions = _FROM_VERSIONS.search(line)
    if versions:
        known = [v.strip() for v in versions.group(1).split(",") if v.strip()]
        if len(known) > 6:
            line = line.replace(versions.group(0), f"(from versions: {known[0]} … {', '.join(known[-4:])})")
    located = _LOCATED.match(line)
    if located:
        line = f"{located['what']} (at {located['where']})"
    return line if len(line) <= width else line[: width - 1] + "…"


_FROM_VERSIONS = re.compile(r"\(from versions: ([^)]*)\)")


HEARTBEAT_SECONDS = 60.0
# A stage never seen before: a guess, said as one (the estimate is marked "~").
UNKNOWN_STAGE_SECONDS = {"install": 60.0, "export": 30.0, "compile": 30.0, "run": 10.0}
REUSED_SECONDS = 0.05


@dataclasses.dataclass(frozen=True)
class Estimates:
    """Seconds each job of a plan is expected to take: a job with a stored result that will be
    reused almost nothing; otherwise the median of the same stage for the same model in earlier
    records, else of the same stage, else a fixed guess (`redo`: jobs that will run although stored,
    e.g. `--retime`). Timed stages run alone, the rest `jobs`
    at a time: the estimate of what is left divides only those."""

    seconds: Mapping[str, float]  # job id -> expected seconds
    exclusive: frozenset[str]  # job ids of timed stages
    jobs: int = 1

    @classmethod
    def of(
        cls,
        plan_jobs: Sequence[Job],
        history: Mapping[str, Record],
        exclusive_stages: Iterable[str] = (),
        jobs: int = 1,
        redo: Callable[[str], bool] = lambda job_id: False,
    ) -> Estimates:
        by_stage: dict[str, list[float]] = {}
        by_model: dict[tuple[str, str], list[float]] = {}
        for record in history.values():
            if isinstance(record.seconds, (int, float)) and record.seconds > 0:
                by_stage.setdefault(record.stage, []).append(record.seconds)
                by_model.setdefault((record.stage, str(record.labels.get("model", ""))), []).append(
                    record.seconds
                )
        seconds = {}
        for job in plan_jobs:
            stored = history.get(job.id)
            if stored is not None and stored.status is Status.OK and not redo(job.id):
                seconds[job.id] = REUSED_SECONDS
                continue
            same = by_model.get((job.stage, str(job.labels.get("model", "")))) or by_stage.get(job.stage)
            seconds[job.id] = statistics.median(same) if same else UNKNOWN_STAGE_SECONDS.get(job.stage, 30.0)
        exclusive = frozenset(j.id for j in plan_jobs if j.stage in set(exclusive_stages))
        return cls(seconds, exclusive, max(1, jobs))

    def left(self, pending: Iterable[str], running: Mapping[str, float]) -> float:
        """Seconds until the run ends: pending jobs, plus what running ones still need."""
        now = time.monotonic()
        alone = shared = 0.0
        for job in pending:
            if job in self.exclusive:
                alone += self.seconds.get(job, 0.0)
            else:
                shared += self.seconds.get(job, 0.0)
        for job, since in running.items():
            rest = max(0.0, self.seconds.get(job, 0.0) - (now - since))
            alone, shared = (alone + rest, shared) if job in self.exclusive else (alone, shared + rest)
        return alone + shared / self.jobs


def clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


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
        self.out = out or sys.stdout
        self.start = time.monotonic()
        self._lock = threading.Lock()
        self._running: dict[str, tuple[Job, float]] = {}
        self._stop = threading.Event()
        self._heartbeat = heartbeat
        self._beat: Optional[threading.Thread] = None
        self.estimates = estimates
        self._pending = set(estimates.seconds) if estimates is not None else set()
        use_live = live if live is not None else _is_terminal(self.out)
        self._live = _LiveLine(self.out, self._status) if use_live else None

    def close(self) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join(timeout=2)
        if self._live is not None:
            self._live.stop()

    def eta(self) -> str:
        """ "ETA 0:12:30" (from stored stage durations), or "" when there is nothing to go on."""
        if self.estimates is None:
            return ""
        # Copies, not the lock: the live display's refresh thread calls this while another thread
        # may hold the lock and wait on the display (dict and set copies are atomic in CPython).
        running = {job_id: since for job_id, (_, since) in dict(self._running).items()}
        return f"ETA {clock(self.estimates.left(set(self._pending), running))}"

    def _beats(self) -> None:
        while not self._stop.wait(self._heartbeat):
            with self._lock:
                running = list(self._running.values())
            for job, since in running:
                if time.monotonic() - since < self._heartbeat / 2:
                    continue  # it just started: its start line is news enough
                minutes, seconds = divmod(int(time.monotonic() - since), 60)
                self._line(f"{job.stage:<7} {job.cell} still running ({minutes} min {seconds:02d} s)")

    def _line(self, text: str) -> None:
        stamp = clock(time.monotonic() - self.start)
        eta = self.eta()
        width = len(str(self.total))
        line = f"[{self.done:>{width}}/{self.total} {stamp}{' ' + eta if eta else ''}] {text}"
        if self._live is not None:
            self._live.print(line)
            return
        with self._lock:
            print(line, file=self.out, flush=True)

    def _status(self) -> str:
        """The live line under the log, redrawn twice a second by rich's refresh thread."""
        running = ", ".join(f"{job.stage} {job.cell}" for job, _ in list(self._running.values())) or "-"
        eta = f" · {self.eta()}" if self.estimates is not None else ""
        elapsed = clock(time.monotonic() - self.start)
        return f"{self.done}/{self.total} jobs · {elapsed} elapsed{eta} · running: {running}"

    def note(self, text: str) -> None:
        self._line(text)

    def started(self, job: Job) -> None:
        with self._lock:
            self._pending.discard(job.id)
            self._running[job.id] = (job, time.monotonic())
            if self._beat is None and self._heartbeat > 0:
                self._beat = threading.Thread(target=self._beats, name="heartbeat", daemon=True)
                self._beat.start()
        self._line(f"{job.stage:<7} {job.cell} ...")

    def reused(self, job: Job, record: Record) -> None:
        with self._lock:
            self._pending.discard(job.id)
            self.done += 1
        self._line(f"{job.stage:<7} {job.cell} = {mark(record)} (stored result)")

    def finished(self, job: Job, record: Record, log: Optional[Path] = None) -> None:
        with self._lock:
            self._pending.discard(job.id)
            self.done += 1
            self._running.pop(job.id, None)
        seconds = record.metrics.get("seconds") if record.metrics else None
        detail = f" {seconds:.1f} s" if isinstance(seconds, (int, float)) else ""
        latency = (record.metrics or {}).get("latency_ms")
        if isinstance(latency, dict):
            detail += f", {formats.duration_ms(latency['median'])}/call"
        self._line(f"{job.stage:<7} {job.cell} -> {mark(record)}{detail}")
        if refusals.is_answer(record):
            self._line(f"        the runtime says: {refusals.reason(record.message)}")
        elif record.status not in (Status.OK, Status.NOT_RUN) and record.message:
            first = headline(record.message, self.cache)
            where = f" (log: {log})" if log is not None and record.status is not Status.SKIP else ""
            self._line(f"        {record.error_class or record.status.value}: {first}{where}")


def _is_terminal(out: TextIO) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError):
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
            _Status(), console=Console(file=out, highlight=False), refresh_per_second=2, transient=True
        )
        self.live.start()

    def print(self, line: str) -> None:
        self.live.console.print(self._text(line), soft_wrap=True)

    def stop(self) -> None:
        self.live.stop()
