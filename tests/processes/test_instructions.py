"""The process-heavy part of tests/unit/test_instructions.py (each test's marker says why); the rest
there runs in the fast tier."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.mark.processes
def test_io_uring_is_refused_with_eperm_and_nothing_else(tmp_path: Path) -> None:
    """The wrapper valgrind runs under (IREE 3.12+'s io_uring proactor deadlocks valgrind 3.19)."""
    import subprocess
    import sys

    probe = (
        "import ctypes, os; libc = ctypes.CDLL(None, use_errno=True); "
        "r = libc.syscall(425, 8, ctypes.create_string_buffer(120)); "
        "print(r, ctypes.get_errno(), os.getpid() > 0)"
    )
    argv = [sys.executable, "-m", "iree_matrix.stages.no_io_uring", sys.executable, "-c", probe]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["-1", "1", "True"]  # EPERM: the runtime's "blocked by security policy"
