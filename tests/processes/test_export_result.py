"""The process-heavy part of tests/unit/test_export_result.py (each test's marker says why); the rest
there runs in the fast tier."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).parents[2] / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

import export_model as em  # noqa: E402  (scripts/ is on sys.path now; importing it needs no torch)


@pytest.mark.torch
@pytest.mark.heavy
def test_torch_threads_is_restored_even_after_a_failure():
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with em.torch_threads(1):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        with pytest.raises(RuntimeError), em.torch_threads(1):
            raise RuntimeError("a model that fails")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


_FD_HOG = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
import export_model as em
held = []
def work(args):
    out = Path(args.out)
    em.track_phases(out)
    def build():
        try:
            while True:
                held.append(open("/dev/null"))
        except OSError:
            pass
    em._phase("model", build)
    em._phase("eager", lambda: None)
class Args:
    out = sys.argv[1]
sys.exit(em.run_reporting(work, Args))
"""


@pytest.mark.processes  # a child process runs out of file descriptors
def test_a_model_that_uses_up_the_file_descriptors_is_its_own_failure_said_so(tmp_path):
    """Issue 68 item 7: a model that opened files until EMFILE left the worker unable to write
    error.json, and its failure read as "the model ended its process". The worker keeps two
    descriptors aside for its outcome, and says what the model did."""
    import json
    import resource
    import subprocess

    def few() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    done = subprocess.run([sys.executable, "-c", _FD_HOG, str(tmp_path), str(SCRIPTS)], preexec_fn=few,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 1, done.stderr
    error = json.loads((tmp_path / "error.json").read_text())
    assert error["phase"] == "eager" and error["type"] == "ModelFinding", error
    assert "the model's code used up the process's file descriptors" in error["message"]
    assert "the limit is 64" in error["message"]

    from iree_matrix.core.system.processes import Completed
    from iree_matrix.stages.export import _failure

    failure = _failure(tmp_path, Completed(("python",), 1, "", done.stderr, 1.0))
    assert failure.error_class == "model-error" and "file descriptors" in failure.message
