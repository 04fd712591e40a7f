"""The bubblewrap sandbox of a venv command that runs a user's model code (Landlock restricts writes
only): its own namespaces, /dev, /proc, /tmp, an empty /run and home, the host's root read-only. As root,
no user namespace (it would map to root) and `setpriv` drops to uid 65534 (`hand_over`, `take_back`)."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Optional

NOBODY = 65534
# Set by `--unsandboxed` (and inherited by the processes the tool starts: a local Dask cluster's
# workers): model code runs without bubblewrap where bubblewrap cannot run.
UNSANDBOXED_ENV = "IREE_MATRIX_UNSANDBOXED"
_PROBE_TIMEOUT = 30.0
# Always empty inside: daemons' sockets (/run/docker.sock, D-Bus, systemd's) live there.
RUN_DIRS = ("/run", "/var/run")
# What of the tool's environment a sandboxed command gets (`environment`): the locale, the terminal,
# PATH and the thread counts; never its tokens, proxies or the tool's own settings.
KEPT_ENV = (
    "PATH",
    "LANG",
    "LANGUAGE",
    "TZ",
    "TERM",
    "NO_COLOR",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
)
KEPT_ENV_PREFIXES = ("LC_",)


def as_root() -> bool:
    return os.geteuid() == 0


def setpriv() -> Optional[str]:
    return shutil.which("setpriv")


def _drop(setpriv_path: str) -> list[str]:
    """What runs the command as host uid and gid 65534, with no groups, capabilities or new privileges."""
    user = [setpriv_path, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    return [*user, "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", "--"]


@dataclasses.dataclass(frozen=True)
class Sandbox:
    """One command's sandbox: what it may read beyond the host's root, what it may write, where it starts."""

    read_only: tuple[str, ...] = ()
    writable: tuple[str, ...] = ()
    cwd: Optional[str] = None
    # Directories it sees empty: the tool's user's home (its keys, tokens and other caches).
    hidden: tuple[str, ...] = ()

    def empty(self) -> list[str]:
        return sorted({os.path.normpath(p) for p in (*self.hidden, *_run_dirs())} - {"/", "/tmp"})

    def argv(self, bwrap: str = "bwrap", root: Optional[bool] = None) -> list[str]:
        """The command line that runs a command (appended) in this sandbox; `root` drops to uid 65534."""
        root = as_root() if root is None else root
        if root:
            # No user namespace (it would map the sandbox's uid to root): every other one.
            namespaces = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
            namespaces.append("--unshare-cgroup-try")
        else:
            namespaces = ["--unshare-all", "--uid", str(NOBODY), "--gid", str(NOBODY)]
        # Packed by hand: each flag beside its operands; formatted, every word would take a line.
        argv = [
            bwrap, *namespaces, "--die-with-parent", "--new-session",
            "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
            # Its own /tmp and /dev/shm, writable by whoever it runs as (1777, as on a host): as
            # uid 65534 under root bubblewrap makes them root's 0755, and Python's multiprocessing
            # semaphores, tempfile and torch's shared memory then fail with PermissionError.
            "--perms", "1777", "--tmpfs", "/tmp", "--perms", "1777", "--tmpfs", "/dev/shm",
        ]  # fmt: skip
        empty = self.empty()
        for path in empty:
            argv += ["--tmpfs", path]
        binds = sorted(
            {(os.path.normpath(p), False) for p in self.read_only}
            | {(os.path.normpath(p), True) for p in self.writable},
            key=lambda bind: (len(Path(bind[0]).parts), bind[1], bind[0]),
        )
        if root:
            # The directories bubblewrap makes in an empty tmpfs on the way to a bind: 0755, so
            # that uid 65534 may pass (bubblewrap makes them 0700 as root).
            tmpfs = ["/tmp", *empty]
            ways = {
                str(parent)
                for path, _ in binds
                for parent in Path(path).parents
                if any(parent != Path(t) and parent.is_relative_to(t) for t in tmpfs)
            }
            for way in sorted(ways, key=lambda w: (len(Path(w).parts), w)):
                argv += ["--perms", "0755", "--dir", way]
        # After the tmpfs, outer before inner (a writable output inside a read-only input stays writable); of
        # the same path, writable last. A missing input is left out (`--ro-bind-try`), as Landlock left it.
        for path, writable in binds:
            argv += ["--bind" if writable else "--ro-bind-try", path, path]
        if self.cwd is not None:
            argv += ["--chdir", self.cwd]
        return [*argv, "--", *(_drop(setpriv() or "setpriv") if root else [])]


def _run_dirs() -> list[str]:
    return sorted({os.path.realpath(d) for d in RUN_DIRS if os.path.isdir(d)})


def environment(tool_env: Mapping[str, str]) -> dict[str, str]:
    """What of the tool's environment `tool_env` a sandboxed command gets (`KEPT_ENV`)."""
    return {
        name: value
        for name, value in tool_env.items()
        if name in KEPT_ENV or name.startswith(KEPT_ENV_PREFIXES)
    }


def walk(path: Path) -> Iterator[tuple[Path, os.stat_result]]:
    """`path` and everything beneath it, each with its lstat (no link followed), entries by name."""
    try:
        top = os.lstat(path)
    except OSError:
        return
    yield path, top
    if not stat.S_ISDIR(top.st_mode):
        return
    for parent, dirs, files in os.walk(path):
        for name in sorted([*dirs, *files]):
            here = Path(parent) / name
            try:
                yield here, os.lstat(here)
            except OSError:
                continue


def hand_over(sandbox: Sandbox) -> Optional[str]:
    """As root, give a sandbox's writable paths to uid 65534; why it could not reach one (None: it can)."""
    if not as_root():
        return None
    for writable in sandbox.writable:
        for path, _ in walk(Path(writable)):
            os.chown(path, NOBODY, NOBODY, follow_symlinks=False)
    hidden = ["/tmp", *sandbox.empty()]
    for given in (*sandbox.read_only, *sandbox.writable, *([sandbox.cwd] if sandbox.cwd else [])):
        path = Path(os.path.normpath(given))
        try:
            found = os.stat(path)
        except OSError:
            continue  # a missing input is left out (`--ro-bind-try`)
        for parent in path.parents:
            if any(parent == Path(h) or parent.is_relative_to(h) for h in hidden):
                continue  # an empty tmpfs inside, its directories 0755 (`Sandbox.argv`)
            if not (mode := os.stat(parent).st_mode) & stat.S_IXOTH:
                return (  # a private folder: never advised open
                    f"{parent} (mode {stat.S_IMODE(mode):o}) lets no other user pass, and the sandbox runs "
                    f"the model's code as uid {NOBODY}, which must reach {path}: keep the cache and the "
                    "model (or a copy of it) in a folder other users may enter"
                )
        directory = stat.S_ISDIR(found.st_mode)
        wanted = stat.S_IROTH | (stat.S_IXOTH if directory else 0)
        if found.st_uid != NOBODY and found.st_mode & wanted != wanted:
            system = any(path.is_relative_to(d) for d in ("/etc", "/usr", "/var", "/boot", "/root", "/run"))
            fix = "a system file, not a model's" if system else f"chmod o+r{'x' if directory else ''} {path}"
            return (  # /etc/shadow in a received record: never advised open
                f"{path} (mode {stat.S_IMODE(found.st_mode):o}) is not readable by other users, and the "
                f"sandbox runs the model's code as uid {NOBODY}: {fix}"
            )
    return None


def take_back(sandbox: Sandbox) -> None:
    """After a sandbox as uid 65534: what it wrote is the tool's again, but a setuid / setgid file (a chown
    would clear the bits the store refuses by name)."""
    if not as_root():
        return
    uid, gid = os.geteuid(), os.getegid()
    for writable in sandbox.writable:
        for path, found in walk(Path(writable)):
            if not (stat.S_ISREG(found.st_mode) and found.st_mode & (stat.S_ISUID | stat.S_ISGID)):
                with contextlib.suppress(OSError):
                    os.chown(path, uid, gid, follow_symlinks=False)


def executable() -> Optional[str]:
    return shutil.which("bwrap")


@functools.cache
def problem() -> Optional[str]:
    """Why bubblewrap cannot run a sandbox here (None when it can)."""
    if (bwrap := executable()) is None:
        return "bubblewrap (bwrap) is not installed"
    if as_root() and setpriv() is None:
        return (
            "setpriv (util-linux), which makes the sandbox's command uid 65534 when the tool runs as root, "
            "is not installed"
        )
    uid = shutil.which("id") or "/usr/bin/id"
    try:
        argv = [*Sandbox().argv(bwrap), uid, "-u"]
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=_PROBE_TIMEOUT, env=environment(os.environ)
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{bwrap} did not start ({exc})"
    if done.returncode != 0:
        said = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        return f"{bwrap} cannot make its sandbox here ({said})"
    return f"{bwrap}'s command runs as root here" if done.stdout.strip() == "0" else None


def allow_unsandboxed(allowed: bool) -> None:
    """`--unsandboxed`: where bubblewrap cannot run, model code runs without it (else it refuses)."""
    if allowed:
        os.environ[UNSANDBOXED_ENV] = "1"


def unsandboxed_allowed() -> bool:
    return os.environ.get(UNSANDBOXED_ENV) == "1"


# What a stage runs that a user or a received file made, where it is not the model's code.
_RUNS = {
    "kernel": "your kernel's code (its C compile)",
    "compile": "iree-compile with a kernel's or a profile's flags",
    "run": "a module with native code (a kernel's, or what an export embeds)",
}


def refusal(stage: str) -> Optional[str]:
    """The one line a stage that runs model code refuses with, None when it may run."""
    why, runs = problem(), _RUNS.get(stage, "your model's code")
    if why is None or unsandboxed_allowed():
        return None
    return (
        f"the {stage} stage runs {runs}, which on the venv backend runs only inside bubblewrap, "
        f"and {why}: install it (apt-get install bubblewrap, or images/setup-host.sh) and allow "
        "unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1; on Ubuntu "
        "kernel.apparmor_restrict_unprivileged_userns=0), or use --backend docker, or pass --unsandboxed "
        "to run it with the host's /dev, processes and kernel log within its reach"
    )


def signal_status(returncode: int) -> int:
    """A sandboxed command's exit status as Popen gives one: bubblewrap's 128+N for signal N is -N."""
    return -(returncode - 128) if 128 < returncode < 128 + 65 else returncode


def wrap(argv: Sequence[str], sandbox: Sandbox) -> list[str]:
    return [*sandbox.argv(executable() or "bwrap"), *argv]
