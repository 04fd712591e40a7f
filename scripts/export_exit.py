"""The export's supervisor (export_model.py's `entry`): the export runs in a child interpreter that
ends the normal way, watched by this one. Some releases' MLIR bindings never let a process end
after an export (iree-base-compiler 3.6.0: stuck in PyGILState_Ensure while MLIR's resources are
destroyed at exit; 3.3.0/3.4.0: a deadlock in _mlir.so's teardown). When the child's outputs are
complete (export.json or error.json, written last and atomically) and it has neither ended within
EXIT_GRACE seconds nor used CPU for IDLE seconds, it is killed and export.json says so
(`exit_hang`). Python 3.9 syntax; the stdlib only.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from export_phases import write_json

WORKER = Path(__file__).resolve().parent / "export_model.py"

# A finished export's process that has not ended EXIT_GRACE seconds after its outputs were complete,
# and has used less than IDLE_CPU seconds of CPU in the last IDLE seconds, is hung (a teardown that
# still computes is waited for: the stage's timeout bounds it). Without /proc (no CPU time to read),
# NO_PROC_GRACE seconds.
EXIT_GRACE = 20.0
IDLE = 10.0
IDLE_CPU = 0.05
NO_PROC_GRACE = 120.0
POLL = 0.25


class ExitWatch:
    """Whether a process whose outputs are complete is hung at exit, from CPU-time samples."""

    def __init__(
        self, complete_at, grace=EXIT_GRACE, idle=IDLE, idle_cpu=IDLE_CPU, no_proc_grace=NO_PROC_GRACE
    ):
        self.complete_at = complete_at
        self.grace, self.idle, self.idle_cpu, self.no_proc_grace = grace, idle, idle_cpu, no_proc_grace
        self.samples = []  # (time, cpu seconds) since complete_at

    def hung(self, now, cpu):
        """After a sample (`cpu`: the process's CPU seconds, None when unreadable): is it hung?"""
        waited = now - self.complete_at
        if cpu is None:
            return waited >= self.no_proc_grace
        self.samples.append((now, cpu))
        if waited < self.grace:
            return False
        # CPU time only grows: what it used since the last sample at least `idle` seconds old
        before = [c for t, c in self.samples if t <= now - self.idle]
        return bool(before) and cpu - before[-1] < self.idle_cpu

    def idle_seconds(self, now):
        """How long the CPU time has not moved (by more than `idle_cpu`), up to `now`."""
        if not self.samples:
            return 0.0
        last = self.samples[-1][1]
        since = now
        for t, c in reversed(self.samples):
            if last - c >= self.idle_cpu:
                break
            since = t
        return now - since


def cpu_seconds(pid):
    """A process's user + system CPU time (all its threads) from /proc, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def supervise(argv, out, command=None):
    """Run this worker in a child interpreter (`--child`, which ends the normal way; `command`
    instead, in tests) and wait for it; kill it if it hangs at exit after its outputs are complete,
    saying so in export.json (or error.json)."""
    child = subprocess.Popen(command or [sys.executable, str(WORKER), "--child", *argv])

    def forward(signum, frame):  # a stop from outside stops the export too
        child.send_signal(signum)
        raise SystemExit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, forward)
    watch = None
    while True:
        try:
            code = child.wait(timeout=POLL)
            return code if code >= 0 else 128 - code
        except subprocess.TimeoutExpired:
            pass
        now = time.monotonic()
        if watch is None:
            if (out / "export.json").is_file() or (out / "error.json").is_file():
                watch = ExitWatch(now)
            continue
        if watch.hung(now, cpu_seconds(child.pid)):
            child.kill()
            child.wait()
            return record_exit_hang(out, now - watch.complete_at, watch.idle_seconds(now))


def record_exit_hang(out, waited, idle):
    """export.json's `exit_hang` (the export is complete and stands: exit 0); after a failure,
    error.json's (the failure stands: exit 1)."""
    hang = {"seconds_after_outputs": round(waited, 1), "idle_seconds": round(idle, 1)}
    for name, code in (("export.json", 0), ("error.json", 1)):
        path = out / name
        if path.is_file():
            data = json.loads(path.read_text())
            data["exit_hang"] = hang
            write_json(path, data)
            print(
                f"[export_model: the exporting process did not end {waited:.0f} s after its outputs "
                f"were complete, idle for {idle:.0f} s: killed]",
                file=sys.stderr,
                flush=True,
            )
            return code
    return 1
