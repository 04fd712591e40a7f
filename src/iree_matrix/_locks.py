"""Advisory file locks: one so two iree-matrix processes never build the same thing at once, and
the machine's quiet lock, so no run times a stage while another run on the machine computes."""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Callable, Optional

QUIET_LOCK = Path(tempfile.gettempdir()) / "iree-matrix-quiet.lock"
_held = threading.local()  # this thread already holds the quiet lock: a nested request is a no-op


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


class LockCancelled(Exception):
    """Cancelled (Ctrl-C) while waiting for the machine's quiet lock."""


@contextlib.contextmanager
def machine_lock(
    exclusive: bool,
    path: Optional[Path] = None,
    on_wait: Optional[Callable[[], None]] = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> Iterator[None]:
    """Shared for an ordinary stage, exclusive for a timed one, across every iree-matrix process on
    this machine (two runs with their own caches, distributed workers): a timed stage waits until
    no other run's stage computes, and a timed stage waiting at the gate keeps new ordinary stages
    from starting. `on_wait` is called once when the lock is not free at once (to say so); while it
    waits, `cancelled()` returning True (Ctrl-C) raises LockCancelled instead of waiting on.
    `$IREE_MATRIX_QUIET_LOCK` names another lock file (tests; a machine with a private /tmp per user).
    Re-entrant per thread: a worker that holds it around a whole job does not lock again inside."""
    if getattr(_held, "depth", 0):
        _held.depth += 1
        try:
            yield
        finally:
            _held.depth -= 1
        return
    path = path or Path(os.environ.get("IREE_MATRIX_QUIET_LOCK") or QUIET_LOCK)
    path.parent.mkdir(parents=True, exist_ok=True)
    gate = os.open(f"{path}.gate", os.O_RDWR | os.O_CREAT, 0o666)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        said = _flock(gate, fcntl.LOCK_EX, on_wait, cancelled)
        try:
            _flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH, None if said else on_wait, cancelled)
        finally:
            if not exclusive:
                fcntl.flock(gate, fcntl.LOCK_UN)
        _held.depth = 1
        try:
            yield
        finally:
            _held.depth = 0
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        fcntl.flock(gate, fcntl.LOCK_UN)
        os.close(fd)
        os.close(gate)


def _flock(fd: int, mode: int, on_wait: Optional[Callable[[], None]], cancelled: Callable[[], bool]) -> bool:
    """Take the lock, polling (a blocked flock would not hear Ctrl-C); True when it had to wait."""
    waited = False
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return waited
        except BlockingIOError:
            if not waited and on_wait is not None:
                on_wait()
            waited = True
            if cancelled():
                raise LockCancelled("interrupted while waiting for the machine's quiet lock") from None
            time.sleep(0.2)
