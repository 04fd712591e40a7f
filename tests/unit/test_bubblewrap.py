"""The sandbox of model code on host venvs (core/system/bubblewrap.py): its command line, the refusal where
bubblewrap cannot run, and (where it can) real processes inside it through `processes.run`."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from iree_matrix.core.system import bubblewrap, processes
from iree_matrix.core.system.process_request import ProcessRequest


def test_the_command_line_isolates_everything_and_binds_outer_paths_first() -> None:
    argv = bubblewrap.Sandbox(
        read_only=("/tmp/a/models", "/tmp/a"), writable=("/tmp/a/out", "/tmp/a"), cwd="/tmp/a/out"
    ).argv("bwrap")
    assert argv[0] == "bwrap" and argv[-1] == "--"
    for option in ("--unshare-all", "--die-with-parent", "--new-session"):
        assert option in argv
    text = " ".join(argv)
    assert "--uid 65534 --gid 65534" in text
    assert "--ro-bind / / --dev /dev --proc /proc --tmpfs /tmp" in text
    # /tmp/a read-only then writable (same path: writable wins), then its children.
    binds = text.split("--tmpfs /tmp ", 1)[1]
    assert binds.startswith(
        "--ro-bind-try /tmp/a /tmp/a --bind /tmp/a /tmp/a --ro-bind-try /tmp/a/models /tmp/a/models "
        "--bind /tmp/a/out /tmp/a/out --chdir /tmp/a/out --"
    )


def test_hidden_directories_are_empty_before_anything_is_bound_into_them() -> None:
    argv = " ".join(bubblewrap.Sandbox(read_only=("/home/u/.cache/env",), hidden=("/home/u", "/")).argv())
    assert "--tmpfs /tmp --tmpfs /home/u --ro-bind-try /home/u/.cache/env /home/u/.cache/env --" in argv
    assert "--tmpfs / " not in argv


def test_a_death_by_signal_reads_as_popen_says_it() -> None:
    assert bubblewrap.signal_status(128 + signal.SIGKILL) == -signal.SIGKILL
    assert bubblewrap.signal_status(3) == 3 and bubblewrap.signal_status(0) == 0


def test_without_bubblewrap_model_code_refuses_in_one_line_unless_allowed(monkeypatch) -> None:
    monkeypatch.setattr(bubblewrap, "problem", lambda: "bubblewrap (bwrap) is not installed")
    monkeypatch.setenv(bubblewrap.UNSANDBOXED_ENV, "0")  # restored after allow_unsandboxed
    said = bubblewrap.refusal("export")
    assert said is not None and "\n" not in said
    assert "bubblewrap (bwrap) is not installed" in said and "apt-get install bubblewrap" in said
    assert "--unsandboxed" in said and "--backend docker" in said
    bubblewrap.allow_unsandboxed(True)
    assert bubblewrap.refusal("export") is None


def test_with_bubblewrap_nothing_is_refused(monkeypatch) -> None:
    monkeypatch.setattr(bubblewrap, "problem", lambda: None)
    monkeypatch.setenv(bubblewrap.UNSANDBOXED_ENV, "0")  # restored after allow_unsandboxed
    assert bubblewrap.refusal("peer") is None


def test_a_plan_with_model_code_refuses_before_anything_runs(monkeypatch) -> None:
    from types import SimpleNamespace

    from iree_matrix.core.errors import UserError
    from iree_matrix.execution.workflow import require_sandbox

    monkeypatch.setattr(bubblewrap, "problem", lambda: "bubblewrap (bwrap) is not installed")
    monkeypatch.setenv(bubblewrap.UNSANDBOXED_ENV, "0")
    jobs = [SimpleNamespace(stage="install"), SimpleNamespace(stage="export")]
    with pytest.raises(UserError, match="the export stage runs your model's code"):
        require_sandbox(jobs, unsandboxed=False)  # type: ignore[arg-type]
    require_sandbox([SimpleNamespace(stage="compile")], unsandboxed=False)  # type: ignore[list-item]
    require_sandbox(jobs, unsandboxed=True)  # type: ignore[arg-type]


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


@pytest.fixture
def real() -> None:
    """A real bubblewrap that can make its sandbox here (probed when a test asks, not at collection)."""
    if bubblewrap.problem() is not None:
        pytest.skip(str(bubblewrap.problem()))


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


def test_an_advise_peer_arm_without_bubblewrap_is_left_out_unless_allowed(
    monkeypatch, tmp_path: Path
) -> None:
    """The sitting's peer arms import and call the user's model as the peer stage does: the same
    refusal, the same `--unsandboxed`."""
    from iree_matrix.execution import abtest, sitting

    monkeypatch.setattr(bubblewrap, "problem", lambda: "bubblewrap (bwrap) is not installed")
    monkeypatch.setenv(bubblewrap.UNSANDBOXED_ENV, "0")
    argv = ["python", "peer_arm.py", "--peer", "eager"]
    with pytest.raises(abtest.NotComparable, match="the peer stage runs your model's code"):
        sitting.sandboxed(argv, tmp_path / "venv", [], tmp_path)
    bubblewrap.allow_unsandboxed(True)
    assert sitting.sandboxed(argv, tmp_path / "venv", [], tmp_path) == argv


_PEER = (
    "import json, os\n"
    "pids = sum(name.isdigit() for name in os.listdir('/proc'))\n"
    "print(json.dumps({'ready': True, 'uid': os.getuid(), 'pids': pids, 'kmsg': os.path.exists('/dev/kmsg'),"
    " 'cwd': os.getcwd()}), flush=True)\n"
)


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
