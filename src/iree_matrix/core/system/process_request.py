"""One process request: everything a command to run is, stated once by its caller (tox's
ExecuteRequest), for `processes.run`, `containers.run` and every environment's `run`; a backend
derives what it needs with `dataclasses.replace`. How the host isolates a command (`limits`,
`writes_beneath`, `private_shm`, `sandbox`) is the venv backend's to add; a container refuses them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

from iree_matrix.core.system.bubblewrap import Sandbox
from iree_matrix.core.system.process_tree import Limits


@dataclasses.dataclass(frozen=True)
class ProcessRequest:
    argv: Sequence[str]  # kept as a tuple of str
    timeout: Optional[float] = None
    log: Optional[Path] = None  # the job's log: the command echoed, its output appended
    check: bool = True  # a non-zero exit raises `StageFailure` (the tool's words); a limit's kill always does
    error_class: Optional[str] = None  # that failure's class (default: "<tool>-error")
    cwd: Optional[Path] = None  # an environment's default: a fresh directory of its own, thrown away after
    env: Optional[Mapping[str, str]] = None  # added to (a venv's: to its clean) environment
    feed: Optional[Iterable[bytes]] = None  # chunks written to its stdin as it reads them, then end of file
    # The seconds it spent stopped on purpose (waiting for the quiet lock): `timeout` does not count them.
    paused: Optional[Callable[[], float]] = None
    # Every host path it touches, so an isolating backend can mount exactly those (at the same paths).
    read_only: Sequence[Path] = ()
    writable: Sequence[Path] = ()
    # The stage's name when the command runs the user's model code, which an isolating backend contains.
    model_code: Optional[str] = None
    # In a container: `peak_rss_bytes` is the container's peak memory, not the docker client's.
    peak_memory: bool = False
    # --- how this host isolates it (`processes.run`) ---
    limits: Optional[Limits] = None  # the memory and tasks its whole tree may use (default: none)
    writes_beneath: Optional[Sequence[str]] = None  # the only directories its tree may change (`landlock`)
    private_shm: bool = False  # its tree gets a /dev/shm of its own (`shm_namespace`), or none it may write
    # Run inside bubblewrap, which then replaces `writes_beneath` and `private_shm`.
    sandbox: Optional[Sandbox] = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "argv", tuple(str(a) for a in self.argv))
        object.__setattr__(self, "read_only", tuple(Path(p) for p in self.read_only))
        object.__setattr__(self, "writable", tuple(Path(p) for p in self.writable))
        if self.writes_beneath is not None:
            object.__setattr__(self, "writes_beneath", tuple(str(w) for w in self.writes_beneath))

    def reading(self, *paths: Path) -> ProcessRequest:
        """This request, with `paths` read too (an environment's own read-only mounts)."""
        return dataclasses.replace(self, read_only=(*self.read_only, *paths))

    def host_isolation(self) -> tuple[str, ...]:
        """The host isolation fields set: what a container, isolated its own way, cannot honour."""
        unset = {"limits": None, "writes_beneath": None, "private_shm": False, "sandbox": None}
        return tuple(name for name, default in unset.items() if getattr(self, name) != default)


@dataclasses.dataclass(frozen=True)
class Bounds:
    """What every command of one job runs under, handed whole: its stage's limit and the job's log."""

    timeout: Optional[float] = None
    log: Optional[Path] = None

    def request(self, argv: Sequence[str], **options: Any) -> ProcessRequest:
        """A command under these bounds: killed past the limit, its output appended to the log."""
        return ProcessRequest(argv, timeout=self.timeout, log=self.log, **options)
