"""Bad inputs, fourth round: command options that were taken and failed late, or never (advise
--release 9.9.9 planned iree9.9.9 cells; bundle --cpu nonsense compiled every cell to LLVM's "64-bit
code requested on a subtarget that doesn't support it!" and packed the bundle without them; bundle
--to FILE was refused after every compile). Each is one line naming the option and the fix, before
anything is planned or built."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from iree_matrix import cli
from iree_matrix.iree import targets

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A results folder holding the index's releases as a run kept them (no index asked), the
    working directory and cache private to the test."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("IREE_MATRIX_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "r"
    folder.mkdir()
    shutil.copy(ROOT / "results" / "releases.json", folder / "releases.json")
    assert (
        "3.13.0"
        in json.loads((folder / "releases.json").read_text())["packages"]["iree-base-compiler"]["versions"]
    )
    return folder


def _said(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["advise", "tiny_cnn", "--release", "9.9.9"], "advise --release 9.9.9: iree-base-compiler has no "
         "release 9.9.9 on the index (nearest: 3.11.0, 3.12.0, 3.13.0)"),
        (["advise", "tiny_cnn", "--proof-steps", "0"], "advise --proof-steps 0: expected 1 or more"),
        (["advise", "tiny_cnn", "--proof-steps", "-1"], "advise --proof-steps -1: expected 1 or more"),
        (["bundle", "--advise", "tiny_cnn", "--cpu", "znver4", "--release", "9.9.9", "--to", "b"],
         "bundle --release 9.9.9: iree-base-compiler has no release 9.9.9"),
    ],
)  # fmt: skip
def test_a_bad_option_is_one_line_before_any_plan(results, capsys, argv, said):
    assert said in _said(capsys, [*argv, "--results-dir", str(results), "--list"])


@pytest.mark.skipif(
    targets.host_arch() != "x86_64", reason="the x86-64 CPU names are checked on x86-64 hosts"
)
@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["advise", "tiny_cnn", "--fleet", "znver44"], "advise --fleet znver44: not an x86-64 CPU that "
         "LLVM knows (IREE 3.13.0's list of accepted CPUs); did you mean znver4"),
        (["bundle", "--advise", "tiny_cnn", "--cpu", "nonsense", "--to", "b"], "bundle --cpu nonsense: "
         "not an x86-64 CPU that LLVM knows"),
    ],
)  # fmt: skip
def test_a_cpu_llvm_does_not_know_is_refused(results, capsys, argv, said):
    assert said in _said(capsys, [*argv, "--results-dir", str(results), "--list"])


@pytest.mark.parametrize("inside", ["", "sub"])
def test_bundle_to_a_file_is_refused_before_anything_compiles(results, tmp_path, capsys, inside):
    file = tmp_path / "afile.txt"
    file.write_text("x\n")
    to = file / inside if inside else file
    argv = ["bundle", "--advise", "tiny_cnn", "--cpu", "znver4", "--to", str(to), "--list"]
    said = _said(capsys, argv)
    assert f"bundle --to {to}: " in said and "name a new folder" in said


def test_the_cpu_names_are_llvms():
    assert targets.x86_64_cpu_problem("znver4") is None and targets.x86_64_cpu_problem("x86-64-v3") is None
    assert targets.x86_64_cpu_problem("host") is None  # what IREE's own default names
    assert "did you mean emeraldrapids" in (targets.x86_64_cpu_problem("emeraldrapid") or "")


def test_query_model_with_a_tilde_and_nothing_after_it_says_so(capsys):
    """`query model nets.py:build~` was asked as `nets.py:build` ("no model 'nets'"), silently."""
    argv = ["query", "model", "nets.py:build~", "--results-dir", str(ROOT / "results")]
    assert "query model nets.py:build~: nothing after '~': name the export recipe" in _said(capsys, argv)


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["advise", "tiny_cnn", "--model", "mobilenet_v2"],
         "advise tiny_cnn: --model mobilenet_v2 is not taken here"),
        (["bundle", "--advise", "tiny_cnn", "--model", "mobilenet_v2", "--cpu", "znver4", "--to", "b"],
         "bundle --advise tiny_cnn: --model mobilenet_v2 is not taken with --advise"),
    ],
)  # fmt: skip
def test_a_model_option_beside_advises_model_is_refused(results, capsys, argv, said):
    """advise's (and bundle --advise's) own model replaced `--model`, silently, and the results
    folder was named after the dropped one (runs/bundle-net for a tiny_cnn bundle)."""
    assert said in _said(capsys, [*argv, "--results-dir", str(results), "--list"])
