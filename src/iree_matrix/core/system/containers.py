"""Every `docker` command this tool runs is made here, through the CLI (not the SDK) so it reads as
if it had run here. A stage's container has no network, a non-root user, no capabilities, and only the
host paths it names; containers are removed by name in a `finally`, by the watchdog, and by the next run."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

from iree_matrix.core.errors import StageFailure, UserError
from iree_matrix.core.system import bubblewrap, host, process_output, process_tree, processes
from iree_matrix.core.system.process_request import ProcessRequest

LABEL = "iree-matrix"  # on every image and container this tool makes: `--filter label=iree-matrix=1`
NOBODY = (65534, 65534)  # what containers run as when the host user is root
HOST_MOUNTS = "/mnt/host"  # where a path nobody cannot reach on the host is mounted instead
KEEP_ENV = "IREE_MATRIX_KEEP_CONTAINERS"
OWNER_LABEL = f"{LABEL}.owner"  # which process started the container: boot id/pid namespace/pid/start
KEPT_LABEL = f"{LABEL}.kept"  # kept on purpose (KEEP_ENV): never an orphan
RUN_LABEL_ENV = "IREE_MATRIX_RUN_LABEL"
_DOCKER_ERROR = 125  # `docker run` itself failed (bad mount, missing image), not the command


SETUP = "images/setup-host.sh"
SETUP_HINT = f"run `{SETUP}` as root (installs docker.io + debootstrap and starts dockerd)"
_GROUP_FIX = "add yourself to the 'docker' group (sudo usermod -aG docker $USER; log in again) or run as root"

_NO_DAEMON = ("cannot connect to the docker daemon", "is the docker daemon running", "connection refused")


@dataclasses.dataclass(frozen=True)
class State:
    ok: bool
    detail: str  # "Docker Engine 20.10.24" or why it does not answer
    fix: str = ""


def find_docker() -> Optional[str]:
    return shutil.which("docker")


def docker_cli() -> str:
    """The `docker` command, or a stage failure saying how to install it."""
    if (found := find_docker()) is None:
        raise StageFailure("docker-daemon", f"no `docker` command on PATH; {SETUP_HINT}", cacheable=False)
    return found


def state(timeout: int = 10) -> State:
    if (docker := find_docker()) is None:
        return State(False, "no `docker` command on PATH", f"bash {SETUP} (apt-get install docker.io)")
    try:
        done = _unchecked([docker, "version", "--format", "{{.Server.Version}}"], timeout)
    except (processes.Timeout, OSError) as exc:
        return State(False, f"not running ({exc})", f"bash {SETUP} starts dockerd (no init system does)")
    if done.returncode == 0 and done.stdout.strip():
        return State(True, f"Docker Engine {done.stdout.strip()}")
    text = " ".join(done.stderr.split()) or f"`docker version` exited {done.returncode}"
    if "permission denied" in text.lower():
        return State(False, f"no permission on the Docker socket ({text})", _GROUP_FIX)
    return State(False, f"not running ({text})", f"bash {SETUP} starts dockerd (no init system does)")


def problem() -> Optional[str]:
    """Why the daemon cannot be used (with the fix), or None when it answers."""
    found = state()
    return None if found.ok else f"the Docker daemon does not answer: {found.detail}; {found.fix}"


def require() -> None:
    if found := problem():
        raise UserError(found)


def _docker(
    *args: str,
    what: str,
    timeout: Optional[float] = 3600,
    log: Optional[Path] = None,
    check: bool = True,
    feed: Optional[Iterable[bytes]] = None,
) -> processes.Completed:
    """A `docker` command about images or the daemon: its failure is never a cached result."""
    try:
        request = ProcessRequest([docker_cli(), *args], timeout=timeout, log=log, check=False, feed=feed)
        done = processes.run(request)
    except processes.Timeout:
        raise StageFailure(
            "docker", f"{what}: `docker {args[0]}` did not finish within {timeout:.0f} s", cacheable=False
        ) from None
    if check and done.returncode != 0:
        raise _daemon_failure(what, done)
    return done


def _daemon_failure(what: str, done: processes.Completed) -> StageFailure:
    text = process_output.excerpt(done.stderr) or f"docker exited {done.returncode}"
    if any(mark in text.lower() for mark in _NO_DAEMON):
        return StageFailure(
            "docker-daemon", f"{what}: lost the Docker daemon ({text}); {SETUP_HINT}", cacheable=False
        )
    return StageFailure("docker", f"{what}: {text}", cacheable=False)


@dataclasses.dataclass(frozen=True)
class Image:
    id: str  # sha256:...
    tags: tuple[str, ...]
    labels: Mapping[str, str]
    created: str  # RFC 3339: sorts as time
    size: int  # bytes

    @classmethod
    def of(cls, attrs: Mapping[str, Any]) -> Image:
        labels = (attrs.get("Config") or {}).get("Labels") or {}
        tags = tuple(attrs.get("RepoTags") or ())
        return cls(
            attrs["Id"], tags, dict(labels), str(attrs.get("Created", "")), int(attrs.get("Size") or 0)
        )


def image(ref: str) -> Optional[Image]:
    """The image `ref` (a tag or an id) names in the daemon, or None when it has none."""
    done = _docker("image", "inspect", ref, what=f"image {ref}", timeout=120, check=False)
    if done.returncode != 0:
        if "no such image" in done.stderr.lower():
            return None
        raise _daemon_failure(f"image {ref}", done)
    return Image.of(json.loads(done.stdout)[0])


def images(labels: Mapping[str, str]) -> list[Image]:
    filters = [arg for key, value in labels.items() for arg in ("--filter", f"label={key}={value}")]
    listed = _docker("image", "ls", "--quiet", "--no-trunc", *filters, what="listing images", timeout=120)
    if not (ids := list(dict.fromkeys(listed.stdout.split()))):
        return []
    done = _docker("image", "inspect", *ids, what="listing images", timeout=120)
    return [Image.of(attrs) for attrs in json.loads(done.stdout)]


def load_image(archive: Iterable[bytes], *, what: str, log: Optional[Path] = None) -> None:
    """`docker load` of a `docker save` archive, streamed in chunks (never written to disk)."""
    _docker("load", what=what, log=log, feed=archive)


def remove_image(ref: str) -> None:
    _docker("image", "rm", ref, what=f"removing image {ref}", timeout=300)


def disk_usage() -> Optional[list[dict[str, Any]]]:
    if (docker := find_docker()) is None:
        return None
    try:
        done = _unchecked([docker, "system", "df", "-v", "--format", "{{json .}}"], 60)
        return list(json.loads(done.stdout).get("Images") or [])
    except (OSError, processes.Timeout, ValueError):
        return None


@dataclasses.dataclass(frozen=True)
class Built:
    name: str
    done: processes.Completed

    def commit(self, tag: str, *, changes: Sequence[str] = (), labels: Mapping[str, str] = {}) -> None:
        """The container as image `tag`, with Dockerfile `changes` (ENV, WORKDIR, ...) and `labels`."""
        lines = [*changes, *(f"LABEL {_dockerfile_word(k)}={_dockerfile_word(v)}" for k, v in labels.items())]
        args = [arg for line in lines for arg in ("--change", line)]
        _docker("commit", *args, self.name, tag, what=f"committing {tag}", timeout=1800)


@contextlib.contextmanager
def build_container(
    image_ref: str,
    argv: Sequence[str],
    *,
    what: str,
    read_only: Sequence[Path] = (),
    timeout: Optional[float],
    log: Optional[Path] = None,
) -> Iterator[Built]:
    """Run `argv` as root in a container of `image_ref` with no network and only our marker label (a
    commit copies its configuration); removed when the block ends, after it could be committed."""
    docker = docker_cli()
    with _container(docker, what) as name:
        opts = ["--name", name, "--label", f"{LABEL}=1", "--network", "none", "--pull", "never"]
        for path in sorted({str(Path(p).resolve()) for p in read_only}):
            opts += ["--mount", _mount(path, path, readonly=True)]
        run = [docker, "run", *opts, image_ref, *argv]
        done = _client(docker, name, [what], ProcessRequest(run, timeout=timeout, log=log, check=False))
        _check_run(done)
        yield Built(name, dataclasses.replace(done, argv=tuple(argv)))


@contextlib.contextmanager
def _container(docker: str, what: str, keep: bool = False, log: Optional[Path] = None) -> Iterator[str]:
    """A new container's name, the container removed when the block ends (by the watchdog if the tool
    dies first) unless `keep`."""
    slug = "".join(c if c.isalnum() or c in "._-" else "-" for c in what)[:60]
    name = f"iree-matrix-{slug}-{secrets.token_hex(4)}"
    if not keep:
        processes.watch_container(_remove_argv(docker), name)
    try:
        yield name
    finally:
        if keep:
            processes.note(log, f"[kept container {name}: {KEEP_ENV}=1]")
        else:
            _quiet([*_remove_argv(docker), name])
            processes.unwatch_container(name)


def _client(docker: str, name: str, argv: Sequence[str], request: ProcessRequest) -> processes.Completed:
    """The docker client's run of container `name`; its `Timeout` kills the container (the client is gone;
    the container may not be), said as `argv`'s. Only the client's: what the block does after is its own."""
    try:
        return processes.run(request)
    except processes.Timeout as exc:
        _quiet([docker, "kill", name])
        raise processes.Timeout(argv, exc.seconds, exc.output) from None


def _dockerfile_word(text: str) -> str:
    """`text` as one double-quoted, escaped word of a Dockerfile instruction (what `--change` takes)."""
    return '"' + re.sub(r'([\\"$])', r"\\\1", text) + '"'


def _remove_argv(docker: str) -> list[str]:
    """The command that removes containers, their names appended: for this module and the watchdog."""
    return [docker, "rm", "--force", "--volumes"]


def run(
    image_id: str, request: ProcessRequest, *, what: str, labels: Mapping[str, str] = {}
) -> processes.Completed:
    """Run `request` in a fresh container of `image_id`; the result reads as if its argv had run here."""
    if host_only := [*request.host_isolation(), *(["feed"] if request.feed is not None else [])]:
        raise ValueError(f"a container cannot take {', '.join(host_only)}: it is isolated its own way")
    argv, read_only, writable, cwd = list(request.argv), request.read_only, request.writable, request.cwd
    log = request.log
    docker = docker_cli()
    _check_readable(read_only)
    user = _container_user()
    keep = os.environ.get(KEEP_ENV) == "1"
    labels = {**labels, **({KEPT_LABEL: "1"} if keep else {OWNER_LABEL: owner()})}
    moved = moved_mounts([*read_only, *writable]) if user == NOBODY else {}
    inside = [*(PEAK_MEMORY_WRAPPER if request.peak_memory else ()), *(_translate(a, moved) for a in argv)]
    env = {k: _translate(v, moved) for k, v in (request.env or {}).items()}
    limits = process_tree.configured()
    with _writable_by(user, writable), _container(docker, what, keep, log) as name:
        opts = options(name, user, read_only, writable, env, labels, moved, cwd, limits)
        # The client runs here as itself: the request's cwd and env are the container's.
        docker_argv = [docker, "run", *opts, image_id, *inside]
        client = ProcessRequest(
            docker_argv, timeout=request.timeout, log=log, check=False, paused=request.paused
        )
        done = _client(docker, name, argv, client)
        if done.returncode in _KILLED and _oom_killed(docker, name):
            limit = f"limit {process_tree.size_text(limits.memory)}" if limits.memory else "no limit set"
            done = dataclasses.replace(done, killed=f"killed: out of memory ({limit})")
            processes.note(log, f"[the container was killed: out of memory ({limit})]")
    # The docker client's own footprint says nothing about the tool in the container.
    back = {inner: outer for outer, inner in moved.items()}
    stderr, peak = split_peak_memory(done.stderr) if request.peak_memory else (done.stderr, None)
    out, err = (_translate(text, back) for text in (done.stdout, stderr))
    done = dataclasses.replace(done, argv=tuple(argv), stdout=out, stderr=err, peak_rss_bytes=peak)
    _check_run(done)
    if done.killed or (request.check and done.returncode != 0):  # a limit's answer is never the tool's
        raise processes.failure(done, request.error_class)
    return done


# How a container's command ends when the kernel killed it: `--init` exits 128 + SIGKILL.
_KILLED = (128 + 9, -9)


def _oom_killed(docker: str, name: str) -> bool:
    with contextlib.suppress(processes.Timeout):
        done = _unchecked([docker, "inspect", "--format", "{{.State.OOMKilled}}", name], 60)
        return done.stdout.strip() == "true"
    return False


def options(
    name: str,
    user: tuple[int, int],
    read_only: Sequence[Path],
    writable: Sequence[Path],
    env: Optional[Mapping[str, str]],
    labels: Mapping[str, str] = {},
    moved: Mapping[str, str] = {},
    cwd: Optional[Path] = None,
    limits: Optional[process_tree.Limits] = None,
) -> list[str]:
    """`docker run`'s options for a container (pure); `moved`: host paths mounted elsewhere."""
    workdir = "/tmp" if cwd is None else _translate(str(Path(cwd).resolve()), moved)
    # Packed by hand: each flag beside its operands; formatted, every word would take a line.
    opts = [
        "--name", name, "--label", f"{LABEL}=1",
        *(arg for key, value in labels.items() for arg in ("--label", f"{key}={value}")),
        "--network", "none", "--user", f"{user[0]}:{user[1]}", "--workdir", workdir,
        "--pull", "never",  # no registry: a missing image is an error, not a 30 s pull attempt
        "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
        "--init",  # PID 1 forwards signals (a killed client's SIGTERM) and reaps children
        "--env", "HOME=/tmp", "--env", "PYTHONNOUSERSITE=1",
    ]  # fmt: skip
    if host.containers_cgroup() is not None:
        # Every container under one parent cgroup, whose CPU counter keeps what removed
        # containers used: how much of a timed stage's CPU was the stage's own (other_load).
        opts += ["--cgroup-parent", host.CONTAINERS_CGROUP]
    if limits is not None and limits.memory is not None:
        opts += ["--memory", str(limits.memory), "--memory-swap", str(limits.memory)]
    if limits is not None and limits.processes is not None:
        opts += ["--pids-limit", str(limits.processes)]
    if os.environ.get(RUN_LABEL_ENV):  # lets a caller find (and count) exactly its own containers
        opts += ["--label", f"{LABEL}.run={os.environ[RUN_LABEL_ENV]}"]
    for key, value in (env or {}).items():
        opts += ["--env", f"{key}={value}"]
    rw = {str(Path(p).resolve()) for p in writable}
    for path in sorted({str(Path(p).resolve()) for p in read_only} - rw):
        opts += ["--mount", _mount(path, _translate(path, moved), readonly=True)]
    for path in sorted(rw):
        opts += ["--mount", _mount(path, _translate(path, moved), readonly=False)]
    return opts


# A container's peak memory: its cgroup's high-water mark (under qemu-user an upper bound).
_PEAK_MARK = "iree-matrix-peak-memory-bytes: "
PEAK_MEMORY_WRAPPER = (
    "/bin/sh",
    "-c",
    '"$@"; rc=$?; for f in /sys/fs/cgroup/memory.peak /sys/fs/cgroup/memory/memory.max_usage_in_bytes; '
    f'do if [ -r "$f" ]; then echo "{_PEAK_MARK}$(cat "$f")" >&2; break; fi; done; exit $rc',
    "sh",
)


def split_peak_memory(stderr: str) -> tuple[str, Optional[int]]:
    head, mark, tail = stderr.rpartition(_PEAK_MARK)
    if not mark:
        return stderr, None
    value, _, rest = tail.partition("\n")
    return head + rest, int(value) if value.strip().isdigit() else None


def moved_mounts(paths: Sequence[Path]) -> dict[str, str]:
    """The mounts nobody could not reach at their own path: host path -> path in the container."""
    moved = {}
    for path in paths:
        resolved = Path(path).resolve()
        if not all(p.stat().st_mode & 0o001 for p in resolved.parents if p.exists()):
            moved.update(dict.fromkeys({str(path), str(resolved)}, HOST_MOUNTS + str(resolved)))
    return moved


def _translate(text: str, mapping: Mapping[str, str]) -> str:
    """`text` with every whole-path occurrence of a key of `mapping` (a path or its prefix) replaced."""
    if not mapping or not text:
        return text
    keys = sorted(mapping, key=len, reverse=True)
    pattern = r"(?<![\w.\-/])(" + "|".join(re.escape(k) for k in keys) + r")(?=/|$|[^\w.\-])"
    return re.sub(pattern, lambda m: mapping[m.group(1)], text)


def owner(pid: Optional[int] = None) -> str:
    """This process (or `pid`) as an owner label: a reused pid or another machine's is never the owner."""
    pid = os.getpid() if pid is None else pid
    return "/".join((_boot_id(), _pid_namespace(), str(pid), _start_time(pid) or "?"))


def owner_is_gone(label: str) -> bool:
    try:
        boot, namespace, pid, started = label.split("/")
    except ValueError:
        return False
    if boot != _boot_id() or namespace != _pid_namespace() or not pid.isdigit():
        return False
    return _start_time(int(pid)) != started


def remove_orphans() -> list[str]:
    if (docker := find_docker()) is None:
        return []  # no docker command: no containers either
    fmt = '{{.Names}}\t{{.Label "' + OWNER_LABEL + '"}}'
    filters = ["--filter", f"label={LABEL}=1", "--filter", f"label={OWNER_LABEL}"]
    done = _unchecked([docker, "ps", "--all", *filters, "--format", fmt], 60)
    if done.returncode != 0:
        return []  # no daemon: no containers either
    rows = (line.partition("\t") for line in done.stdout.splitlines())
    if gone := [name for name, _, label in rows if owner_is_gone(label)]:
        _quiet([*_remove_argv(docker), *gone])
    return gone


def _boot_id() -> str:
    with contextlib.suppress(OSError):
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    return "?"


def _pid_namespace() -> str:
    with contextlib.suppress(OSError):
        return os.readlink("/proc/self/ns/pid").strip("pid:[]")
    return "?"


def _start_time(pid: int) -> Optional[str]:
    with contextlib.suppress(OSError):  # the name may hold spaces and ')'
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[19]
    return None


def _quiet(argv: Sequence[str]) -> None:
    # Cleanup must not hide the command's own error: its failure ("no such container") is fine.
    with contextlib.suppress(processes.Timeout):
        _unchecked(argv, 60)


def _unchecked(argv: Sequence[str], timeout: float) -> processes.Completed:
    return processes.run(ProcessRequest(argv, timeout=timeout, check=False))


def _check_run(done: processes.Completed) -> None:
    if done.returncode == _DOCKER_ERROR and done.stderr.lstrip().startswith("docker:"):
        raise StageFailure("docker-run", process_output.excerpt(done.stderr), cacheable=False)


def _check_readable(paths: Sequence[Path]) -> None:
    """A mounted input the container's unprivileged user cannot read, said plainly before it runs."""
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


def _container_user() -> tuple[int, int]:
    """The host user, unless that is root: then nobody, so a container cannot act as root anywhere."""
    return NOBODY if os.getuid() == 0 else (os.getuid(), os.getgid())


@contextlib.contextmanager
def _writable_by(user: tuple[int, int], paths: Sequence[Path]) -> Iterator[None]:
    """As root, the writable directories nobody's for the run and their owner's again after."""
    owners: dict[Path, tuple[int, int]] = {}
    for path in [Path(p) for p in paths] if os.getuid() == 0 and user != (0, 0) else []:
        st = path.stat()
        owners[path] = (st.st_uid, st.st_gid)
        for item, _ in bubblewrap.walk(path):
            os.lchown(item, *user)
    try:
        yield
    finally:
        for path, owner in owners.items():
            for item, _ in bubblewrap.walk(path):
                os.lchown(item, *owner)


def _mount(path: str, target: str, *, readonly: bool) -> str:
    # --mount (not -v): a missing source is an error instead of a new root-owned directory, and
    # paths with ':' work. Fields are CSV, so quote them.
    fields = ["type=bind", f"source={path}", f"target={target}"] + (["readonly"] if readonly else [])
    return ",".join('"' + f.replace('"', '""') + '"' if ("," in f or '"' in f) else f for f in fields)
