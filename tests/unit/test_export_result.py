"""A model whose code ends the export worker's process before it writes its result (issue 29,
item 14): said as such, not as `[Errno 2] No such file … export.json`."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import pytest

from iree_matrix.core.errors import StageFailure
from iree_matrix.core.system.processes import Completed
from iree_matrix.stages.model_worker import read_result


def test_a_model_process_that_exits_before_its_result_is_said_so(tmp_path):
    done = Completed(("python", "export_model.py"), 0, "building my_net\n", "", 0.1)
    with pytest.raises(StageFailure) as caught:
        read_result(tmp_path / "export.json", done)
    assert caught.value.error_class == "model-error"
    message = caught.value.message
    assert "exited (status 0) before writing its result (export.json)" in message
    assert "os._exit()" in message and "building my_net" in message and "Errno" not in message


def test_a_result_is_read(tmp_path):
    (tmp_path / "export.json").write_text('{"seconds": 1.5}')
    assert read_result(tmp_path / "export.json", Completed(("x",), 0, "", "", 0.1)) == {"seconds": 1.5}


@pytest.mark.parametrize(
    "text, said",
    [
        ('{"seconds": 1.5, "parameters": 3}', "it lacks eager_ms, torch_threads"),
        ('{"seconds": 1.5, "eager_ms": 2.0, "parameters": 3, "torch_threads": 1}', "it lacks eager_ms"),
        ('{"seconds": true, "eager_ms": {}, "parameters": 3, "torch_threads": 1}', "it lacks seconds"),
        ("[1, 2]", "not a JSON object"),
        ("{not json", "Expecting property name"),
        ("\udcff", "not the worker's"),
    ],
)
def test_an_export_result_the_model_wrote_is_the_models_failure_in_one_line(tmp_path, text, said):
    """Issue 68: a model that wrote its own export.json (the worker's file, in the worker's process)
    raised `KeyError: 'eager_ms'` in iree-matrix; it is now the model's failure, said in one line."""
    from iree_matrix.stages.export import RESULT_FIELDS

    (tmp_path / "export.json").write_text(text, errors="surrogateescape")
    with pytest.raises(StageFailure) as caught:
        read_result(tmp_path / "export.json", Completed(("x",), 0, "", "", 0.1), RESULT_FIELDS)
    message = caught.value.message
    assert caught.value.error_class == "model-error" and said in message and "\n" not in message, message
    assert "the worker's result export.json is not the worker's" in message and "KeyError" not in message
    good = {"seconds": 1.5, "eager_ms": {"median": 2.0}, "parameters": 3, "torch_threads": 1}
    (tmp_path / "export.json").write_text(json.dumps(good))
    assert read_result(tmp_path / "export.json", Completed(("x",), 0, "", "", 0.1), RESULT_FIELDS) == good


# ---------------------------------------------------------------- eager's one-thread CPU time (issue #36)

SCRIPTS = Path(__file__).parents[2] / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

import export_model as em  # noqa: E402  (scripts/ is on sys.path now; importing it needs no torch)

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


def _spin_on_a_helper_thread(cpu_seconds):
    """The caller waits (no CPU) while a helper thread spends `cpu_seconds` of its own CPU time."""

    def spin():
        end = time.thread_time() + cpu_seconds
        while time.thread_time() < end:
            pass

    helper = threading.Thread(target=spin)
    helper.start()
    helper.join()


def test_cpu_summary_is_latencys_shape_with_each_time_and_one_thread():
    got = em.cpu_summary([3.0, 1.0, 2.0])
    assert got == {"median": 2.0, "min": 1.0, "max": 3.0, "stdev": 1.0, "n": 3, "times": [3.0, 1.0, 2.0],
                   "threads": 1}  # fmt: skip
    assert set(got) - {"times", "threads"} == set(em.summary([1.0]))
    assert em.cpu_summary([4.0])["stdev"] == 0.0


def test_process_time_calls_counts_cpu_not_waiting():
    calls = []
    sleeping = em.process_time_calls(lambda: calls.append(time.sleep(0.05)), warmup=2, repetitions=3)
    assert len(calls) == 5 and len(sleeping) == 3  # the warm-up calls are not timed
    assert all(0 <= t < 20 for t in sleeping)  # 50 ms asleep is (almost) no CPU time
    # a helper thread's work is the process's CPU time too (30 ms each, however loaded the machine)
    helped = em.process_time_calls(lambda: _spin_on_a_helper_thread(0.03), warmup=0, repetitions=2)
    assert len(helped) == 2 and all(t >= 29.0 for t in helped)


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
def test_a_failing_one_thread_timing_keeps_the_export(tmp_path, monkeypatch, torch_threads_kept):
    pytest.importorskip("iree.turbine")
    from iree_matrix.stages.export import STAGE, export_metrics

    def broken(spec, repetitions, warmup=2):
        raise RuntimeError("set_num_threads refused")

    monkeypatch.setattr(em, "eager_cpu", broken)
    code, out, _ = _export(tmp_path)
    assert code == 0 and not (out / "error.json").exists()
    info = json.loads((out / "export.json").read_text())
    assert info["eager_ms"]["n"] == 3 and (out / "model.mlir").is_file()
    assert info["eager_cpu_ms_error"] == "RuntimeError: set_num_threads refused"
    assert "eager_cpu_ms" not in info
    metrics = export_metrics(info, out)
    assert metrics["eager_cpu_ms_error"] == info["eager_cpu_ms_error"] and "eager_cpu_ms" not in metrics
    assert set(metrics) <= set(STAGE.metrics)


class _OldExport:
    """shark-turbine 0.9.x's ExportOutput on newer MLIR bindings: save_mlir passes the file positionally."""

    class _Module:
        def print(self, *args, file=None, binary=False):
            if args:
                raise TypeError("print(): incompatible function arguments. The following argument types …")
            file.write(b"module {}" if binary else "module {}")

    mlir_module = _Module()

    def save_mlir(self, path):
        with open(path, "wb") as f:
            self.mlir_module.print(f, binary=True)


def test_an_old_turbines_save_mlir_that_the_bindings_refuse_is_printed_by_keyword(tmp_path):
    em.save_text(_OldExport(), tmp_path / "model.mlir")
    assert (tmp_path / "model.mlir").read_bytes() == b"module {}"


def test_another_type_error_of_save_mlir_is_the_exports_own():
    class Broken:
        def save_mlir(self, path):
            raise TypeError("unsupported dtype")

    with pytest.raises(TypeError, match="unsupported dtype"):
        em.save_text(Broken(), Path("unused.mlir"))
