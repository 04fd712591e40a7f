"""Every test process: its own machine quiet lock (`locks.machine_lock`), so the suite never waits
for a real run's timed stage on this machine, nor holds one up (its subprocesses inherit it).

Each pytest-xdist worker (`nox -s tests`) has its own too. Sharing one across the workers made every
export, run and peer stage of one worker wait for the other's (issue 72: the integration tier's wall
time was its CPU time, one core of two). No test needs the other worker's timings out of the way:
a test's assertions on timed stages hold under load (figures > 0, any paired verdict), the tests
that bound wall time or kill a timed stage take a private lock of their own
(`IREE_MATRIX_QUIET_LOCK`, e.g. test_sandbox.py), and a timed record keeps `other_load`, as on any
shared machine."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True, scope="session")
def _private_quiet_lock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    before = os.environ.get("IREE_MATRIX_QUIET_LOCK")
    lock = Path(tmp_path_factory.mktemp("quiet")) / "quiet.lock"  # under this worker's base temp
    os.environ["IREE_MATRIX_QUIET_LOCK"] = str(lock)
    yield
    if before is None:
        os.environ.pop("IREE_MATRIX_QUIET_LOCK", None)
    else:
        os.environ["IREE_MATRIX_QUIET_LOCK"] = before


@pytest.fixture
def tmp_path(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    """pytest's own, or for a test marked `shared_tmp` a fresh folder in /tmp that every user may
    enter (0755): pytest makes its folders 0700, and the tool takes a kernel's files only from where
    every other user could read them when it runs as root (core/system/shared_files.py), as the suite
    does in CI."""
    if request.node.get_closest_marker("shared_tmp") is None:
        yield tmp_path
        return
    shared = Path(tempfile.mkdtemp(prefix="iree-matrix-shared-"))
    shared.chmod(0o755)
    try:
        yield shared
    finally:
        shutil.rmtree(shared, ignore_errors=True)


@pytest.fixture(autouse=True)
def _tool_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The running venv's bin/ first on the PATH, as `nox` puts it: its `iree-matrix` is the tool
    under test, so a printed command starts with the bare name (`shipped.command`) however pytest was
    started; a test of the invocation itself sets its own PATH."""
    import sys

    monkeypatch.setenv("PATH", f"{Path(sys.prefix) / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
