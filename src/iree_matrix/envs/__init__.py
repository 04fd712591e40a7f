"""Environments: where stage workers run. One small interface, one module per backend.

A backend *creates* an environment from a lock (installing offline from the wheelhouse) and
*opens* one that exists. An environment runs commands: its own tools (`iree-compile`,
`iree-run-module`) and its own Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Callable, Optional, Protocol

from iree_matrix.core import _tree
from iree_matrix.core._proc import Completed
from iree_matrix.core.errors import UserError
from iree_matrix.envs import containers
from iree_matrix.matrix.plan import EnvSpec
from iree_matrix.matrix.spec import MatrixSpec
from iree_matrix.matrix.wheelhouse import Lock, Target


class Environment(Protocol):
    id: str
    backend: str

    def tool(self, name: str) -> str:
        """The command that runs `name` (a console script of an installed package) here."""

    def python(self) -> str:
        """The command that runs this environment's Python."""

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: Optional[float],
        log: Optional[Path] = None,
        read_only: Sequence[Path] = (),
        writable: Sequence[Path] = (),
        env: Optional[Mapping[str, str]] = None,
        check: bool = True,
        error_class: Optional[str] = None,
        cwd: Optional[Path] = None,
    ) -> Completed:
        """Run `argv` (host paths) here. `read_only` / `writable` name every host path the command
        touches, so an isolating backend can mount exactly those (at the same paths). `cwd` (one of
        those paths) is the working directory; by default a fresh one of its own, thrown away after
        (a container's /tmp, a venv command's job directory). Every command runs within the
        configured limits (`limit`); one its limits stopped raises, `check` or not."""

    def describe(self) -> Mapping[str, Any]:
        """id, backend, lock digest, Python version and every installed package with its version."""


class Backend(Protocol):
    name: str

    def target(self, env: EnvSpec) -> Target:
        """What the environment's wheels must fit."""

    def create(
        self, env: EnvSpec, lock: Lock, wheels: Sequence[Path], *, timeout: float, log: Path
    ) -> Environment: ...

    def open(self, env: EnvSpec, lock_digest: str) -> Optional[Environment]:
        """The environment if it exists and is complete, else None."""

    def contained_cpu_seconds(self) -> float:
        """CPU seconds used by this backend's processes that are not our children (containers);
        nan where they cannot be counted."""

    def remove_orphans(self) -> list[str]:
        """Remove what a killed run of this tool left running that is not a process of ours (a
        container whose owner is gone); what was removed."""


def limit(matrix: MatrixSpec) -> _tree.Limits:
    """Every environment command's limits from now on: the matrix file's `[limits]`, unless
    $IREE_MATRIX_MEMORY_LIMIT / $IREE_MATRIX_PROCESS_LIMIT say otherwise (a bad one is a user error)."""
    _tree.use(matrix.limits)
    try:
        return _tree.configured()
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _venv(cache: Path, matrix: MatrixSpec) -> Backend:
    from iree_matrix.envs.venv import VenvBackend

    limit(matrix)
    return VenvBackend(cache / "envs" / "venv", matrix.interpreters)


def _docker(cache: Path, matrix: MatrixSpec) -> Backend:
    from iree_matrix.envs.docker import DockerBackend

    limit(matrix)
    return DockerBackend(cache / "images", base_images=matrix.images)


def _mixed(cache: Path, matrix: MatrixSpec) -> Backend:
    from iree_matrix.envs.docker import DockerBackend
    from iree_matrix.envs.mixed import MixedBackend
    from iree_matrix.envs.venv import VenvBackend

    host = _venv(cache, matrix)
    foreign = _docker(cache, matrix)
    assert isinstance(host, VenvBackend) and isinstance(foreign, DockerBackend)
    return MixedBackend(host, foreign)


BACKENDS: dict[str, Callable[[Path, MatrixSpec], Backend]] = {
    "venv": _venv,
    "docker": _docker,
    "mixed": _mixed,
}


def name_of(backend: Backend, env: EnvSpec) -> str:
    """The backend that makes `env`: the mixed backend's host or foreign one, else the backend."""
    named = getattr(backend, "name_of", None)
    return backend.name if named is None else str(named(env))


def choose(requested: str, jobs: Iterable[Any] = (), named: Mapping[str, str] = {}) -> tuple[str, str]:  # noqa: B006
    """The backend to use for `--backend requested`, and why (said once, recorded everywhere).

    auto: host venvs when every environment of the plan is for this machine's architecture and
    its Pythons are here — what the published results were measured with, and no image to build
    (seven images were 2.5-5.5 min each of a first run, docs/first-run.md); Docker when the plan
    needs another architecture (qemu-user in an image) or a Python this machine lacks."""
    if requested != "auto":
        return requested, "as requested"
    from iree_matrix.iree import targets
    from iree_matrix.matrix import interpreters

    installs = [job for job in jobs if job.stage == "install"]
    foreign = sorted({job.env.arch for job in installs} - {targets.host_arch()})
    if not foreign:
        try:
            interpreters.check_plan(installs, named)
            return (
                "venv",
                f"auto: every environment is for this {targets.host_arch()} host and its Pythons are here",
            )
        except interpreters.MissingInterpreter as missing:
            reason = f"a Python is missing here ({missing})"
    else:
        reason = f"the plan has {', '.join(foreign)} environments (qemu-user in an image)"
    found = containers.state()
    if found.ok:
        return "docker", f"auto: {reason}, and a Docker daemon answers ({found.detail})"
    return (
        "venv",
        f"auto: {reason}, but no usable Docker daemon ({found.detail}); `iree-matrix doctor` says how to fix"
        " it",
    )


def identity(description: Mapping[str, Any]) -> dict[str, Any]:
    """What, of a realised environment, decides a stage's output: the exact package set, the
    interpreter, and for images the base they sit on. Stage keys hash this."""
    return {
        "backend": description.get("backend"),
        "lock": description.get("lock_digest"),
        "python": description.get("python"),
        "base": description.get("base_image_id"),
        "tools": description.get("tools_digest"),
    }
