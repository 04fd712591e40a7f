"""A model whose code ends the export worker's process before it writes its result (issue 29,
item 14): said as such, not as `[Errno 2] No such file … export.json`."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from iree_matrix.core.errors import StageFailure
from iree_matrix.core.system.processes import Completed
from iree_matrix.stages.model_worker import read_result
from tests.scripts_path import scripts_importable


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


def test_an_export_json_without_the_workers_outputs_is_not_an_export(tmp_path):
    """Issue 85: a model that wrote a well-formed export.json (importer "H3-FORGED") and idled was
    killed by the exit watch as hung at exit and stored ok; the worker writes that file last, after
    the MLIR and torch's outputs, so without them it is the model's."""
    from iree_matrix.stages.export import forged_words

    (tmp_path / "export.json").write_text(json.dumps({"importer": "H3-FORGED"}))
    said = forged_words(tmp_path)
    assert said is not None and "not the worker's" in said and "model.mlir" in said and "\n" not in said
    assert "importer" not in said
    (tmp_path / "model.mlir").write_text("module {}")
    assert forged_words(tmp_path) is not None  # no torch outputs yet
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / "output0.npy").write_bytes(b"")
    assert forged_words(tmp_path) is None


# ---------------------------------------------------------------- eager's one-thread CPU time (issue #36)

scripts_importable()

import export_model as em  # noqa: E402  (scripts/ is on sys.path now; importing it needs no torch)


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


def test_an_export_the_harness_made_wrong_is_the_harness_failure_never_iree(tmp_path):
    """Issue 69: the fx route's function took a buffer as a second argument and IREE's run said
    "expected 2 arguments but passed 1". The worker now checks the arguments at export; a mismatch is
    raised as the harness's (`export_fx.HarnessError`), written as phase `harness` whatever phase it
    arose in, and recorded as iree-matrix's own failure (`internal`, not stored), not the export's
    nor a run's."""
    import types

    import export_fx
    from iree_matrix.stages.export import _failure

    def work(args):
        def wrong():
            raise export_fx.HarnessError(
                "the fx route's export takes 3 arguments where the model is called with 1"
            )

        em._phase("export", wrong)

    assert em.run_reporting(work, types.SimpleNamespace(out=str(tmp_path))) == 1
    error = json.loads((tmp_path / "error.json").read_text())
    assert error["phase"] == em.HARNESS
    failure = _failure(tmp_path, Completed(("python", "export_recipe.py"), 1, "", "", 0.1))
    assert failure.error_class == "internal" and "takes 3 arguments" in failure.message
    assert "not the model's or turbine's" in failure.message and not failure.cacheable
