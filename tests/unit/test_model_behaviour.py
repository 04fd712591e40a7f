"""What a model does is the model's answer, never IREE's (the drill's false answers): torch's NaN or inf
left unchecked and named, IREE's NaN where torch's is finite a mismatch with numbers that mean
something, a dtype numpy lacks read back from its raw bits, a Python number among the outputs and a
model that kills the export worker said as the model's, and the worker's own failure as its own.

The worker's functions run here on this environment's torch; the same models through the real export,
compile and run stages are tests/integration/test_model_behaviour.py."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from iree_matrix.bundle_runner import arrays as runner_arrays
from iree_matrix.core.errors import StageFailure, UserError
from iree_matrix.core.system.processes import Completed
from iree_matrix.stages import export, run
from tests.scripts_path import scripts_importable

SCRIPTS = scripts_importable()

import export_model as em  # noqa: E402


def _save(tmp_path: Path, got: np.ndarray, ref: np.ndarray) -> tuple[list[Path], list[Path]]:
    """One output IREE wrote and torch's, as files: `run.compare`'s two lists."""
    np.save(tmp_path / "got.npy", got)
    np.save(tmp_path / "ref.npy", ref)
    return [tmp_path / "got.npy"], [tmp_path / "ref.npy"]


# ---------------------------------------------------------------- the comparison


def test_torchs_own_nan_is_left_unchecked_not_a_mismatch(tmp_path: Path) -> None:
    ref = np.array([np.nan, 1.0, np.inf, -2.0], dtype=np.float32)
    got = np.array([0.0, 1.0, 7.0, -2.0], dtype=np.float32)  # whatever IREE makes of torch's NaN and inf
    check = run.compare(*_save(tmp_path, got, ref), atol=1e-5, rtol=1e-4)
    assert check["matches"] and check["unchecked_values"] == 2 and "nonfinite_values" not in check
    assert check["max_abs_err"] == 0.0
    said = runner_arrays.unchecked_words(check)
    assert said is not None and said.startswith("2 values not checked: torch's own output is NaN or inf")


def test_irees_nan_where_torch_is_finite_is_a_mismatch_that_says_so(tmp_path: Path) -> None:
    """The drill's "outputs differ … max abs err 0, max rel err 0": a NaN made the error NaN, and
    max(0.0, nan) is 0.0."""
    ref = np.array([1.0, -2.0, 3.0], dtype=np.float32)
    got = np.array([np.nan, -2.0, 3.5], dtype=np.float32)
    check = run.compare(*_save(tmp_path, got, ref), atol=1e-5, rtol=1e-4)
    assert not check["matches"] and check["nonfinite_values"] == 1
    assert check["max_abs_err"] == pytest.approx(0.5) and "unchecked_values" not in check
    words = runner_arrays.mismatch_words(check)
    assert words.startswith("outputs differ from torch: 1 NaN or inf where torch's are finite; elsewhere ")
    assert "max abs err 0.5," in words
    json.dumps(check, allow_nan=False)  # every figure a number a record can hold

    only_nan = run.compare(*_save(tmp_path, np.full(3, np.nan, np.float32), ref), atol=1e-5, rtol=1e-4)
    assert not only_nan["matches"] and only_nan["nonfinite_values"] == 3
    assert runner_arrays.mismatch_words(only_nan).startswith("outputs differ from torch: 3 NaN or inf where")


@pytest.mark.parametrize(
    ("got", "ref", "matches", "nonfinite", "unchecked"),
    [
        ([1.0, -2.0, 3.0], [1.0, -2.0, 3.0], True, 0, 0),
        ([1.5, -2.0, 3.0], [1.0, -2.0, 3.0], False, 0, 0),
        ([np.nan, -2.0, 3.0], [1.0, -2.0, 3.0], False, 1, 0),
        ([5.0, -2.0, np.inf], [np.nan, -2.0, 3.0], False, 1, 1),
        ([0.0, 0.0, 0.0], [np.nan, np.nan, np.inf], True, 0, 3),
    ],
)
def test_the_check_counts_nan_and_inf_apart(
    tmp_path: Path, got: list, ref: list, matches: bool, nonfinite: int, unchecked: int
) -> None:
    """The run stage's check is the bundle runner's (bundle_runner/arrays.py, one source): IREE's NaN
    or inf where torch's value is finite fails and is counted; torch's own is left unchecked."""
    check = run.compare(
        *_save(tmp_path, np.array(got, np.float32), np.array(ref, np.float32)), atol=1e-5, rtol=1e-4
    )
    assert check["matches"] is matches
    assert check.get("nonfinite_values", 0) == nonfinite and check.get("unchecked_values", 0) == unchecked
    assert np.isfinite(check["max_abs_err"])


# ---------------------------------------------------------------- dtypes numpy lacks

BF16 = {"shape": [2, 3], "dtype": "bfloat16", "saved_as": "|V2"}
# bfloat16 bit patterns: 1.0, -2.0, 0.5, 3.140625, NaN, -inf
BITS = np.array([[0x3F80, 0xC000, 0x3F00], [0x4049, 0x7FC0, 0xFF80]], dtype=np.uint16)


def test_bfloat16_raw_bits_are_read_back_from_irees_bin_and_the_exports_npy(tmp_path: Path) -> None:
    assert runner_arrays.output_name(0, BF16) == "output0.bin"
    assert runner_arrays.output_name(1, {"shape": [2], "dtype": "float32"}) == "output1.npy"
    BITS.tofile(tmp_path / "output0.bin")  # what iree-run-module --output=@output0.bin writes
    np.save(tmp_path / "ref.npy", BITS.view("V2"))  # what the export saved
    got, ref = (
        runner_arrays.load_array(tmp_path / "output0.bin", BF16),
        runner_arrays.load_array(tmp_path / "ref.npy", BF16),
    )
    assert got.shape == ref.shape == (2, 3) and got.dtype.kind == ref.dtype.kind == "V"
    values = runner_arrays.as_float64(got, BF16)
    assert values[0].tolist() == [1.0, -2.0, 0.5] and values[1, 0] == 3.140625
    assert np.isnan(values[1, 1]) and values[1, 2] == -np.inf
    check = run.compare([tmp_path / "output0.bin"], [tmp_path / "ref.npy"], atol=0, rtol=0, described=[BF16])
    assert check["matches"] and check["unchecked_values"] == 2
    digest = run.outputs_digest([tmp_path / "output0.bin"], [BF16])
    assert digest == run.outputs_digest([tmp_path / "output0.bin"], [BF16]) and len(digest) == 64


def test_another_dtype_numpy_lacks_without_ml_dtypes_is_one_line_saying_what_to_install(
    monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "ml_dtypes", None)  # an import of it fails
    np.zeros(4, np.uint8).tofile(tmp_path / "output0.bin")
    described = [{"shape": [4], "dtype": "float8_e4m3fn", "saved_as": "|V1"}]
    with pytest.raises(UserError, match=r"float8_e4m3fn arrays as raw bits .*\(pip install ml_dtypes\)$"):
        run.compare(
            [tmp_path / "output0.bin"], [tmp_path / "output0.bin"], atol=0, rtol=0, described=described
        )


# ---------------------------------------------------------------- the export stage's classes


def _done(code: int, output: str = "") -> Completed:
    return Completed(("python", "export_model.py"), code, output, "", 1.0)


def test_the_export_workers_own_failure_is_iree_matrixs_never_stored(tmp_path: Path) -> None:
    (tmp_path / "error.json").write_text(json.dumps({"phase": "harness", "message": "TypeError: oops"}))
    failure = export._failure(tmp_path, _done(1))
    assert failure.error_class == "internal" and not failure.cacheable
    assert failure.message.startswith("TypeError: oops (the export worker's own failure, not the model's")


@pytest.mark.parametrize(
    ("phase", "error_class", "words"),
    [
        (
            "eager",
            "model-error",
            "while the model's forward() ran. Does the model's code end its own process",
        ),
        ("model", "model-error", "while the model was being built. Does the model's code end"),
        ("export", "export-error", "while turbine exported the model."),
        ("harness", "internal", "ended (status 137) in its own code"),
        (None, "internal", "ended (status 137) in its own code"),
    ],
)
def test_a_worker_ended_from_outside_is_classed_by_the_phase_it_was_in(
    tmp_path: Path, phase: str | None, error_class: str, words: str
) -> None:
    """The drill's model that kills its supervisor: `export-error` before."""
    if phase is not None:
        (tmp_path / export.PHASE_FILE).write_text(phase)
    failure = export._failure(tmp_path, _done(137, "building the model\n"))
    assert isinstance(failure, StageFailure) and failure.error_class == error_class
    assert words in failure.message and "building the model" in failure.message


def test_what_the_model_does_is_said_in_the_exports_record() -> None:
    info = {
        "changes_inputs": ["input 0: 8 of 8 values"],
        "reference_nonfinite": {"output1": {"nan": 3, "inf": 1, "of": 8}},
    }
    said = export.model_words(info)
    assert said is not None
    assert said.startswith("the model changes its input in place (input 0: 8 of 8 values): torch's reference")
    assert "torch's own outputs hold NaN or inf (output1: 3 NaN and 1 inf of 8 values)" in said
    assert export.model_words({}) is None


# ---------------------------------------------------------------- the worker, on this environment's torch


@pytest.fixture
def torch():  # type: ignore[no-untyped-def]
    return pytest.importorskip("torch")


def _models(torch):  # type: ignore[no-untyped-def]
    """The drill's models, as small modules (made here: this file's other tests need no torch)."""

    class InPlace(torch.nn.Module):
        def forward(self, x):
            x.mul_(2.0)
            return x + 1.0

    class Log(torch.nn.Module):
        def forward(self, x):
            return torch.log(x)

    class FloatOut(torch.nn.Module):
        def forward(self, x):
            return x * 2.0, 3.0

    return InPlace().eval(), Log().eval(), FloatOut().eval()


class Spec:
    def __init__(self, module, *inputs):  # type: ignore[no-untyped-def]
        self.module, self.inputs, self.atol, self.rtol = module, inputs, 1e-5, 1e-4


def test_the_workers_own_failure_is_written_as_the_harness_phase(tmp_path: Path) -> None:
    class Args:
        out = str(tmp_path)

    def broken(args):
        raise TypeError("Got unsupported ScalarType BFloat16")

    def model_finding(args):
        raise em.PhaseError("eager", em.ModelFinding("the model's words"))

    assert em.run_reporting(broken, Args) == 1
    error = json.loads((tmp_path / "error.json").read_text())
    assert (
        error["phase"] == "harness" and error["message"] == "TypeError: Got unsupported ScalarType BFloat16"
    )
    assert em.run_reporting(model_finding, Args) == 1
    error = json.loads((tmp_path / "error.json").read_text())
    assert error["phase"] == "eager" and error["message"] == "the model's words"  # no type before a finding


# ---------------------------------------------------------------- where a user reads the model's answer


def _behaving(unchecked: int = 2) -> list:
    """A model's cells (tests/unit/test_answers.py's records) whose export says what the model did."""
    from iree_matrix.core.model.results import Record, Status
    from tests.unit.test_answers import EXP, _compile, _run

    labels = {"model": "tiny", "source_model": "tiny", "exporter": EXP}
    found = {"changes_inputs": ["input 0: 8 of 8 values"],
             "reference_nonfinite": {"output0": {"nan": 1, "inf": 1, "of": 4}}}  # fmt: skip
    exported = Record(f"export:tiny/{EXP}", "export", f"tiny/{EXP}", "k", Status.OK, labels, found)
    ran = _run("tiny", "3.9.0")
    ran = dataclasses.replace(ran, metrics={**ran.metrics, "unchecked_values": unchecked})
    return [exported, _compile("tiny", "3.9.0"), ran]


NOTE = (
    "the model's own behaviour, not IREE's: it changes its input in place (input 0: 8 of 8 values); it is "
    "checked on the inputs as built; torch's own outputs hold NaN or inf (output0: 1 NaN and 1 inf of 4 "
    "values), left unchecked"
)


def test_what_the_model_does_is_one_line_worded_once() -> None:
    from iree_matrix.findings import behaviour

    records = _behaving()
    assert behaviour.line(records, {"tiny"}) == NOTE
    assert behaviour.line(records, {"other"}) is None
    # a run's own count says it where no export record is at hand (a bundle's runs)
    said = behaviour.line(records[1:], {"tiny"})
    assert said == f"{behaviour.HEAD} 2 values left unchecked, where torch's own output is NaN or inf"
    assert behaviour.line(_behaving(0)[1:], {"tiny"}) is None


def test_query_model_and_compatibility_md_say_it_under_the_models_answer(tmp_path: Path, capsys) -> None:
    """In the record and `show` only before: the answer a user reads did not say it."""
    from iree_matrix import cli
    from iree_matrix.core.model.results import ResultsLog
    from iree_matrix.findings import query
    from iree_matrix.report.compatibility import render_compatibility

    records = _behaving()
    answer = query.model(records, "tiny")
    assert answer.answer == "passes" and f"  note: {NOTE}" in answer.lines
    log = ResultsLog(tmp_path / "results.jsonl")
    for record in records:
        log.append(record)
    assert cli.main(["query", "model", "tiny", "--results-dir", str(tmp_path)]) == 0
    assert f"  note: {NOTE}\n" in capsys.readouterr().out
    text = render_compatibility(records)
    section = text[text.index("### tiny") :]
    assert f"\n- {NOTE}\n" in section


def test_a_model_file_imports_its_sibling_module_from_any_directory(tmp_path: Path) -> None:
    """`import nets` beside model.py (issue 95): the worker puts the model's folder on the path, as
    `python model.py` does (the sandbox binds that folder); it was a ModuleNotFoundError. The worker's
    own modules stay its own, a sibling of the same name aside."""
    import subprocess

    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "nets_of_mine.py").write_text("WIDTH = 7\n")
    (folder / "export_fx.py").write_text("raise SystemExit('the sibling, not the worker')\n")
    (folder / "model.py").write_text(
        "import nets_of_mine\n\ndef build(seed):\n    return nets_of_mine.WIDTH\n"
    )
    code = (
        "import sys, argparse; sys.path.insert(0, sys.argv[1]); import export_recipe, export_model as em; "
        "m = em.import_model(argparse.Namespace(module=None, file=sys.argv[2])); "
        "print(m.build(0), export_recipe.export_fx.__file__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(SCRIPTS), "project/model.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    width, fx = done.stdout.split()
    assert width == "7" and Path(fx).parent == SCRIPTS
