"""Docker environments: an environment is a pinned image (`iree_matrix.images`), and every command
runs in a fresh container of it (`containers.run`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

from iree_matrix import images
from iree_matrix.core import hashing
from iree_matrix.core.console import Say
from iree_matrix.core.errors import StageFailure
from iree_matrix.core.system import containers, host, processes
from iree_matrix.core.system.process_request import Bounds, ProcessRequest
from iree_matrix.images import ENV_ROOT, LABEL, BaseImage, EnvImage
from iree_matrix.iree import targets
from iree_matrix.matrix.plan import EnvSpec
from iree_matrix.matrix.wheelhouse import Pins, WheelPlatform


class DockerEnvironment:
    backend = "docker"

    def __init__(self, env_id: str, image: EnvImage) -> None:
        self.id = env_id
        self.image = image

    def tool(self, name: str) -> str:
        return f"{ENV_ROOT}/bin/{name}"

    def python(self) -> str:
        return f"{ENV_ROOT}/bin/python"

    def describe(self) -> Mapping[str, Any]:
        manifest = self.image.manifest
        return {
            "id": self.id,
            "backend": self.backend,
            "lock_digest": manifest.get("lock_digest"),
            "python": manifest.get("python"),
            "packages": {p["name"]: p["version"] for p in manifest.get("python_packages", [])},
            "image": self.image.tag,
            "image_id": self.image.image_id,
            "base_image_id": manifest.get("base", {}).get("image_id"),
            "manifest": str(self.image.manifest_path),
        }

    def run(self, request: ProcessRequest) -> processes.Completed:
        """`Environment.run`, in a fresh container of this image (every container is a sandbox already,
        model code or not)."""
        # The image's id, not its tag: exactly the image the manifest describes.
        return containers.run(self.image.image_id, request, what=self.id, labels={f"{LABEL}.env": self.id})


class DockerBackend:
    """Environments as Docker images. `base_images` (Python version -> image reference) replaces the
    Debian suite for those Pythons with an image the user has (e.g. pulled python:3.12-slim)."""

    name = "docker"

    def __init__(
        self, root: Path, *, base_images: Optional[Mapping[str, str]] = None, precompile: bool = True
    ) -> None:
        self.root = Path(root)
        self.env_images = images.EnvImages(self.root, precompile=precompile)  # False: benchmarks/images.py
        self.base_images = dict(base_images or {})
        self._named: dict[str, BaseImage] = {}
        # Where it says what it does (a base image's build: minutes): a run's progress lines, else the log.
        self.say: Optional[Say] = None

    # --- protocol ---

    def contained_cpu_seconds(self) -> float:
        """CPU seconds every container of this tool has used (nan where it cannot be read)."""
        return host.containers_cpu_seconds()

    def remove_orphans(self) -> list[str]:
        return containers.remove_orphans()

    def target(self, env: EnvSpec) -> WheelPlatform:
        if env.python in self.base_images:
            arch, glibc = (base := self._named_base(env)).arch, base.glibc
        else:
            arch, glibc = _arch(env), images.SUITES[self._suite(env)].glibc
        return WheelPlatform(python=env.python, machine=targets.PLATFORMS[arch].machine, glibc=glibc)

    def create(self, env: EnvSpec, pins: Pins, wheels: Sequence[Path], under: Bounds) -> DockerEnvironment:
        base = self._base(env, under)
        if env.tools:
            return ToolsEnvironment(env.id, _as_env_image(base), env.tools)
        return DockerEnvironment(env.id, self.env_images.ensure(base, pins, wheels, under))

    def open(self, env: EnvSpec, pins_digest: str) -> Optional[DockerEnvironment]:
        if env.tools:
            # Nothing is installed for a tools directory: reopening it is making it again.
            return self.create(env, Pins((), self.target(env), ()), [], Bounds())
        reference = self.base_images.get(env.python) or f"debian:{self._suite(env)}-{_arch(env)}"
        image = self.env_images.find(reference, pins_digest)
        return None if image is None else DockerEnvironment(env.id, image)

    def toolchain_environment(self, under: Bounds) -> DockerEnvironment:
        """Where runtime-build runs cmake on this backend: the host architecture's Debian base with
        cmake, ninja, GCC and the armel cross compilers (debootstrapped once, like every base)."""
        bases = images.Bases(self.root, say=self.say)
        base = bases.suite("bookworm", targets.host_platform(), under, toolchain=True)
        return base_environment("toolchain-bookworm", base)

    # --- helpers ---

    def _suite(self, env: EnvSpec) -> str:
        if (suite := images.suite_for_python(env.python)) is None:
            known = ", ".join(f"{s.name}: {s.python}" for s in images.SUITES.values())
            raise StageFailure(
                "python-missing",
                f"no Debian suite ships Python {env.python} ({known}); name a base image that has "
                f'it ([images] "{env.python}" = "python:{env.python}-slim" in the matrix file) or choose '
                f"one of these",
                cacheable=False,
            )
        return suite

    def _base(self, env: EnvSpec, under: Bounds) -> BaseImage:
        if env.python in self.base_images:
            return self._named_base(env)
        # A tools directory needs only the C library, but reuses the Python base where one exists anyway.
        with_python = not env.tools or targets.ARCHES[env.arch].wheel_machine is not None
        return images.Bases(self.root, say=self.say).suite(
            self._suite(env), _arch(env), under, with_python=with_python
        )

    def _named_base(self, env: EnvSpec) -> BaseImage:
        if (reference := self.base_images[env.python]) not in self._named:
            self._named[reference] = images.Bases(self.root).named(reference)
        base = self._named[reference]
        if base.python != env.python:
            raise StageFailure(
                "python-missing",
                f"base image {reference} has Python {base.python}, not {env.python} "
                "([images] in the matrix file)",
                cacheable=False,
            )
        return base


class ToolsEnvironment(DockerEnvironment):
    """A directory of runtime tools the user built (no IREE wheel exists for the architecture),
    run on that architecture's base system: the tools directory is mounted read-only."""

    def __init__(self, env_id: str, base: EnvImage, tools: str) -> None:
        super().__init__(env_id, base)
        self.tools = Path(tools).resolve()

    def tool(self, name: str) -> str:
        return str(self.tools / name)

    def python(self) -> str:
        raise StageFailure("no-python", f"{self.id} is a runtime tools directory; it has no Python")

    def describe(self) -> Mapping[str, Any]:
        # Its image is its base's (`_as_env_image`): no lock digest, Python or packages.
        tools = {"tools": str(self.tools), "tools_digest": hashing.tools_digest(str(self.tools))}
        return {**super().describe(), **tools}

    def run(self, request: ProcessRequest) -> processes.Completed:
        return super().run(request.reading(self.tools))


def base_environment(env_id: str, base: BaseImage) -> DockerEnvironment:
    """A bare base system as an environment (no Python packages): for running native programs,
    e.g. cross-compiled ones under qemu, with the same isolation as every other container."""
    return DockerEnvironment(env_id, _as_env_image(base))


def _as_env_image(base: BaseImage) -> EnvImage:
    manifest = {
        "base": {"image_id": base.image_id, "tag": base.tag, **dict(base.meta)},
        "python_packages": [],
    }
    return EnvImage(base.tag, base.image_id, manifest, Path(base.meta.get("manifest", "")))


def _arch(env: EnvSpec) -> str:
    """The Debian architecture of an environment: its own, not the host's (run environments of a
    foreign board are images of the board's architecture)."""
    return targets.ARCHES[env.arch].debian
