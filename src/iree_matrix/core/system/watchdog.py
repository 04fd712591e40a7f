"""The tool's watchdog: a process that outlives the tool just long enough to stop what it started,
however the tool ends. `PR_SET_PDEATHSIG` reaches neither a child's children nor a container, so
`processes` tells it, one JSON line each on stdin, of every group, tree and container it starts and
ends (["pg", PGID] ["-pg", PGID] ["tree", TOKEN, [CGROUP, ...]] ["-tree", TOKEN] ["ct", REMOVE_ARGV,
NAME] ["-ct", NAME]); at the end of stdin it kills what is still registered and removes the
containers. It runs as a file in its own session, importing nothing of iree-matrix.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

TOKEN_ENV = "IREE_MATRIX_TREE"  # process_tree.TOKEN_ENV (this file imports nothing of the package)


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the tool's to handle; EOF is ours
    groups: set[int] = set()
    trees: dict[str, list[str]] = {}  # token -> the tree's cgroups
    boxes: dict[str, tuple[str, ...]] = {}  # container name -> the command that removes it
    for line in sys.stdin:
        try:
            op, *args = json.loads(line)
            if op == "pg":
                groups.add(int(args[0]))
            elif op == "-pg":
                groups.discard(int(args[0]))
            elif op == "tree":
                trees[str(args[0])] = [str(d) for d in args[1]]
            elif op == "-tree":
                trees.pop(str(args[0]), None)
            elif op == "ct":
                boxes[str(args[1])] = tuple(str(a) for a in args[0])
            elif op == "-ct":
                boxes.pop(str(args[0]), None)
        except (ValueError, TypeError, IndexError):
            continue  # a line torn by the tool's death: nothing to act on
    for pgid in groups:
        with contextlib.suppress(OSError):  # already gone
            os.killpg(pgid, signal.SIGKILL)
    if trees:
        end_trees(trees)
    by_command: dict[tuple[str, ...], list[str]] = {}
    for name, remove in boxes.items():
        by_command.setdefault(remove, []).append(name)
    for remove, names in by_command.items():
        # Best effort: the next run's start removes containers whose owner is dead.
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            subprocess.run(
                [*remove, *names],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=120,
            )
    return 0


def end_trees(trees: dict[str, list[str]], deadline: float = 5.0) -> None:
    """SIGKILL every process of the trees until none is left (or `deadline` s), then remove their cgroups."""
    needles = {b"\0" + f"{TOKEN_ENV}={token}".encode() + b"\0" for token in trees}
    dirs = [d for cgroups in trees.values() for d in cgroups]
    end = time.monotonic() + deadline
    while True:
        members = set(_scan(needles))
        for d in dirs:
            with contextlib.suppress(OSError, ValueError), open(os.path.join(d, "cgroup.procs")) as f:
                members.update(int(p) for p in f.read().split())
        members.discard(os.getpid())
        if not members or time.monotonic() > end:
            break
        for pid in members:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.02)
    for d in dirs:
        with contextlib.suppress(OSError):
            os.rmdir(d)


def _scan(needles: set[bytes]) -> Iterator[int]:
    """Live processes whose environment holds one of `needles`."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                if f.read().rpartition(b")")[2].split()[:1] in ([b"Z"], [b"X"]):
                    continue
            with open(f"/proc/{entry}/environ", "rb") as f:
                environ = b"\0" + f.read()
        except OSError:
            continue
        if any(needle in environ for needle in needles):
            yield int(entry)


if __name__ == "__main__":
    sys.exit(main())
