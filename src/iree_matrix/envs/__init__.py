"""Environments: where stage workers run. One small interface, one module per backend.

A backend *creates* an environment from its pins (installing offline from the wheelhouse) and
*opens* one that exists. An environment runs commands: its own tools (`iree-compile`,
`iree-run-module`) and its own Python. The backends themselves, and which one a run uses, are
`envs/backends.py`: this package's `__init__` imports none of its modules, so importing one of them
(`envs.docker` from `images`' neighbours, say) never runs the factory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Optional, Protocol

from iree_matrix.core.system.process_request import Bounds, ProcessRequest
from iree_matrix.core.system.processes import Completed
from iree_matrix.matrix.plan import EnvSpec
from iree_matrix.matrix.wheelhouse import Pins, WheelPlatform


class Environment(Protocol):
    id: str
    backend: str

    def tool(self, name: str) -> str:
        """The command that runs `name` (a console script of an installed package) here."""

    def python(self) -> str:
        """The command that runs this environment's Python."""

    def run(self, request: ProcessRequest) -> Completed:
        """Run `request` (its argv of host paths) here. Its `read_only` / `writable` name every host path
        the command touches, so an isolating backend can mount exactly those (at the same paths). Its
        `cwd` (one of those paths) is the working directory; by default a fresh one of its own, thrown
        away after (a container's /tmp, a venv command's job directory). Every command runs within the
        configured limits (`limit`); one its limits stopped raises, `check` or not. `model_code`: the
        command runs the user's model code, which an isolating backend must contain (a container
        already does; a venv command runs in bubblewrap)."""

    def describe(self) -> Mapping[str, Any]:
        """id, backend, pins digest, Python version and every installed package with its version."""


class Backend(Protocol):
    name: str

    def target(self, env: EnvSpec) -> WheelPlatform:
        """What the environment's wheels must fit."""

    def create(self, env: EnvSpec, pins: Pins, wheels: Sequence[Path], under: Bounds) -> Environment: ...

    def open(self, env: EnvSpec, pins_digest: str) -> Optional[Environment]:
        """The environment if it exists and is complete, else None."""

    def contained_cpu_seconds(self) -> float:
        """CPU seconds used by this backend's processes that are not our children (containers);
        nan where they cannot be counted."""

    def remove_orphans(self) -> list[str]:
        """Remove what a killed run of this tool left running that is not a process of ours (a
        container whose owner is gone); what was removed."""


def name_of(backend: Backend, env: EnvSpec) -> str:
    """The backend that makes `env`: the mixed backend's host or foreign one, else the backend."""
    named = getattr(backend, "name_of", None)
    return backend.name if named is None else str(named(env))


def key_inputs(description: Mapping[str, Any]) -> dict[str, Any]:
    """What, of a realised environment, decides a stage's output: the exact package set, the interpreter, and
    for images the base they sit on. Stage keys hash this, so the pins keep their first name here, "lock" (and
    `lock_digest` in a record's environment): renamed, every stored stage would be run again."""
    return {
        "backend": description.get("backend"),
        "lock": description.get("lock_digest"),
        "python": description.get("python"),
        "base": description.get("base_image_id"),
        "tools": description.get("tools_digest"),
    }
