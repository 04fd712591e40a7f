"""The Docker backend against a real daemon, a real debootstrapped base and real IREE wheels.

The bookworm base, the wheelhouse and the environment image live in the persistent cache
(`default_cache()`), so only the first run on a machine pays for debootstrap and the download;
every later run re-checks the same guarantees on the cached images.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from iree_matrix import images
from iree_matrix.core.errors import StageFailure, UserError
from iree_matrix.core.system import containers, processes
from iree_matrix.core.system.process_request import Bounds, ProcessRequest
from iree_matrix.envs.backends import BACKENDS
from iree_matrix.envs.cache_usage import default_cache
from iree_matrix.envs.docker import DockerBackend, DockerEnvironment
from iree_matrix.matrix import spec_file
from iree_matrix.matrix.plan import EnvSpec
from iree_matrix.matrix.wheelhouse import Pins, Wheelhouse, WheelPlatform

from .conftest import SMOKE

pytestmark = [pytest.mark.docker, pytest.mark.integration]

RUNTIME = "iree-base-runtime==3.9.0"
# A name unique to this test run: containers carry it as a label, so "nothing left behind" is
# checked for this run only, even with other runs using the same daemon.
SPEC = EnvSpec(
    kind="runtime", python="3.11", requirements=(RUNTIME,), name=f"iree-runtime3.9.0-t{os.getpid()}"
)


@pytest.fixture(scope="module", autouse=True)
def docker_daemon() -> None:
    problem = containers.problem()
    if problem is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI must run images/setup-host.sh before the tests: {problem}")
    pytest.skip(f"no Docker daemon: {problem}")


@pytest.fixture(scope="module")
def backend() -> DockerBackend:
    return DockerBackend(default_cache() / "images")


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("log") / "docker.log"


@pytest.fixture(scope="module")
def pins_and_wheels(log: Path) -> tuple[Pins, list[Path]]:
    wheelhouse = Wheelhouse(default_cache() / "wheelhouse")
    pins = wheelhouse.pin([RUNTIME], WheelPlatform("3.11"), log=log)
    return pins, wheelhouse.fetch(pins, log=log)


@pytest.fixture(scope="module")
def environment(
    backend: DockerBackend, pins_and_wheels: tuple[Pins, list[Path]], log: Path
) -> DockerEnvironment:
    pins, wheels = pins_and_wheels
    return backend.create(SPEC, pins, wheels, Bounds(1800, log))


@pytest.fixture
def shared_dir(tmp_path: Path) -> Path:
    # pytest makes tmp_path 0700; a directory the non-root container user reads must be 0755.
    path = tmp_path / "shared"
    path.mkdir(mode=0o755)
    return path


def leftover_containers() -> str:
    return subprocess.run(
        ["docker", "ps", "-a", "--quiet", "--filter", "label=iree-matrix=1",
         "--filter", f"label=iree-matrix.env={SPEC.id}"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


def test_registered_under_its_name_with_the_matrix_base_images() -> None:
    matrix = spec_file.load(SMOKE)
    matrix = dataclasses.replace(matrix, images={"3.12": "python:3.12-slim"})
    backend = BACKENDS["docker"](default_cache(), matrix)
    assert isinstance(backend, DockerBackend)
    assert backend.base_images == {"3.12": "python:3.12-slim"}


def test_target_is_bookworm_for_python_311(backend: DockerBackend) -> None:
    assert backend.target(SPEC) == WheelPlatform("3.11", "x86_64", (2, 36))


def test_python_without_a_suite_says_what_to_do(backend: DockerBackend) -> None:
    with pytest.raises(StageFailure) as info:
        backend.target(EnvSpec("runtime", "3.10", (RUNTIME,), "x"))
    assert info.value.error_class == "python-missing"
    assert not info.value.cacheable
    assert "base image" in info.value.message


def test_manifest_pins_packages_and_base(
    environment: DockerEnvironment, pins_and_wheels: tuple[Pins, list[Path]], backend: DockerBackend
) -> None:
    pins, _ = pins_and_wheels
    manifest = environment.image.manifest
    runtime = next(p for p in pins.packages if p.name == "iree-base-runtime")
    assert {"name": "iree-base-runtime", "version": "3.9.0", "sha256": runtime.sha256}.items() <= next(
        p for p in manifest["python_packages"] if p["name"] == "iree-base-runtime"
    ).items()
    assert len(runtime.sha256) == 64
    assert "python3" in {p["name"] for p in manifest["debian_packages"]}
    assert manifest["python"].startswith("3.11.")
    assert manifest["lock_digest"] == pins.digest
    assert manifest["base"]["suite"] == "bookworm"
    assert manifest["base"]["image_id"] == containers.image(manifest["base"]["tag"]).id
    assert environment.image.manifest_path.is_file()

    described = environment.describe()
    assert described["backend"] == "docker"
    assert described["packages"]["iree-base-runtime"] == "3.9.0"
    assert described["image"].startswith("iree-matrix-env:") and len(described["image"].split(":")[1]) == 16
    assert described["image_id"] == containers.image(described["image"]).id


def test_runtime_tool_runs_and_streams_are_separate(environment: DockerEnvironment, log: Path) -> None:
    done = environment.run(
        ProcessRequest([environment.tool("iree-run-module"), "--help"], timeout=120, log=log, check=False)
    )
    assert "--module" in done.output, done.output
    assert done.argv[0] == "/opt/env/bin/iree-run-module"

    code = "import sys; print('to-stdout'); print('to-stderr', file=sys.stderr)"
    done = environment.run(ProcessRequest([environment.python(), "-c", code], timeout=120, log=log))
    assert done.stdout == "to-stdout\n"
    assert "to-stderr" in done.stderr and "to-stdout" not in done.stderr
    assert "docker run" in log.read_text()  # the equivalent command line is in the log


def test_writable_dir_receives_files_owned_by_the_host_user(
    environment: DockerEnvironment, shared_dir: Path, log: Path
) -> None:
    target = shared_dir / "nested" / "out.txt"
    code = f"import os; os.makedirs({str(target.parent)!r}); open({str(target)!r}, 'w').write('hello')"
    environment.run(
        ProcessRequest([environment.python(), "-c", code], timeout=120, log=log, writable=[shared_dir])
    )
    assert target.read_text() == "hello"
    for path in (shared_dir, target.parent, target):
        assert path.stat().st_uid == os.getuid(), path


def test_read_only_mount_cannot_be_written(
    environment: DockerEnvironment, shared_dir: Path, log: Path
) -> None:
    (shared_dir / "input.txt").write_text("data")
    code = f"print(open({str(shared_dir / 'input.txt')!r}).read()); open({str(shared_dir / 'new')!r}, 'w')"
    done = environment.run(
        ProcessRequest(
            [environment.python(), "-c", code], timeout=120, log=log, read_only=[shared_dir], check=False
        )
    )
    assert done.returncode != 0
    assert done.stdout.strip() == "data"  # readable
    assert "Read-only file system" in done.stderr or "Permission denied" in done.stderr
    assert not (shared_dir / "new").exists()

    with pytest.raises(StageFailure) as info:
        environment.run(
            ProcessRequest([environment.python(), "-c", code], timeout=120, log=log, read_only=[shared_dir])
        )
    assert info.value.error_class == "python-error"


def test_no_network_and_not_root(environment: DockerEnvironment, log: Path) -> None:
    code = "import socket; socket.create_connection(('1.1.1.1', 53), timeout=5)"
    done = environment.run(
        ProcessRequest([environment.python(), "-c", code], timeout=120, log=log, check=False)
    )
    assert done.returncode != 0
    assert "unreachable" in done.stderr.lower() or "OSError" in done.stderr or "Errno" in done.stderr

    uid = environment.run(ProcessRequest(["id", "-u"], timeout=120, log=log)).stdout.strip()
    assert uid != "0"


def test_unmounted_host_paths_are_invisible(
    environment: DockerEnvironment, shared_dir: Path, log: Path
) -> None:
    (shared_dir / "secret").write_text("x")
    done = environment.run(ProcessRequest(["ls", str(shared_dir)], timeout=120, log=log, check=False))
    assert done.returncode != 0


def test_timeout_kills_the_container_and_removes_it(environment: DockerEnvironment, log: Path) -> None:
    # The worst case: a command that ignores SIGTERM.
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"
    start = time.monotonic()
    with pytest.raises(processes.Timeout) as info:
        environment.run(ProcessRequest([environment.python(), "-c", code], timeout=3, log=log))
    assert time.monotonic() - start < 30
    assert info.value.argv[0] == environment.python()
    assert leftover_containers() == ""


def test_containers_are_removed_after_success_and_failure(environment: DockerEnvironment, log: Path) -> None:
    environment.run(ProcessRequest(["true"], timeout=120, log=log))
    environment.run(ProcessRequest(["false"], timeout=120, log=log, check=False))
    assert leftover_containers() == ""


def test_keep_containers_leaves_it_and_names_it(
    environment: DockerEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IREE_MATRIX_KEEP_CONTAINERS", "1")
    own_log = tmp_path / "keep.log"
    environment.run(ProcessRequest(["true"], timeout=120, log=own_log))
    kept = leftover_containers()
    try:
        assert kept
        assert "kept container iree-matrix-" in own_log.read_text()
    finally:
        subprocess.run(["docker", "rm", "-f", *kept.split()], capture_output=True)


def test_second_create_builds_nothing_and_open_finds_it(
    environment: DockerEnvironment,
    backend: DockerBackend,
    pins_and_wheels: tuple[Pins, list[Path]],
    tmp_path: Path,
) -> None:
    pins, wheels = pins_and_wheels
    again_log = tmp_path / "again.log"
    start = time.monotonic()
    again = DockerBackend(backend.root).create(SPEC, pins, wheels, Bounds(600, again_log))
    assert time.monotonic() - start < 20
    assert again.image.image_id == environment.image.image_id
    assert "building" not in again_log.read_text() and "debootstrap" not in again_log.read_text()

    opened = DockerBackend(backend.root).open(SPEC, pins.digest)
    assert opened is not None and opened.image.image_id == environment.image.image_id
    assert DockerBackend(backend.root).open(SPEC, "0" * 64) is None


def test_missing_image_is_a_docker_error_not_a_tool_error(environment: DockerEnvironment, log: Path) -> None:
    gone = dataclasses.replace(environment.image, image_id="sha256:" + "0" * 64)
    with pytest.raises(StageFailure) as info:
        DockerEnvironment(SPEC.id, gone).run(ProcessRequest(["true"], timeout=120, log=log, check=False))
    assert info.value.error_class == "docker-run" and not info.value.cacheable
    assert leftover_containers() == ""


def test_named_base_image_is_used_as_is(backend: DockerBackend, environment: DockerEnvironment) -> None:
    tag = environment.image.manifest["base"]["tag"]  # a bookworm base: Python 3.11
    named = DockerBackend(backend.root, base_images={"3.11": tag})
    assert named.target(SPEC) == WheelPlatform("3.11", "x86_64", (2, 36))  # probed from the image itself
    wrong = DockerBackend(backend.root, base_images={"3.9": tag})
    with pytest.raises(StageFailure) as info:
        wrong.target(EnvSpec("runtime", "3.9", (RUNTIME,), "x"))
    assert info.value.error_class == "python-missing" and "has Python 3.11, not 3.9" in info.value.message
    with pytest.raises(UserError, match="not in the local Docker daemon"):
        DockerBackend(backend.root, base_images={"3.11": "iree-matrix-nonexistent:1"}).target(SPEC)


def test_base_reloads_from_its_tarball_to_the_same_id(
    backend: DockerBackend, environment: DockerEnvironment
) -> None:
    base = environment.image.manifest["base"]
    containers.remove_image(base["tag"])  # untags only: the environment image still needs the layers
    reloaded = images.Bases(backend.root).suite("bookworm", "amd64", Bounds(600))
    assert reloaded.tag == base["tag"]
    assert reloaded.image_id == base["image_id"] == containers.image(base["tag"]).id
    rootfs = backend.root / "rootfs"
    assert (rootfs / "bookworm-amd64.sha256").read_text().split()[0] == base["rootfs_sha256"]
    assert "python3\t3.11" in (rootfs / "bookworm-amd64.packages").read_text()


def test_an_environment_image_is_built_committed_and_found_by_its_labels(
    backend: DockerBackend, pins_and_wheels: tuple[Pins, list[Path]], tmp_path: Path, log: Path
) -> None:
    """The build path itself (the environment fixture reuses a cached image): a root container
    installs the pins offline, `docker commit` labels the image with its manifest, and the labels
    are the index `open` finds it by. Its own base reference and tag: no other run finds it."""
    pins, wheels = pins_and_wheels
    base = images.Bases(backend.root).suite("bookworm", "amd64", Bounds(1800, log))
    # Its own base reference and id make its own tag: the fixture's cached image is not reused.
    base = dataclasses.replace(base, ref=f"test-base-{os.getpid()}", image_id=f"sha256:test-{os.getpid()}")
    built_images = images.EnvImages(tmp_path, precompile=False)
    tag = images.env_tag(base, pins, precompile=False)
    assert built_images.get(tag) is None
    try:
        built = built_images.ensure(base, pins, wheels, Bounds(1800, log))
        assert built.tag == tag
        found = built_images.find(base.ref, pins.digest)
        assert found is not None and (found.tag, found.image_id) == (tag, built.image_id)
        assert found.manifest == built.manifest and built.manifest["lock_digest"] == pins.digest
        assert "iree-base-runtime" in {p["name"] for p in built.manifest["python_packages"]}
        env = DockerEnvironment("test", built)
        code = "import os, iree.runtime; print(os.environ['VIRTUAL_ENV'], os.getcwd())"
        assert env.run(ProcessRequest([env.python(), "-c", code], timeout=120, log=log)).stdout.split() == [
            "/opt/env",
            "/tmp",
        ]
    finally:
        subprocess.run(["docker", "rmi", "--force", tag], capture_output=True)
    assert containers.image(tag) is None


def test_a_commit_keeps_labels_with_quotes_dollars_and_backslashes(backend: DockerBackend, log: Path) -> None:
    base = images.Bases(backend.root).suite("bookworm", "amd64", Bounds(1800, log))
    tag = f"{images.ENV_REPO}:label-test-{os.getpid()}"
    value = json.dumps({"a": 'say "hi" to $HOME \\ ${PATH} and it\'s', "b": ["x y", "\u00e9"]})
    argv = ["/bin/sh", "-c", "echo built; echo warning >&2; id -u"]
    try:
        with containers.build_container(base.tag, argv, what="label test", timeout=300, log=log) as built:
            assert built.done.stdout == "built\n0\n" and built.done.stderr == "warning\n"
            built.commit(tag, changes=["WORKDIR /tmp"], labels={f"{containers.LABEL}.test": value})
            name = built.name
        image = containers.image(tag)
        assert image is not None and image.labels[f"{containers.LABEL}.test"] == value
        assert image.labels[containers.LABEL] == "1"
    finally:
        subprocess.run(["docker", "rmi", "--force", tag], capture_output=True)
    left = subprocess.run(["docker", "ps", "-aq", "--filter", f"name={name}"], capture_output=True, text=True)
    assert left.stdout.strip() == ""


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
