"""The exit status of a command a signal stopped (bad inputs, sixth round): 128 + the signal's number,
as a shell reports a process that signal ended. Before, SIGTERM and SIGHUP exited 130, Ctrl-C's
status, so a supervisor could not tell "the system stopped it" from "a user pressed Ctrl-C". The stop
itself (children ended, finished records kept, "interrupted" said) is the same for all three."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.processes.test_cache_lock import another_run_uses

pytestmark = pytest.mark.processes  # a real `iree-matrix matrix --wait`, stopped by a real signal

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_a_stopped_run_exits_128_plus_the_signal_and_says_interrupted(tmp_path: Path, sig) -> None:
    cache = tmp_path / "cache"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    argv = [sys.executable, "-m", "iree_matrix", "matrix", "--matrix", str(ROOT / "matrix" / "smoke.toml")]
    argv += ["--backend", "venv", "--cache", str(cache), "--results-dir", str(tmp_path / "out"), "--wait"]
    with another_run_uses(cache):  # the run waits for the cache: a stop that costs nothing to reach
        # SIGHUP as a terminal gives it: under `nohup` (a CI job started so) it is inherited ignored,
        # and the tool rightly leaves an ignored SIGHUP ignored
        tool = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                                preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_DFL))  # fmt: skip
        try:
            assert tool.stdout is not None
            seen = []
            for line in tool.stdout:
                seen.append(line)
                if "waiting for the cache" in line:
                    break
            else:
                pytest.fail("it never waited for the cache:\n" + "".join(seen))
            start = time.monotonic()
            tool.send_signal(sig)
            rest, _ = tool.communicate(timeout=30)
        finally:
            if tool.poll() is None:
                tool.kill()
                tool.wait()
    assert tool.returncode == 128 + sig, "".join(seen) + rest
    assert time.monotonic() - start < 5
    assert "interrupted" in rest
    assert "Traceback" not in rest
