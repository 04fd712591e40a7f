"""The sandbox of model code on host venvs (core/system/bubblewrap.py): its command line, the refusal where
bubblewrap cannot run, and (where it can) real processes inside it through `processes.run`."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from iree_matrix.core.system import bubblewrap


def test_the_command_line_isolates_everything_and_binds_outer_paths_first(monkeypatch) -> None:
    monkeypatch.setattr(bubblewrap, "_run_dirs", lambda: [])
    argv = bubblewrap.Sandbox(
        read_only=("/tmp/a/models", "/tmp/a"), writable=("/tmp/a/out", "/tmp/a"), cwd="/tmp/a/out"
    ).argv("bwrap", root=False)
    assert argv[0] == "bwrap" and argv[-1] == "--"
    for option in ("--unshare-all", "--die-with-parent", "--new-session"):
        assert option in argv
    text = " ".join(argv)
    assert "--uid 65534 --gid 65534" in text
    assert (
        "--ro-bind / / --dev /dev --proc /proc --perms 1777 --tmpfs /tmp --perms 1777 --tmpfs /dev/shm"
        in text
    )
    # /tmp/a read-only then writable (same path: writable wins), then its children.
    binds = text.split("--tmpfs /dev/shm ", 1)[1]
    assert binds.startswith(
        "--ro-bind-try /tmp/a /tmp/a --bind /tmp/a /tmp/a --ro-bind-try /tmp/a/models /tmp/a/models "
        "--bind /tmp/a/out /tmp/a/out --chdir /tmp/a/out --"
    )


def test_hidden_directories_are_empty_before_anything_is_bound_into_them(monkeypatch) -> None:
    monkeypatch.setattr(bubblewrap, "_run_dirs", lambda: ["/run"])
    sandbox = bubblewrap.Sandbox(read_only=("/home/u/.cache/env",), hidden=("/home/u", "/"))
    argv = " ".join(sandbox.argv(root=False))
    assert (
        "--perms 1777 --tmpfs /tmp --perms 1777 --tmpfs /dev/shm "
        "--tmpfs /home/u --tmpfs /run --ro-bind-try /home/u/.cache/env /home/u/.cache/env --" in argv
    )
    assert "--tmpfs / " not in argv


def test_as_root_the_command_is_host_uid_65534_and_may_pass_to_its_binds(monkeypatch) -> None:
    """A user namespace would map the sandbox's uid to root's: as root there is none, and setpriv makes
    the command host uid 65534 with no groups, capabilities or new privileges. The directories
    bubblewrap makes on the way to a bind in an empty tmpfs are 0755 (it makes them 0700 as root)."""
    monkeypatch.setattr(bubblewrap, "_run_dirs", lambda: ["/run"])
    monkeypatch.setattr(bubblewrap, "setpriv", lambda: "/usr/bin/setpriv")
    sandbox = bubblewrap.Sandbox(read_only=("/root/.cache/env",), writable=("/tmp/job",), hidden=("/root",))
    argv = sandbox.argv("bwrap", root=True)
    text = " ".join(argv)
    assert "--unshare-all" not in argv and "--uid" not in argv and "--unshare-user" not in argv
    for option in ("--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--die-with-parent"):
        assert option in argv
    assert (
        "--perms 1777 --tmpfs /tmp --perms 1777 --tmpfs /dev/shm "
        "--tmpfs /root --tmpfs /run --perms 0755 --dir /root/.cache --bind /tmp/job /tmp/job "
        "--ro-bind-try /root/.cache/env /root/.cache/env"
    ) in text
    assert text.endswith(
        "-- /usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs --inh-caps=-all "
        "--bounding-set=-all --"
    )


def test_a_sandboxed_command_gets_the_locale_and_path_never_the_tools_tokens() -> None:
    tool = {"PATH": "/usr/bin", "LANG": "C.UTF-8", "LC_ALL": "C", "OMP_NUM_THREADS": "2",
            "HF_TOKEN": "hf_x", "AWS_SECRET_ACCESS_KEY": "k", "GITHUB_TOKEN": "g", "HOME": "/root",
            "SSH_AUTH_SOCK": "/run/ssh", "https_proxy": "http://p", "IREE_MATRIX_CACHE": "/c"}  # fmt: skip
    assert bubblewrap.environment(tool) == {
        "PATH": "/usr/bin", "LANG": "C.UTF-8", "LC_ALL": "C", "OMP_NUM_THREADS": "2"
    }  # fmt: skip


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
    require_sandbox([SimpleNamespace(stage="install")], unsandboxed=False)  # type: ignore[list-item]
    runs = {
        "kernel": "your kernel's code",
        "compile": "iree-compile with a kernel's",
        "run": "a module with native",
    }
    for stage, what in runs.items():  # a kernel's C, a user's flags, a module's code (issue 85)
        with pytest.raises(UserError, match=f"the {stage} stage runs {what}") as refused:
            require_sandbox([SimpleNamespace(stage=stage)], unsandboxed=False)  # type: ignore[list-item]
        assert "model's code" not in str(refused.value)
    require_sandbox(jobs, unsandboxed=True)  # type: ignore[arg-type]


def test_an_advise_peer_arm_without_bubblewrap_is_left_out_unless_allowed(
    monkeypatch, tmp_path: Path
) -> None:
    """The sitting's peer arms import and call the user's model as the peer stage does: the same
    refusal, the same `--unsandboxed`."""
    from iree_matrix.advise import paired_rounds
    from iree_matrix.execution import abtest

    monkeypatch.setattr(bubblewrap, "problem", lambda: "bubblewrap (bwrap) is not installed")
    monkeypatch.setenv(bubblewrap.UNSANDBOXED_ENV, "0")
    argv = ["python", "peer_arm.py", "--peer", "eager"]
    with pytest.raises(abtest.NotComparable, match="the peer stage runs your model's code"):
        paired_rounds.sandboxed(argv, tmp_path / "venv", [], tmp_path)
    bubblewrap.allow_unsandboxed(True)
    assert paired_rounds.sandboxed(argv, tmp_path / "venv", [], tmp_path) == argv


_PEER = (
    "import json, os\n"
    "pids = sum(name.isdigit() for name in os.listdir('/proc'))\n"
    "print(json.dumps({'ready': True, 'uid': os.getuid(), 'pids': pids, 'kmsg': os.path.exists('/dev/kmsg'),"
    " 'cwd': os.getcwd()}), flush=True)\n"
)
