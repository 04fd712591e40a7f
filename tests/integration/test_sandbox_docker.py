"""The same ends and limits in a container (issue #41 items 2 and 3), through `containers.run` with
a real daemon: a command that never returns and leaves a detached child ends at its timeout, and a
container over its memory limit is named as out of memory. The image is a tiny one made here (the
host's sh, sleep, setsid, head and tail with their C library, `docker import`ed): no registry, no
environment image to build."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest

from iree_matrix.core.errors import StageFailure
from iree_matrix.core.system import containers, process_tree, processes
from iree_matrix.core.system.process_request import ProcessRequest

pytestmark = pytest.mark.integration

_TOOLS = ("sh", "sleep", "setsid", "head", "tail", "cat")


@pytest.fixture(scope="module")
def tiny_image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not containers.state().ok:
        pytest.skip("no Docker daemon")
    root = tmp_path_factory.mktemp("rootfs")
    (root / "bin").mkdir()
    (root / "tmp").mkdir(mode=0o1777)
    (root / "tmp").chmod(0o1777)
    libraries: set[str] = set()
    for tool in _TOOLS:
        found = shutil.which(tool)
        assert found, tool
        shutil.copy(found, root / "bin" / tool)
        listed = subprocess.run(["ldd", found], capture_output=True, text=True).stdout.split()
        libraries.update(word for word in listed if word.startswith("/"))
    for library in libraries:
        target = root / library.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(library, target)
    tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
    done = subprocess.run(["docker", "import", "-", "iree-matrix-test-tiny:sandbox"], stdin=tar.stdout,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    tar.wait()
    assert done.returncode == 0, done.stderr
    image = done.stdout.strip()
    yield image
    subprocess.run(["docker", "image", "rm", "--force", image], capture_output=True, timeout=300)


def _ours() -> list[str]:
    mine = f"label={containers.OWNER_LABEL}={containers.owner()}"
    done = subprocess.run(
        ["docker", "ps", "--all", "--quiet", "--filter", mine], capture_output=True, text=True, timeout=60
    )
    return done.stdout.split()


def test_a_never_returning_command_with_a_detached_child_ends_at_its_timeout(tiny_image: str) -> None:
    start = time.monotonic()
    with pytest.raises(processes.Timeout):
        containers.run(
            tiny_image,
            ProcessRequest(["sh", "-c", "setsid sleep 3600 & echo started; exec sleep 3600"], timeout=3),
            what="sandbox-hang",
        )
    took = time.monotonic() - start
    assert took < 3 + 15, f"{took:.0f} s for a 3 s timeout"
    assert _ours() == [], "the container (and the detached child in it) is gone"


def test_a_container_over_its_memory_is_named(tiny_image: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(process_tree.MEMORY_ENV, "64M")
    # tail -n 1 of a stream without a newline keeps all of it: 1 GB against a 64 MiB limit.
    with pytest.raises(StageFailure) as info:
        hog = ["sh", "-c", "head -c 1000000000 /dev/zero | tail -n 1"]
        containers.run(tiny_image, ProcessRequest(hog, timeout=120, check=False), what="sandbox-oom")
    assert info.value.error_class == "out-of-memory" and info.value.cacheable is False
    assert info.value.message.startswith("killed: out of memory (limit 64 MiB)"), info.value.message
    assert _ours() == []


def test_the_container_has_the_limits(tiny_image: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(process_tree.MEMORY_ENV, "128M")
    monkeypatch.setenv(process_tree.PROCESSES_ENV, "64")
    files = "/sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max"
    files += " /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max"
    done = containers.run(
        tiny_image,
        ProcessRequest(["sh", "-c", f"cat {files} 2>/dev/null; true"], timeout=60),
        what="sandbox-limits",
    )
    assert done.stdout.split() == [str(128 << 20), "64"]
