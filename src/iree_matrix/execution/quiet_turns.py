"""One executor's turns at timing, for the stages that take the machine's quiet lock themselves after their
model's first call (`Stage.warms_up`: export, peer). Such a job runs beside installs and compiles until its
worker asks for quiet; it then waits for its turn (one at a time) and for every other job of this executor to
end or to be waiting for a turn itself (so no two wait on each other), and while it holds the turn no new job
starts. An export's heavy part, turbine's export after the eager timing, runs outside its turn (the worker
says when its timing is done), so on 2 cores the first exports and compiles overlap instead of queueing one by
one (a user's first run on a 2-core Zen 3 started no compile for 22 minutes while exports waited in line)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Optional

from iree_matrix.core.system.locks import LockCancelled

POLL = 0.5  # seconds between two looks at a cancel (Ctrl-C, the worker ended) while waiting


class QuietTurns:
    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._active: set[str] = set()  # started and not ended
        self._asking: set[str] = set()  # waiting for a turn: idle, their worker waits for the go
        self._turn: Optional[str] = None

    def start(self, job: str) -> bool:
        """Whether `job` may start now: no job holds a turn or asks for one (a stream of compiles
        would keep an asking one waiting). If so it counts as running from here, so a turn taken a
        moment later waits for it."""
        with self._changed:
            if free := self._turn is None and not self._asking:
                self._active.add(job)
            return free

    def ended(self, job: str, *_: object) -> None:  # a future's done callback too
        with self._changed:
            self._active.discard(job)
            self._changed.notify_all()

    def _held(self, job: str) -> bool:
        """Another job holds a turn, or runs without asking for one."""
        return self._turn is not None or bool(self._active - self._asking - {job})

    @contextlib.contextmanager
    def turn(self, job: str, cancelled: Callable[[], bool], waiting: Callable[[], None]) -> Iterator[None]:
        """`job`'s turn: when no other job holds one and every other job of the executor has ended
        or asks for one too. `waiting` is called once if it has to wait; LockCancelled when
        `cancelled` says so while it waits."""
        with self._changed:
            self._asking.add(job)
            try:
                if self._held(job):
                    waiting()  # said once
                while self._held(job):
                    if cancelled():
                        raise LockCancelled(f"{job}: cancelled while waiting for its turn to time")
                    self._changed.wait(POLL)
                self._turn = job
            finally:
                self._asking.discard(job)
        try:
            yield
        finally:
            with self._changed:
                self._turn = None
                self._changed.notify_all()
