"""What a person watching a long run sees: which stage of which cell, n of N, elapsed time."""

from __future__ import annotations

import re
import sys
import threading
import time
from pathlib import Path
from typing import Optional, TextIO

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


class Progress:
    """One line per job start and end, and a heartbeat for stages that run long (a compile of
    YOLOX takes minutes): a person watching knows it is working, and on what."""

    def __init__(
        self,
        total: int,
        out: Optional[TextIO] = None,
        cache: Optional[Path] = None,
        heartbeat: float = HEARTBEAT_SECONDS,
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

    def close(self) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join(timeout=2)

    def _beats(self) -> None:
        while not self._stop.wait(self._heartbeat):
            with self._lock:
                running = list(self._running.values())
            for job, since in running:
                minutes, seconds = divmod(int(time.monotonic() - since), 60)
                self._line(f"{job.stage:<7} {job.cell} still running ({minutes} min {seconds:02d} s)")

    def _line(self, text: str) -> None:
        elapsed = int(time.monotonic() - self.start)
        stamp = f"{elapsed // 3600:d}:{elapsed // 60 % 60:02d}:{elapsed % 60:02d}"
        width = len(str(self.total))
        with self._lock:
            print(f"[{self.done:>{width}}/{self.total} {stamp}] {text}", file=self.out, flush=True)

    def note(self, text: str) -> None:
        self._line(text)

    def started(self, job: Job) -> None:
        with self._lock:
            self._running[job.id] = (job, time.monotonic())
            if self._beat is None and self._heartbeat > 0:
                self._beat = threading.Thread(target=self._beats, name="heartbeat", daemon=True)
                self._beat.start()
        self._line(f"{job.stage:<7} {job.cell} ...")

    def reused(self, job: Job, record: Record) -> None:
        with self._lock:
            self.done += 1
        self._line(f"{job.stage:<7} {job.cell} = {MARKS[record.status]} (stored result)")

    def finished(self, job: Job, record: Record, log: Optional[Path] = None) -> None:
        with self._lock:
            self.done += 1
            self._running.pop(job.id, None)
        seconds = record.metrics.get("seconds") if record.metrics else None
        detail = f" {seconds:.1f} s" if isinstance(seconds, (int, float)) else ""
        latency = (record.metrics or {}).get("latency_ms")
        if isinstance(latency, dict):
            detail += f", {latency['median']:.3g} ms/call"
        self._line(f"{job.stage:<7} {job.cell} -> {MARKS[record.status]}{detail}")
        if record.status not in (Status.OK, Status.NOT_RUN) and record.message:
            first = headline(record.message, self.cache)
            where = f" (log: {log})" if log is not None and record.status is not Status.SKIP else ""
            self._line(f"        {record.error_class or record.status.value}: {first}{where}")
