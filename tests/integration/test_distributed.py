"""The smoke matrix on a Dask scheduler and two workers, separate processes on 127.0.0.1, each with
its own cache (environments) and one shared store: the same statuses and module bytes as a serial
run; a worker labelled as another architecture gets no x86_64 job; a worker killed mid-stage costs
nothing but time."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from iree_matrix.core.model.results import Status
from iree_matrix.core.model.store import Store

from .conftest import SMOKE, iree_matrix, module_digests, records

pytestmark = pytest.mark.integration
distributed = pytest.importorskip("distributed", reason="pip install '.[distributed]'")

VENV = ("--backend", "venv")  # a killed worker's tools die with it (a container would run on: #14)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker_cache(cache: Path, name: str) -> Path:
    """A worker's own cache: its own logs and install results, the machine's wheels and venvs."""
    own = cache.parent / f"worker-{name}"
    own.mkdir()
    for shared in ("wheelhouse", "envs", "images"):
        (own / shared).symlink_to((cache / shared).resolve())
    return own


@contextlib.contextmanager
def _cluster(cache: Path, workers: dict[str, str]) -> Iterator[tuple[str, dict[str, subprocess.Popen]]]:
    """A scheduler and one process per worker name -> resources."""
    address = f"tcp://127.0.0.1:{_port()}"
    port = address.rsplit(":", 1)[1]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", port,
         "--no-dashboard"], **quiet,
    )  # fmt: skip
    procs: dict[str, subprocess.Popen] = {}
    try:
        for name, offered in workers.items():
            env = {**os.environ, "IREE_MATRIX_CACHE": str(_worker_cache(cache, name))}
            procs[name] = subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", address, "--name", name,
                 "--nthreads", "1", "--no-nanny", "--no-dashboard", "--resources", offered,
                 "--local-directory", str(cache.parent / f"dask-{name}")],
                env=env, **quiet,
            )  # fmt: skip
        with distributed.Client(address, timeout=60) as client:
            client.wait_for_workers(len(workers), timeout=120)
        yield address, procs
    finally:
        for proc in [*procs.values(), scheduler]:
            if proc.poll() is None:
                proc.terminate()
        for proc in [*procs.values(), scheduler]:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def _statuses(results: Path) -> dict[str, Status]:
    return {job: r.status for job, r in records(results).items()}


def test_two_workers_give_the_serial_results(cache: Path, tmp_path: Path) -> None:
    serial = tmp_path / "serial"
    done = iree_matrix("matrix", "--matrix", str(SMOKE), *VENV, cache=cache, results=serial)
    assert done.returncode == 0, done.stderr
    modules = module_digests(records(serial), [cache])
    assert len(modules) == 2 and all(modules.values())
    shutil.rmtree(cache / "store")  # the same store path, empty: every stage runs on the workers

    workers = {"x86": "arch-x86_64=1 quiet=1", "board": "arch-aarch64=1 quiet=1"}
    with _cluster(cache, workers) as (address, _):
        out = tmp_path / "distributed"
        run = iree_matrix(
            "matrix", "--matrix", str(SMOKE), *VENV, "--scheduler", address, "--store", str(cache / "store"),
            cache=cache, results=out,
        )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert _statuses(out) == _statuses(serial)
    assert "(12 executed, 0 reused from earlier runs)" in run.stdout
    assert module_digests(records(out), [cache]) == modules  # the same bytes
    # Every x86_64 job went to the x86_64 worker; the one labelled aarch64 got none.
    assert "workers: x86: 12 jobs" in run.stdout
    assert " on board" not in run.stdout
    # Logs and installs are the workers' own; the records are the orchestrator's alone.
    assert any((cache.parent / "worker-x86" / "logs").rglob("*.log"))  # logs/<job>/<started>.log
    assert not (cache.parent / "worker-board" / "logs").exists()
    assert (out / "results.jsonl").is_file() and len(records(out)) == 12


def test_a_worker_killed_mid_stage_costs_only_time(cache: Path, tmp_path: Path) -> None:
    workers = {"a": "arch-x86_64=1 quiet=1", "b": "arch-x86_64=1 quiet=1"}
    out = tmp_path / "distributed"
    with _cluster(cache, workers) as (address, procs):
        argv = [sys.executable, "-m", "iree_matrix", "matrix", "--matrix", str(SMOKE), *VENV,
                "--scheduler", address, "--cache", str(cache), "--results-dir", str(out)]  # fmt: skip
        run = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert run.stdout is not None
        seen, killed, cell = [], None, ""
        for line in run.stdout:
            seen.append(line)
            started = re.search(r"compile (\S+) \.\.\. on (\w+)$", line.rstrip())
            if started and killed is None:
                cell, killed = started.groups()
                time.sleep(0.5)  # iree-compile is running
                procs[killed].send_signal(signal.SIGKILL)
        run.wait(timeout=600)
        output = "".join(seen)
    assert killed is not None, output
    assert run.returncode == 0, output
    statuses = _statuses(out)
    assert len(statuses) == 12
    failed = {job for job, status in statuses.items() if status is not Status.OK}
    assert failed == {job for job in statuses if "/rt3." in job}, output  # only the two crosses refuse
    survivor = "b" if killed == "a" else "a"
    # The compile that was running on the killed worker was done again on the other one.
    assert f"compile {cell} ... on {survivor}" in output, output
    assert re.search(rf"compile {re.escape(cell)} -> ok", output), output
    # Nothing half-written in the store: every record's entry is complete and matches its sums.
    store = Store(cache / "store")
    for job, record in records(out).items():
        if record.key and record.stage != "install":
            assert store.get(record.stage, record.key) is not None, job
