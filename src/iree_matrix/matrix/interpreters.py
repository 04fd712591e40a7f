"""Which Python interpreter the venv backend builds a `python = "3.X"` environment with: the matrix's
`[interpreters]`, the running one, pyenv's newest 3.X, `python3.X` on PATH, `uv python find`; each
asked its own version (a pyenv shim may have none).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Callable, Optional

from iree_matrix.core import console
from iree_matrix.core.errors import UserError
from iree_matrix.core.system import processes
from iree_matrix.core.system.process_request import ProcessRequest
from iree_matrix.matrix.plan import Job

logger = console.logger(__name__)

# Asks an interpreter its "major.minor" (None: it does not run). Tests replace it.
Probe = Callable[[str], Optional[str]]


class MissingInterpreter(UserError):
    """A Python the matrix asks for that this machine does not have."""


def probe(executable: str) -> Optional[str]:
    argv = [executable, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
    try:
        done = processes.run(ProcessRequest(argv, timeout=30, check=False))
    except (OSError, processes.Timeout):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _patch(path: Path) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in path.name.split("."))
    except ValueError:
        return (-1,)


def candidates(version: str, named: Mapping[str, str] = {}) -> Iterator[str]:  # noqa: B006 - read only
    if version in named:
        yield named[version]
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        yield sys.executable
    versions = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    if versions.is_dir():
        found = [p for p in versions.glob(f"{version}.*") if p.name.count(".") == 2 and _patch(p) != (-1,)]
        for root in sorted(found, key=_patch, reverse=True):
            yield str(root / "bin" / f"python{version}")
    if on_path := shutil.which(f"python{version}"):
        yield on_path
    if uv := shutil.which("uv"):
        done = processes.run(ProcessRequest([uv, "python", "find", version], timeout=60, check=False))
        if done.returncode == 0 and done.stdout.strip():
            yield done.stdout.strip().splitlines()[-1]


def find(version: str, named: Mapping[str, str] = {}, ask: Probe = probe) -> Optional[str]:  # noqa: B006
    """The first candidate that runs and says it is `version`."""
    own = f"{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in candidates(version, named):
        if candidate == sys.executable and own == version:
            return _instead(version, named, candidate)  # this interpreter: no need to ask it
        if Path(candidate).is_file() and ask(candidate) == version:
            return _instead(version, named, candidate)
    return None


_SAID: set[tuple[str, str]] = set()


def _instead(version: str, named: Mapping[str, str], found: str) -> str:
    """`found`, said in a warning where the matrix named another interpreter for `version` that is
    none (a typo in its path took the next Python without a word)."""
    if version in named and named[version] != found and (version, named[version]) not in _SAID:
        _SAID.add((version, named[version]))  # once: the plan's check and the backend's both look
        logger.warning(
            f"[interpreters] {version!r} = {named[version]!r} is not a Python {version} (missing, or "
            f"another version); the venvs of Python {version} are built with {found}"
        )
    return found


def require(versions: Iterable[str], named: Mapping[str, str] = {}, ask: Probe = probe) -> dict[str, str]:  # noqa: B006
    """Python version -> interpreter for every version; one line naming what to install if any is missing."""
    ordered = sorted(set(versions), key=lambda v: tuple(int(x) for x in v.split(".")))
    found = {version: find(version, named, ask) for version in ordered}
    if missing := [version for version, executable in found.items() if executable is None]:
        raise MissingInterpreter(_missing_line(missing, named))
    return {version: executable for version, executable in found.items() if executable is not None}


def _missing_line(missing: Sequence[str], named: Mapping[str, str]) -> str:
    wrong = [v for v in missing if v in named]
    said = "".join(f"; [interpreters] {v!r} = {named[v]!r} is not a Python {v}" for v in wrong)
    pythons = ", ".join(f"python{v}" for v in missing)
    installs = " ".join(missing)
    return (
        f"no {pythons} on this machine for the venv backend{said}: install it (`pyenv install "
        f"{installs}`, `uv python install {installs}`, or apt), name one with [interpreters] "
        f'"{missing[0]}" = "/path/to/python" in the matrix file, or use --backend docker'
    )


def check_plan(jobs: Iterable[Job], named: Mapping[str, str] = {}, ask: Probe = probe) -> dict[str, str]:  # noqa: B006
    """Before anything runs on the venv backend: every Python the plan's venvs need is here."""
    from iree_matrix.iree import targets

    host = targets.host_arch()
    installed = [job.env for job in jobs if job.stage == "install" and job.env.tools is None]
    return require({env.python for env in installed if env.build is None and env.arch == host}, named, ask)
