"""The backends, by name, and which one a run uses (`--backend`): the factory the package's
`__init__` cannot hold, since every backend module imports the package."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Callable

from iree_matrix.core.cache_layout import CacheLayout
from iree_matrix.core.errors import UserError
from iree_matrix.core.system import containers, process_tree
from iree_matrix.envs import Backend
from iree_matrix.envs.docker import DockerBackend
from iree_matrix.envs.mixed import MixedBackend
from iree_matrix.envs.venv import VenvBackend
from iree_matrix.iree import targets
from iree_matrix.matrix import interpreters
from iree_matrix.matrix.spec import MatrixSpec


def limit(matrix: MatrixSpec) -> process_tree.Limits:
    """Every environment command's limits from now on: the matrix file's `[limits]`, unless
    $IREE_MATRIX_MEMORY_LIMIT / $IREE_MATRIX_PROCESS_LIMIT say otherwise (a bad one is a user error)."""
    process_tree.use(matrix.limits)
    try:
        return process_tree.configured()
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _backend(name: str, cache: Path, matrix: MatrixSpec) -> Backend:
    limit(matrix)
    host = VenvBackend(CacheLayout(cache).venvs, matrix.interpreters)
    foreign = DockerBackend(CacheLayout(cache).images, base_images=matrix.images)
    made: dict[str, Backend] = {"venv": host, "docker": foreign, "mixed": MixedBackend(host, foreign)}
    return made[name]


BACKENDS: dict[str, Callable[[Path, MatrixSpec], Backend]] = {
    name: functools.partial(_backend, name) for name in ("venv", "docker", "mixed")
}


def choose(requested: str, jobs: Iterable[Any] = (), named: Mapping[str, str] = {}) -> tuple[str, str]:  # noqa: B006
    """The backend to use for `--backend requested`, and why. auto: host venvs when every environment is
    for this architecture and its Pythons are here (no image to build); Docker when the plan needs
    another architecture or a Python this machine lacks, and a daemon answers."""
    if requested != "auto":
        return requested, "as requested"
    installs = [job for job in jobs if job.stage == "install"]
    if not (foreign := sorted({job.env.arch for job in installs} - {targets.host_arch()})):
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
