"""Every test: its own machine quiet lock (`locks.machine_lock`), so the suite never waits for a
real run's timed stage on this machine, nor holds one up (its subprocesses inherit it). With
pytest-xdist's workers (`nox -s tests`) the workers share one, so no two tests' timed stages overlap."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True, scope="session")
def _private_quiet_lock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    before = os.environ.get("IREE_MATRIX_QUIET_LOCK")
    if os.environ.get("PYTEST_XDIST_WORKER"):  # the run's base temp, above each worker's own
        lock = tmp_path_factory.getbasetemp().parent / "quiet.lock"
    else:
        lock = Path(tmp_path_factory.mktemp("quiet")) / "quiet.lock"
    os.environ["IREE_MATRIX_QUIET_LOCK"] = str(lock)
    yield
    if before is None:
        os.environ.pop("IREE_MATRIX_QUIET_LOCK", None)
    else:
        os.environ["IREE_MATRIX_QUIET_LOCK"] = before
