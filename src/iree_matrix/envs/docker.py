"""Docker environments: an environment is a pinned image; every command runs in a fresh container.

The image is a Debian base (debootstrapped, or one the user names) plus a venv at /opt/env with
exactly the lock's wheels (see `iree_matrix.images`). Each `run` starts a new container from it:
no network, a non-root user, only the host paths the stage names mounted (read-only, or writable)
at the same paths, so stage argv made of host paths works unchanged.

`run` drives the `docker` CLI through `_proc.run` rather than the SDK, because that inherits what
every other stage command has: the echoed command line, stdout and stderr captured separately,
the timeout, and `_proc.kill_all()` on Ctrl-C (killing the client makes it forward the signal to
the container, whose `--init` passes it on). What the CLI alone does not guarantee - that the
container dies when the client is killed hard, and that it is always removed - is done by name in
a `finally` (`docker rm -f`). Images are built through the SDK (`images.py`).
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

from iree_matrix import _hashing, _proc, daemon, host, images, targets
from iree_matrix.errors import StageFailure
from iree_matrix.images import ENV_ROOT, LABEL, BaseImage, EnvImage
from iree_matrix.plan import EnvSpec
from iree_matrix.wheelhouse import Lock, Target

NOBODY = (65534, 65534)  # what containers run as when the host user is root
KEEP_ENV = "IREE_MATRIX_KEEP_CONTAINERS"
RUN_LABEL_ENV = "IREE_MATRIX_RUN_LABEL"
_DOCKER_ERROR = 125  # `docker run` itself failed (bad mount, missing image), not the command


class DockerEnvironment:
    backend = "docker"

    def __init__(self, env_id: str, image: EnvImage, docker: str = "docker") -> None:
        self.id = env_id
        self.image = image
        self._docker = docker

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
    ) -> _proc.Completed:
        argv = [str(a) for a in argv]
        _check_readable(read_only)
        name = f"iree-matrix-{_slug(self.id)}-{secrets.token_hex(4)}"
        user = _container_user()
        keep = os.environ.get(KEEP_ENV) == "1"
        docker_argv = [
            self._docker,
            "run",
            *self._options(name, user, read_only, writable, env),
            self.image.image_id,  # the id, not the tag: exactly the image the manifest describes
            *argv,
        ]
        with _writable_by(user, writable):
            try:
                done = _proc.run(docker_argv, timeout=timeout, log=log, check=False)
            except _proc.Timeout as exc:
                self._docker_quiet("kill", name)  # the client is gone; the container may not be
                raise _proc.Timeout(argv, exc.seconds, exc.output) from None
            finally:
                if keep:
                    images.note(log, f"[kept container {name}: {KEEP_ENV}=1]")
                else:
                    self._docker_quiet("rm", "--force", "--volumes", name)
        # The docker client's own footprint says nothing about the tool in the container.
        done = dataclasses.replace(done, argv=tuple(argv), peak_rss_bytes=None)
        if done.returncode == _DOCKER_ERROR and done.stderr.lstrip().startswith("docker:"):
            raise StageFailure("docker-run", _proc.excerpt(done.stderr), cacheable=False)
        if check and done.returncode != 0:
            raise _proc.failure(done, error_class)
        return done

    def _options(
        self,
        name: str,
        user: tuple[int, int],
        read_only: Sequence[Path],
        writable: Sequence[Path],
        env: Optional[Mapping[str, str]],
    ) -> list[str]:
        opts = [
            "--name", name, "--label", f"{LABEL}=1", "--label", f"{LABEL}.env={self.id}",
            "--network", "none", "--user", f"{user[0]}:{user[1]}", "--workdir", "/tmp",
            "--pull", "never",  # no registry: a missing image is an error, not a 30 s pull attempt
            "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
            "--init",  # PID 1 forwards signals (a killed client's SIGTERM) and reaps children
            "--env", "HOME=/tmp", "--env", "PYTHONNOUSERSITE=1",
        ]  # fmt: skip
        if host.containers_cgroup() is not None:
            # Every container under one parent cgroup, whose CPU counter keeps what removed
            # containers used: how much of a timed stage's CPU was the stage's own (other_load).
            opts += ["--cgroup-parent", host.CONTAINERS_CGROUP]
        if os.environ.get(RUN_LABEL_ENV):  # lets a caller find (and count) exactly its own containers
            opts += ["--label", f"{LABEL}.run={os.environ[RUN_LABEL_ENV]}"]
        for key, value in (env or {}).items():
            opts += ["--env", f"{key}={value}"]
        rw = {str(Path(p).resolve()) for p in writable}
        ro = {str(Path(p).resolve()) for p in read_only} - rw
        for path in sorted(ro):
            opts += ["--mount", _mount(path, readonly=True)]
        for path in sorted(rw):
            opts += ["--mount", _mount(path, readonly=False)]
        return opts

    def _docker_quiet(self, *args: str) -> None:
        # Cleanup must not hide the stage's own error: its failure ("no such container") is fine.
        try:
            _proc.run([self._docker, *args], timeout=60, check=False)
        except _proc.Timeout:
            pass


class DockerBackend:
    """Environments as Docker images. `base_images` (Python version -> image reference) replaces the
    Debian suite for those Pythons with an image the user has (e.g. pulled python:3.12-slim)."""

    name = "docker"

    def __init__(
        self,
        root: Path,
        *,
        base_images: Optional[Mapping[str, str]] = None,
        mirror: Optional[str] = None,
        precompile: bool = True,
    ) -> None:
        self.root = Path(root)
        self.precompile = precompile
        self.base_images = dict(base_images or {})
        self.mirror = mirror
        self._client: Any = None
        self._named: dict[str, BaseImage] = {}

    # --- protocol ---

    def contained_cpu_seconds(self) -> float:
        """CPU seconds every container of this tool has used (nan where it cannot be read)."""
        return host.containers_cpu_seconds()

    def target(self, env: EnvSpec) -> Target:
        if env.python in self.base_images:
            base = self._named_base(env)
            return Target(python=env.python, machine=targets.PLATFORMS[base.arch].machine, glibc=base.glibc)
        suite = self._suite(env)
        return Target(
            python=env.python, machine=targets.PLATFORMS[_arch(env)].machine, glibc=images.SUITES[suite].glibc
        )

    def create(
        self,
        env: EnvSpec,
        lock: Lock,
        wheels: Sequence[Path],
        *,
        timeout: Optional[float],
        log: Optional[Path],
    ) -> DockerEnvironment:
        base = self._base(env, timeout=timeout, log=log)
        if env.tools:
            return ToolsEnvironment(env.id, _as_env_image(base), env.tools, _docker_cli())
        image = self._images().ensure(base, lock, wheels, timeout=timeout, log=log)
        return DockerEnvironment(env.id, image, _docker_cli())

    def open(self, env: EnvSpec, lock_digest: str) -> Optional[DockerEnvironment]:
        if env.tools:
            # Nothing is installed for a tools directory: reopening is making it again, which
            # costs nothing while its base exists (and reloads the base from its tarball if not).
            return self.create(env, Lock((), self.target(env), ()), [], timeout=None, log=None)
        image = self._images().find(self._base_ref(env), lock_digest)
        return None if image is None else DockerEnvironment(env.id, image, _docker_cli())

    # --- helpers ---

    def client(self) -> Any:
        if self._client is None:
            self._client = daemon.connect()
        return self._client

    def _images(self) -> images.EnvImages:
        return images.EnvImages(self.root, self.client(), precompile=self.precompile)

    def _suite(self, env: EnvSpec) -> str:
        suite = images.suite_for_python(env.python)
        if suite is None:
            known = ", ".join(f"{s.name}: {s.python}" for s in images.SUITES.values())
            raise StageFailure(
                "python-missing",
                f"no Debian suite ships Python {env.python} ({known}); name a base image that has "
                f'it ([images] "{env.python}" = "python:{env.python}-slim" in the matrix file) or choose '
                f"one of these",
                cacheable=False,
            )
        return suite

    def _base_ref(self, env: EnvSpec) -> str:
        return self.base_images.get(env.python) or f"debian:{self._suite(env)}-{_arch(env)}"

    def _base(self, env: EnvSpec, *, timeout: float, log: Path) -> BaseImage:
        if env.python in self.base_images:
            return self._named_base(env)
        bases = images.Bases(self.root, self.client(), mirror=self.mirror)
        return bases.suite(
            self._suite(env), _arch(env), timeout=timeout, log=log, with_python=_needs_python(env)
        )

    def _named_base(self, env: EnvSpec) -> BaseImage:
        reference = self.base_images[env.python]
        if reference not in self._named:
            self._named[reference] = images.Bases(self.root, self.client()).named(reference)
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

    def __init__(self, env_id: str, base: EnvImage, tools: str, docker: str = "docker") -> None:
        super().__init__(env_id, base, docker)
        self.tools = Path(tools).resolve()

    def tool(self, name: str) -> str:
        return str(self.tools / name)

    def python(self) -> str:
        raise StageFailure("no-python", f"{self.id} is a runtime tools directory; it has no Python")

    def describe(self) -> Mapping[str, Any]:
        return {
            "id": self.id,
            "backend": self.backend,
            "lock_digest": None,
            "python": None,
            "packages": {},
            "tools": str(self.tools),
            "tools_digest": _hashing.tools_digest(str(self.tools)),
            "image": self.image.tag,
            "image_id": self.image.image_id,
            "base_image_id": self.image.image_id,
            "manifest": str(self.image.manifest_path),
        }

    def run(self, argv: Sequence[str], *, read_only: Sequence[Path] = (), **kwargs: Any) -> _proc.Completed:
        return super().run(argv, read_only=[*read_only, self.tools], **kwargs)


def base_environment(env_id: str, base: BaseImage, docker: str = "docker") -> DockerEnvironment:
    """A bare base system as an environment (no Python packages): for running native programs,
    e.g. cross-compiled ones under qemu, with the same isolation as every other container."""
    return DockerEnvironment(env_id, _as_env_image(base), docker)


def _as_env_image(base: BaseImage) -> EnvImage:
    manifest = {
        "base": {"image_id": base.image_id, "tag": base.tag, **dict(base.meta)},
        "python_packages": [],
    }
    return EnvImage(base.tag, base.image_id, manifest, Path(base.meta.get("manifest", "")))


def _check_readable(paths: Sequence[Path]) -> None:
    """Stages run as an unprivileged user: a mounted input it cannot read would fail deep inside
    the tool with a confusing message, so say plainly which path and how to fix it."""
    if _container_user()[0] != NOBODY[0]:
        return  # the container runs as the host user, who can read what they named
    for path in paths:
        mode = Path(path).stat().st_mode
        needed = 0o005 if Path(path).is_dir() else 0o004
        if mode & needed != needed:
            raise StageFailure(
                "permissions",
                f"{path} (mode {mode & 0o777:o}) is not readable by the container's unprivileged user: "
                f"chmod o+rX it, or use --backend venv",
                cacheable=False,
            )


def _needs_python(env: EnvSpec) -> bool:
    """A tools directory needs only the C library; still, where the architecture has IREE wheels
    its Python base exists anyway (or will), so reuse it rather than debootstrap a second base."""
    return not env.tools or targets.ARCHES[env.arch].wheel_machine is not None


def _arch(env: EnvSpec) -> str:
    """The Debian architecture of an environment: its own, not the host's (run environments of a
    foreign board are images of the board's architecture)."""
    return targets.ARCHES[env.arch].debian


def _docker_cli() -> str:
    found = shutil.which("docker")
    if found is None:
        raise StageFailure(
            "docker-daemon", f"no `docker` command on PATH; {daemon.SETUP_HINT}", cacheable=False
        )
    return found


def _container_user() -> tuple[int, int]:
    """The host user, unless that is root: then nobody, so a stage cannot act as root anywhere."""
    uid, gid = os.getuid(), os.getgid()
    return NOBODY if uid == 0 else (uid, gid)


class _writable_by:
    """Give the container user the writable directories for the run; hand them back afterwards.

    Only needed when the host runs as root (the container user is then nobody). Afterwards
    everything in them belongs to the directory's original owner again, so the store never holds
    files owned by nobody (which any later container could then rewrite).
    """

    def __init__(self, user: tuple[int, int], paths: Sequence[Path]) -> None:
        self._user = user
        self._paths = [Path(p) for p in paths] if os.getuid() == 0 and user != (0, 0) else []
        self._owners: dict[Path, tuple[int, int]] = {}

    def __enter__(self) -> _writable_by:
        for path in self._paths:
            st = path.stat()
            self._owners[path] = (st.st_uid, st.st_gid)
            for item in _walk(path):
                os.lchown(item, *self._user)
        return self

    def __exit__(self, *exc: object) -> None:
        for path, owner in self._owners.items():
            for item in _walk(path):
                os.lchown(item, *owner)


def _walk(root: Path) -> Iterator[Path]:
    yield root
    if root.is_dir() and not root.is_symlink():
        for dirpath, dirnames, filenames in os.walk(root):
            for item in dirnames + filenames:
                yield Path(dirpath) / item


def _mount(path: str, *, readonly: bool) -> str:
    # --mount (not -v): a missing source is an error instead of a new root-owned directory, and
    # paths with ':' work. Fields are CSV, so quote them.
    fields = ["type=bind", f"source={path}", f"target={path}"] + (["readonly"] if readonly else [])
    return ",".join('"' + f.replace('"', '""') + '"' if ("," in f or '"' in f) else f for f in fields)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "-" for c in text)[:60]
