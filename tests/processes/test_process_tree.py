"""A command's whole process tree ends with it (issue #41 item 2), within its limits (item 3):
real, tiny processes, each scenario with a cgroup of its own (where this machine lets us make one)
and without (the environment token and the subreaper), plus the pure parts."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from iree_matrix.core.errors import StageFailure
from iree_matrix.core.system import containers, process_tree, processes
from iree_matrix.core.system.process_request import ProcessRequest
from iree_matrix.envs.venv import VenvEnvironment
from tests.hostile_models import users_project

pytestmark = pytest.mark.processes  # real process trees, their limits, timeouts and ends

ROOT = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def _cgroups_here() -> bool:
    saved = process_tree._usable
    process_tree._usable = None
    try:
        return bool(process_tree._hierarchies())
    finally:
        process_tree._usable = saved


@pytest.fixture(params=["cgroup", "token"])
def how(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Each test with a cgroup per command (skipped where none can be made) and without one."""
    if request.param == "cgroup" and os.environ.get(process_tree.CGROUPS_ENV) == "0":
        pytest.skip("cgroups turned off here")
    monkeypatch.setenv(process_tree.CGROUPS_ENV, "1" if request.param == "cgroup" else "0")
    monkeypatch.setattr(process_tree, "_usable", None)
    if request.param == "cgroup" and not process_tree._hierarchies():
        pytest.skip("no cgroup this process may make (not root, no delegated cgroup v2)")
    yield request.param
    process_tree._usable = None


@pytest.fixture
def strays() -> Iterator[list[int]]:
    """Pids a test expects dead; any left alive is killed afterwards (a failing test leaks nothing)."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def _detached(pidfile: Path, then: str) -> list[str]:
    """A command that starts `setsid sleep 3600` (its own session and process group: beyond
    `killpg`), says its pid, prints, then does `then`."""
    code = (
        "import subprocess, time\n"
        "p = subprocess.Popen(['setsid', 'sleep', '3600'])\n"
        f"open({str(pidfile)!r}, 'w').write(str(p.pid))\n"
        "print('started', flush=True)\n" + then
    )
    return [sys.executable, "-c", code]


def _in_thread(fn, seconds: float):  # type: ignore[no-untyped-def]
    """fn() in a daemon thread, bounded: (its result or exception, how long it took); the old code
    waited for the detached child's pipe forever."""
    box: dict = {}

    def body() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            box["error"] = exc

    start = time.monotonic()
    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s"
    return box, time.monotonic() - start


def _wait_for(path: Path, seconds: float = 20) -> int:
    end = time.monotonic() + seconds
    while not (path.exists() and path.read_text().strip()):
        assert time.monotonic() < end, f"{path} never written"
        time.sleep(0.02)
    return int(path.read_text())


# --- item 2: timeouts that end ------------------------------------------------------------------


def test_a_timeout_ends_a_child_in_its_own_session_and_stops_reading(how, tmp_path, strays):
    pidfile, log = tmp_path / "child.pid", tmp_path / "job.log"
    argv = _detached(pidfile, "time.sleep(3600)")
    box, took = _in_thread(lambda: processes.run(ProcessRequest(argv, timeout=1, log=log)), 15)
    strays.append(_wait_for(pidfile))
    assert isinstance(box.get("error"), processes.Timeout), box
    assert box["error"].output == "started"
    assert took < 1 + processes._TERM_GRACE + processes.PIPE_GRACE + 2
    time.sleep(0.1)
    assert not _alive(strays[0]), "the detached child outlived the timeout"
    assert "[timed out after 1 s]" in log.read_text()


def test_a_command_that_returns_with_a_stray_child_is_ok_and_the_child_is_killed(how, tmp_path, strays):
    """The child holds stdout open: before, the stage waited for it and was recorded as a timeout."""
    pidfile, log = tmp_path / "child.pid", tmp_path / "job.log"
    box, took = _in_thread(
        lambda: processes.run(ProcessRequest(_detached(pidfile, "print('done')"), timeout=30, log=log)), 15
    )
    strays.append(_wait_for(pidfile))
    done = box["result"]
    assert done.returncode == 0 and done.stdout == "started\ndone\n"
    assert took < 5
    time.sleep(0.1)
    assert not _alive(strays[0])
    assert "[1 process(es) it left running killed]" in log.read_text()


def test_a_stray_with_its_output_elsewhere_is_killed_too(how, tmp_path, strays):
    pidfile = tmp_path / "child.pid"
    code = (
        "import subprocess\n"
        "quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "p = subprocess.Popen(['setsid', 'sleep', '3600'], **quiet)\n"
        f"open({str(pidfile)!r}, 'w').write(str(p.pid))\n"
    )
    assert processes.run(ProcessRequest([sys.executable, "-c", code], timeout=30)).returncode == 0
    strays.append(_wait_for(pidfile))
    time.sleep(0.1)
    assert not _alive(strays[0])


def test_kill_all_ends_a_tree_with_a_detached_child_at_once(how, tmp_path, strays, monkeypatch):
    """Ctrl-C and SIGTERM (`kill_all`): before, the stage stayed stuck on the child's pipe."""
    monkeypatch.setattr(processes, "_stopping", threading.Event())
    pidfile = tmp_path / "child.pid"
    argv = _detached(pidfile, "time.sleep(3600)")
    box: dict = {}
    thread = threading.Thread(
        target=lambda: box.setdefault("done", processes.run(ProcessRequest(argv, check=False))), daemon=True
    )
    thread.start()
    strays.append(_wait_for(pidfile))
    start = time.monotonic()
    processes.kill_all()
    thread.join(10)
    assert not thread.is_alive(), "the command still runs 10 s after kill_all"
    assert time.monotonic() - start < processes._TERM_GRACE + processes.PIPE_GRACE + 1
    assert box["done"].returncode == -signal.SIGTERM
    time.sleep(0.1)
    assert not _alive(strays[0])
    processes.resume()


def test_a_process_outside_the_tree_holding_the_pipe_is_given_up_on(tmp_path, strays, monkeypatch):
    """A child that dropped the token (env -i) and left the tree (its parent exits: adopted by init)
    cannot be found without a cgroup; its pipe is read `PIPE_GRACE` seconds more, then let go."""
    monkeypatch.setenv(process_tree.CGROUPS_ENV, "0")
    monkeypatch.setattr(process_tree, "_usable", None)
    pidfile, log = tmp_path / "child.pid", tmp_path / "job.log"
    code = (
        "import subprocess\n"
        "p = subprocess.Popen(['setsid', 'env', '-i', 'sleep', '3600'])\n"
        f"open({str(pidfile)!r}, 'w').write(str(p.pid))\n"
    )
    box, took = _in_thread(
        lambda: processes.run(ProcessRequest([sys.executable, "-c", code], timeout=30, log=log)), 15
    )
    strays.append(_wait_for(pidfile))
    assert box["result"].returncode == 0
    assert took < processes.PIPE_GRACE + 3
    assert "a process outside its tree holds the pipe open" in log.read_text()
    process_tree._usable = None


def test_the_tree_is_found_by_cgroup_where_one_can_be_made(tmp_path, strays, monkeypatch):
    """With a cgroup, even the child that dropped the token is found and killed."""
    monkeypatch.setenv(process_tree.CGROUPS_ENV, "1")
    monkeypatch.setattr(process_tree, "_usable", None)
    if not process_tree._hierarchies():
        pytest.skip("no cgroup this process may make")
    pidfile = tmp_path / "child.pid"
    code = (
        "import subprocess\n"
        "p = subprocess.Popen(['setsid', 'env', '-i', 'sleep', '3600'])\n"
        f"open({str(pidfile)!r}, 'w').write(str(p.pid))\n"
    )
    box, took = _in_thread(
        lambda: processes.run(ProcessRequest([sys.executable, "-c", code], timeout=30)), 15
    )
    strays.append(_wait_for(pidfile))
    assert box["result"].returncode == 0 and took < 3
    time.sleep(0.1)
    assert not _alive(strays[0])
    process_tree._usable = None


_DIES_WITH_A_DETACHED_CHILD = """
import sys
from iree_matrix.core.system import processes
from iree_matrix.core.system.process_request import ProcessRequest

script = "setsid sleep 3600 & echo $! > " + sys.argv[1] + "; wait"
processes.run(ProcessRequest(["sh", "-c", script], check=False))
"""


def test_sigkill_of_the_tool_ends_a_detached_child_too(how, tmp_path, strays):
    """`kill -9` of the tool: the watchdog ends the tree of a command still running (before, it
    killed process groups only: a child in its own session stayed)."""
    pidfile = tmp_path / "child.pid"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    parent = subprocess.Popen([sys.executable, "-c", _DIES_WITH_A_DETACHED_CHILD, str(pidfile)], env=env)
    try:
        strays.append(_wait_for(pidfile))
        time.sleep(0.2)  # the watchdog has heard of the tree
        parent.send_signal(signal.SIGKILL)
        parent.wait()

        def leftover() -> list[Path]:
            try:
                return list(Path("/sys/fs/cgroup").glob(f"**/iree-matrix-{parent.pid}-*"))
            except FileNotFoundError:  # a cgroup the watchdog removed while the glob listed it
                return [Path("(being removed)")]

        # A deadline, not a timing claim: at load 14 the watchdog (a fresh Python) took over 5 s to
        # end the tree and remove its cgroups; the question is whether it does, not how fast.
        end = time.monotonic() + 30
        while (_alive(strays[0]) or leftover()) and time.monotonic() < end:
            time.sleep(0.05)
    finally:
        parent.kill()
    assert not _alive(strays[0]), "the detached child outlived the SIGKILLed tool by 30 s"
    assert leftover() == [], "the watchdog removes the tree's cgroups"


# --- item 3: output capped, limits named --------------------------------------------------------


_MAXRSS = """
import resource, sys
from pathlib import Path
from iree_matrix.core.system import processes
from iree_matrix.core.system.process_request import ProcessRequest

before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
code = "import sys\\nfor i in range(200): sys.stdout.write(str(i) * 1048576)"
done = processes.run(ProcessRequest([sys.executable, "-c", code], log=Path(sys.argv[1])))
grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(grew * 1024, len(done.stdout))
"""


def test_514_mb_of_output_is_neither_held_nor_logged(tmp_path):
    log = tmp_path / "job.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-c", _MAXRSS, str(log)], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    grew, kept = map(int, done.stdout.split())
    assert kept < 2 * processes.KEEP + 200
    assert grew < 100 << 20, (
        f"the tool grew by {grew} bytes for 514 MB of output"
    )  # 1.96 GB before, 37 MB after
    text = log.read_text()
    assert log.stat().st_size < 2 * processes.LOG_KEEP + 4096
    total = sum(len(str(i)) * 1048576 for i in range(200))
    assert f"bytes of output left out: {total} in all, the first and last {processes.LOG_KEEP} kept" in text
    assert "\n0000000000" in text and "[exit 0 after" in text


def test_kept_output_has_its_head_and_tail(monkeypatch):
    monkeypatch.setattr(processes, "KEEP", 1000)
    code = "import sys; sys.stdout.write('h' * 1000 + 'm' * 5000 + 't' * 1000)"
    done = processes.run(ProcessRequest([sys.executable, "-c", code]))
    assert done.stdout.startswith("h" * 1000 + "\n[... 5000 bytes of output left out: 7000 in all")
    assert done.stdout.endswith("]\n" + "t" * 1000)


def test_a_memory_limit_kill_is_named_and_never_stored(how):
    limits = process_tree.Limits(memory=200 << 20)
    with pytest.raises(StageFailure) as info:
        processes.run(
            ProcessRequest([sys.executable, "-c", "b = bytearray(1 << 30)"], limits=limits, timeout=60)
        )
    assert info.value.error_class == "out-of-memory" and info.value.cacheable is False
    if how == "cgroup":  # the kernel's OOM killer in the command's cgroup
        assert info.value.message.startswith("killed: out of memory (limit 200 MiB); python")
    else:  # RLIMIT_AS: the allocation refused
        assert info.value.message.startswith("out of memory (limit 200 MiB of address space)")
    assert "[limits] memory" in info.value.message


def test_how_memory_was_limited_outlives_the_cgroups(how):
    """A failure's cause is read after `close` removed the cgroups: whether a cgroup limited the
    memory (else RLIMIT_AS did, and an allocation error is "of address space") must not go with them."""
    tree = process_tree.Tree(process_tree.Limits(memory=200 << 20))
    made = [g.memory_limited for g in tree.cgroups]
    assert tree.memory_by_cgroup == any(made) and (how == "cgroup" or made == [])
    tree.close()
    assert tree.cgroups == [] and tree.memory_by_cgroup == any(made)
    assert (tree.rlimits() == []) == any(made)  # RLIMIT_AS only where no cgroup limits the memory


def test_a_default_memory_limit_is_named_as_the_default(how, monkeypatch):
    """#51: a 30 GiB allocation refused by the default limit (80 % of the machine) was said to hit a
    "limit … of address space", though no one set one."""
    monkeypatch.setattr(process_tree, "_given", {})
    limits = dataclasses.replace(process_tree.configured(environ={}), memory=200 << 20)
    assert (
        limits.memory_default
        and not process_tree.configured(environ={process_tree.MEMORY_ENV: "1G"}).memory_default
    )
    with pytest.raises(StageFailure) as info:
        processes.run(
            ProcessRequest([sys.executable, "-c", "b = bytearray(1 << 30)"], limits=limits, timeout=60)
        )
    assert "(the default limit 200 MiB" in info.value.message and "none was set" in info.value.message
    if how != "cgroup":
        assert info.value.message.startswith(
            "out of memory (the default limit 200 MiB of address space, 80 %"
        )


def test_a_process_limit_is_named(how):
    if how != "cgroup":
        pytest.skip("a process limit needs a cgroup (RLIMIT_NPROC counts the whole user's processes)")
    code = "import os, time\nfor i in range(100):\n    if os.fork() == 0:\n        time.sleep(30)\n"
    with pytest.raises(StageFailure) as info:
        processes.run(
            ProcessRequest([sys.executable, "-c", code], limits=process_tree.Limits(processes=20), timeout=60)
        )
    assert info.value.error_class == "process-limit" and info.value.cacheable is False
    assert info.value.message.startswith("out of processes (limit 20 tasks)")


def test_without_a_limit_a_plain_kill_is_not_called_out_of_memory():
    with pytest.raises(StageFailure) as info:
        processes.run(
            ProcessRequest([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"])
        )
    assert info.value.error_class != "out-of-memory"


def test_another_commands_oom_kill_on_the_machine_is_not_this_ones(monkeypatch):
    """The machine's OOM-kill count rising while a command runs (another test's or job's child
    killed meanwhile: two tests at once under pytest-xdist) does not make this command's plain
    SIGKILL "out of memory": its own memory cgroup counts its own kills."""
    if not any(h.name in ("memory", "") for h in process_tree._hierarchies()):
        pytest.skip("no memory cgroup here: only the machine's count can be read")
    machine = iter(range(1000))  # every read of /proc/vmstat finds a new OOM kill somewhere
    monkeypatch.setattr(process_tree, "_machine_oom_kills", lambda: next(machine))
    with pytest.raises(StageFailure) as info:
        processes.run(
            ProcessRequest([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"])
        )
    assert info.value.error_class != "out-of-memory", info.value


# --- item 3: the venv backend's job directory and limits -----------------------------------------


def test_a_venv_command_runs_in_a_job_directory_of_its_own(tmp_path, monkeypatch):
    """A model's relative writes and deletions land in its job directory, never in the directory
    iree-matrix was started from (a model deleted the user's files there)."""
    here = users_project(tmp_path)
    monkeypatch.chdir(here)
    env = VenvEnvironment("fake", tmp_path / "venv", {})
    code = (
        "import os\n"
        "print(os.getcwd())\n"
        "open('junk.txt', 'w').write('x')\n"
        "for name in os.listdir('.'): os.remove(name)\n"
        "assert not os.path.exists('precious.txt')\n"
    )
    done = env.run(ProcessRequest([sys.executable, "-c", code], timeout=60))
    job = Path(done.stdout.strip())
    assert job != here and job.name.startswith("iree-matrix-job-")
    assert not job.exists(), "the job directory is removed afterwards"
    assert sorted(p.name for p in here.iterdir()) == ["precious.txt"]


def test_a_venv_command_gets_the_configured_limits_and_a_kill_is_raised_even_unchecked(tmp_path, monkeypatch):
    monkeypatch.setenv(process_tree.MEMORY_ENV, "200M")
    env = VenvEnvironment("fake", tmp_path / "venv", {})
    with pytest.raises(StageFailure) as info:
        env.run(ProcessRequest([sys.executable, "-c", "b = bytearray(1 << 30)"], timeout=60, check=False))
    assert info.value.error_class == "out-of-memory" and "limit 200 MiB" in info.value.message


def test_a_relative_path_is_refused_even_without_a_cwd(tmp_path):
    env = VenvEnvironment("fake", tmp_path / "venv", {})
    with pytest.raises(ValueError, match="relative path"):
        env.run(ProcessRequest([sys.executable, "-c", "pass"], timeout=60, writable=[Path("out")]))


# --- pure -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "size"),
    [("8G", 8 << 30), ("512M", 512 << 20), ("1.5GiB", 3 << 29), ("100k", 100 << 10), (4096, 4096),
     ("none", None), ("2048", 2048)],
)  # fmt: skip
def test_memory_sizes(text, size):
    assert process_tree.parse_memory(text) == size


def test_a_share_of_the_machine(monkeypatch):
    monkeypatch.setattr(process_tree, "machine_memory", lambda: 1000 << 20)
    assert process_tree.parse_memory("50%") == 500 << 20


@pytest.mark.parametrize("bad", ["8X", "-1G", "0", "150%", "", True, "lots"])
def test_bad_memory_sizes(bad):
    with pytest.raises(ValueError):
        process_tree.parse_memory(bad)


@pytest.mark.parametrize("bad", [0, -3, 1.5, "many", True])
def test_bad_process_counts(bad):
    with pytest.raises(ValueError):
        process_tree.parse_processes(bad)


def test_limits_come_from_the_environment_then_the_matrix_then_the_defaults(monkeypatch):
    monkeypatch.setattr(process_tree, "machine_memory", lambda: 10 << 30)
    assert process_tree.configured(environ={}) == process_tree.Limits(8 << 30, 4096, memory_default=True)
    monkeypatch.setattr(process_tree, "_given", {"memory": "2G", "processes": 64})
    assert process_tree.configured(environ={}) == process_tree.Limits(2 << 30, 64)
    env = {process_tree.MEMORY_ENV: "none", process_tree.PROCESSES_ENV: "100"}
    assert process_tree.configured(environ=env) == process_tree.Limits(None, 100)
    with pytest.raises(ValueError, match="IREE_MATRIX_MEMORY_LIMIT = 'lots'"):
        process_tree.configured(environ={process_tree.MEMORY_ENV: "lots"})


def test_size_text():
    assert [process_tree.size_text(n) for n in (200 << 20, 3 << 29, 1 << 30, 512)] == [
        "200 MiB", "1.5 GiB", "1 GiB", "512 bytes"
    ]  # fmt: skip


def test_own_cgroups_v1_v2_and_hybrid(tmp_path):
    v1 = tmp_path / "v1"
    for name in ("pids", "memory"):
        (v1 / name).mkdir(parents=True)
        (v1 / name / "cgroup.procs").touch()
    text = "8:pids:/\n4:memory:/box/a\n1:cpu:/\n0::/\n"
    hierarchy = process_tree._Hierarchy
    assert process_tree._own_cgroups(v1, text) == [
        hierarchy("pids", v1 / "pids"),
        hierarchy("memory", v1 / "memory" / "box/a"),
    ]
    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "cgroup.controllers").touch()
    assert process_tree._own_cgroups(v2, "0::/user.slice/app.scope\n") == [
        process_tree._Hierarchy("", v2 / "user.slice/app.scope")
    ]
    hybrid = tmp_path / "hybrid"
    (hybrid / "unified").mkdir(parents=True)
    (hybrid / "unified" / "cgroup.controllers").touch()
    assert process_tree._own_cgroups(hybrid, "1:name=systemd:/\n0::/\n") == [
        process_tree._Hierarchy("", hybrid / "unified")
    ]
    assert process_tree._own_cgroups(tmp_path / "none", "0::/\n") == []


def test_docker_containers_get_the_limits():
    opts = containers.options(
        "n", (65534, 65534), [], [], {}, limits=process_tree.Limits(memory=2 << 30, processes=4096)
    )
    joined = " ".join(opts)
    assert f"--memory {2 << 30} --memory-swap {2 << 30}" in joined and "--pids-limit 4096" in joined
    assert "--memory" not in " ".join(containers.options("n", (65534, 65534), [], [], {}))


def test_an_oom_killed_container_is_named(monkeypatch):
    calls = []

    def docker(request: ProcessRequest) -> processes.Completed:
        argv = request.argv
        calls.append(list(argv))
        if argv[1] == "inspect":
            return processes.Completed(tuple(argv), 0, "true\n", "", 0.1)
        return processes.Completed(tuple(argv), 137 if argv[1] == "run" else 0, "", "", 0.1)

    monkeypatch.setattr(containers, "docker_cli", lambda: "docker")
    monkeypatch.setattr(processes, "run", docker)
    monkeypatch.setattr(processes, "watch_container", lambda *a: None)
    monkeypatch.setattr(processes, "unwatch_container", lambda *a: None)
    monkeypatch.setenv(process_tree.MEMORY_ENV, "1G")
    with pytest.raises(StageFailure) as info:
        containers.run("sha256:x", ProcessRequest(["python", "model.py"], timeout=60, check=False), what="e")
    assert info.value.error_class == "out-of-memory" and info.value.cacheable is False
    assert info.value.message.startswith("killed: out of memory (limit 1 GiB)")
    assert any(c[1] == "inspect" for c in calls)


def test_the_watchdog_is_told_of_each_tree():
    tree = process_tree.Tree(process_tree.Limits())
    try:
        line = tree.watchdog_message()
        assert line.startswith(b'["tree", "' + tree.token.encode()) and line.endswith(b"\n")
    finally:
        tree.close()


def test_a_matrix_files_limits(tmp_path, monkeypatch):
    from iree_matrix.envs import backends
    from tests.unit.test_spec import _error, _load

    monkeypatch.delenv(process_tree.MEMORY_ENV, raising=False)
    monkeypatch.delenv(process_tree.PROCESSES_ENV, raising=False)
    monkeypatch.setattr(process_tree, "_given", {})
    matrix = _load(tmp_path, '[limits]\nmemory = "3G"\nprocesses = 100\n')
    assert matrix.limits == {"memory": "3G", "processes": 100}
    assert backends.limit(matrix) == process_tree.Limits(
        3 << 30, 100
    )  # every environment command's from now on
    assert process_tree.configured() == process_tree.Limits(3 << 30, 100)
    assert "limits.memory = 'lots': expected a size such as 8G" in _error(
        tmp_path, '[limits]\nmemory = "lots"\n'
    )
    assert "limits.swap = 1: expected memory or processes" in _error(tmp_path, "[limits]\nswap = 1\n")
    assert "limits.processes = 0: expected a positive number" in _error(tmp_path, "[limits]\nprocesses = 0\n")
    monkeypatch.setenv(process_tree.MEMORY_ENV, "a lot")
    with pytest.raises(backends.UserError, match="IREE_MATRIX_MEMORY_LIMIT = 'a lot'"):
        backends.limit(matrix)
