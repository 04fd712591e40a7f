"""run.py stopped by SIGTERM or SIGHUP (bad inputs, sixth round): before, either ended run.py on the
spot (no word) and the cell's process, in a session of its own, ran on alone for up to --timeout
(900 s by default). Now each stops the run as Ctrl-C does: the cell's process is killed, what was
recorded is said, and run.py exits 128 + the signal's number."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.processes  # a real run.py main, a real cell process, real signals

ROOT = Path(__file__).resolve().parents[2]

# run.py's main with the cell's process a shell that writes its pid and sleeps (the real
# cell.child starts it, in a session of its own, and kills it when the run is stopped).
_RUN = """
import sys
from iree_matrix.bundle_runner import cell, cli
root, out, pidfile = sys.argv[1:4]
cell.command = lambda *args: ["sh", "-c", f"echo $$ > {pidfile}; exec sleep 120"]
cli.runtime_for = lambda manifest, runtime, machine="": {"file": "x.whl"}
cli.is_wheel, cli.needs_tools = (lambda wheel: True), (lambda c: False)
cli.install = lambda root, wheel: root
sys.exit(cli.main(["--bundle", root, "--out", out]))
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_a_signal_stops_run_py_as_ctrl_c_does_and_leaves_no_cell_running(tmp_path: Path, sig) -> None:
    root, out, pidfile = tmp_path / "b", tmp_path / "out", tmp_path / "cell.pid"
    root.mkdir()
    cells = [{"job": "run:a", "runtime": "3.13.0"}, {"job": "run:b", "runtime": "3.13.0"}]
    (root / "bundle.json").write_text(json.dumps({"schema": 1, "cells": cells, "runtimes": []}))
    digest = hashlib.sha256((root / "bundle.json").read_bytes()).hexdigest()
    (root / "SHA256SUMS").write_text(f"{digest}  bundle.json\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    # SIGHUP as a terminal gives it: under `nohup` (a CI job started so) it is inherited ignored, and
    # run.py rightly leaves an ignored SIGHUP ignored
    run = subprocess.Popen([sys.executable, "-c", _RUN, str(root), str(out), str(pidfile)], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_DFL))  # fmt: skip
    child = 0
    try:
        deadline = time.monotonic() + 30
        while not child and time.monotonic() < deadline:
            time.sleep(0.1)
            text = pidfile.read_text().strip() if pidfile.exists() else ""
            child = int(text) if text else 0
        assert child, "the cell's process never started"
        run.send_signal(sig)
        _, err = run.communicate(timeout=30)
        assert run.returncode == 128 + sig, err
        assert f"interrupted: 0 of 2 cells recorded in {out / 'results.jsonl'}" in err, err
        assert "Traceback" not in err
        gone = time.monotonic() + 5
        while _alive(child) and time.monotonic() < gone:
            time.sleep(0.05)
        assert not _alive(child), "the cell's process outlived run.py"
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        if child and _alive(child):
            os.kill(child, signal.SIGKILL)
