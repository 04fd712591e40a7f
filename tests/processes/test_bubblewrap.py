"""The process-heavy part of tests/unit/test_bubblewrap.py (each test's marker says why); the rest
there runs in the fast tier."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from iree_matrix.core.system import bubblewrap, processes
from iree_matrix.core.system.process_request import ProcessRequest
from tests.unit.test_bubblewrap import _PEER


@pytest.fixture
def real() -> None:
    """A real bubblewrap that can make its sandbox here (probed when a test asks, not at collection)."""
    if bubblewrap.problem() is not None:
        pytest.skip(str(bubblewrap.problem()))


@pytest.mark.processes  # the last call runs `true`
def test_a_venv_stage_with_model_code_refuses_and_nothing_is_stored(monkeypatch, tmp_path: Path) -> None:
    from iree_matrix.core.errors import StageFailure
    from iree_matrix.envs.venv import VenvEnvironment

    monkeypatch.setattr(bubblewrap, "problem", lambda: "bubblewrap (bwrap) is not installed")
    monkeypatch.setenv(bubblewrap.UNSANDBOXED_ENV, "0")
    env = VenvEnvironment("py3.11-torch", tmp_path, {})
    with pytest.raises(StageFailure) as refused:
        env.run(ProcessRequest(["true"], timeout=10, model_code="peer"))
    assert refused.value.error_class == "no-sandbox" and not refused.value.cacheable
    assert "the peer stage runs your model's code" in str(refused.value)
    assert env.run(ProcessRequest(["true"], timeout=10)).returncode == 0  # IREE's own tools: not model code


@pytest.mark.processes
@pytest.mark.usefixtures("real")
def test_a_sandboxed_command_is_nobody_alone_and_writes_only_its_directories(tmp_path: Path) -> None:
    out, inputs = tmp_path / "out", tmp_path / "in"
    out.mkdir()
    inputs.mkdir()
    (inputs / "given.txt").write_text("read me")
    script = (
        f"id -u; ls /proc | grep -c '^[0-9]'; cat {inputs}/given.txt; echo; echo yes > {out}/result.txt; "
        f"echo no > {inputs}/new.txt || echo input-refused; "
        "echo no > /etc/iree-matrix-x || echo root-refused; test -e /dev/kmsg || echo no-kmsg"
    )
    sandbox = bubblewrap.Sandbox(read_only=(str(inputs),), writable=(str(out),), cwd=str(out))
    done = processes.run(ProcessRequest(["sh", "-c", script], check=False, sandbox=sandbox))
    lines = done.stdout.split()
    assert done.argv == ("sh", "-c", script)  # the command as given, not bubblewrap's
    assert lines[0] == "65534" and int(lines[1]) < 10, done.output  # host: every pid
    assert "read me" in done.stdout and (out / "result.txt").read_text() == "yes\n"
    assert not (inputs / "new.txt").exists() and not Path("/etc/iree-matrix-x").exists()
    assert {"input-refused", "root-refused", "no-kmsg"} <= set(lines), done.output


@pytest.mark.processes
@pytest.mark.usefixtures("real")
def test_a_sandboxed_command_killed_by_a_signal_says_so() -> None:
    done = processes.run(
        ProcessRequest(["sh", "-c", "kill -9 $$"], check=False, sandbox=bubblewrap.Sandbox())
    )
    assert done.returncode == -signal.SIGKILL


@pytest.mark.processes
@pytest.mark.usefixtures("real")
def test_a_sandboxed_command_cannot_signal_a_host_process() -> None:
    import subprocess

    victim = subprocess.Popen(["sleep", "60"])
    try:
        script = (
            f"import os\ntry:\n os.kill({victim.pid}, 9)\n print('killed')\n"
            "except OSError as e:\n print(type(e).__name__)"
        )
        done = processes.run(
            ProcessRequest(
                [os.path.realpath("/usr/bin/python3"), "-c", script],
                check=False,
                sandbox=bubblewrap.Sandbox(),
            )
        )
        assert victim.poll() is None, done.output
        assert "killed" not in done.stdout
    finally:
        victim.kill()
        victim.wait()


@pytest.mark.processes
@pytest.mark.usefixtures("real")
def test_an_advise_peer_arm_runs_in_the_sandbox(tmp_path: Path) -> None:
    import sys

    from iree_matrix.execution import sitting

    argv = sitting.sandboxed([sys.executable, "-c", _PEER], Path(sys.prefix), [], tmp_path)
    assert argv[0].endswith("bwrap") and argv[-3:] == [sys.executable, "-c", _PEER]
    with sitting.PeerArm("eager", argv, tmp_path) as arm:
        about = arm.about
    assert about["uid"] == 65534 and about["pids"] < 10 and about["kmsg"] is False, about
    assert about["cwd"] == str(tmp_path)
