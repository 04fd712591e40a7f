"""Host virtual environments, installed offline from the wheelhouse, usable once `.complete` is there;
each checked once per process (`verify`), a damaged one rebuilt. Large identical files are hard-linked."""

from __future__ import annotations

import base64
import contextlib
import csv
import dataclasses
import json
import os
import platform
import shutil
import stat
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

from iree_matrix.core import console, hashing
from iree_matrix.core.atomic_files import free_bytes, is_disk_full, read_json, storage_error, write_json
from iree_matrix.core.errors import EnvironmentFault, StageFailure
from iree_matrix.core.system import bubblewrap, process_output, process_tree, processes
from iree_matrix.core.system.locks import file_lock
from iree_matrix.core.system.process_request import Bounds, ProcessRequest
from iree_matrix.envs.cache_usage import unsafe_characters
from iree_matrix.iree import targets
from iree_matrix.matrix import interpreters
from iree_matrix.matrix.plan import EnvSpec
from iree_matrix.matrix.wheelhouse import Pins, WheelPlatform

logger = console.logger(__name__)

_COMPLETE = ".complete"
# A failed build that leaves less than this free on its disk ran out of space, whatever it said.
_NEARLY_FULL = 16 << 20
_SHARED = ".shared"
_SHARE_FROM = 1 << 20  # smaller files are not worth a hash
# What shows an environment's IREE tool starts (each about a second): run when the tool is there.
_PROBES = (("iree-compile", "--version"), ("iree-run-module", "--help"))
_PROBE_TIMEOUT = 120.0
# Why each environment checked by this process cannot be used (None: it can), by path.
_verified: dict[str, Optional[str]] = {}
_verifying: dict[str, threading.Lock] = {}
_verify_lock = threading.Lock()


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

    def run(self, request: ProcessRequest) -> processes.Completed:
        argv, read_only, writable, cwd = request.argv, request.read_only, request.writable, request.cwd
        # A relative path would name another file in the tool's directory.
        if relative := [str(p) for p in (*read_only, *writable) if not Path(p).is_absolute()]:
            raise ValueError(
                f"relative path(s) {', '.join(relative)} for a command run in {cwd or 'its job directory'}"
            )
        sandboxed = request.model_code is not None and bubblewrap.problem() is None
        # Checked at plan time too (`require_sandbox`): a plan run another way gets here.
        if request.model_code is not None and (refused := bubblewrap.refusal(request.model_code)):
            raise StageFailure("no-sandbox", refused, cacheable=False)
        # A job directory of its own, removed afterwards (a container's /tmp): its `cwd` by default, and
        # its TMPDIR, so no command needs the machine's /tmp, which it may not change.
        job = Path(tempfile.mkdtemp(prefix="iree-matrix-job-"))
        try:
            clean = {**_clean(self.path), "TMPDIR": str(job), **(request.env or {})}
            sandbox = model_sandbox(self.path, read_only, (job, *writable), cwd or job) if sandboxed else None
            done = processes.run(
                dataclasses.replace(
                    request,
                    cwd=cwd or job,
                    env=clean,
                    check=False,
                    limits=process_tree.configured(),
                    # What a container may write: the job's directory, the stage's writable paths and
                    # /dev (`landlock`); a `cwd` only when it is one of them.
                    writes_beneath=[str(job), *(str(w) for w in writable), "/dev"],
                    private_shm=True,  # a container's /dev/shm is its own; so is this command's
                    sandbox=sandbox,
                )
            )
        except OSError as exc:  # the tool, or its script's interpreter, missing or not executable
            if str(exc.filename) != str(argv[0]) or not str(argv[0]).startswith(str(self.path)):
                raise
            raise self.fault(process_output.Fault(f"{argv[0]}: {exc.strerror}", damaged=True)) from None
        finally:
            shutil.rmtree(job, ignore_errors=True)
        if done.killed:  # a limit (or the machine) stopped it: never an answer, whatever the caller checks
            raise processes.failure(done, request.error_class)
        # Ctrl-C killed it (`processes.stopping`): not the environment's failure, and not worth a check.
        if done.returncode > 0 and not processes.stopping():
            fault = process_output.environment_fault(
                done.output, done.argv, done.returncode, str(self.path), writable
            )
            if fault is not None:
                raise self.fault(fault)
            damage = self.content_damage()  # a failure may be the environment's though it says nothing
            if damage is not None:
                raise self.fault(process_output.Fault(damage, damaged=True))
        if request.check and done.returncode != 0:
            raise processes.failure(done, request.error_class)
        return done

    def content_damage(self) -> Optional[str]:
        if (damage := content_damage(self.path)) is not None:
            with _verify_lock:
                _verified[str(self.path)] = damage
        return damage

    def fault(self, fault: process_output.Fault) -> EnvironmentFault:
        """The failure a command of this environment met because of the environment, saying what to fix."""
        if not fault.damaged:
            return EnvironmentFault(
                f"a tool of {self.id} could not write its output ({fault.cause}): the store's path must be "
                "absolute and writable; pass --cache DIR (an absolute directory without spaces)"
            )
        unsafe = unsafe_characters(self.path)
        if unsafe:  # refused at plan time (`cache_usage.require_usable`); a plan run another way gets here
            return EnvironmentFault(
                f"the environment {self.id} is at {self.path}, which has {unsafe}: IREE's tools cannot take "
                f"that ({fault.cause}); pass --cache DIR without spaces or shell characters"
            )
        if (damage := self.content_damage()) is not None:  # `open` now rebuilds it
            cause = fault.cause if fault.cause == damage else f"{fault.cause}; {damage}"
            return EnvironmentFault(
                f"the environment {self.id} is damaged ({cause}): it is rebuilt from the wheelhouse; "
                "nothing is stored from this attempt"
            )
        with _verify_lock:
            _verified.pop(str(self.path), None)  # the next `open` checks it again
        return EnvironmentFault(
            f"the environment {self.id} is damaged ({fault.cause}): the next run rebuilds it if a file of "
            f"its packages is missing; else delete it (`iree-matrix cache prune envs`, or rm -rf "
            f"{self.path}) and run again: it is rebuilt from the wheelhouse",
            fault.cause,
            whole=True,
        )

    def describe(self) -> Mapping[str, Any]:
        return self._description


class VenvBackend:
    name = "venv"

    def __init__(self, root: Path, interpreters: Mapping[str, str] = {}) -> None:  # noqa: B006 - read only
        # venv bakes absolute paths into its scripts' shebangs: built at the real path.
        self.root = Path(root).resolve()
        self.interpreters = dict(interpreters)  # the matrix's [interpreters]

    def contained_cpu_seconds(self) -> float:
        return 0.0  # a venv's tools are our own children: counted in our rusage

    def remove_orphans(self) -> list[str]:
        return []  # a venv's tools are processes: they die with the tool (see processes)

    def target(self, env: EnvSpec) -> WheelPlatform:
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
        return WheelPlatform(python=env.python, machine=platform.machine(), glibc=glibc)

    def _path(self, env: EnvSpec, pins_digest: str) -> Path:
        return self.root / f"{env.id}-{pins_digest[:16]}"

    def open(self, env: EnvSpec, pins_digest: str) -> Optional[VenvEnvironment]:
        if env.tools:
            return _tools_environment(env)
        path = self._path(env, pins_digest)
        if (description := read_json(path / _COMPLETE)) is None:
            return None
        if description.get("path") != str(path) or not (path / "bin" / "python").exists():
            return None  # moved or damaged: its scripts point elsewhere; rebuild it
        if (damage := _checked(path)) is not None:  # `create` rebuilds it
            logger.warning(f"{path}: damaged ({damage}); it is rebuilt from the wheelhouse")
            return None
        return VenvEnvironment(env.id, path, description)

    def create(self, env: EnvSpec, pins: Pins, wheels: Sequence[Path], under: Bounds) -> VenvEnvironment:
        if env.tools:  # the host's own binaries: nothing to install
            return _tools_environment(env)
        path, log = self._path(env, pins.digest), under.log
        with file_lock(path.with_name(path.name + ".lock")):
            if (existing := self.open(env, pins.digest)) is not None:
                processes.note(
                    log, f"[venv] reusing {path} (the same pins, {pins.digest[:16]}, installed before)"
                )
                return existing
            if (damage := _verified.get(str(path))) is not None:
                processes.note(log, f"[venv] {path} is damaged ({damage}): rebuilding it from the wheelhouse")
            shutil.rmtree(path, ignore_errors=True)
            try:
                return self._build(env, path, pins, wheels, under)
            except BaseException as exc:
                # Measured before the half-built venv goes: a tool's message does not always say why.
                nearly_full = (left := free_bytes(path)) is not None and left < _NEARLY_FULL
                # A half-built venv is hundreds of MB that nothing will use (`open` wants .complete).
                shutil.rmtree(path, ignore_errors=True)
                if not is_disk_full(exc) and not (
                    isinstance(exc, StageFailure) and (exc.error_class == "disk-full" or nearly_full)
                ):
                    raise
                # The wheels unpack to more than their own size: a lower bound, said as one.
                needed = sum(Path(w).stat().st_size for w in wheels if Path(w).exists())
                why = exc if isinstance(exc, OSError) else "No space left on device"
                raise storage_error(
                    path, why, needed=needed, at_least=True, doing="cannot build the environment"
                ) from None

    def _build(
        self, env: EnvSpec, path: Path, pins: Pins, wheels: Sequence[Path], under: Bounds
    ) -> VenvEnvironment:
        venv = [_find_python(env.python, self.interpreters), "-m", "venv", str(path)]
        processes.run(under.request(venv, error_class="venv"))
        python = str(path / "bin" / "python")
        pip = [python, "-m", "pip", "install", "--no-index", "--no-deps", "--no-compile"]
        install = [*pip, "--disable-pip-version-check", *map(str, wheels)]
        processes.run(under.request(install, error_class="pip-install"))
        share_identical_files(path, self.root / _SHARED)
        damage = content_damage(path) or verify(path)
        if damage is not None:  # made from the wheelhouse just now: the wheels, or this host
            raise EnvironmentFault(
                f"the environment {env.id} built at {path} does not work ({damage}); if a wheel in the "
                "wheelhouse is damaged, `iree-matrix cache prune wheelhouse` downloads them again"
            )
        with _verify_lock:
            _verified[str(path)] = None
        version = [python, "-c", "import json, platform; print(json.dumps(platform.python_version()))"]
        probe = processes.run(ProcessRequest(version, timeout=60, log=under.log))
        description = {
            "id": env.id,
            "backend": self.name,
            "lock_digest": pins.digest,
            "python": json.loads(probe.stdout),
            "packages": pins.versions(),
            "path": str(path),
        }
        write_json(path / _COMPLETE, description)
        return VenvEnvironment(env.id, path, description)


class ToolsVenvEnvironment(VenvEnvironment):
    """A directory of runtime tools for this host, run with the same clean environment as a venv's."""

    def tool(self, name: str) -> str:
        return str(self.path / name)

    def fault(self, fault: process_output.Fault) -> EnvironmentFault:
        if not fault.damaged:
            return super().fault(fault)
        return EnvironmentFault(
            f"the runtime tools in {self.path} cannot run here ({fault.cause}): build them again, or "
            "pass a --runtime-dir whose tools run on this host"
        )

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
        "tools_digest": hashing.tools_digest(str(tools)),
    }
    return ToolsVenvEnvironment(env.id, tools, description)


def model_sandbox(
    venv: Path, read_only: Sequence[Path], writable: Sequence[Path], cwd: Path
) -> bubblewrap.Sandbox:
    """The bubblewrap sandbox model code of `venv` runs in: /tmp and home empty, inputs bound read-only."""
    return bubblewrap.Sandbox(
        read_only=(*_entered(read_only, ("/tmp", *_home())), str(venv), *_interpreter(venv)),
        writable=tuple(str(w) for w in writable),
        cwd=str(cwd),
        hidden=_home(),
    )


def _entered(read_only: Sequence[Path], hidden: Sequence[str]) -> list[str]:
    """The inputs as the sandbox binds them: a directory uid 65534 may not enter, entry by entry."""
    shown = []
    for path in map(Path, read_only):
        inside = any(path != Path(h) and path.is_relative_to(h) for h in hidden)
        try:
            closed = bubblewrap.as_root() and path.is_dir() and not path.stat().st_mode & stat.S_IXOTH
            entries = sorted(path.iterdir()) if inside and closed else [path]
        except OSError:
            entries = [path]
        shown += [str(p) for p in entries]
    return shown


def _interpreter(venv: Path) -> tuple[str, ...]:
    try:
        lines = (venv / "pyvenv.cfg").read_text().splitlines()
    except OSError:
        return ()
    homes = [ln.partition("=")[2].strip() for ln in lines if ln.partition("=")[0].strip() == "home"]
    return tuple(str(Path(h).parent) for h in homes if h)


def _home() -> tuple[str, ...]:
    try:
        home = Path.home().resolve()
    except (RuntimeError, OSError):
        return ()
    return (str(home),) if home.is_dir() and home != Path("/") else ()


def _clean(path: Path) -> dict[str, str]:
    """Nothing from the orchestrator's own environment may leak into the stage's imports."""
    return {"PYTHONPATH": "", "PYTHONNOUSERSITE": "1", "VIRTUAL_ENV": str(path)}


def _checked(path: Path) -> Optional[str]:
    with _verify_lock:
        one = _verifying.setdefault(str(path), threading.Lock())
    with one:
        with _verify_lock:
            if str(path) in _verified:
                return _verified[str(path)]
        damage = verify(path)
        with _verify_lock:
            _verified[str(path)] = damage
        return damage


def verify(path: Path) -> Optional[str]:
    """Why the venv at `path` cannot be used (a file missing, its IREE tool not starting), or None."""
    if (missing := _missing_file(path)) is not None:
        return f"{missing} is missing"
    for tool, flag in _PROBES:
        exe = path / "bin" / tool
        if not exe.is_file():
            continue
        try:
            request = ProcessRequest([str(exe), flag], env=_clean(path), timeout=_PROBE_TIMEOUT, check=False)
            done = processes.run(request)
        except processes.Timeout:
            continue
        except OSError as exc:
            return f"{tool} cannot be started: {exc.strerror}"
        # Only what says the environment failed it counts: an old tool may exit 1 after its usage.
        fault = process_output.environment_fault(done.output, done.argv, done.returncode, str(path))
        if done.returncode > 0 and fault is not None:
            return f"`{tool} {flag}` fails: {fault.cause}"
    return None


# Files whose content matched their RECORD hash, with their stat then: re-hashed only once changed.
_hashed: dict[str, tuple[int, int, int, int]] = {}


def content_damage(path: Path) -> Optional[str]:
    """The first file of the venv at `path` missing or not the bytes its RECORD lists; None when all match."""
    if (missing := _missing_file(path, until_stop=True)) is not None:
        return f"{missing} is missing"
    for record, site, rows in _records(path):
        if rows is None:
            return f"{record} is unreadable"
        for row in rows:
            if processes.stopping():  # Ctrl-C: the run ends within 2 s, unchecked (the next run checks)
                return None
            if len(row) < 2 or not row[1].startswith("sha256=") or row[0].endswith(".pyc"):
                continue
            file = Path(os.path.normpath(site / row[0]))
            try:
                found = file.stat()
            except OSError:
                return f"{file} is missing"
            seen = (found.st_size, found.st_ino, found.st_mtime_ns, found.st_ctime_ns)
            if _hashed.get(str(file)) == seen:
                continue
            expected = row[1].removeprefix("sha256=")
            actual = base64.urlsafe_b64encode(bytes.fromhex(hashing.file_sha256(file))).rstrip(b"=").decode()
            if actual != expected:
                return f"{file} is not the file its package installed (sha256 differs from its RECORD)"
            _hashed[str(file)] = seen
    return None


def unvouched(path: Path) -> Optional[str]:
    """Why the file at `path` is not a file its venv's packages installed, unchanged, or None."""
    file = Path(os.path.abspath(path))
    if (root := next((p for p in file.parents if (p / "pyvenv.cfg").is_file()), None)) is None:
        return "is not in a Python environment iree-matrix made"
    listed = False
    for record, site, rows in _records(root):
        if rows is None:
            return f"is in {root}, whose {record} is unreadable"
        listed = listed or any(row and Path(os.path.normpath(site / row[0])) == file for row in rows)
    if not listed and file != root / "pyvenv.cfg":  # the venv itself, vouched for by its packages
        return f"is not a file the packages of {root} installed"
    damage = content_damage(root)
    return None if damage is None else f"is in a damaged environment ({damage})"


def _missing_file(path: Path, until_stop: bool = False) -> Optional[Path]:
    """The first file an installed RECORD lists that is not there; `until_stop`: None once stopping."""
    for record, site, rows in _records(path):
        if until_stop and processes.stopping():
            return None
        if rows is None:
            return record
        for row in rows:
            if row and not row[0].endswith(".pyc") and not os.path.exists(site / row[0]):
                return Path(os.path.normpath(site / row[0]))
    return None


def _records(root: Path) -> Iterator[tuple[Path, Path, Optional[list[list[str]]]]]:
    """Each installed RECORD of the venv at `root`, its site-packages, and its rows (None: unreadable)."""
    for record in sorted(root.glob("lib/python*/site-packages/*.dist-info/RECORD")):
        rows: Optional[list[list[str]]] = None
        with contextlib.suppress(OSError, UnicodeDecodeError, csv.Error):
            rows = list(csv.reader(record.read_text(encoding="utf-8").splitlines()))
        yield record, record.parent.parent, rows


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
    """Hard-link every large file under `tree` to its copy in `shared`: the bytes saved."""
    shared.mkdir(parents=True, exist_ok=True)
    saved = 0
    for root, _dirs, files in os.walk(tree):
        for name in files:
            path = Path(root) / name
            info = path.lstat()
            if not stat.S_ISREG(info.st_mode) or info.st_size < _SHARE_FROM or info.st_nlink > 1:
                continue
            keep = shared / f"{hashing.file_sha256(path)}-{stat.S_IMODE(info.st_mode):o}"
            with contextlib.suppress(FileExistsError):
                os.link(path, keep)  # the first copy of these bytes: it becomes the shared one
                continue
            tmp = path.with_name(path.name + ".link")
            os.link(keep, tmp)
            os.replace(tmp, path)
            saved += info.st_size
    return saved
