"""Unit tests for the exporter-environment axes: turbine's supported torch ranges, the Python
interpreters the venv backend finds, the MLIR form axis and the compiler Python (pure logic)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from iree_matrix import stages
from iree_matrix.core.errors import SpecError
from iree_matrix.envs.venv import share_identical_files
from iree_matrix.matrix import interpreters, releases, spec, spec_file, torch_ranges
from tests.unit.fake_index import INDEX, FakeIndex

TORCH = [
    "2.3.0",
    "2.4.1",
    "2.5.0",
    "2.5.1",
    "2.6.0",
    "2.7.0",
    "2.7.1",
    "2.8.0",
    "2.9.0",
    "2.9.1",
    "2.10.0",
    "2.13.0",
]
INDEX_WITH_TORCH = {
    **INDEX,
    "iree-turbine": [*INDEX["iree-turbine"], "2.4.1", "3.2.0", "3.5.0", "3.6.0", "3.7.0"],
    "torch": TORCH,
}


# --- the table of turbine's torch ranges -------------------------------------------------------


@pytest.mark.parametrize(
    ("turbine", "expected"),
    [("3.2.0", "2.5.1"), ("3.5.0", "2.5.1"), ("3.6.0", "2.7.1"), ("3.8.0", "2.7.1"), ("3.9.0", "2.9.1"),
     ("3.0.0", "2.13.0"), ("2.3.0", "2.3.0")],
)  # fmt: skip
def test_supported_is_the_newest_torch_inside_turbines_range(turbine, expected):
    assert torch_ranges.supported(turbine, TORCH) == [expected]


def test_supported_minors_takes_the_newest_patch_of_each_minor():
    assert torch_ranges.supported("3.6.0", TORCH, torch_ranges.SUPPORTED_MINORS) == [
        "2.5.1",
        "2.6.0",
        "2.7.1",
    ]
    assert torch_ranges.supported("3.9.0", TORCH, torch_ranges.SUPPORTED_MINORS) == [
        "2.5.1", "2.6.0", "2.7.1", "2.8.0", "2.9.1",
    ]  # fmt: skip


def test_every_row_cites_upstream():
    for row in torch_ranges.TABLE:
        assert "pytorch-cpu-requirements.txt" in row.source and "iree-turbine v" in row.source


def test_an_override_replaces_the_tables_row_by_release_or_minor():
    assert torch_ranges.supported("3.9.0", TORCH, overrides={"3.9.0": ">=2.5,<2.11"}) == ["2.10.0"]
    assert torch_ranges.supported("3.9.0", TORCH, overrides={"3.9": "<2.6"}) == ["2.5.1"]
    assert torch_ranges.supported("3.6.0", TORCH, overrides={"3.9": "<2.6"}) == ["2.7.1"]  # not 3.6


def test_an_unknown_turbine_release_says_how_to_name_its_range():
    with pytest.raises(torch_ranges.RangeError, match=r'\[supported_torch\] "2.4.1"'):
        torch_ranges.supported("2.4.1", TORCH)


def test_a_range_with_no_release_on_the_index_says_so():
    with pytest.raises(torch_ranges.RangeError, match="no such torch release"):
        torch_ranges.supported("3.6.0", ["2.13.0"])


def _load(tmp_path: Path, text: str) -> spec.MatrixSpec:
    path = tmp_path / "m.toml"
    path.write_text(text, encoding="utf-8")
    return spec_file.load(path, resolver=releases.Resolver(None, query=FakeIndex(INDEX_WITH_TORCH)))


BASE = 'python = "3.11"\ncompiler = "3.9.0"\nmodels = "tiny_cnn"\n'


def test_the_matrix_resolves_supported_per_turbine_release(tmp_path):
    matrix = _load(tmp_path, BASE + 'torch = "supported"\nturbine = ["3.2.0", "3.6.0", "3.9.0"]\n')
    assert {(c.turbine, c.torch) for c in matrix.cells} == {
        ("3.2.0", "2.5.1"),
        ("3.6.0", "2.7.1"),
        ("3.9.0", "2.9.1"),
    }


def test_the_matrix_overrides_a_range_and_mixes_explicit_releases(tmp_path):
    text = BASE + 'torch = ["supported", "2.13.0"]\nturbine = "3.9.0"\n[supported_torch]\n"3.9" = "<2.6"\n'
    matrix = _load(tmp_path, text)
    assert sorted(c.torch for c in matrix.cells) == ["2.13.0", "2.5.1"]


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (
            '[supported_torch]\n"3.9.0" = "about 2.5"\n',
            "supported_torch.3.9.0 = 'about 2.5': not a version specifier",
        ),
        ('[supported_torch]\n"three" = ">=2.5"\n', "keys are iree-turbine releases"),
        ('[supported_torch]\n"3.9.0" = 2\n', "expected a version specifier"),
    ],
)
def test_bad_overrides_are_one_line(tmp_path, extra, words):
    with pytest.raises(SpecError) as info:
        _load(tmp_path, BASE + 'torch = "supported"\nturbine = "3.9.0"\n' + extra)
    assert "\n" not in str(info.value) and words in str(info.value)


def test_supported_for_a_turbine_without_a_range_is_one_line(tmp_path):
    with pytest.raises(SpecError) as info:
        _load(tmp_path, BASE + 'torch = "supported"\nturbine = "2.4.1"\n[supported_torch]\n"3.9" = "<2.6"\n')
    assert "\n" not in str(info.value)
    assert "supported" in str(info.value)
    with pytest.raises(SpecError, match="needs the package index"):
        spec_file.parse({"python": "3.11", "torch": "supported", "turbine": "3.9.0", "compiler": "3.9.0",
                    "models": "tiny_cnn"}, tmp_path / "m.toml")  # fmt: skip


# --- the form axis and the compiler Python in the plan -------------------------------------------


def test_forms_make_a_bytecode_compile_beside_the_text_one_from_one_export(tmp_path):
    text = BASE + 'torch = "2.13.0"\nturbine = "3.9.0"\nforms = ["text", "bytecode"]\n'
    matrix = _load(tmp_path, text)
    assert matrix.bytecode
    the_plan = stages.plan(matrix)
    compiles = [j for j in the_plan.jobs if j.stage == "compile"]
    assert [j.cell.endswith("/mlirbc") for j in compiles] == [False, True]
    assert [j.labels.get("form") for j in compiles] == [None, "bytecode"]
    assert the_plan.count("run") == 1  # the bytecode form is compiled, not run again
    assert the_plan.count("export") == 1


def test_a_text_only_matrix_keeps_its_ids(tmp_path):
    matrix = _load(tmp_path, BASE + 'torch = "2.13.0"\nturbine = "3.9.0"\n')
    assert not matrix.bytecode
    assert {j.cell for j in stages.plan(matrix).jobs if j.stage == "compile"} == {
        "tiny_cnn/py3.11-torch2.13.0-turbine3.9.0/iree3.9.0/x86_64/default"
    }


def test_an_unknown_form_is_one_line(tmp_path):
    with pytest.raises(SpecError, match=r"forms = 'binary': unknown form \(known: text, bytecode, onnx"):
        _load(tmp_path, BASE + 'torch = "2.13.0"\nturbine = "3.9.0"\nforms = "binary"\n')


def test_compiler_python_shares_compiler_envs_across_the_python_axis(tmp_path):
    text = (
        BASE.replace('"3.11"', '["3.10", "3.12"]')
        + 'torch = "2.13.0"\nturbine = "3.9.0"\ncompiler_python = "3.11"\n'
    )
    matrix = _load(tmp_path, text)
    installs = {j.env.id for j in stages.plan(matrix).jobs if j.stage == "install"}
    assert installs == {
        "py3.10-torch2.13.0-turbine3.9.0", "py3.12-torch2.13.0-turbine3.9.0",
        "py3.11-iree-compiler3.9.0", "py3.11-iree-runtime3.9.0",
    }  # fmt: skip
    with pytest.raises(SpecError, match="compiler_python = '3'"):
        _load(tmp_path, text.replace('compiler_python = "3.11"', 'compiler_python = "3"'))


# --- the interpreters the venv backend finds ----------------------------------------------------


def _fake_python(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_pyenv_versions_are_found_newest_patch_first(tmp_path, monkeypatch):
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))
    monkeypatch.setenv("PATH", "")
    old = _fake_python(tmp_path / "versions/3.10.2/bin/python3.10")
    new = _fake_python(tmp_path / "versions/3.10.13/bin/python3.10")
    asked = {str(old): "3.10", str(new): "3.10"}
    assert interpreters.find("3.10", ask=asked.get) == str(new)


def test_a_candidate_that_is_another_version_or_does_not_run_is_skipped(tmp_path, monkeypatch):
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))
    monkeypatch.setenv("PATH", "")
    shim = _fake_python(tmp_path / "versions/3.12.1/bin/python3.12")
    named = _fake_python(tmp_path / "mine/python")
    assert interpreters.find("3.12", {"3.12": str(named)}, ask={str(shim): "3.12"}.get) == str(shim)
    assert interpreters.find("3.12", ask=lambda exe: None) is None


def test_a_missing_interpreter_is_one_line_naming_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))
    monkeypatch.setenv("PATH", "")
    with pytest.raises(interpreters.MissingInterpreter) as info:
        interpreters.require(["3.8", "3.14"], {"3.14": "/nowhere/python"}, ask=lambda exe: None)
    message = str(info.value)
    assert "\n" not in message
    assert "python3.8, python3.14" in message and "pyenv install 3.8 3.14" in message
    assert "[interpreters] '3.14' = '/nowhere/python' is not a Python 3.14" in message


def test_the_plan_check_asks_only_for_host_venvs(tmp_path, monkeypatch):
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))
    monkeypatch.setenv("PATH", "")
    text = (
        BASE.replace('"3.11"', '["3.11", "3.99"]')
        + 'torch = "2.13.0"\nturbine = "3.9.0"\ncompiler_python = "3.11"\n'
    )
    matrix = _load(tmp_path, text)
    here = {
        interpreters.sys.executable: f"{interpreters.sys.version_info[0]}.{interpreters.sys.version_info[1]}"
    }
    with pytest.raises(interpreters.MissingInterpreter, match=r"^no python3\.99 on this machine"):
        interpreters.check_plan(stages.plan(matrix).jobs, ask=here.get)


def test_interpreters_table_is_validated(tmp_path):
    with pytest.raises(SpecError, match=r"interpreters.3 = '/x': keys are Python versions"):
        _load(tmp_path, BASE + 'torch = "2.13.0"\nturbine = "3.9.0"\n[interpreters]\n"3" = "/x"\n')


# --- identical installed files are stored once ----------------------------------------------------


def test_identical_large_files_become_one_inode(tmp_path):
    big = os.urandom(2 << 20)
    for env in ("a", "b"):
        (tmp_path / env / "lib").mkdir(parents=True)
        (tmp_path / env / "lib" / "libbig.so").write_bytes(big)
        (tmp_path / env / "lib" / "small.py").write_text("x = 1\n")
    (tmp_path / "b" / "lib" / "other.so").write_bytes(os.urandom(2 << 20))
    shared = tmp_path / ".shared"
    assert share_identical_files(tmp_path / "a", shared) == 0
    assert share_identical_files(tmp_path / "b", shared) == len(big)
    a, b = (tmp_path / e / "lib" / "libbig.so" for e in ("a", "b"))
    assert a.stat().st_ino == b.stat().st_ino and a.read_bytes() == big
    assert (tmp_path / "a/lib/small.py").stat().st_nlink == 1
    assert stat.S_IMODE(b.stat().st_mode) == stat.S_IMODE(a.stat().st_mode)
