"""`kill -9` of the tool on the Docker backend leaves no container running (#14): the watchdog
removes the containers of a killed run, and should the watchdog be killed too, the next run's start
removes every container whose owner process is gone. A real matrix run, a real daemon."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from iree_matrix.core.system import containers

from .conftest import SMOKE, skip_module_without

pytestmark = [pytest.mark.integration, pytest.mark.docker]

skip_module_without(containers.problem() and f"no Docker daemon ({containers.problem()})")


def _start(cache: Path, results: Path, label: str) -> subprocess.Popen:
    """The smoke matrix on Docker, as a user starts it: its own process group (a terminal's job)."""
    argv = [sys.executable, "-m", "iree_matrix", "matrix", "--matrix", str(SMOKE), "--backend", "docker"]
    argv += ["--cache", str(cache), "--results-dir", str(results)]
    env = {**os.environ, "IREE_MATRIX_RUN_LABEL": label}
    return subprocess.Popen(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )


def _containers(label: str) -> list[str]:
    done = subprocess.run(
        ["docker", "ps", "--all", "--quiet", "--filter", f"label=iree-matrix.run={label}"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.split()


def _first_container(tool: subprocess.Popen, label: str, timeout: float = 900) -> list[str]:
    """Wait until a stage runs in a container of this run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _containers(label)
        if found:
            return found
        assert tool.poll() is None, "the run ended before any stage ran in a container"
        time.sleep(0.2)
    raise AssertionError(f"no container of run {label} within {timeout:.0f} s")


def _gone_within(label: str, seconds: float) -> list[str]:
    deadline = time.monotonic() + seconds
    while (left := _containers(label)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def _watchdog_of(pid: int) -> int:
    for task in Path("/proc").glob("[0-9]*"):
        try:
            stat = (task / "stat").read_text()
            cmdline = (task / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rpartition(")")[2].split()[1]) == pid and b"watchdog.py" in cmdline:
            return int(task.name)
    raise AssertionError(f"process {pid} has no watchdog")


def _cleanup(label: str) -> None:
    left = _containers(label)
    if left:
        subprocess.run(["docker", "rm", "--force", *left], capture_output=True)


def test_sigkill_of_the_tools_process_group_leaves_no_container(cache: Path, tmp_path: Path) -> None:
    label = f"test-kill-{uuid.uuid4().hex[:8]}"
    tool = _start(cache, tmp_path / "results", label)
    try:
        _first_container(tool, label)
        os.killpg(tool.pid, signal.SIGKILL)
        tool.wait()
        left = _gone_within(label, 10)
    finally:
        if tool.poll() is None:
            os.killpg(tool.pid, signal.SIGKILL)
        _cleanup(label)
    assert not left, f"containers {left} outlived the SIGKILLed run by 10 s"


def test_the_next_run_removes_what_a_killed_run_and_its_watchdog_left(cache: Path, tmp_path: Path) -> None:
    label = f"test-orphan-{uuid.uuid4().hex[:8]}"
    tool = _start(cache, tmp_path / "results", label)
    following = None
    try:
        _first_container(tool, label)
        os.kill(_watchdog_of(tool.pid), signal.SIGKILL)  # as `kill -9 -- -SID` or the OOM killer might
        os.killpg(tool.pid, signal.SIGKILL)
        tool.wait()
        time.sleep(1)
        assert _containers(label), "nothing left to clean: the drill proves nothing"
        following = _start(cache, tmp_path / "results", f"{label}-next")
        left = _gone_within(label, 30)
    finally:
        for proc in (tool, following):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=60)
        _cleanup(label)
        _cleanup(f"{label}-next")
    assert not left, f"containers {left} of a killed run were still there 30 s after the next run started"
