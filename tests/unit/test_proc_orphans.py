"""`kill -9` of the tool must not leave its children running (#14, defect 3): each child started
through `_proc.run` gets a parent-death signal, so nothing keeps writing into the store or an env
folder after the tool is gone. Real processes, no fakes: a Python parent runs `sleep` through
`_proc.run` and is SIGKILLed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

_PARENT = """
import sys
from iree_matrix import _proc
_proc.run(["sh", "-c", "echo $$ > " + sys.argv[1] + "; exec sleep 60"], check=False)
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
