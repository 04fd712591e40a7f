"""The docker run options every container gets (pure: no daemon needed), and the callers that go
through them."""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from iree_matrix.core.errors import StageFailure
from iree_matrix.core.system import containers, processes
from iree_matrix.core.system.containers import RUN_LABEL_ENV
from iree_matrix.core.system.process_request import Bounds, ProcessRequest
from iree_matrix.envs.docker import DockerEnvironment
from iree_matrix.images import Bases, EnvImage

ISOLATION = ("--network none", "--cap-drop ALL", "--security-opt no-new-privileges", "--init", "--pull never")


@pytest.fixture(autouse=True)
def docker_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """The `docker` command as `docker`, found or not on this machine (only fakes run here)."""
    monkeypatch.setattr(containers, "docker_cli", lambda: "docker")
    monkeypatch.setattr(containers, "find_docker", lambda: "docker")


def _options(monkeypatch: pytest.MonkeyPatch, label: str) -> list[str]:
    if label:
        monkeypatch.setenv(RUN_LABEL_ENV, label)
    else:
        monkeypatch.delenv(RUN_LABEL_ENV, raising=False)
    return containers.options(
        "name", (65534, 65534), [Path("/in")], [Path("/out")], {"QEMU_CPU": "cortex-a72"}, {"x": "y"}
    )


def test_isolation_mounts_and_the_run_label(monkeypatch: pytest.MonkeyPatch) -> None:
    opts = _options(monkeypatch, "test-1234")
    joined = " ".join(opts)
    assert all(option in joined for option in ISOLATION) and "--user 65534:65534" in joined
    assert "--label iree-matrix=1 --label x=y" in joined
    assert "--label iree-matrix.run=test-1234" in joined
    assert "--env QEMU_CPU=cortex-a72" in joined
    assert any("/in" in o and "readonly" in o for o in opts)
    assert any("/out" in o and "readonly" not in o for o in opts if "dst=/out" in o or "target=/out" in o)


def test_no_run_label_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not any(o.startswith("iree-matrix.run=") for o in _options(monkeypatch, ""))


class _Docker:
    """Stands in for the docker client: remembers each command and answers like a container."""

    def __init__(self, stdout: str = "") -> None:
        self.calls: list[tuple[str, ...]] = []
        self.stdout = stdout

    def __call__(self, request: ProcessRequest) -> processes.Completed:
        argv = request.argv
        self.calls.append(tuple(argv))
        return processes.Completed(tuple(argv), 0, self.stdout if argv[1] == "run" else "", "", 0.1, 1 << 20)


def _isolated(argv: tuple[str, ...]) -> bool:
    joined = " ".join(argv)
    return argv[1] == "run" and all(option in joined for option in ISOLATION) and "--user" in joined


def test_a_stage_command_runs_isolated_in_its_environment_and_reads_as_its_own(monkeypatch, tmp_path: Path):
    docker = _Docker("out")
    monkeypatch.setattr(processes, "run", docker)
    env = DockerEnvironment("py3.11-x", EnvImage("t:1", "sha256:0", {}, Path("/m.json")))
    done = env.run(ProcessRequest(["python", "-V"], timeout=10))
    run, remove = docker.calls
    assert _isolated(run) and "iree-matrix.env=py3.11-x" in run and run[-3:] == ("sha256:0", "python", "-V")
    assert remove[1:3] == ("rm", "--force")
    assert done.argv == ("python", "-V") and done.stdout == "out" and done.peak_rss_bytes is None


def test_a_base_image_probe_runs_with_the_same_isolation(monkeypatch, tmp_path: Path):
    facts = {"python": "3.11", "machine": "x86_64", "glibc": [2, 36]}
    docker = _Docker(json.dumps(facts))
    monkeypatch.setattr(processes, "run", docker)
    assert Bases(tmp_path)._probe("sha256:1") == facts
    assert _isolated(docker.calls[0]) and docker.calls[0][-4:-2] == ("sha256:1", "python3")


def test_a_container_names_its_owner_and_is_watched_until_removed(monkeypatch: pytest.MonkeyPatch) -> None:
    """#14: the owner label lets the next run find a killed run's containers; the watchdog is told
    the name before `docker run` and released after `docker rm`."""
    docker = _Docker()
    told: list[tuple] = []
    monkeypatch.setattr(processes, "run", docker)
    monkeypatch.setattr(processes, "watch_container", lambda cli, name: told.append(("ct", name)))
    monkeypatch.setattr(processes, "unwatch_container", lambda name: told.append(("-ct", name)))
    monkeypatch.delenv(containers.KEEP_ENV, raising=False)
    containers.run("sha256:abc", ProcessRequest(["true"], timeout=10), what="t")
    run = next(c for c in docker.calls if c[1] == "run")
    name = run[run.index("--name") + 1]
    assert f"{containers.OWNER_LABEL}={containers.owner()}" in run
    assert told == [("ct", name), ("-ct", name)]
    assert any(c[1:3] == ("rm", "--force") and name in c for c in docker.calls)


def test_a_kept_container_is_neither_owned_nor_watched(monkeypatch: pytest.MonkeyPatch) -> None:
    docker = _Docker()
    monkeypatch.setattr(processes, "run", docker)
    monkeypatch.setattr(processes, "watch_container", lambda *a: pytest.fail("a kept container was watched"))
    monkeypatch.setenv(containers.KEEP_ENV, "1")
    containers.run("sha256:abc", ProcessRequest(["true"], timeout=10), what="t")
    run = " ".join(next(c for c in docker.calls if c[1] == "run"))
    assert containers.OWNER_LABEL not in run and f"{containers.KEPT_LABEL}=1" in run


def test_owner_is_gone_only_for_a_dead_process_of_this_machine() -> None:
    import subprocess
    import sys

    assert not containers.owner_is_gone(containers.owner())  # this process
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    label = containers.owner(child.pid)
    assert not containers.owner_is_gone(label)
    child.wait()
    assert containers.owner_is_gone(label)
    boot, ns, pid, started = containers.owner().split("/")
    assert containers.owner_is_gone(f"{boot}/{ns}/{pid}/{int(started) + 1}")  # a reused pid
    assert not containers.owner_is_gone(f"another-boot/{ns}/999999/1")  # another machine: not ours to judge
    assert not containers.owner_is_gone(f"{boot}/1/999999/1")  # another pid namespace (a container)
    assert not containers.owner_is_gone("garbage")


def test_remove_orphans_removes_only_containers_whose_owner_is_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    boot, ns, pid, started = containers.owner().split("/")
    listing = "\n".join(
        [
            f"alive\t{containers.owner()}",
            f"dead\t{boot}/{ns}/{pid}/{int(started) + 1}",
            f"elsewhere\tother-boot/{ns}/1/1",
        ]
    )
    docker = _Docker(stdout=listing)
    monkeypatch.setattr(
        processes, "run", lambda request: dataclasses.replace(docker(request), stdout=listing)
    )
    assert containers.remove_orphans() == ["dead"]
    assert ("docker", "rm", "--force", "--volumes", "dead") in docker.calls


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A directory every user may enter (pytest's own tmp_path is under a 0700 directory)."""
    path = Path(tempfile.mkdtemp(prefix="iree-matrix-test-"))
    path.chmod(0o755)
    yield path
    for item in path.rglob("*"):
        if item.is_dir():
            item.chmod(0o755)
    shutil.rmtree(path)


def test_a_path_nobody_cannot_reach_is_mounted_where_it_can_and_the_command_reads_unchanged(
    monkeypatch: pytest.MonkeyPatch, open_tmp: Path
) -> None:
    """Root's default cache is under /root (mode 0700): nobody, the containers' user, could not
    enter it, so it is mounted under /mnt/host and argv, env and output are translated."""
    tmp_path = open_tmp
    home = tmp_path / "home"
    (home / "cache" / "src").mkdir(parents=True)
    home.chmod(0o700)
    src = home / "cache" / "src"
    open_dir = tmp_path / "open"
    open_dir.mkdir()
    moved = containers.moved_mounts([src, open_dir])
    assert moved == {str(src): containers.HOST_MOUNTS + str(src)} and str(open_dir) not in moved
    docker = _Docker(f"cmake: {containers.HOST_MOUNTS}{src}/CMakeLists.txt read")
    monkeypatch.setattr(processes, "run", docker)
    monkeypatch.setattr(containers, "_container_user", lambda: containers.NOBODY)
    monkeypatch.setattr(containers, "_writable_by", lambda user, paths: _NoChown())
    done = containers.run(
        "sha256:0",
        ProcessRequest(["cmake", "-S", str(src), f"-DX={src}/a", f"{src}x"], timeout=10,
                       read_only=[src, open_dir], env={"SRC": str(src)}),
        what="t",
    )  # fmt: skip
    run = " ".join(docker.calls[0])
    inside = containers.HOST_MOUNTS + str(src)
    assert f"source={src},target={inside},readonly" in run and f"target={open_dir}," in run
    assert docker.calls[0][-4:] == ("-S", inside, f"-DX={inside}/a", f"{src}x")  # a longer name is not it
    assert f"--env SRC={inside}" in run
    assert done.argv[2] == str(src) and done.stdout == f"cmake: {src}/CMakeLists.txt read"


class _NoChown:
    def __enter__(self) -> _NoChown:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def test_peak_memory_is_the_containers_and_leaves_the_commands_stderr_as_it_was(monkeypatch) -> None:
    docker = _Docker()
    monkeypatch.setattr(processes, "run", docker)
    containers.run(
        "sha256:0", ProcessRequest(["iree-run-module", "--x"], timeout=10, peak_memory=True), what="t"
    )
    assert docker.calls[0][-6:] == (*containers.PEAK_MEMORY_WRAPPER, "iree-run-module", "--x")
    assert docker.calls[0][-5] == "-c" and "max_usage_in_bytes" in docker.calls[0][-4]
    mark = "iree-matrix-peak-memory-bytes: "
    assert containers.split_peak_memory(f"warning\n{mark}52428800\n") == ("warning\n", 52428800)
    assert containers.split_peak_memory("no mark") == ("no mark", None)


def test_a_working_directory_is_the_mounted_path_and_tmp_otherwise(tmp_path: Path) -> None:
    def workdir(cwd):
        opts = containers.options("n", (1, 1), [tmp_path], [], None, {}, {}, cwd)
        return opts[opts.index("--workdir") + 1]

    assert workdir(None) == "/tmp"
    assert workdir(tmp_path) == str(tmp_path.resolve())


# --- the daemon and images, through the same `docker` command -------------------------------------


def _answers(monkeypatch: pytest.MonkeyPatch, *replies: tuple[int, str, str]) -> list[tuple[str, ...]]:
    """`processes.run` answering each docker command in turn with (exit code, stdout, stderr)."""
    calls: list[tuple[str, ...]] = []
    queue = list(replies)

    def run(request: ProcessRequest) -> processes.Completed:
        argv = request.argv
        calls.append(tuple(argv))
        code, out, err = queue.pop(0)
        return processes.Completed(tuple(argv), code, out, err, 0.1)

    monkeypatch.setattr(processes, "run", run)
    return calls


def test_the_daemon_state_says_why_not_and_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    _answers(monkeypatch, (0, "20.10.24\n", ""))
    assert containers.state() == containers.State(True, "Docker Engine 20.10.24")
    down = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"
    _answers(monkeypatch, (1, "", down + "\n"))
    found = containers.state()
    assert not found.ok and down in found.detail and "images/setup-host.sh" in found.fix
    _answers(monkeypatch, (1, "", "permission denied while trying to connect to the Docker daemon socket"))
    assert "docker' group" in containers.state().fix
    monkeypatch.setattr(containers, "find_docker", lambda: None)
    assert "no `docker` command" in containers.state().detail


def test_an_image_is_inspected_and_a_missing_one_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    attrs = {
        "Id": "sha256:1",
        "RepoTags": ["t:1"],
        "Config": {"Labels": {"a": "b"}},
        "Created": "c",
        "Size": 5,
    }
    calls = _answers(monkeypatch, (0, json.dumps([attrs]), ""), (1, "", "Error: No such image: t:2"))
    assert containers.image("t:1") == containers.Image("sha256:1", ("t:1",), {"a": "b"}, "c", 5)
    assert containers.image("t:2") is None
    assert calls[0] == ("docker", "image", "inspect", "t:1")
    _answers(monkeypatch, (1, "", "Cannot connect to the Docker daemon at unix:///var/run/docker.sock."))
    with pytest.raises(StageFailure) as info:
        containers.image("t:1")
    assert info.value.error_class == "docker-daemon" and not info.value.cacheable


def test_images_by_label_are_listed_then_inspected(monkeypatch: pytest.MonkeyPatch) -> None:
    attrs = {"Id": "sha256:1", "RepoTags": None, "Config": {"Labels": None}}
    calls = _answers(monkeypatch, (0, "sha256:1\nsha256:1\n", ""), (0, json.dumps([attrs]), ""))
    assert [i.id for i in containers.images({"k": "v", "x": "1"})] == ["sha256:1"]
    assert calls[0][-4:] == ("--filter", "label=k=v", "--filter", "label=x=1")
    assert calls[1] == ("docker", "image", "inspect", "sha256:1")
    _answers(monkeypatch, (0, "", ""))
    assert containers.images({"k": "v"}) == []


def test_a_build_container_runs_as_root_offline_and_is_committed_then_removed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls = _answers(monkeypatch, (0, "probe\n", "pip says\n"), (0, "sha256:2", ""), (0, "", ""))
    told: list[tuple] = []
    monkeypatch.setattr(processes, "watch_container", lambda remove, name: told.append(("ct", *remove, name)))
    monkeypatch.setattr(processes, "unwatch_container", lambda name: told.append(("-ct", name)))
    with containers.build_container("base:1", ["/bin/sh", "-c", "x"], what="env build", read_only=[tmp_path],
                                    timeout=60) as built:  # fmt: skip
        assert built.done.stdout == "probe\n" and built.done.argv == ("/bin/sh", "-c", "x")
        built.commit("env:1", changes=["WORKDIR /tmp"], labels={"m": '{"a":"$HOME \\\\ x"}'})
    run, commit, remove = calls
    name = run[run.index("--name") + 1]
    assert run[:2] == ("docker", "run") and "--user" not in run and "--cap-drop" not in run
    assert " ".join(run).count("--label") == 1 and "--network none" in " ".join(run)
    assert f"source={tmp_path},target={tmp_path},readonly" in " ".join(run)
    assert run[-4:] == ("base:1", "/bin/sh", "-c", "x")
    assert commit == ("docker", "commit", "--change", "WORKDIR /tmp", "--change",
                      'LABEL "m"="{\\"a\\":\\"\\$HOME \\\\\\\\ x\\"}"', name, "env:1")  # fmt: skip
    assert remove == ("docker", "rm", "--force", "--volumes", name)
    assert told == [("ct", "docker", "rm", "--force", "--volumes", name), ("-ct", name)]


def test_a_base_images_build_is_said_once_through_the_runs_progress(monkeypatch, tmp_path: Path):
    """Issue #52: the Docker backend printed 'building the Debian … base image' twice, to stderr
    beside the live progress line. Two installs asking for the same base at once: one builds it and
    says so (and when it is built) through `say`, the run's progress lines; the other finds it built."""
    import threading

    from iree_matrix.images import bases as bases_module

    built: list[str] = []

    def debootstrap(self, suite, arch, stem, under, flavour):
        built.append(stem.name)
        stem.with_suffix(".tar").write_bytes(b"rootfs")
        meta = {"suite": suite, "arch": arch}
        bases_module.write_json(stem.with_suffix(".json"), meta)
        return meta

    monkeypatch.setattr(bases_module.Bases, "_debootstrap", debootstrap)
    monkeypatch.setattr(bases_module.Bases, "_load", lambda self, meta, tarball, flavour, log: meta)
    said: list[str] = []
    (tmp_path / "rootfs").mkdir()
    arch = bases_module.host_platform()

    def install() -> None:
        Bases(tmp_path, say=said.append).suite("bookworm", arch, Bounds(60, tmp_path / "log"))

    threads = [threading.Thread(target=install) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert built == [f"bookworm-{arch}"]
    assert len(said) == 2
    assert said[0].startswith(f"building the Debian bookworm {arch} base image: once per cache, ~1 min quiet")
    assert said[1].startswith(f"built the Debian bookworm {arch} base image in ")
