"""Advisory file locks: a build's, the cache's (one run per cache), a results directory's (one writer
at a time) and the machine's quiet lock (no two timed stages at once). The last three name their holder
in a file beside the lock, so whoever waits, or is refused, is told whom for."""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Callable, Optional

from iree_matrix.core import formats, input_files
from iree_matrix.core.atomic_files import write_atomically
from iree_matrix.core.cache_layout import CacheLayout
from iree_matrix.core.console import Say
from iree_matrix.core.errors import StorageError, UserError

QUIET_LOCK = Path(tempfile.gettempdir()) / "iree-matrix-quiet.lock"
# How long a holder naming no timeout may keep the quiet lock before a waiter naming none goes on without it.
HOLD_LIMIT = 3600.0
# A timed stage this far past its expected time (OVERRUN times it, at least OVERRUN_FLOOR s past it)
# gives the quiet lock back: a hung forward() held it through its whole export timeout.
OVERRUN = 5.0
OVERRUN_FLOOR = 120.0


def overrun_limit(expected: Optional[float]) -> Optional[float]:
    """How long a holder expected to take `expected` seconds keeps the quiet lock at most."""
    return None if not expected or expected <= 0 else max(OVERRUN * expected, expected + OVERRUN_FLOOR)


# A holder past its overrun limit gives the lock back itself; a waiter takes it for stuck (its timer
# never fired) only this much later: at the same instant the two raced on a loaded machine.
GIVE_BACK_GRACE = 5.0
POLL = 0.2  # seconds between two tries of a busy lock: a blocked flock would not hear Ctrl-C
WAIT_NOTE_EVERY = 30.0  # a `--wait` on a busy cache says it still waits, and how long, this often
_NOBODY = (-1, 0.0)  # no holder said yet
_TURN = (-2, 0.0)  # said: an earlier waiter goes first
_held = threading.local()  # this thread already holds the quiet lock: a nested request is a no-op
# Caches held `reentrant`ly: advise holds its cache over its runs, so no queued run comes between.
_caches_held: set[object] = set()


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(os.open(path, os.O_RDWR | os.O_CREAT, 0o644), "rb") as lock:  # closed, it lets go
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


class LockCancelled(Exception):
    """Cancelled (Ctrl-C) while waiting for the machine's quiet lock."""


class CacheBusy(UserError):
    """Another process holds the cache's lock and this one was not told to wait (`--wait`)."""


def cache_lock(
    cache: Path,
    *,
    wait: bool = False,
    report: Optional[Say] = None,
    cancelled: Callable[[], bool] = lambda: False,
    reentrant: bool = False,
) -> contextlib.AbstractContextManager[None]:
    """One run (or `cache prune`) per cache at a time: two would race on environments and the store.
    Another process is refused naming the holder (`CacheBusy`), or with `wait` waits, saying through
    `report` whom for and how long (`wait_note`); `cancelled()` True (Ctrl-C) raises LockCancelled."""
    path = CacheLayout(Path(cache)).run_lock
    path.parent.mkdir(parents=True, exist_ok=True)
    return _one_holder(
        os.open(path, os.O_RDWR | os.O_CREAT, 0o644),
        holder_path(path),
        wait=wait,
        report=report,
        cancelled=cancelled,
        busy=lambda who: CacheBusy(
            f"another iree-matrix run is using {path.parent}: {who}; wait for it "
            "(--wait waits for it), or pass another --cache"
        ),
        what=f"the cache {path.parent}",
        held=(_caches_held, path.resolve(), reentrant),
    )


class ResultsBusy(UserError):
    """Another process writes the results directory and this one was not told to wait (`--wait`)."""


# The note a results directory's writer leaves in it while it holds the directory's lock.
RESULTS_HOLDER = ".writer.json"
# How long a writer not told to wait still waits before it is refused: a running matrix holds the
# lock only while it appends one record, which must not refuse a `results forget` typed meanwhile.
RESULTS_GRACE = 3.0
_results_held = threading.local()  # (device, inode) of the directories this thread holds


def results_lock(
    directory: Path, *, wait: bool = False, report: Optional[Say] = None, grace: float = RESULTS_GRACE
) -> contextlib.AbstractContextManager[None]:
    """One writer at a time of a results directory's records: every rewrite of results.jsonl holds it
    from its read to its rename, and a running matrix around each append (not its whole run: a user
    may forget a cell meanwhile), else an append made after a rewrite read the log is lost with its
    rename. The lock is a flock on the directory itself; the holder names itself in `RESULTS_HOLDER`.
    Another holder past `grace` is refused by name (`ResultsBusy`), or with `wait` waited for.
    Re-entrant per thread: a merge that holds it does not wait for itself when it appends."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    found = os.fstat(fd := os.open(directory, os.O_RDONLY | os.O_DIRECTORY))
    return _one_holder(
        fd,
        directory / RESULTS_HOLDER,
        wait=wait,
        report=report,
        grace=grace,
        busy=lambda who: ResultsBusy(
            f"another iree-matrix command is writing {directory}: {who}; wait for it (--wait waits for it)"
        ),
        what=str(directory),
        held=(_results_held.__dict__.setdefault("dirs", set()), (found.st_dev, found.st_ino), True),
    )


@contextlib.contextmanager
def _one_holder(
    fd: int,
    note: Path,
    *,
    wait: bool,
    report: Optional[Say],
    busy: Callable[[str], Exception],
    what: str,
    cancelled: Callable[[], bool] = lambda: False,
    grace: float = 0.0,
    held: tuple[set[object], object, bool] = (set(), None, False),
) -> Iterator[None]:
    """An exclusive flock on `fd` (`what` it guards; closed at the end), its holder named in `note` while
    held. Busy past `grace` s: `busy(holder)` is raised, or with `wait`, `wait_note`'s lines reported.
    `held`: (the keys held, this lock's key, whether to add it); a key held already takes nothing."""
    keys, key, reentrant = held
    mine: Optional[Holder] = None
    said: Optional[tuple[int, float]] = _NOBODY
    first, next_note = time.monotonic(), 0.0
    try:
        if key in keys:  # re-entered: nothing taken
            yield
            return
        while True:
            with contextlib.suppress(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            now, who, waited = time.time(), _read_holder(note), time.monotonic() - first
            if waited >= grace:
                if not wait:
                    raise busy(_name(who, now))
                seen = (who.pid, who.since) if who is not None else None  # not `key`: the lock's own
                if (seen != said or waited >= next_note) and report is not None:
                    report(wait_note(what, _name(who, now), waited))
                    said, next_note = seen, waited + WAIT_NOTE_EVERY
            if cancelled():
                raise LockCancelled(f"interrupted while {wait_note(what, _name(who, now), 0)}")
            time.sleep(min(POLL, 0.02) if waited < grace else POLL)
        if said != _NOBODY and report is not None:
            report(wait_note(what, None, time.monotonic() - first))
        mine = Holder(os.getpid(), _program(), time.time(), None, os.urandom(8).hex())
        _write_holder_file(note, mine)
        keys.update([key] if reentrant else [])
        yield
    finally:
        if mine is not None:
            keys.discard(key)
            _remove_holder_file(note, mine)
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@dataclasses.dataclass(frozen=True)
class Holder:
    """Who holds a lock, as its holder file beside the lock says."""

    pid: int
    job: str  # the job id it times ("run:mobilenet_v2/…"), or the program's command line
    since: float  # when it took the lock (seconds since the epoch)
    timeout: Optional[float] = None  # its stage's timeout: past it, a waiter goes on without the lock
    token: str = ""  # which taking of the lock wrote the file (its own removal checks it)
    expected: Optional[float] = None  # how long its stage is expected to take (the run's estimate)

    def limit(self, fallback: Optional[float] = None) -> float:
        """How long it may hold the lock before a waiter takes it for stuck: far past its expected
        time (`overrun_limit`), else its stage's timeout, else `fallback`, else `HOLD_LIMIT`."""
        overrun = overrun_limit(self.expected)
        given_back = overrun + GIVE_BACK_GRACE if overrun is not None else None
        limits = [t for t in (given_back, self.timeout) if t]
        return min(limits) if limits else (fallback or HOLD_LIMIT)

    def left(self, now: Optional[float] = None) -> float:
        """Seconds it is still expected to hold the lock (0 when it names no expected time)."""
        now = time.time() if now is None else now
        return max(0.0, self.expected - (now - self.since)) if self.expected else 0.0

    def describe(self, now: Optional[float] = None) -> str:
        """'pid 1234 (run:mobilenet_v2/… since 11:02:13, 4 min)'."""
        held = _duration((time.time() if now is None else now) - self.since)
        clock = time.strftime("%H:%M:%S", time.localtime(self.since))
        return f"pid {self.pid} ({self.job or 'a job it does not name'} since {clock}, {held})"


def quiet_lock_path() -> Path:
    """The machine's quiet lock file: `$IREE_MATRIX_QUIET_LOCK`, else QUIET_LOCK; a UserError when it is
    no regular file (each timed stage would fail opening it)."""
    path = Path((named := os.environ.get("IREE_MATRIX_QUIET_LOCK")) or QUIET_LOCK)
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return path  # made when it is first taken
    if not stat.S_ISREG(mode):
        said = f"$IREE_MATRIX_QUIET_LOCK {path}" if named else f"the quiet lock {path}"
        raise UserError(
            f"{said}: {input_files.not_regular(mode)}; the quiet lock is a file (made if missing): "
            f"set IREE_MATRIX_QUIET_LOCK to a file's path, e.g. {QUIET_LOCK}"
        )
    return path


def holder_path(lock: Path) -> Path:
    return Path(f"{lock}.holder")


def holder(lock: Path) -> Optional[Holder]:
    """The quiet lock's holder as its file says, or None: no file, unreadable, or its process gone."""
    return _read_holder(holder_path(lock))


def _read_holder(note: Path) -> Optional[Holder]:
    try:
        data = json.loads(note.read_text())
        found = Holder(
            int(data["pid"]),
            str(data.get("job") or ""),
            float(data["since"]),
            float(data["timeout"]) if data.get("timeout") else None,
            str(data.get("token") or ""),
            float(data["expected"]) if data.get("expected") else None,
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return found if _alive(found.pid) else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError as exc:  # ProcessLookupError: gone; PermissionError: another user's process, alive
        return isinstance(exc, PermissionError)
    return True


def machine_lock(
    exclusive: bool,
    path: Optional[Path] = None,
    on_wait: Optional[Callable[[], None]] = None,
    cancelled: Callable[[], bool] = lambda: False,
    *,
    job: str = "",
    timeout: Optional[float] = None,
    report: Optional[Say] = None,
    expected: Optional[float] = None,
) -> contextlib.AbstractContextManager[None]:
    """The machine's quiet lock, across every iree-matrix process here: a timed stage (`exclusive`)
    holds it, so no two runs time at once; any other stage takes nothing, so a compile never waits
    behind a timing (a compile beside a timing shows in the record's `other_load`). The holder notes
    itself beside the lock (`holder_path`); a waiter says whose it is through `report` when it starts
    waiting and whenever the holder changes, and calls `on_wait` once.

    A holder that names its `expected` time gives the lock back once it overruns that far
    (`overrun_limit`). A holder past its limit (that, else its stage `timeout`, else this waiter's,
    else `HOLD_LIMIT`) is taken for stuck: the waiter goes on without the lock, its timing recording
    the other load. `cancelled()` True (Ctrl-C) raises LockCancelled. `$IREE_MATRIX_QUIET_LOCK`
    names another lock file. Re-entrant per thread."""
    # Not timed: never waits, never holds; re-entered: the outer block holds it and lets it go.
    if not exclusive or getattr(_held, "holding", False):
        return contextlib.nullcontext()
    waiter = _Waiter(on_wait, cancelled, timeout, report)
    return _holding(Path(path or quiet_lock_path()), waiter, job, expected)


@dataclasses.dataclass(frozen=True)
class _Waiter:
    """How one `machine_lock` waits, as its caller asked."""

    on_wait: Optional[Callable[[], None]]
    cancelled: Callable[[], bool]
    timeout: Optional[float]
    report: Optional[Say]

    def say(self, text: str) -> None:
        if self.report is not None:
            self.report(text)


@contextlib.contextmanager
def _holding(path: Path, waiter: _Waiter, job: str, expected: Optional[float]) -> Iterator[None]:
    """`machine_lock`'s own hold: waits in turn (`_wait`), notes the holder, arms the give-back past
    the overrun limit; at the block's end removes the note and lets go (one at a time with a give-back)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = _open(path)
    mine: Optional[Holder] = None
    timer: Optional[threading.Timer] = None
    let_go = threading.Lock()  # the give-back and the block's end, one at a time
    ended = threading.Event()  # the block's end closed `fd`: a late give-back must not touch it

    def give_back(held: Holder) -> None:
        """Far past its expected time: the quiet lock let go (the block goes on without it)."""
        with let_go:
            if ended.is_set():  # the block ended first: its fd is closed (its number maybe reused)
                return
            _remove_holder_file(holder_path(path), held)
            fcntl.flock(fd, fcntl.LOCK_UN)
        waiter.say(
            "giving the machine's quiet lock back: this stage has run "
            f"{_duration(time.time() - held.since)}, "
            f"far past the {formats.seconds(held.expected or 0)} it was expected to take (stuck?); it "
            "goes on without it, and its figure records any other run's load"
        )

    try:
        with _turn(path) as ticket:
            taken = _wait(fd, path, ticket, waiter)
        if taken:
            token = os.urandom(8).hex()
            mine = Holder(os.getpid(), job or _program(), time.time(), waiter.timeout, token, expected)
            _write_holder_file(holder_path(path), mine)
            if (limit := overrun_limit(expected)) is not None:
                timer = threading.Timer(limit, give_back, (mine,))
                timer.daemon = True
                timer.start()
        _held.holding = True
        yield
    finally:
        _held.holding = False
        if timer is not None:
            timer.cancel()
        with let_go:
            if mine is not None:
                _remove_holder_file(holder_path(path), mine)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
            ended.set()


def _open(path: Path) -> int:
    with contextlib.suppress(PermissionError):  # another user's lock file: flock needs no write access
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    return os.open(path, os.O_RDONLY)


def queue_path(lock: Path) -> Path:
    return Path(f"{lock}.queue")


@contextlib.contextmanager
def _turn(lock: Path) -> Iterator[Path]:
    """A waiter's ticket in `queue_path`, removed when the wait ends (`_wait` goes in ticket order)."""
    queue = queue_path(lock)
    with contextlib.suppress(OSError):
        queue.mkdir(mode=0o1777, exist_ok=True)
    ticket = queue / f"{time.time_ns():020d}-{os.getpid()}-{threading.get_ident()}"
    with contextlib.suppress(OSError):  # a queue this user cannot write: waits as before, without a turn
        ticket.touch()
    try:
        yield ticket
    finally:
        with contextlib.suppress(OSError):
            ticket.unlink()


def _ahead(ticket: Path) -> bool:
    """Whether a live waiter took its ticket before `ticket` (a dead one's ticket is removed)."""
    try:
        names = sorted(p.name for p in ticket.parent.iterdir())
    except OSError:
        return False
    for name in names:
        if name >= ticket.name:
            return False
        try:
            pid = int(name.split("-")[1])
        except (IndexError, ValueError):
            continue
        if _alive(pid):
            return True
        with contextlib.suppress(OSError):
            (ticket.parent / name).unlink()
    return False


def _wait(fd: int, path: Path, ticket: Path, waiter: _Waiter) -> bool:
    """Take the lock, polling; True once it holds it, False when its holder was past its limit. In
    turn (`ticket`): flock alone is not fair, a run retaking it within a millisecond starved a poller."""
    first, unnamed_since, started, next_note = True, None, time.time(), WAIT_NOTE_EVERY
    said: Optional[tuple[int, float]] = _NOBODY
    while True:
        if not (behind := _ahead(ticket)):
            with contextlib.suppress(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
        now, who = time.time(), holder(path)
        if who is None and behind:  # the lock may be free: an earlier waiter takes it first
            unnamed_since = None
            if said != _TURN:
                waiter.say("waiting for the machine's quiet lock: an earlier waiter goes first")
                said = _TURN
        else:
            if first and waiter.on_wait is not None:
                waiter.on_wait()
            first = False
            unnamed_since = None if who is not None else (unnamed_since or now)
            key = (who.pid, who.since) if who is not None else None
            # An unnamed holder is said only once it stays unnamed: a holder between taking the lock
            # and writing its file (or between removing it and letting go) is not news.
            if key != said and (unnamed_since is None or now - unnamed_since >= 1.0):
                waiter.say(f"waiting for the machine's quiet lock: held by {_name(who, now)}")
                said, next_note = key, now - started + WAIT_NOTE_EVERY
            elif key == said and now - started >= next_note:  # still waiting: say so, as --wait does
                waited = f"; waited {_duration(now - started)} so far"
                waiter.say(f"waiting for the machine's quiet lock: held by {_name(who, now)}{waited}")
                next_note += WAIT_NOTE_EVERY
            held = now - (who.since if who is not None else (unnamed_since or now))
            limit = who.limit(waiter.timeout) if who is not None else (waiter.timeout or HOLD_LIMIT)
            if held > limit:
                waiter.say(
                    f"going on without the machine's quiet lock: {_name(who, now)} has held it past "
                    f"its limit ({_duration(limit)}; stuck?), so this stage is timed beside it "
                    "(its other_load says by how much)"
                )
                return False
        if waiter.cancelled():
            raise LockCancelled("interrupted while waiting for the machine's quiet lock") from None
        time.sleep(POLL)


def wait_note(what: str, who: Optional[str], waited: float) -> str:
    """What a wait for a busy lock (`what`: "the cache /c") says as it starts, when its holder (`who`, as
    described) changes and every WAIT_NOTE_EVERY s with how long so far, so it shows alive; None: took it."""
    if who is None:
        return f"took {what} after waiting {_duration(waited)}"
    so_far = f"; waited {_duration(waited)} so far" if waited >= 1 else ""
    return f"waiting for {what}: in use by {who}{so_far}"


def _name(who: Optional[Holder], now: float) -> str:
    return who.describe(now) if who is not None else "a process that left no note of who it is"


def _write_holder_file(target: Path, mine: Holder) -> None:
    """Best effort, no fsync: a waiter without it only says less, and each record appended writes one."""
    with contextlib.suppress(OSError, StorageError):
        write_atomically(target, json.dumps(dataclasses.asdict(mine)), sync=False)


def _remove_holder_file(note: Path, mine: Holder) -> None:
    """Before the lock is let go, and only the file this taking wrote."""
    if (current := _read_holder(note)) is not None and current.token == mine.token:
        with contextlib.suppress(OSError):
            note.unlink()


def _program() -> str:
    """This process's command line as typed: `python -m iree_matrix …` says "iree-matrix …"."""
    first = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    if first == "__main__.py":
        first = Path(sys.argv[0]).parent.name.replace("_", "-")
    text = " ".join([first, *sys.argv[1:]])
    return text if len(text) <= 80 else text[:79] + "…"


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    return f"{seconds // 60} min" if seconds < 3600 else f"{seconds // 3600} h {seconds // 60 % 60:02d} min"
