"""The process-heavy part of tests/unit/test_advice.py (each test's marker says why); the rest
there runs in the fast tier."""

from __future__ import annotations

import sys

import pytest

from iree_matrix.advise import paired_rounds
from tests.unit.test_advice import _Worker


@pytest.mark.processes
def test_a_peer_interrupted_mid_request_ends_at_once(tmp_path):
    """Ctrl-C while a peer timed its calls: the sitting waited 5 s for it before it ended."""
    import signal
    import time

    def ctrl_c(signum, frame):
        raise KeyboardInterrupt

    arm = paired_rounds.PeerArm("eager", [sys.executable, "-c", _Worker.SOURCE], tmp_path)
    arm.__enter__()
    proc = arm._proc
    previous = signal.signal(signal.SIGALRM, ctrl_c)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        with pytest.raises(KeyboardInterrupt):
            arm.time(3)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    started = time.monotonic()
    arm.__exit__(KeyboardInterrupt, KeyboardInterrupt(), None)
    assert time.monotonic() - started < 2.0 and proc is not None and proc.returncode == -9
