"""`kill -9` of the tool must not leave its children running (#14, defect 3): each child started
through `processes.run` gets a parent-death signal, so nothing keeps writing into the store or an env
folder after the tool is gone. Real processes, no fakes: a Python parent runs `sleep` through
`processes.run` and is SIGKILLed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.processes  # Ctrl-C and kills sent to real process groups

_PARENT = """
import sys
from iree_matrix.core.system import processes
from iree_matrix.core.system.process_request import ProcessRequest
processes.run(ProcessRequest(["sh", "-c", "echo $$ > " + sys.argv[1] + "; exec sleep 60"], check=False))
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in state  # a zombie waiting for init to reap it is dead


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_sigkill_of_the_tool_kills_its_child(tmp_path):
    pidfile = tmp_path / "child.pid"
    parent = subprocess.Popen([sys.executable, "-c", _PARENT, str(pidfile)])
    try:
        deadline = time.monotonic() + 20
        while not (pidfile.exists() and pidfile.read_text().strip()):
            assert time.monotonic() < deadline, "the child never started"
            time.sleep(0.05)
        child = int(pidfile.read_text())
        assert _alive(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 2
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        survived = _alive(child)
    finally:
        parent.kill()
    if survived:
        os.kill(child, signal.SIGKILL)
    assert not survived, f"child {child} outlived the SIGKILLed tool by 2 s"


# The child starts a grandchild (as pip starts a build backend, iree-compile starts lld) and waits
# for it. The parent-death signal is cleared on fork, so only the watchdog can stop the grandchild.
_GRANDPARENT = """
import sys
from iree_matrix.core.system import processes
from iree_matrix.core.system.process_request import ProcessRequest
processes.run(ProcessRequest(["sh", "-c", "sleep 60 & echo $! > " + sys.argv[1] + "; wait"], check=False))
"""


def _wait_for_pid(pidfile: Path) -> int:
    deadline = time.monotonic() + 20
    while not (pidfile.exists() and pidfile.read_text().strip()):
        assert time.monotonic() < deadline, "the process never started"
        time.sleep(0.05)
    return int(pidfile.read_text())


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
        return False
    return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_sigkill_of_the_tools_process_group_kills_its_grandchildren(tmp_path):
    """#14 item: grandchildren die too. The whole process group of the tool is SIGKILLed, as a
    `kill -9 -- -PGID` or a CI runner cancelling a job would."""
    pidfile = tmp_path / "grandchild.pid"
    tool = subprocess.Popen([sys.executable, "-c", _GRANDPARENT, str(pidfile)], start_new_session=True)
    try:
        grandchild = _wait_for_pid(pidfile)
        assert _alive(grandchild)
        os.killpg(tool.pid, signal.SIGKILL)
        tool.wait()
        assert _gone_within(grandchild, 2), f"grandchild {grandchild} outlived the SIGKILLed tool by 2 s"
    finally:
        tool.kill()


_STRAY = """
import sys
from iree_matrix.core.system import processes
from iree_matrix.core.system.process_request import ProcessRequest
script = "sleep 60 > /dev/null 2>&1 & echo $! > " + sys.argv[1]
processes.run(ProcessRequest(["sh", "-c", script], check=False))
open(sys.argv[2], "w").write(str(processes._watchdog._proc.pid))
"""


def test_a_finished_command_leaves_no_stray_and_the_watchdog_ends_with_the_tool(tmp_path):
    """A command that backgrounds a process and exits: the stray is killed when the command ends
    (it would otherwise write into a stage's directory after the stage), and the watchdog, told
    nothing is left, exits when the tool does."""
    stray_file, watchdog_file = tmp_path / "stray.pid", tmp_path / "watchdog.pid"
    subprocess.run([sys.executable, "-c", _STRAY, str(stray_file), str(watchdog_file)], timeout=60)
    assert _gone_within(int(stray_file.read_text()), 2), "a finished command's background process survived"
    assert _gone_within(int(watchdog_file.read_text()), 2), "the watchdog outlived the tool"


def _interruptible_tool(shell: str, on_interrupt: str) -> str:
    """What cli.main does: an interruptible tool whose worker thread runs a shell that, after SHELL,
    writes its pid to argv[1] and becomes `sleep 60`, and whose main thread, interrupted, runs
    ON_INTERRUPT (Python, at the top level)."""
    return (
        "import sys, threading, time\n"
        "from iree_matrix import cli\n"
        "from iree_matrix.core.system import processes\n"
        "from iree_matrix.core.system.process_request import ProcessRequest\n"
        "cli._interruptible()\n"
        "def work():\n"
        "    try:\n"
        f"        script = {shell + 'echo $$ > '!r} + sys.argv[1] + '; exec sleep 60'\n"
        "        processes.run(ProcessRequest(['sh', '-c', script], check=False))\n"
        "    except BaseException:\n"
        "        pass\n"
        "threading.Thread(target=work, daemon=True).start()\n"
        "try:\n"
        "    while True:\n"
        "        time.sleep(0.1)\n"
        "except KeyboardInterrupt:\n" + textwrap.indent(on_interrupt, "    ")
    )


# What cli.main does on Ctrl-C, with a tool that ignores SIGTERM (as a busy iree-compile may take
# seconds to stop): the first Ctrl-C starts kill_all's SIGTERM-then-wait, the second interrupts
# that wait and the tool exits 130 with its child still running.
_TWO_CTRL_C = _interruptible_tool(
    "trap '' TERM; ", "try:\n    processes.kill_all()\nexcept KeyboardInterrupt:\n    sys.exit(130)\n"
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_a_second_ctrl_c_exits_130_and_leaves_no_orphan(tmp_path):
    """#14 defect 2: the second Ctrl-C exited 130 and left iree-compile running with PPID 1."""
    pidfile = tmp_path / "child.pid"
    tool = subprocess.Popen([sys.executable, "-c", _TWO_CTRL_C, str(pidfile)], start_new_session=True)
    try:
        child = _wait_for_pid(pidfile)
        tool.send_signal(signal.SIGINT)
        time.sleep(0.5)  # inside kill_all's wait for the SIGTERMed child
        assert tool.poll() is None and _alive(child)
        tool.send_signal(signal.SIGINT)
        assert tool.wait(timeout=10) == 130
        assert _gone_within(child, 2), f"child {child} outlived the twice-interrupted tool by 2 s"
    finally:
        tool.kill()


def test_the_watchdog_runs_the_removal_command_it_was_given_for_containers_still_watched(tmp_path):
    """At the tool's end the watchdog removes the containers still registered, with the command
    `containers` handed it (`docker rm --force --volumes`; here a shell that writes the names down),
    once per command with every name appended, and leaves the unwatched ones alone."""
    import json

    out = tmp_path / "removed"
    remove = ["sh", "-c", f'echo "$@" >> {out}', "rm"]
    watchdog = Path(__file__).resolve().parents[2] / "src" / "iree_matrix" / "core" / "system" / "watchdog.py"
    lines = [["ct", remove, "a"], ["ct", remove, "b"], ["ct", remove, "c"], ["-ct", "b"]]
    subprocess.run(
        [sys.executable, "-I", "-S", str(watchdog)],
        input="".join(json.dumps(line) + "\n" for line in lines), text=True, timeout=60,
    )  # fmt: skip
    assert out.read_text() == "a c\n"


# What cli.main does on a stop signal: the KeyboardInterrupt its handler raises is caught, the
# children are stopped and the tool exits 130 having said so.
_ONE_STOP = _interruptible_tool("", 'processes.kill_all()\nprint("interrupted", flush=True)\nsys.exit(130)\n')


def _ignoring_sighup() -> None:
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # what `nohup` leaves its command


def _hearing_sighup() -> None:
    signal.signal(signal.SIGHUP, signal.SIG_DFL)  # a terminal's command, even where pytest runs under nohup


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_a_closed_terminal_stops_a_run_as_ctrl_c_does(tmp_path):
    """Bad inputs, fifth round: SIGHUP (a closed terminal, a dropped ssh session) killed the tool on the
    spot, exit 129 with no word and its stages' staging directories left; it is now a careful stop."""
    pidfile = tmp_path / "child.pid"
    tool = subprocess.Popen(
        [sys.executable, "-c", _ONE_STOP, str(pidfile)],
        start_new_session=True,
        preexec_fn=_hearing_sighup,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        child = _wait_for_pid(pidfile)
        tool.send_signal(signal.SIGHUP)
        assert tool.wait(timeout=10) == 130
        assert tool.stdout is not None and tool.stdout.read().strip() == "interrupted"
        assert _gone_within(child, 2), f"child {child} outlived the hung-up tool by 2 s"
    finally:
        tool.kill()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_under_nohup_a_hangup_is_still_ignored(tmp_path):
    pidfile = tmp_path / "child.pid"
    tool = subprocess.Popen(
        [sys.executable, "-c", _ONE_STOP, str(pidfile)], start_new_session=True, preexec_fn=_ignoring_sighup
    )
    try:
        child = _wait_for_pid(pidfile)
        tool.send_signal(signal.SIGHUP)
        time.sleep(1)
        assert tool.poll() is None and _alive(child), "nohup's ignored SIGHUP stopped the run"
        tool.send_signal(signal.SIGINT)
        assert tool.wait(timeout=10) == 130
    finally:
        tool.kill()
