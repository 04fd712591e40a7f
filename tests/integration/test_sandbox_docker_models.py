"""The hostile models of the venv drill (tests/integration/test_sandbox.py) on the Docker backend
(issue #51): real torch in the exporter's environment image, real containers. Each model does its
harm in its factory, after torch is imported, and raises saying what it saw; its export is the only
stage that runs. The drill: writing and deleting outside (by absolute path), /dev/shm (64 MB, and
another program's file there), reading the host's ~/.ssh and a file beside the matrix, a forked
daemon, and 200 MB of output."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import pytest

from iree_matrix.core.model.results import Status
from iree_matrix.core.system import containers
from tests.hostile_models import (
    CHATTY,
    DAEMON,
    OUTSIDE,
    SECRETS,
    SHARED_MEMORY,
    kill_sleeping,
    sleeping,
    unique_duration,
    users_project,
)  # fmt: skip

from .conftest import drill_matrix, export_job, iree_matrix, module_cache, own_quiet_lock, records

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def drill(tmp_path_factory):  # type: ignore[no-untyped-def]
    if not containers.state().ok:
        pytest.skip("no Docker daemon")
    tmp_path, cache = module_cache(tmp_path_factory, "docker-drill")
    users = users_project(tmp_path)
    (users / "secret.txt").write_text("s3cr3t-value")
    mine, theirs = f"iree-matrix-drill-{uuid.uuid4().hex}", f"iree-matrix-other-{uuid.uuid4().hex}"
    other = Path("/dev/shm") / theirs
    other.write_text("another program's")
    duration = unique_duration(uuid.uuid4())
    models = {
        "outside": OUTSIDE.format(precious=str(users / "precious.txt"), seen=str(users / "written")),
        "shm": SHARED_MEMORY.format(mine=mine, theirs=theirs),
        "secrets": SECRETS.format(
            ssh=os.path.expanduser("~/.ssh/known_hosts"), secret=str(users / "secret.txt")
        ),
        "daemon": DAEMON.format(duration=duration),
        "chatty": CHATTY.format(lines=200),
    }
    matrix = drill_matrix(tmp_path, models, export=600)
    results = tmp_path / "results"
    argv = ("matrix", "--matrix", str(matrix), "--backend", "docker")
    try:
        done = iree_matrix(
            *argv, cache=cache, results=results, env=own_quiet_lock(tmp_path), cwd=users, timeout=3600
        )
        assert done.returncode == 0, done.stderr
        yield {
            "got": records(results), "users": users, "cache": cache, "other": other, "mine": mine,
            "daemons": sleeping(duration),
        }  # fmt: skip
    finally:
        other.unlink(missing_ok=True)
        (Path("/dev/shm") / mine).unlink(missing_ok=True)
        kill_sleeping(duration)  # a daemon that escaped


def _said(drill, name: str) -> str:  # type: ignore[no-untyped-def]
    export = drill["got"][export_job(name)]
    assert export.status is Status.FAIL, export.message
    return export.message or ""


def test_a_model_cannot_write_or_delete_outside(drill) -> None:  # type: ignore[no-untyped-def]
    said = _said(drill, "outside")
    assert "outside=['FileNotFoundError', 'FileNotFoundError']" in said, said  # not even mounted
    assert sorted(p.name for p in drill["users"].iterdir()) == ["precious.txt", "secret.txt"]


def test_a_models_dev_shm_is_its_own(drill) -> None:  # type: ignore[no-untyped-def]
    said = _said(drill, "shm")
    assert re.search(r"shm=\['\w+', 'FileNotFoundError'\]", said), said  # the host's file not there
    assert drill["other"].read_text() == "another program's"
    assert not (Path("/dev/shm") / drill["mine"]).exists()


def test_a_model_reads_no_host_secret(drill) -> None:  # type: ignore[no-untyped-def]
    said = _said(drill, "secrets")
    assert "read=['FileNotFoundError', 'FileNotFoundError']" in said, said
    assert "s3cr3t" not in said


def test_a_forked_daemon_ends_with_its_container(drill) -> None:  # type: ignore[no-untyped-def]
    assert "left a daemon behind" in _said(drill, "daemon")
    # A container's processes are the host's too (its own pid namespace, one kernel): /proc shows them.
    assert drill["daemons"] == [], "the daemon outlived its stage"


def test_two_hundred_megabytes_of_output_are_capped(drill) -> None:  # type: ignore[no-untyped-def]
    assert "chatty model gave up" in _said(drill, "chatty")
    (log,) = [p for p in (drill["cache"] / "logs").rglob("*.log") if "chatty" in str(p)]
    assert log.stat().st_size < 1 << 20, f"{log.stat().st_size} bytes of log"
    text = log.read_text(errors="replace")
    assert "bytes of output left out:" in text and "line 199 of a chatty model" in text
