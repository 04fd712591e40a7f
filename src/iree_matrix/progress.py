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
    located = _LOCATED.match(line)
    if located:
        line = f"{located['what']} (at {located['where']})"
    return line if len(line) <= width else line[: width - 1] + "…"


class Progress:
    def __init__(self, total: int, out: Optional[TextIO] = None, cache: Optional[Path] = None) -> None:
        self.total = total
        self.cache = cache
        self.done = 0
        self.out = out or sys.stdout
        self.start = time.monotonic()
        self._lock = threading.Lock()

    def _line(self, text: str) -> None:
        elapsed = int(time.monotonic() - self.start)
        stamp = f"{elapsed // 3600:d}:{elapsed // 60 % 60:02d}:{elapsed % 60:02d}"
        width = len(str(self.total))
        with self._lock:
            print(f"[{self.done:>{width}}/{self.total} {stamp}] {text}", file=self.out, flush=True)

    def note(self, text: str) -> None:
        self._line(text)

    def started(self, job: Job) -> None:
        self._line(f"{job.stage:<7} {job.cell} ...")

    def reused(self, job: Job, record: Record) -> None:
        with self._lock:
            self.done += 1
        self._line(f"{job.stage:<7} {job.cell} = {MARKS[record.status]} (stored result)")

    def finished(self, job: Job, record: Record, log: Optional[Path] = None) -> None:
        with self._lock:
            self.done += 1
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
