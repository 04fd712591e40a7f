"""Host virtual environments, installed offline from the wheelhouse.

`<root>/<env id>-<lock digest>/` is one environment; `.complete` (written last, holding the
environment's description) marks it usable. A directory without it is a crashed install and is
rebuilt.

Large installed files that are byte-identical across environments (torch's and the nvidia-*
libraries: ~5 GB per CUDA torch, the same for every turbine release and, for the py3-none nvidia
wheels, every Python) are kept once: `<root>/.shared/<sha256>-<mode>` and hard links to it.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

from iree_matrix import _hashing, _proc, interpreters, targets
from iree_matrix._files import free_bytes, is_disk_full, storage_error
from iree_matrix._locks import file_lock
from iree_matrix.errors import StageFailure
from iree_matrix.plan import EnvSpec
from iree_matrix.wheelhouse import Lock, Target

_COMPLETE = ".complete"
# A failed build that leaves less than this free on its disk ran out of space, whatever it said.
_NEARLY_FULL = 16 << 20
_SHARED = ".shared"
_SHARE_FROM = 1 << 20  # smaller files are not worth a hash


class VenvEnvironment:
    backend = "venv"

    def __init__(self, env_id: str, path: Path, description: Mapping[str, Any]) -> None:
        self.id = env_id
        self.path = path
        self._description = description

    def tool(self, name: str) -> str:
        return str(self.path / "bin" / name)

    def python(self) -> str:
        return str(self.path / "bin" / "python")

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
    ) -> _proc.Completed:
        # Nothing from the orchestrator's own environment may leak into the stage's imports.
        clean = {"PYTHONPATH": "", "PYTHONNOUSERSITE": "1", "VIRTUAL_ENV": str(self.path), **(env or {})}
        return _proc.run(
            argv, cwd=cwd, env=clean, timeout=timeout, log=log, check=check, error_class=error_class
        )

    def describe(self) -> Mapping[str, Any]:
        return self._description


class VenvBackend:
    name = "venv"

    def __init__(self, root: Path, interpreters: Mapping[str, str] = {}) -> None:  # noqa: B006 - read only
        # venv bakes absolute paths into its scripts' shebangs: through a symlink that later
        # disappears they would break, so always build at the real path.
        self.root = Path(root).resolve()
        self.interpreters = dict(interpreters)  # the matrix's [interpreters]

    def contained_cpu_seconds(self) -> float:
        return 0.0  # a venv's tools are our own children: counted in our rusage

    def remove_orphans(self) -> list[str]:
        return []  # a venv's tools are processes: they die with the tool (see _proc)

    def target(self, env: EnvSpec) -> Target:
        if env.arch != targets.host_arch():
            raise StageFailure(
                "needs-docker",
                f"{env.id}: a {env.arch} environment needs the docker backend (an image of that "
                "architecture, run under qemu-user): pass --backend docker",
                cacheable=False,
            )
        libc, version = platform.libc_ver()
        major, _, minor = version.partition(".") if libc == "glibc" and version else ("2", "", "17")
        glibc = (int(major), int(minor.split(".")[0] or 0))
        return Target(python=env.python, machine=platform.machine(), glibc=glibc)

    def _path(self, env: EnvSpec, lock_digest: str) -> Path:
        return self.root / f"{env.id}-{lock_digest[:16]}"

    def open(self, env: EnvSpec, lock_digest: str) -> Optional[VenvEnvironment]:
        if env.tools:
            return _tools_environment(env)
        path = self._path(env, lock_digest)
        try:
            description = json.loads((path / _COMPLETE).read_text())
        except (OSError, ValueError):
            return None
        if description.get("path") != str(path) or not (path / "bin" / "python").exists():
            return None  # moved or damaged: its scripts point elsewhere; rebuild it
        return VenvEnvironment(env.id, path, description)

    def create(
        self, env: EnvSpec, lock: Lock, wheels: Sequence[Path], *, timeout: float, log: Path
    ) -> VenvEnvironment:
        if env.tools:  # the host's own binaries: nothing to install
            return _tools_environment(env)
        path = self._path(env, lock.digest)
        with file_lock(path.with_name(path.name + ".lock")):
            existing = self.open(env, lock.digest)
            if existing is not None:
                _proc.note(
                    log, f"[venv] reusing {path} (the same lock, {lock.digest[:16]}, installed before)"
                )
                return existing
            shutil.rmtree(path, ignore_errors=True)
            try:
                return self._build(env, path, lock, wheels, timeout=timeout, log=log)
            except BaseException as exc:
                # Measured before the half-built venv goes: a tool's message does not always say
                # why (`python -m venv` hides ensurepip's ENOSPC behind "returned non-zero").
                left = free_bytes(path)
                # A half-built venv is hundreds of MB that nothing will use (`open` wants .complete).
                shutil.rmtree(path, ignore_errors=True)
                full = (
                    is_disk_full(exc)
                    or (isinstance(exc, StageFailure) and exc.error_class == "disk-full")
                    or (isinstance(exc, StageFailure) and left is not None and left < _NEARLY_FULL)
                )
                if not full:
                    raise
                # The wheels unpack to more than their own size: a lower bound, said as one.
                needed = sum(Path(w).stat().st_size for w in wheels if Path(w).exists())
                why = exc if isinstance(exc, OSError) else "No space left on device"
                raise storage_error(
                    path, why, needed=needed, at_least=True, doing="cannot build the environment"
                ) from None

    def _build(
        self, env: EnvSpec, path: Path, lock: Lock, wheels: Sequence[Path], *, timeout: float, log: Path
    ) -> VenvEnvironment:
        interpreter = _find_python(env.python, self.interpreters)
        _proc.run([interpreter, "-m", "venv", str(path)], timeout=timeout, log=log, error_class="venv")
        python = str(path / "bin" / "python")
        _proc.run(
            [python, "-m", "pip", "install", "--no-index", "--no-deps", "--no-compile",
             "--disable-pip-version-check", *map(str, wheels)],
            timeout=timeout, log=log, error_class="pip-install",
        )  # fmt: skip
        share_identical_files(path, self.root / _SHARED)
        probe = _proc.run(
            [python, "-c", "import json, platform; print(json.dumps(platform.python_version()))"],
            timeout=60,
            log=log,
        )
        description = {
            "id": env.id,
            "backend": self.name,
            "lock_digest": lock.digest,
            "python": json.loads(probe.stdout),
            "packages": lock.versions(),
            "path": str(path),
        }
        (path / _COMPLETE).write_text(json.dumps(description, indent=1, sort_keys=True))
        return VenvEnvironment(env.id, path, description)


class ToolsVenvEnvironment(VenvEnvironment):
    """A directory of runtime tools for this host (e.g. IREE's runtime built from source here):
    run as they are, with the same clean environment as a venv's tools."""

    def tool(self, name: str) -> str:
        return str(self.path / name)

    def python(self) -> str:
        raise StageFailure("no-python", f"{self.id} is a runtime tools directory; it has no Python")


def _tools_environment(env: EnvSpec) -> ToolsVenvEnvironment:
    tools = Path(env.tools or "").resolve()
    if not (tools / "iree-run-module").is_file():
        raise StageFailure("env-missing", f"{env.id}: no iree-run-module in {tools}", cacheable=False)
    description: dict[str, Any] = {
        "id": env.id,
        "backend": "venv",
        "lock_digest": None,
        "python": None,
        "packages": {},
        "tools": str(tools),
        "tools_digest": _hashing.tools_digest(str(tools)),
    }
    return ToolsVenvEnvironment(env.id, tools, description)


def _find_python(version: str, named: Mapping[str, str] = {}) -> str:  # noqa: B006 - read only
    found = interpreters.find(version, named)
    if found is None:  # the CLI checks this at plan time; a plan run another way gets it here
        try:
            interpreters.require([version], named)
        except interpreters.MissingInterpreter as exc:
            raise StageFailure("python-missing", str(exc), cacheable=False) from None
    assert found is not None
    return found


def share_identical_files(tree: Path, shared: Path) -> int:
    """Replace every large regular file under `tree` by a hard link to its copy in `shared` (made
    from this one if none exists yet): identical files across venvs take their space once. Returns
    the bytes this tree no longer takes on its own."""
    shared.mkdir(parents=True, exist_ok=True)
    saved = 0
    for root, _dirs, files in os.walk(tree):
        for name in files:
            path = Path(root) / name
            info = path.lstat()
            if not stat.S_ISREG(info.st_mode) or info.st_size < _SHARE_FROM or info.st_nlink > 1:
                continue
            h = hashlib.sha256()
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
            keep = shared / f"{h.hexdigest()}-{stat.S_IMODE(info.st_mode):o}"
            try:
                os.link(path, keep)  # the first copy of these bytes: it becomes the shared one
                continue
            except FileExistsError:
                pass
            tmp = path.with_name(path.name + ".link")
            os.link(keep, tmp)
            os.replace(tmp, path)
            saved += info.st_size
    return saved
