"""The process-heavy part of tests/unit/test_export_result.py (each test's marker says why); the rest
there runs in the fast tier."""

from __future__ import annotations

import json
import sys

import pytest

from tests.scripts_path import scripts_importable

SCRIPTS = scripts_importable()

import export_model as em  # noqa: E402  (scripts/ is on sys.path now; importing it needs no torch)
import export_reference  # noqa: E402


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


# ---------------------------------------------------------------- eager's one-thread CPU time (issue #36):
# an export in this process (torch and turbine), seconds of CPU

# A model that notes torch's thread count at each eager call (not while turbine traces it).
THREADS_MODEL = """
import torch
from models.api import ModelSpec

SEEN = []


class Doubler(torch.nn.Module):
    def forward(self, x):
        if not (torch.compiler.is_compiling() or torch.compiler.is_exporting()):
            SEEN.append(torch.get_num_threads())
        return x * 2.0 + 1.0


def build():
    return ModelSpec(Doubler().eval(), (torch.arange(6, dtype=torch.float32).reshape(2, 3),), 1e-6, 1e-6)
"""


@pytest.fixture
def torch_threads_kept():
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def _export(tmp_path, *extra):
    model = tmp_path / "threads_model.py"
    model.write_text(THREADS_MODEL)
    out = tmp_path / "out"
    code = em.main(["--file", str(model), "--repetitions", "3", "--threads", "2", "--out", str(out), *extra])
    return code, out, sys.modules["user_model_threads_model"].SEEN


@pytest.mark.torch
@pytest.mark.heavy
def test_export_times_eager_on_one_thread_beside_its_wall_time(tmp_path, torch_threads_kept):
    pytest.importorskip("iree.turbine")
    from iree_matrix.stages.export import STAGE, export_metrics

    code, out, seen = _export(tmp_path)
    assert code == 0, (out / "error.json").read_text()
    # eager_ms: 2 warm-up + 3 timed calls on --threads 2; then eager_cpu_ms: 2 + 3 on one thread
    assert seen == [2] * 5 + [1] * 5
    info = json.loads((out / "export.json").read_text())
    assert info["torch_threads"] == 2  # the thread count is restored after the one-thread timing
    cpu = info["eager_cpu_ms"]
    assert cpu["threads"] == 1 and cpu["n"] == 3 and len(cpu["times"]) == 3
    assert cpu["min"] <= cpu["median"] <= cpu["max"] and cpu["median"] == sorted(cpu["times"])[1]
    assert all(t >= 0 for t in cpu["times"])
    assert "eager_cpu_ms_error" not in info

    metrics = export_metrics(info, out)  # what the export stage records
    assert metrics["eager_cpu_ms"] == cpu and metrics["eager_ms"] == info["eager_ms"]
    assert set(metrics) <= set(STAGE.metrics)


@pytest.mark.torch
@pytest.mark.heavy
def test_a_failing_one_thread_timing_keeps_the_export(tmp_path, monkeypatch, torch_threads_kept):
    pytest.importorskip("iree.turbine")
    from iree_matrix.stages.export import STAGE, export_metrics

    def broken(spec, repetitions, warmup=2):
        raise RuntimeError("set_num_threads refused")

    monkeypatch.setattr(export_reference, "eager_cpu", broken)  # where `measure` looks it up
    code, out, _ = _export(tmp_path)
    assert code == 0 and not (out / "error.json").exists()
    info = json.loads((out / "export.json").read_text())
    assert info["eager_ms"]["n"] == 3 and (out / "model.mlir").is_file()
    assert info["eager_cpu_ms_error"] == "RuntimeError: set_num_threads refused"
    assert "eager_cpu_ms" not in info
    metrics = export_metrics(info, out)
    assert metrics["eager_cpu_ms_error"] == info["eager_cpu_ms_error"] and "eager_cpu_ms" not in metrics
    assert set(metrics) <= set(STAGE.metrics)


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
