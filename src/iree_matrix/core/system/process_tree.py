"""A command's whole process tree: found, limited and ended with it. A cgroup of its own where one can
be made; elsewhere an environment token (`IREE_MATRIX_TREE`), a child subreaper, and `RLIMIT_AS`."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import os
import re
import resource
import secrets
import signal
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Optional, Union

TOKEN_ENV = "IREE_MATRIX_TREE"
MEMORY_ENV = "IREE_MATRIX_MEMORY_LIMIT"
PROCESSES_ENV = "IREE_MATRIX_PROCESS_LIMIT"
CGROUPS_ENV = "IREE_MATRIX_CGROUPS"  # "0": never make cgroups (the RLIMIT_AS fallback everywhere)
# The default memory limit per command: beyond it the command fails, not the machine.
DEFAULT_MEMORY_SHARE = 0.8
# Tasks per command: far above what torch and IREE start, far below a fork bomb's.
DEFAULT_PROCESSES = 4096
CGROUP_ROOT = Path("/sys/fs/cgroup")
_V1 = ("pids", "memory")  # the v1 hierarchies a command gets a cgroup in (the first lists members)
_KILL_DEADLINE = 2.0  # seconds of killing and re-listing before `kill` gives up on a member


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one command may use: bytes of memory, tasks (processes and threads); None: no limit."""

    memory: Optional[int] = None
    processes: Optional[int] = None
    memory_default: bool = False  # `memory` is the default share, no one set it (a message says so)

    def memory_text(self) -> str:
        if not self.memory:
            return "no limit set"
        if self.memory_default:
            share = round(DEFAULT_MEMORY_SHARE * 100)
            size = size_text(self.memory)
            return f"the default limit {size}, {share} % of this machine's memory; none was set"
        return f"limit {size_text(self.memory)}"


_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_memory(text: Union[str, int]) -> Optional[int]:
    """'8G', '512M', '1.5GiB', '75%' (of this machine's memory), bytes, or 'none' (None); else ValueError."""
    if isinstance(text, bool):
        raise ValueError("expected a size")
    if isinstance(text, int):
        if text <= 0:
            raise ValueError("expected a positive number of bytes")
        return text
    if (word := str(text).strip().lower()) in ("none", "unlimited", "off"):
        return None
    if word.endswith("%"):
        share = float(word[:-1])
        if not 0 < share <= 100:
            raise ValueError("expected a share of the machine's memory between 0 and 100 %")
        return int(machine_memory() * share / 100)
    if (found := _SIZE.fullmatch(word)) is None:
        raise ValueError("expected a size such as 8G, 512M, 75% or none")
    if (value := int(float(found.group(1)) * _UNITS[found.group(2).lower()])) <= 0:
        raise ValueError("expected a positive size")
    return value


def parse_processes(value: Union[str, int]) -> Optional[int]:
    """A positive task count, or 'none' (None). Raises ValueError on anything else."""
    if isinstance(value, str) and value.strip().lower() in ("none", "unlimited", "off"):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError("expected a number of tasks (processes and threads), or none")
    if (number := int(value)) <= 0:
        raise ValueError("expected a positive number of tasks")
    return number


def size_text(size: int) -> str:
    """1.5 GiB, 300 MiB."""
    for unit, scale in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f}".rstrip("0").rstrip(".") + f" {unit}"
    return f"{size} bytes"


def machine_memory() -> int:
    """This machine's memory in bytes (MemTotal)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


_given: dict[str, Union[str, int]] = {}  # a matrix file's [limits], for every environment command


def use(limits: Mapping[str, Union[str, int]]) -> None:
    """A matrix file's `[limits]`: this process's commands' unless the environment says otherwise."""
    _given.clear()
    _given.update(limits)


def configured(environ: Mapping[str, str] = os.environ) -> Limits:
    """The environment variables', else the matrix file's `[limits]`, else the defaults (ValueError)."""

    def pick(
        name: str, key: str, parse: Callable[[Union[str, int]], Optional[int]], default: Callable[[], int]
    ) -> Optional[int]:
        if environ.get(name, "").strip():
            try:
                return parse(environ[name])
            except ValueError as exc:
                raise ValueError(f"${name} = {environ[name]!r}: {exc}") from None
        return default() if (given := _given.get(key)) is None else parse(given)

    return Limits(
        memory=pick(MEMORY_ENV, "memory", parse_memory, lambda: int(machine_memory() * DEFAULT_MEMORY_SHARE)),
        processes=pick(PROCESSES_ENV, "processes", parse_processes, lambda: DEFAULT_PROCESSES),
        memory_default=not environ.get(MEMORY_ENV, "").strip() and _given.get("memory") is None,
    )


@dataclasses.dataclass(frozen=True)
class _Hierarchy:
    name: str  # "pids", "memory" (v1), or "" (v2: every controller)
    parent: Path  # this process's own cgroup in it: commands' cgroups are made below


def _own_cgroups(root: Path, proc_cgroup: str) -> list[_Hierarchy]:
    """The hierarchies a command's cgroup can be made in: v1's pids and memory where mounted, else v2."""
    paths: dict[str, str] = {}
    for line in proc_cgroup.splitlines():
        _, controllers, path = line.split(":", 2) if line.count(":") >= 2 else ("", "", "")
        for name in controllers.split(",") if controllers else [""]:
            paths.setdefault(name, path)
    found = [
        _Hierarchy(name, root / name / paths[name].lstrip("/"))
        for name in _V1
        if name in paths and name and (root / name / "cgroup.procs").is_file()
    ]
    if found:
        return found
    if "" in paths:
        for unified in (root, root / "unified"):  # pure v2, or v2 beside v1 (hybrid)
            if (unified / "cgroup.controllers").is_file():
                return [_Hierarchy("", unified / paths[""].lstrip("/"))]
    return []


_usable: Optional[list[_Hierarchy]] = None
_usable_lock = threading.Lock()
_counter = itertools.count(1)


def _hierarchies() -> list[_Hierarchy]:
    """The hierarchies this process may make cgroups in (found once): none with $IREE_MATRIX_CGROUPS=0."""
    global _usable
    with _usable_lock:
        if _usable is None:
            _usable = []
            if os.environ.get(CGROUPS_ENV, "1") != "0":
                own = _own_cgroups(CGROUP_ROOT, _text(Path("/proc/self/cgroup")))
                _usable = [h for h in own if os.access(h.parent, os.W_OK)]
        return _usable


def _drop(hierarchy: _Hierarchy) -> None:
    """Stop trying a hierarchy that refused a cgroup (read-only, not delegated): once per process."""
    with _usable_lock:
        if _usable is not None and hierarchy in _usable:
            _usable.remove(hierarchy)


class _Cgroup:
    def __init__(self, hierarchy: _Hierarchy, path: Path) -> None:
        self.hierarchy = hierarchy
        self.path = path
        self.procs_fd: Optional[int] = None  # cgroup.procs, open for the child to write itself into
        self.memory_limited = False
        self.processes_limited = False

    @classmethod
    def make(cls, hierarchy: _Hierarchy, name: str, limits: Limits) -> Optional[_Cgroup]:
        group = cls(hierarchy, hierarchy.parent / name)
        try:
            group.path.mkdir()
            try:
                group.procs_fd = os.open(group.path / "cgroup.procs", os.O_WRONLY)
            except OSError:
                group.remove()  # made here: removed
                raise
        except OSError:
            _drop(hierarchy)
            return None
        group._limit(limits)
        return group

    def _limit(self, limits: Limits) -> None:
        v1 = bool(self.hierarchy.name)
        if limits.memory is not None and self.hierarchy.name in ("memory", ""):
            if self._write("memory.limit_in_bytes" if v1 else "memory.max", str(limits.memory)):
                self.memory_limited = True
                # No swap to spill into: beyond the limit is out of memory, as with `docker --memory`.
                if v1:
                    self._write("memory.memsw.limit_in_bytes", str(limits.memory))
                else:
                    self._write("memory.swap.max", "0")
        if limits.processes is not None and self.hierarchy.name in ("pids", ""):
            self.processes_limited = self._write("pids.max", str(limits.processes))

    def _write(self, name: str, value: str) -> bool:
        try:
            (self.path / name).write_text(value)
            return True
        except OSError:  # the controller is not enabled here (v2), or the file is absent
            return False

    def members(self) -> set[int]:
        with contextlib.suppress(OSError, ValueError):
            return {int(p) for p in (self.path / "cgroup.procs").read_text().split()}
        return set()

    def kill_all(self) -> bool:
        """cgroup v2's `cgroup.kill` (Linux 5.14): every member SIGKILLed by the kernel at once."""
        return not self.hierarchy.name and self._write("cgroup.kill", "1")

    @property
    def accounts_memory(self) -> bool:
        """A memory cgroup: it counts its members' OOM kills, the machine's OOM killer's too."""
        return self.hierarchy.name == "memory" or (
            not self.hierarchy.name and (self.path / "memory.events").is_file()
        )

    def oom_kills(self) -> int:
        """How many processes the memory limit has killed here (v2 memory.events, v1 memory.oom_control)."""
        return self._count(("memory.events", "memory.oom_control"), "oom_kill")

    def refused_forks(self) -> int:
        """How many forks the process limit has refused here (pids.events, v1 and v2)."""
        return self._count(("pids.events",), "max")

    def _count(self, files: Sequence[str], key: str) -> int:
        for name in files:
            for line in _text(self.path / name).splitlines():
                found, _, value = line.partition(" ")
                if found == key and value.strip().isdigit():
                    return int(value)
        return 0

    def close_fd(self) -> None:
        if self.procs_fd is not None:
            os.close(self.procs_fd)
            self.procs_fd = None

    def remove(self) -> None:
        self.close_fd()
        # Gone already, or a member left (unkillable): the watchdog tries again when the tool ends.
        with contextlib.suppress(OSError):
            self.path.rmdir()


class Tree:
    """The processes of one command: made before it starts, `close`d after it ends."""

    def __init__(self, limits: Optional[Limits] = None) -> None:
        self.limits = limits or Limits()
        self.token = f"{os.getpid()}-{next(_counter)}-{secrets.token_hex(4)}"
        self.root: Optional[int] = None  # the command's own process, once started
        made = (_Cgroup.make(h, f"iree-matrix-{self.token}", self.limits) for h in _hierarchies())
        self.cgroups = [group for group in made if group is not None]
        # Kept as made: `close` drops the cgroups, and a failure's cause is read after it (processes.py).
        self.memory_by_cgroup = any(g.memory_limited for g in self.cgroups)
        self.exact = False  # whether the cgroup holds the command (checked once it started)
        self._needle = b"\0" + f"{TOKEN_ENV}={self.token}".encode() + b"\0"
        self._oom_before = _machine_oom_kills()
        # Read by `close` before the cgroups go: whether its limits killed a process or refused a fork,
        # and every OOM kill in its memory cgroups.
        self.oom_killed = False
        self.refused_forks = False
        self._own_oom_kills: Optional[int] = None

    def rlimits(self) -> list[tuple[int, tuple[int, int]]]:
        """What the child sets on itself before exec: RLIMIT_AS, when no cgroup limits its memory."""
        if self.limits.memory is None or self.memory_by_cgroup:
            return []
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = self.limits.memory if hard == resource.RLIM_INFINITY else min(hard, self.limits.memory)
        return [(resource.RLIMIT_AS, (limit, hard))]

    def started(self, pid: int) -> None:
        """The command is running as `pid` (its setup, joining the cgroups included, is done)."""
        self.root = pid
        for group in self.cgroups:
            group.close_fd()
        if self.cgroups:
            name = "/" + self.cgroups[0].path.name
            self.exact = any(line.endswith(name) for line in _text(Path(f"/proc/{pid}/cgroup")).splitlines())

    def watchdog_message(self) -> bytes:
        """The line that tells the watchdog about this tree (it kills its members if the tool dies)."""
        return (json.dumps(["tree", self.token, [str(g.path) for g in self.cgroups]]) + "\n").encode()

    def members(self) -> set[int]:
        if self.exact:  # its cgroups hold every member; gone (`close`), they held none
            return (self.cgroups[0].members() if self.cgroups else set()) - {os.getpid()}
        return scan(self._needle, {self.root} if self.root else set()) - {os.getpid()}

    def signal(self, sig: int) -> None:
        for pid in self.members():
            _send(pid, sig)

    def kill(self, deadline: float = _KILL_DEADLINE) -> int:
        """SIGKILL every member until none is left or `deadline` seconds have passed: how many there were."""
        end = time.monotonic() + deadline
        seen: set[int] = set()
        if (members := self.members()) and self.exact:
            for group in self.cgroups:
                if group.kill_all():  # the kernel kills them all; the loop waits for the list to empty
                    break
        while members:
            seen |= members
            for pid in members:
                _send(pid, signal.SIGKILL)
            if time.monotonic() >= end:
                break
            time.sleep(0.01)
            members = self.members()
        return len(seen)

    def machine_oom_killed(self) -> bool:
        """Whether the kernel's OOM killer ended one of the command's processes (else any, machine-wide)."""
        if self._own_oom_kills is not None:  # read by `close`, which every command's end calls first
            return self._own_oom_kills > 0
        now = _machine_oom_kills()
        return now is not None and self._oom_before is not None and now > self._oom_before

    def close(self) -> int:
        """After the command: every member killed, the cgroups removed; how many members were left."""
        left = self.kill()
        self.oom_killed = any(g.oom_kills() for g in self.cgroups if g.memory_limited)
        counted = [g.oom_kills() for g in self.cgroups if g.accounts_memory]
        self._own_oom_kills = sum(counted) if counted else None
        self.refused_forks = any(g.refused_forks() for g in self.cgroups if g.processes_limited)
        for group in self.cgroups:
            group.remove()
        self.cgroups = [g for g in self.cgroups if g.path.exists()]
        return left


def _text(path: Path) -> str:
    """A file's text, "" when it cannot be read (a cgroup file a controller lacks, a process gone)."""
    with contextlib.suppress(OSError):
        return path.read_text()
    return ""


def _send(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def _machine_oom_kills() -> Optional[int]:
    """/proc/vmstat's oom_kill: processes the kernel's OOM killer ended since boot (Linux 4.13)."""
    with contextlib.suppress(OSError, ValueError, IndexError), open("/proc/vmstat", "rb") as f:
        return next((int(line.split()[1]) for line in f if line.startswith(b"oom_kill ")), None)
    return None


def scan(needle: bytes, roots: Iterable[int]) -> set[int]:
    """Live processes whose environment holds `needle`, and every descendant of them and of `roots`."""
    parent_of: dict[int, int] = {}
    marked = set(roots)
    uid = os.getuid()
    for entry in _proc_entries():
        pid = int(entry)
        try:
            stat = Path(f"/proc/{entry}/stat").read_bytes()
        except OSError:
            continue
        fields = stat.rpartition(b")")[2].split()
        if len(fields) < 2 or fields[0] in (b"Z", b"X"):
            continue
        parent_of[pid] = int(fields[1])
        try:
            if uid != 0 and os.stat(f"/proc/{entry}").st_uid != uid:
                continue  # another user's: its environment is not ours to read
            environ = Path(f"/proc/{entry}/environ").read_bytes()
        except OSError:
            continue
        if needle in b"\0" + environ:
            marked.add(pid)
    children: dict[int, list[int]] = {}
    for pid, parent in parent_of.items():
        children.setdefault(parent, []).append(pid)
    found: set[int] = set()
    stack = [pid for pid in marked if pid in parent_of]
    while stack:
        if (pid := stack.pop()) not in found:
            found.add(pid)
            stack.extend(children.get(pid, ()))
    return found


def _proc_entries() -> Sequence[str]:
    with contextlib.suppress(OSError):
        return [name for name in os.listdir("/proc") if name.isdigit()]
    return []


def child_setup(join: Sequence[int], rlimits: Sequence[tuple[int, tuple[int, int]]]) -> None:
    """In the child, before exec: join the cgroups, set the limits, and become a subreaper."""
    for fd in join:
        # "0": the writing process itself; not permitted after all: the environment token still finds the tree
        with contextlib.suppress(OSError):
            os.write(fd, b"0")
    for which, values in rlimits:
        with contextlib.suppress(OSError, ValueError):
            resource.setrlimit(which, values)
    if prctl is not None:
        prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


# What a tool's output says when an allocation failed (what RLIMIT_AS makes of too much memory).
ALLOCATION_FAILED = (
    "MemoryError",
    "std::bad_alloc",
    "Cannot allocate memory",
    "can't allocate memory",
    "out of memory",
    "Out of memory",
    "failed to allocate",
)

_PR_SET_CHILD_SUBREAPER = 36
try:
    import ctypes
    import ctypes.util

    # Looked up once, at import (here and by `processes`), not in a child between fork and exec.
    prctl = getattr(ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True), "prctl", None)
except OSError:  # pragma: no cover - no libc to load
    prctl = None
