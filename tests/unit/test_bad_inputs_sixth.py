"""Bad inputs, sixth round (issues 67 and 69): each input that gave a traceback, a misleading line or
was taken silently, now one line naming it and the fix. The process-level ones are in
tests/processes (test_stop_signals, test_bundle_stop)."""

from __future__ import annotations

from pathlib import Path

import pytest

from iree_matrix import cli
from iree_matrix.kernel import kernels

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "matrix" / "smoke.toml"


def _one_line(err: str) -> str:
    assert "Traceback" not in err and err.count("\n") == 1, err
    return err


@pytest.fixture
def loop(tmp_path: Path) -> Path:
    link = tmp_path / "k_loop"
    link.symlink_to(link)
    return link


def test_a_kernel_that_is_a_loop_of_links_is_said_so(loop: Path) -> None:
    """`Path.exists()` is False for a loop, which read as 'no such kernel directory'."""
    for given in (loop, loop / "kernel.toml"):
        with pytest.raises(kernels.KernelError, match="a loop of symbolic links"):
            kernels.load(given)


@pytest.mark.parametrize("verb", [["matrix", "--matrix", str(SMOKE)], ["advise", "tiny_cnn"]])
def test_kernel_option_naming_a_loop_of_links_is_one_line(loop: Path, capsys, verb: list[str]) -> None:
    """It was a RuntimeError traceback ('Symlink loop from …', pathlib's resolve) in matrix and advise."""
    assert cli.main([*verb, "--kernel", str(loop), "--list"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    err = _one_line(err.splitlines(keepends=True)[-1])  # advise says its plan first
    assert err.startswith(f"iree-matrix: error: --kernel {loop}: {loop}: a loop of symbolic links"), err


FACTORIES = """
import torch
from models.api import ModelSpec
def takes_args(a, b): ...
def kwonly(*, scale): ...
def only_keywords(*, scale=2): ...
def fine(seed=0, attn_implementation="sdpa", width=3): ...
def no_seed(): ...
def seed_and_recipe(seed, attn_implementation): ...
def helper(x, y): ...
"""


@pytest.mark.parametrize(
    "factory, said",
    [
        ("takes_args", "takes_args(a, b) cannot be called as the export calls a factory, takes_args(seed) "
         "(or takes_args() when it takes no parameter): 'b' has no default; give the parameters after the "
         "seed defaults"),
        ("kwonly", "kwonly(*, scale) cannot be called as the export calls a factory, kwonly(seed) (or "
         "kwonly() when it takes no parameter): 'scale' has no default"),
        ("only_keywords", "only_keywords(*, scale=2) cannot be called as the export calls a factory, "
         "only_keywords(seed) (or only_keywords() when it takes no parameter): it takes no positional "
         "parameter for the seed"),
    ],
)  # fmt: skip
def test_a_factory_the_export_cannot_call_is_refused_when_planned(tmp_path: Path, capsys, factory, said):
    """Planned before, and each export failed 'TypeError: takes_args() missing 1 required positional
    argument: 'b'' (or 'takes 0 positional arguments but 1 was given'): words about a call the user
    never wrote (the export's factory(seed))."""
    model = tmp_path / "facts.py"
    model.write_text(FACTORIES)
    assert cli.main(["matrix", "--matrix", str(SMOKE), "--model", f"{model}:{factory}", "--list"]) == 2
    err = _one_line(capsys.readouterr().err)
    assert f"{model}: {said}" in err, err


@pytest.mark.parametrize("factory", ["fine", "no_seed", "seed_and_recipe"])
def test_factories_the_export_can_call_are_planned(tmp_path: Path, capsys, factory: str) -> None:
    model = tmp_path / "facts.py"
    model.write_text(FACTORIES)
    assert cli.main(["matrix", "--matrix", str(SMOKE), "--model", f"{model}:{factory}", "--list"]) == 0


def test_a_model_file_saved_with_a_byte_order_mark_is_read_as_python_reads_it(tmp_path: Path, capsys) -> None:
    """Python imports a UTF-8 file that starts with a BOM (as Windows editors save it); the planner
    refused it, 'not valid Python: invalid non-printable character U+FEFF'."""
    model = tmp_path / "bom.py"
    model.write_bytes(b"\xef\xbb\xbf" + FACTORIES.encode())
    assert cli.main(["matrix", "--matrix", str(SMOKE), "--model", f"{model}:fine", "--list"]) == 0
    assert cli.main(["matrix", "--matrix", str(SMOKE), "--model", f"{model}", "--list"]) == 2  # no factory
    assert "its top-level functions: takes_args, kwonly" in capsys.readouterr().err


def test_a_model_file_with_a_nul_byte_names_no_line_none(tmp_path: Path, capsys) -> None:
    model = tmp_path / "nul.py"
    model.write_bytes(b"def build(): ...\n\x00\n")
    assert cli.main(["matrix", "--matrix", str(SMOKE), "--model", f"{model}:build", "--list"]) == 2
    err = _one_line(capsys.readouterr().err)
    assert err.endswith(f"{model}: not valid Python: source code string cannot contain null bytes\n"), err


@pytest.mark.shared_tmp  # a kernel is taken only from folders others may enter
def test_a_kernel_toml_saved_with_a_byte_order_mark_is_read_as_a_matrix_file_is(tmp_path: Path) -> None:
    """A matrix file's BOM was taken, a kernel.toml's refused: 'not valid TOML: Invalid statement'."""
    import shutil

    kernel = tmp_path / "k"
    shutil.copytree(ROOT / "kernels" / "depthwise3x3", kernel)
    toml = kernel / "kernel.toml"
    toml.write_bytes(b"\xef\xbb\xbf" + toml.read_bytes())
    assert kernels.load(kernel).name == "depthwise3x3"


def test_a_sitting_with_no_arm_to_time_is_one_line_naming_why(monkeypatch, tmp_path: Path) -> None:
    """Every module of the runs gone from the store (or not this host's): advise's sitting had no arm
    and its rounds' rotation raised ZeroDivisionError, a traceback after the whole matrix had run."""
    from iree_matrix.advise import advise_plan, advise_sitting, paired_rounds
    from iree_matrix.core.errors import UserError
    from iree_matrix.core.model.results import Record, Status
    from iree_matrix.execution import abtest

    def run(profile: str) -> Record:
        labels = {"model": "m", "source_model": "m", "function": "main", "compiler": "3.13.0",
                  "runtime": "3.13.0", "profile": profile, "arch": "x86_64"}  # fmt: skip
        metrics = {"module_sha256": profile, "matches": True, "cpu_ms": {"median": 10.0, "n": 3}}
        return Record(f"run:m/{profile}", "run", f"m/{profile}", "k", Status.OK, labels, metrics)

    def gone(record, name, caches):
        raise abtest.NotComparable(f"{record.job}: its module /c/m.vmfb is no longer in the store")

    monkeypatch.setattr(abtest, "arm_of", gone)
    planned = advise_plan.arms(advise_plan.SittingPlan("3.13.0", (), ()), {}, "m")
    with pytest.raises(UserError) as info:
        records = [run("default"), run("generic")]
        advise_sitting.run(
            advise_sitting.Sitter(paired_rounds.Request(6, 1), "m", tmp_path), planned, records
        )
    said = str(info.value)
    assert said.startswith("advise m: no arm of main can be timed here (2 planned; default: run:m/default: ")
    assert "no longer in the store" in said and "\n" not in said


def test_a_model_reference_with_two_colons_says_so(tmp_path: Path, capsys) -> None:
    """`FILE:build:extra` said 'no such file: FILE:build' of a file that is there."""
    model = tmp_path / "facts.py"
    model.write_text(FACTORIES)
    ref = f"{model}:fine:extra"
    assert cli.main(["matrix", "--matrix", str(SMOKE), "--model", ref, "--list"]) == 2
    err = _one_line(capsys.readouterr().err)
    assert err.endswith(f"{ref}: more than one ':'; a model is FILE:FACTORY, e.g. {model}:fine\n"), err


@pytest.mark.parametrize("size", ["0", "-1", "nan", "inf", "abc"])
def test_a_bundles_max_size_that_no_bundle_fits_is_refused_when_parsed(capsys, size: str) -> None:
    """`bundle --max-size -1` built every cell, then said '15.3 MiB is over --max-size -1 MiB'; `nan`
    refused nothing, as no limit would."""
    argv = ["bundle", "--advise", "tiny_cnn", "--cpu", "znver5", "--max-size", size, "--list"]
    assert cli.main(argv) == 2
    err = _one_line(capsys.readouterr().err)
    shown = repr(size) if size == "abc" else size
    assert err.startswith(f"iree-matrix: error: argument --max-size: {shown}: "), err
