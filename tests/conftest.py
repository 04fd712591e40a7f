"""Every test: its own machine quiet lock (`locks.machine_lock`), so the suite never waits for a
real run's timed stage on this machine, nor holds one up (its subprocesses inherit it)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True, scope="session")
def _private_quiet_lock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    before = os.environ.get("IREE_MATRIX_QUIET_LOCK")
    os.environ["IREE_MATRIX_QUIET_LOCK"] = str(Path(tmp_path_factory.mktemp("quiet")) / "quiet.lock")
    yield
    if before is None:
        os.environ.pop("IREE_MATRIX_QUIET_LOCK", None)
    else:
        os.environ["IREE_MATRIX_QUIET_LOCK"] = before
