"""Issue #24: IREE's runtime built in the toolchain image from a tarball of a release other than
3.9.0, as root, with the cache under the user's home - root's home is mode 0700, which the
containers' user (nobody) cannot enter, so the source and the build directory are mounted under
/mnt/host (containers.moved_mounts). 3.10.0 also clones libbacktrace while configuring unless
told not to (runtime_build.release_cmake), and the build runs PyPI's CMake, not Debian's. The
cache persists under the home, so on this machine the build is made once and later runs reuse it
(CI's time); on a fresh machine it is built (~3 min)."""

from __future__ import annotations

import glob
import os
from pathlib import Path

import pytest

from iree_matrix.core.model.results import Status
from iree_matrix.core.system import containers
from iree_matrix.envs.cache_usage import default_cache

from .conftest import REPO, iree_matrix, records, skip_module_without

pytestmark = [pytest.mark.integration, pytest.mark.docker, pytest.mark.slow]

skip_module_without(containers.problem() and f"no Docker daemon ({containers.problem()})")

RELEASE = "3.10.0"
MATRIX = f"""
python = "3.11"
torch = "2.13.0"
turbine = "3.9.0"
compiler = "{RELEASE}"
runtime = "src:{RELEASE}"
models = "tiny_cnn"
"""


def release_source(release: str) -> str:
    """A tarball of IREE's tree at v<release> beside the checkout (../shared/iree-src), or
    IREE_MATRIX_IREE_SOURCE_<release with _> (e.g. IREE_MATRIX_IREE_SOURCE_3_11_0)."""
    named = os.environ.get("IREE_MATRIX_IREE_SOURCE_" + release.replace(".", "_"))
    if named:
        return named
    for where in (REPO.parent / "shared" / "iree-src", Path("/work/shared/iree-src")):
        found = glob.glob(str(where / f"iree-v{release}-runtime-src.tar.xz"))
        if found:
            return found[0]
    pytest.skip(f"no IREE {release} source tarball (set IREE_MATRIX_IREE_SOURCE_{release.replace('.', '_')})")


def test_a_3_10_runtime_builds_in_the_toolchain_image_with_the_cache_in_the_home(tmp_path: Path) -> None:
    cache = Path.home() / ".cache" / "iree-matrix-test-home"  # persistent: the build is stored once
    cache.mkdir(parents=True, exist_ok=True)
    for shared in ("wheelhouse", "images"):  # the toolchain image and wheels, as every test shares them
        (default_cache() / shared).mkdir(parents=True, exist_ok=True)
        if not (cache / shared).exists():
            (cache / shared).symlink_to(default_cache() / shared)
    matrix = tmp_path / "m.toml"
    matrix.write_text(MATRIX)
    results = tmp_path / "results"
    done = iree_matrix(
        "matrix", "--matrix", str(matrix), "--backend", "docker", "--select", "runtime-build:*",
        "--iree-source", f"{RELEASE}={release_source(RELEASE)}", cache=cache, results=results, timeout=3000,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    build = records(results)[f"runtime-build:src:{RELEASE}/x86_64"]
    assert build.status is Status.OK, build.message
    assert build.metrics["built_in"] == "the toolchain image"
    assert build.metrics["toolchain"]["cmake"] == "cmake version 3.31.10"  # PyPI's: Debian's is 3.25.1
    assert build.metrics["iree-run-module_bytes"] > build.metrics["iree-run-module_stripped_bytes"] > 100_000
    tools = cache / "store" / "runtime-build" / build.key / "tools"
    assert (tools / "iree-run-module").is_file() and (tools / "iree-flatcc-cli").is_file()
    if os.getuid() == 0:  # the case of the issue: the store is in a home nobody may not enter
        assert not Path.home().stat().st_mode & 0o001
        assert tools.stat().st_uid == 0  # handed back to the cache's owner after the build
