"""Environments: where stage workers run. A backend *creates* an environment from its pins (offline,
from the wheelhouse) or *opens* one that exists; an environment runs commands, its own tools and
Python. The backends and the choice between them are `envs/backends.py` (this `__init__` imports none).
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
        """Run `request` (its argv of host paths, every one named in `read_only` / `writable`) here,
        within the configured limits (one its limits stopped raises, `check` or not); by default in a
        fresh directory of its own. `model_code` runs contained (a container, or bubblewrap)."""

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
    """What, of a realised environment, decides a stage's output (stage keys hash it: the pins keep their
    first name, "lock", as a rename would re-run every stored stage)."""
    return {
        "backend": description.get("backend"),
        "lock": description.get("lock_digest"),
        "python": description.get("python"),
        "base": description.get("base_image_id"),
        "tools": description.get("tools_digest"),
    }
