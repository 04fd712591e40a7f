"""The process-heavy part of tests/unit/test_bubblewrap.py (each test's marker says why); the rest
there runs in the fast tier."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from iree_matrix.core.system import bubblewrap, processes
from iree_matrix.core.system.process_request import ProcessRequest
from tests.hostile_models import POISONS_ITS_OUTPUT, WHO_AM_I
from tests.unit.test_bubblewrap import _PEER


@contextlib.contextmanager
def _root_only_socket(folder: Path) -> Iterator[Path]:
    """A unix socket `folder/root.sock` of mode 0600 (its owner's: root's when the tool is root),
    listening until the block ends: a sandboxed model beside it must not connect to it."""
    import socket

    server = socket.socket(socket.AF_UNIX)
    server.bind(str(folder / "root.sock"))
    os.chmod(folder / "root.sock", 0o600)
    server.listen(1)
    try:
        yield folder / "root.sock"
    finally:
        server.close()


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

    from iree_matrix.advise import paired_rounds

    argv = paired_rounds.sandboxed([sys.executable, "-c", _PEER], Path(sys.prefix), [], tmp_path)
    assert argv[0].endswith("bwrap") and argv[-3:] == [sys.executable, "-c", _PEER]
    with paired_rounds.PeerArm("eager", argv, tmp_path) as arm:
        about = arm.about
    assert about["uid"] == 65534 and about["pids"] < 10 and about["kmsg"] is False, about
    assert about["cwd"] == str(tmp_path)


# What a model tries, from inside (issue 68 item 1): who it is on the host, a root-only unix socket
# beside it, /run, the tool's tokens and the home.
@pytest.mark.processes
@pytest.mark.usefixtures("real")
def test_the_model_is_an_unprivileged_host_uid_with_no_tokens_and_no_run(monkeypatch, tmp_path: Path) -> None:
    """Through a venv's `run` as a stage runs its worker (model_code): what it creates is owned on the
    host by a uid that is not root (65534 when the tool is root: no user namespace maps it to root),
    a root-owned mode-0600 unix socket beside it cannot be connected, /run and /var/run are empty,
    and the tool's tokens are not in its environment."""
    import json
    import sys

    from iree_matrix.envs.venv import VenvEnvironment

    monkeypatch.setenv("HF_TOKEN", "hf_secret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws_secret")
    monkeypatch.setenv("GITHUB_TOKEN", "gh_secret")
    models, out = tmp_path / "models", tmp_path / "out"
    models.mkdir()
    out.mkdir()
    (models / "model.py").write_text(WHO_AM_I)
    with _root_only_socket(models) as root_sock:
        env = VenvEnvironment("py3.11-torch", Path(sys.prefix), {})
        model = models / "model.py"
        argv = [sys.executable, str(model), str(out), str(root_sock), str(Path.home())]
        done = env.run(
            ProcessRequest(
                argv,
                timeout=60, read_only=[models], writable=[out], model_code="export", check=False,
            )
        )  # fmt: skip
    assert done.returncode == 0, done.output
    seen = json.loads(done.stdout)
    made = (out / "made.txt").stat()
    if os.geteuid() == 0:
        # On the host: a real uid 65534, whose socket connect() the root-only socket refuses.
        assert seen["euid"] == 65534 and seen["groups"] in ([], [65534]), seen
        assert seen["connected"] == "PermissionError", seen
        assert made.st_uid == 0  # taken back by the tool after the command ended (`take_back`)
    assert seen["euid"] != 0 or os.geteuid() != 0
    assert seen["run"] == [] and seen["var_run"] == [], seen
    assert not {"HF_TOKEN", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN"} & set(seen["env"]), seen["env"]
    assert "PATH" in seen["env"] and seen["home"] != str(Path.home()), seen
    # The tool's home: empty but for the way to what is bound (the venv's Python, under ~/.pyenv here).
    assert set(seen["home_listing"] or ()) <= {".pyenv", ".cache", ".local"}, seen


@pytest.mark.processes
@pytest.mark.usefixtures("real")
def test_as_root_the_host_sees_the_models_files_owned_by_nobody_while_it_runs(tmp_path: Path) -> None:
    """What the model's process creates is owned on the host by uid 65534 (checked by the host, not by
    what the model says), and a setuid file it leaves keeps that owner: it grants nobody's rights."""
    if os.geteuid() != 0:
        pytest.skip("the tool's own uid is already unprivileged: bubblewrap maps 65534 to it")
    out = tmp_path / "out"
    out.mkdir()
    script = f"id -u; cp /usr/bin/id {out}/id; chmod 4755 {out}/id; touch {out}/plain; mkfifo {out}/fifo"
    sandbox = bubblewrap.Sandbox(writable=(str(out),), cwd=str(out))
    done = processes.run(ProcessRequest(["sh", "-c", script], check=False, sandbox=sandbox))
    assert done.returncode == 0 and done.stdout.split()[0] == "65534", done.output
    setuid = (out / "id").stat()
    assert setuid.st_uid == 65534 and setuid.st_mode & 0o4000  # left for the store to refuse
    assert (out / "plain").stat().st_uid == 0  # the rest: the tool's again
    import subprocess

    other = ["setpriv", "--reuid=65533", "--regid=65533", "--clear-groups"]
    ran = subprocess.run([*other, str(out / "id"), "-u"], capture_output=True, text=True)
    assert ran.stdout.strip() == "65534", ran  # the setuid bit gives nobody's uid, never root's


@pytest.mark.processes
@pytest.mark.usefixtures("real")
@pytest.mark.parametrize(
    "leaves, said",
    [
        ("ln -s /etc/shadow weights.bin", "weights.bin, a symbolic link (to '/etc/shadow')"),
        ("cp /usr/bin/id id && chmod 4755 id", "id with the setuid bit (mode 4755)"),
        ("mkfifo pipe", "pipe, a FIFO"),
    ],
)
def test_what_a_sandboxed_model_leaves_in_its_output_is_refused_at_commit(
    tmp_path: Path, leaves, said
) -> None:
    """Issue 68 item 2, from a real sandboxed command in a real staging directory: a link to a
    root-only file, a setuid copy of `id` and a FIFO are refused by name, the stage's failure says
    so, and nothing is stored (no digest of the secret, no copy of it)."""
    import sys

    from iree_matrix.core.model.outcome import Outcome
    from iree_matrix.core.model.results import Record, Status
    from iree_matrix.core.model.store import Store, UnsafeOutput
    from iree_matrix.envs.venv import VenvEnvironment
    from iree_matrix.execution.execute import _kept_as_data

    store = Store(tmp_path / "store")
    env = VenvEnvironment("py3.11-torch", Path(sys.prefix), {})
    with store.staging() as out:
        script = f"cd {out} && echo module > model.mlir && {leaves}"
        done = env.run(ProcessRequest(["sh", "-c", script], timeout=60, writable=[out], model_code="export"))
        assert done.returncode == 0, done.output
        record = Record(job="export:m/e", stage="export", cell="m/e", key="k1", status=Status.OK, labels={})
        with pytest.raises(UnsafeOutput, match="its output holds"):
            store.commit("export", "k1", out, record)
        kept = _kept_as_data(out, Outcome(Status.OK))
        assert kept.status is Status.FAIL and kept.error_class == "unsafe-output"
        assert said in (kept.message or ""), kept.message
        assert list(out.iterdir()) == []
    assert store.get("export", "k1") is None


@pytest.mark.processes
@pytest.mark.torch
@pytest.mark.heavy  # the real export worker imports torch and turbine
@pytest.mark.usefixtures("real")
def test_a_hostile_model_through_the_real_export_worker_is_nobody_and_stores_nothing(
    monkeypatch, tmp_path: Path
) -> None:
    """Issue 68 items 1 and 2 end to end: the shipped export worker, in this test environment's venv
    (torch and turbine), runs a model that leaves a link to a root-only file and a setuid copy of `id`
    in its output and connects to a root-only socket beside it. It is not root, the socket refuses it,
    the tool's token is not in its environment, and the store refuses its output by name."""
    import sys

    pytest.importorskip("torch")
    pytest.importorskip("iree.turbine")
    from iree_matrix.core import shipped
    from iree_matrix.core.model.outcome import Outcome
    from iree_matrix.core.model.results import Status
    from iree_matrix.core.model.store import Store
    from iree_matrix.envs.venv import VenvEnvironment
    from iree_matrix.execution.execute import _kept_as_data
    from iree_matrix.matrix import models

    monkeypatch.setenv("HF_TOKEN", "hf_secret")
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "hostile.py").write_text(POISONS_ITS_OUTPUT)
    ref = models.resolve(f"{folder / 'hostile.py'}:build", tmp_path)
    worker = shipped.scripts_dir() / "export_model.py"
    env = VenvEnvironment("py-test", Path(sys.prefix), {})
    store = Store(tmp_path / "store")
    with _root_only_socket(folder), store.staging() as out:
        argv = [env.python(), str(worker), *ref.worker_args(), "--function", "main", "--seed", "0",
                "--repetitions", "1", "--threads", "1", "--out", str(out)]  # fmt: skip
        request = ProcessRequest(argv, timeout=300, read_only=[worker.parent, *ref.mounts()],
                                 writable=[out], model_code="export", check=False)  # fmt: skip
        done = env.run(request)
        assert done.returncode == 0, done.output
        said = next(line for line in done.stderr.splitlines() if line.startswith("hostile:"))
        assert "token=None" in said, said
        if os.geteuid() == 0:
            assert "euid=65534" in said and "socket=PermissionError" in said, said
        kept = _kept_as_data(out, Outcome(Status.OK))
        assert kept.error_class == "unsafe-output", kept
        assert "a symbolic link" in (kept.message or "") or "setuid" in (kept.message or "")
        assert list(out.iterdir()) == []


@pytest.mark.processes
@pytest.mark.usefixtures("real")
def test_as_root_an_input_uid_65534_cannot_read_is_refused_before_the_model_starts(tmp_path: Path) -> None:
    """A model file of mode 0600 (root's): the sandbox's uid 65534 could not read it, and the model's
    import would fail as the model's error. It is refused before anything starts, naming the path and
    the chmod, never stored (`no-sandbox`)."""
    from iree_matrix.core.errors import StageFailure

    if os.geteuid() != 0:
        pytest.skip("run by a user, the sandbox's uid is that user's: it reads what the user reads")
    model, out = tmp_path / "model.py", tmp_path / "out"
    model.write_text("print('built')")
    os.chmod(model, 0o600)
    out.mkdir()
    sandbox = bubblewrap.Sandbox(read_only=(str(model),), writable=(str(out),), cwd=str(out))
    with pytest.raises(StageFailure) as refused:
        processes.run(ProcessRequest(["cat", str(model)], check=False, sandbox=sandbox))
    assert refused.value.error_class == "no-sandbox" and not refused.value.cacheable
    assert f"{model} (mode 600) is not readable by other users" in str(refused.value)
    assert f"chmod o+r {model}" in str(refused.value)
    assert out.stat().st_uid == 0  # handed back
    os.chmod(model, 0o644)
    done = processes.run(ProcessRequest(["cat", str(model)], check=False, sandbox=sandbox))
    assert done.returncode == 0 and "built" in done.stdout, done.output


@pytest.mark.processes
@pytest.mark.usefixtures("real")
def test_a_model_in_a_folder_only_root_may_enter_is_bound_alone(tmp_path: Path) -> None:
    """Issue 85: as root, a model in a mode-700 `mktemp -d` folder was refused with "chmod o+rx
    DIR"; its files are now bound one by one (that folder made 0755 inside the sandbox only)."""
    from iree_matrix.envs.venv import model_sandbox

    if not bubblewrap.as_root():
        pytest.skip("as a user, the sandbox's uid maps to the folder's owner")
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    (private / "model.py").write_text("print('imported')\n")
    out = tmp_path / "out"
    out.mkdir()
    sandbox = model_sandbox(Path("/usr"), [private], [out], out)
    done = processes.run(ProcessRequest(["cat", str(private / "model.py")], check=False, sandbox=sandbox))
    assert done.returncode == 0 and "imported" in done.stdout, done.output
    assert os.stat(private).st_mode & 0o777 == 0o700  # never chmod'ed on the host


@pytest.mark.processes
@pytest.mark.usefixtures("real")
def test_bisect_of_a_record_naming_a_system_file_ends_in_one_line(monkeypatch, tmp_path: Path) -> None:
    """Issue 85: `bisect` of a received record whose export read --file /etc/shadow ended in a 23-line
    traceback advising `chmod o+r /etc/shadow`. The real sandbox refuses it; bisect says so in one
    line, never advising a system file opened."""
    import io
    import types

    from iree_matrix.core.errors import UserError
    from iree_matrix.findings import results_folder
    from iree_matrix.tasks import bisect
    from tests.unit.test_bisect import _cell

    if not bubblewrap.as_root():
        pytest.skip("as a user, the sandbox reads what the user reads")
    shadow = Path("/etc/shadow")
    command = ("python", "/src/scripts/export_model.py", "--file", str(shadow), "--factory", "build")
    latest = _cell(command=command)
    (tmp_path / "results.jsonl").write_text("")
    loaded = types.SimpleNamespace(source=tmp_path / "results.jsonl", logged=list(latest.values()))
    monkeypatch.setattr(results_folder, "load", lambda *_: loaded)

    def sandboxed(request: ProcessRequest) -> processes.Completed:  # the exporter venv's sandbox
        box = bubblewrap.Sandbox(read_only=tuple(map(str, request.read_only)), writable=(str(tmp_path),),
                                 cwd=str(tmp_path))  # fmt: skip
        return processes.run(ProcessRequest(["true"], check=False, sandbox=box))

    opened = types.SimpleNamespace(python=lambda: "python", tool=lambda name: name, run=sandboxed)
    monkeypatch.setattr(bisect, "_open", lambda *_: opened)
    with pytest.raises(UserError) as refused:
        bisect.run("run:net/*", tmp_path, tmp_path / "out", out=io.StringIO())
    said = str(refused.value)
    assert "/etc/shadow (mode 640) is not readable by other users" in said and "a system file" in said
    assert "chmod" not in said and "\n" not in said and said.startswith("run:net/"), said
