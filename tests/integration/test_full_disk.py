"""A real full disk (#14): the cache on a 20 MB tmpfs, a venv install that cannot fit. The run
stops with one line naming the environment's path and the space, exit code 1; the results log
keeps what it had and records the install as failed; no half-built venv is left on the small disk.
Needs root (mount); the wheelhouse is the shared one, so nothing is downloaded."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from iree_matrix.core.model.results import Status
from iree_matrix.envs.cache_usage import default_cache

from .conftest import SMOKE, iree_matrix, records

pytestmark = [pytest.mark.integration]

JOB = "install:py3.11-iree-compiler3.9.0"


@pytest.fixture
def small_disk(tmp_path: Path):
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "--lazy", str(mount)], check=False)


def test_a_venv_that_does_not_fit_stops_the_run_with_one_line(small_disk: Path, tmp_path: Path) -> None:
    cache = small_disk / "cache"
    cache.mkdir()
    shared = default_cache() / "wheelhouse"
    shared.mkdir(parents=True, exist_ok=True)
    (cache / "wheelhouse").symlink_to(shared)  # the wheels are read from the big disk
    results = tmp_path / "results"
    results.mkdir()
    earlier = (
        '{"job":"export:earlier","stage":"export","cell":"earlier","key":"k","status":"ok","labels":{}}\n'
    )
    (results / "results.jsonl").write_text(earlier)

    done = iree_matrix(
        "matrix", "--matrix", str(SMOKE), "--backend", "venv", "--select", JOB,
        cache=cache, results=results, timeout=900,
    )  # fmt: skip

    assert done.returncode == 1, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("iree-matrix: error: ")]
    assert len(errors) == 1 and "Traceback" not in done.stderr, done.stderr
    assert str(cache / "envs" / "venv") in errors[0] and "No space left on device" in errors[0]
    assert "are free" in errors[0] and "it needs at least" in errors[0], errors[0]
    assert (results / "results.jsonl").read_text().startswith(earlier)  # nothing written is lost
    got = records(results)
    assert got["export:earlier"].status is Status.OK
    assert got[JOB].status is Status.FAIL and got[JOB].error_class == "disk-full"
    venvs = cache / "envs" / "venv"
    assert not [p for p in venvs.iterdir() if p.is_dir()] if venvs.exists() else True  # no half-built venv
    assert not list((cache / "store").glob("install/*"))  # the failure is not stored: redone next time
