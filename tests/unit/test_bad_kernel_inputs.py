"""Bad kernel inputs, fourth round: each was accepted and added nothing, or was said as something it
was not (lab/measurements.md, "Bad inputs, fourth round")."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from iree_matrix.core.errors import SpecError, UserError
from iree_matrix.execution.workflow import PlanSettings, merged
from iree_matrix.kernel import kernels
from iree_matrix.matrix import spec_file
from iree_matrix.matrix.settings import Layered
from tests.unit.test_kernels import MATRIX  # the same two models and releases

# A kernel's files are taken only from folders others may enter (core/system/shared_files.py).
pytestmark = pytest.mark.shared_tmp

NEGABS = Path(__file__).resolve().parents[1] / "data" / "kernels" / "negabs"


def _kernel_dir(tmp_path: Path, dirname: str = "negabs", extra: str = "") -> Path:
    where = tmp_path / dirname
    shutil.copytree(NEGABS, where)
    with (where / "kernel.toml").open("a") as toml:
        toml.write(extra)
    return where


def _matrix(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "m.toml"
    path.write_text(MATRIX + extra)
    return path


def test_a_kernel_meant_for_no_model_of_the_matrix_is_refused(tmp_path: Path) -> None:
    """`models = ["no_such_model"]` added no cell, and the run (or advise's sitting) went on without
    the kernel, saying nothing."""
    _kernel_dir(tmp_path, extra='models = ["no_such_model"]\n')
    with pytest.raises(SpecError) as caught:
        spec_file.load(_matrix(tmp_path, 'kernels = ["negabs"]\n'))
    said = str(caught.value)
    assert "kernel 'negabs'" in said and "is for models = ['no_such_model']" in said
    assert "runs mobilenet_v2, tiny_cnn: it would add no cell" in said and "\n" not in said


def test_a_kernel_meant_for_one_model_of_the_matrix_is_taken(tmp_path: Path) -> None:
    _kernel_dir(tmp_path, extra='models = ["mobilenet_v2", "no_such_model"]\n')
    matrix = spec_file.load(_matrix(tmp_path, 'kernels = ["negabs"]\n'))
    assert {c.model for c in matrix.cells if c.kernel} == {"mobilenet_v2"}


def test_a_file_named_as_a_kernel_is_said_to_be_no_directory(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("")  # was "afile/kernel.toml: no such file"
    with pytest.raises(kernels.KernelError, match=r"afile: not a directory \(a kernel is a directory"):
        kernels.load(tmp_path / "afile")


def test_an_empty_kernels_entry_is_said_empty(tmp_path: Path) -> None:
    """`kernels = [""]` was the matrix file's own directory: "kernel.toml: no such file"."""
    with pytest.raises(SpecError, match=r"kernels = '': an empty path: name a kernel directory"):
        spec_file.load(_matrix(tmp_path, 'kernels = [""]\n'))


@pytest.mark.parametrize(
    ("given", "said"),
    [
        (("",), "--kernel '': an empty path: name a kernel directory"),
        (("negabs", "copy"), "--kernel copy: two kernels are both called 'negabs'"),
    ],
)
def test_a_bad_kernel_option_is_said_as_the_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: tuple, said: str
) -> None:
    """`--kernel ''` was "kernel.toml: no such file"; two `--kernel` of one name were blamed on the
    matrix file's `kernels`, which named neither."""
    _kernel_dir(tmp_path)
    shutil.copytree(tmp_path / "negabs", tmp_path / "copy")
    path = _matrix(tmp_path)
    monkeypatch.chdir(tmp_path)
    settings = PlanSettings(matrix=path, results_dir=tmp_path / "r", cache=tmp_path / "c", kernels=given)
    with pytest.raises(UserError) as caught:
        merged(Layered.read(path), settings)
    assert said in str(caught.value) and "\n" not in str(caught.value)


def test_a_spec_that_is_a_directory_is_said_so(tmp_path: Path) -> None:
    """`spec = "sdir"` (a directory) was "no such file: …/sdir"."""
    where = _kernel_dir(tmp_path)
    (where / "sdir").mkdir()
    toml = where / "kernel.toml"
    toml.write_text(toml.read_text().replace('spec = "spec.mlir"', 'spec = "sdir"'))
    with pytest.raises(
        kernels.KernelError, match=r"spec = 'sdir': .*/sdir is a directory; expected a file in"
    ):
        kernels.load(where)


def test_query_kernel_of_a_huge_name_is_one_short_line(capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 94: `query kernel` of a 20,000-character name printed a 20,143-character line."""
    from iree_matrix import cli

    assert cli.main(["query", "kernel", "x" * 20_000]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "(20,000 characters): expected a name of letters" in err[-1] and len(err[-1]) <= 300
