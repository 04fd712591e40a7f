"""The tool's watchdog: a small process that outlives the tool just long enough to stop what it
started, however the tool ends (`kill -9` included).

`PR_SET_PDEATHSIG` kills a direct child when the tool dies, but not the child's own children (pip's
build backends, iree-compile's lld: the flag is cleared on fork), and not a container, which is the
Docker daemon's child. So `_proc` tells this process about every process group and container it
starts and ends, one JSON line each on our stdin:

    ["pg", PGID]  ["-pg", PGID]  ["ct", REMOVE_ARGV, NAME]  ["-ct", NAME]

and when stdin reaches its end - the tool's end of the pipe closed, by exit, crash or SIGKILL - it
SIGKILLs every group still registered and removes every container still registered: it runs the
REMOVE_ARGV it was given (`containers` makes it: `docker rm --force --volumes`) with their names
appended, knowing nothing of Docker itself.

It runs as a file (`python -I -S _watchdog.py`), in its own session, importing nothing of
iree-matrix: a signal to the tool's process group must not reach it, and it must start fast.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the tool's to handle; EOF is ours
    groups: set[int] = set()
    boxes: dict[str, tuple[str, ...]] = {}  # container name -> the command that removes it
    for line in sys.stdin:
        try:
            op, *args = json.loads(line)
            if op == "pg":
                groups.add(int(args[0]))
            elif op == "-pg":
                groups.discard(int(args[0]))
            elif op == "ct":
                boxes[str(args[1])] = tuple(str(a) for a in args[0])
            elif op == "-ct":
                boxes.pop(str(args[0]), None)
        except (ValueError, TypeError, IndexError):
            continue  # a line torn by the tool's death: nothing to act on
    for pgid in groups:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            pass  # already gone
    by_command: dict[tuple[str, ...], list[str]] = {}
    for name, remove in boxes.items():
        by_command.setdefault(remove, []).append(name)
    for remove, names in by_command.items():
        try:
            subprocess.run(
                [*remove, *names],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=120,
            )
        except (OSError, subprocess.TimeoutExpired):
            pass  # the next run's start removes containers whose owner is dead
    return 0


if __name__ == "__main__":
    sys.exit(main())
