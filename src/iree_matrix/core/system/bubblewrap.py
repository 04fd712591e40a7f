"""The sandbox of a venv command that runs a user's model code (export, peer, flops): bubblewrap
(https://github.com/containers/bubblewrap), the unprivileged sandbox Flatpak uses.

On the venv backend a model's code once ran as the tool's user beside the host: a drill's model
deleted and created files in the host's /dev, made a host file immutable (FS_IOC_SETFLAGS on a
read-only handle), saw 136 host pids and could SIGKILL any of them, and wrote to the kernel log.
Landlock covers none of these (it restricts file writes only). Under bubblewrap the command has
what a container gives: its own pid, ipc, network, uts and mount namespaces; a private /dev
(null, zero, full, random, urandom, tty, pts, shm: no /dev/kmsg, no disks); its own /proc; the
host's root read-only (EROFS, the immutable-flag ioctl included) with only its job directory and the
stage's writable paths writable; a private /tmp; uid and gid 65534 (nobody) in a user namespace;
its own session (no TIOCSTI into the tool's terminal); and it dies with the tool.

`Sandbox` describes one command's sandbox; `Sandbox.argv` is the only place its command line is
written. `problem()` says why bubblewrap cannot run here (None when it can): a stage that needs it
then refuses, unless the user passed `--unsandboxed` (`allow_unsandboxed`).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

NOBODY = 65534
# Set by `--unsandboxed` (and inherited by the processes the tool starts: a local Dask cluster's
# workers): model code runs without bubblewrap where bubblewrap cannot run.
UNSANDBOXED_ENV = "IREE_MATRIX_UNSANDBOXED"
_PROBE_TIMEOUT = 30.0


@dataclasses.dataclass(frozen=True)
class Sandbox:
    """One command's sandbox: what it may read beyond the host's root (paths under /tmp and the
    `hidden` directories, which it sees as empty tmpfs), what it may write, and where it starts."""

    read_only: tuple[str, ...] = ()
    writable: tuple[str, ...] = ()
    cwd: Optional[str] = None
    # Directories it sees empty: the tool's user's home (its keys, tokens and other caches), whose
    # files bubblewrap would otherwise let it read as their owner (its uid maps to the tool's).
    hidden: tuple[str, ...] = ()

    def argv(self, bwrap: str = "bwrap") -> list[str]:
        """The command line that runs a command (appended after it) in this sandbox."""
        argv = [
            bwrap, "--unshare-all", "--uid", str(NOBODY), "--gid", str(NOBODY),
            "--die-with-parent", "--new-session",
            "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
        ]  # fmt: skip
        for path in sorted({os.path.normpath(p) for p in self.hidden} - {"/", "/tmp"}):
            argv += ["--tmpfs", path]
        # After the tmpfs, outer before inner (a writable output inside a read-only input stays
        # writable); of the same path, writable last. A missing input is left out
        # (`--ro-bind-try`), as Landlock left it.
        binds = sorted(
            {(os.path.normpath(p), False) for p in self.read_only}
            | {(os.path.normpath(p), True) for p in self.writable},
            key=lambda bind: (len(Path(bind[0]).parts), bind[1], bind[0]),
        )
        for path, writable in binds:
            argv += ["--bind" if writable else "--ro-bind-try", path, path]
        if self.cwd is not None:
            argv += ["--chdir", self.cwd]
        return [*argv, "--"]


def executable() -> Optional[str]:
    return shutil.which("bwrap")


@functools.cache
def problem() -> Optional[str]:
    """Why bubblewrap cannot run a sandbox here (None when it can): missing, or the kernel refuses its
    user namespace (Ubuntu 24.04's AppArmor, kernel.unprivileged_userns_clone=0, a container's seccomp)."""
    bwrap = executable()
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed"
    true = shutil.which("true") or "/bin/true"
    try:
        done = subprocess.run(
            [*Sandbox().argv(bwrap), true], capture_output=True, text=True, timeout=_PROBE_TIMEOUT
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{bwrap} did not start ({exc})"
    if done.returncode != 0:
        said = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        return f"{bwrap} cannot make its sandbox here ({said})"
    return None


def allow_unsandboxed(allowed: bool) -> None:
    """`--unsandboxed`: where bubblewrap cannot run, model code runs without it (else it refuses)."""
    if allowed:
        os.environ[UNSANDBOXED_ENV] = "1"


def unsandboxed_allowed() -> bool:
    return os.environ.get(UNSANDBOXED_ENV) == "1"


def refusal(stage: str) -> Optional[str]:
    """The one line a stage that runs model code refuses with, None when it may run: bubblewrap runs
    here, or the user allowed running without it."""
    why = problem()
    if why is None or unsandboxed_allowed():
        return None
    return (
        f"the {stage} stage runs your model's code, which on the venv backend runs only inside bubblewrap, "
        f"and {why}: install it (apt-get install bubblewrap, or images/setup-host.sh) and allow "
        "unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1; on Ubuntu "
        "kernel.apparmor_restrict_unprivileged_userns=0), or use --backend docker, or pass --unsandboxed "
        "to run it with the host's /dev, processes and kernel log within its reach"
    )


def signal_status(returncode: int) -> int:
    """A sandboxed command's exit status as Popen gives an unsandboxed one's: bubblewrap reports its
    command's death by signal N as 128+N (as a shell does), the tool's checks read -N."""
    if 128 < returncode < 128 + 65:
        return -(returncode - 128)
    return returncode


def wrap(argv: Sequence[str], sandbox: Sandbox) -> list[str]:
    """`argv` run in `sandbox` (bubblewrap found on PATH)."""
    return [*sandbox.argv(executable() or "bwrap"), *argv]
