"""Host venvs for this machine's environments, Docker images for the others (`--backend mixed`): the
venv backend's Pythons and the Docker backend's foreign CPUs in one run. Each environment is the one
its own backend would make, so a mixed run reuses what pure venv and Docker runs stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Optional, Union

from iree_matrix.core.console import Say
from iree_matrix.core.system.process_request import Bounds
from iree_matrix.envs import Environment
from iree_matrix.envs.docker import DockerBackend, DockerEnvironment
from iree_matrix.envs.venv import VenvBackend
from iree_matrix.iree import targets
from iree_matrix.matrix.plan import EnvSpec
from iree_matrix.matrix.wheelhouse import Pins, WheelPlatform


class MixedBackend:
    name = "mixed"

    def __init__(self, host: VenvBackend, foreign: DockerBackend) -> None:
        self.host, self.foreign = host, foreign

    @property
    def say(self) -> Optional[Say]:
        """`DockerBackend.say`: its images are the foreign CPUs'."""
        return self.foreign.say

    @say.setter
    def say(self, value: Optional[Say]) -> None:
        self.foreign.say = value

    def backend_of(self, env: EnvSpec) -> Union[VenvBackend, DockerBackend]:
        return self.host if env.arch == targets.host_arch() else self.foreign

    def name_of(self, env: EnvSpec) -> str:
        return self.backend_of(env).name

    def target(self, env: EnvSpec) -> WheelPlatform:
        return self.backend_of(env).target(env)

    def create(self, env: EnvSpec, pins: Pins, wheels: Sequence[Path], under: Bounds) -> Environment:
        return self.backend_of(env).create(env, pins, wheels, under)

    def open(self, env: EnvSpec, pins_digest: str) -> Optional[Environment]:
        return self.backend_of(env).open(env, pins_digest)

    def contained_cpu_seconds(self) -> float:
        return self.foreign.contained_cpu_seconds()  # venv tools are our children, in our rusage

    def remove_orphans(self) -> list[str]:
        return self.foreign.remove_orphans()

    def toolchain_environment(self, under: Bounds) -> DockerEnvironment:
        """Runtime builds run in the toolchain image, as on the Docker backend (the armel cross
        compilers live there)."""
        return self.foreign.toolchain_environment(under)
