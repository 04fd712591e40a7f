"""One executor's turns at timing, for stages that take the machine's quiet lock themselves after their
model's first call (`Stage.warms_up`: export, peer): such a job runs beside others until it asks for quiet,
then waits for its turn and for every other job to end or to ask too, and while it holds the turn no new job
starts; its heavy untimed part runs outside the turn, so on few cores exports and compiles overlap."""

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
