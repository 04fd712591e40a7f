"""Malformed inputs from the reliability drill (#14): each is a one-line error, exit code 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from iree_matrix import cli

GOOD = 'python = "3.11"\ntorch = "2.13.0"\nturbine = "3.9.0"\ncompiler = "3.9.0"\n'


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("IREE_MATRIX_CACHE", str(tmp_path / "cache"))


def _model(tmp_path: Path, body: str | bytes) -> Path:
    file = tmp_path / "mymodel.py"
    file.write_bytes(body if isinstance(body, bytes) else body.encode())
    return file


def _expect_one_line(capsys, argv: list[str], *needles: str) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("iree-matrix: error: ")
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_matrix_file_not_utf8(tmp_path, capsys):
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(GOOD.encode() + b'models = "tiny_cnn"\n# caf\xe9\n')
    _expect_one_line(capsys, ["matrix", "--matrix", str(bad), "--list"], str(bad), "UTF-8")


def test_model_file_not_utf8(tmp_path, capsys):
    model = _model(tmp_path, b"# caf\xe9\ndef build():\n    pass\n")
    matrix = tmp_path / "m.toml"
    matrix.write_text(GOOD + 'models = "tiny_cnn"\n')
    argv = ["matrix", "--matrix", str(matrix), "--list", "--model", f"{model}:build"]
    _expect_one_line(capsys, argv, str(model), "UTF-8")


@pytest.mark.parametrize(
    "statics, key",
    [
        ('FUNCTIONS = "abc"\n', "FUNCTIONS"),
        ('REQUIREMENTS = "transformers==5.23.0"\n', "REQUIREMENTS"),
        ("FUNCTIONS = ()\n", "FUNCTIONS"),
        ("REQUIREMENTS = (1, 2)\n", "REQUIREMENTS"),
    ],
)
def test_model_statics_wrong_type(tmp_path, capsys, statics, key):
    model = _model(tmp_path, statics + "def build():\n    pass\n")
    matrix = tmp_path / "m.toml"
    matrix.write_text(GOOD + 'models = "tiny_cnn"\n')
    argv = ["matrix", "--matrix", str(matrix), "--list", "--model", f"{model}:build"]
    _expect_one_line(capsys, argv, str(model), key)


@pytest.mark.parametrize("option", ["--cache", "--results-dir"])
def test_directory_option_naming_a_file(tmp_path, capsys, option):
    matrix = tmp_path / "m.toml"
    matrix.write_text(GOOD + 'models = "tiny_cnn"\n')
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    _expect_one_line(capsys, ["matrix", "--matrix", str(matrix), option, str(a_file)], option, str(a_file))


@pytest.mark.parametrize("value", ["42", "true", "[1, 2]"])
def test_description_must_be_a_string(tmp_path, capsys, value):
    matrix = tmp_path / "m.toml"
    matrix.write_text(GOOD + 'models = "tiny_cnn"\n' + f"description = {value}\n")
    _expect_one_line(capsys, ["matrix", "--matrix", str(matrix), "--list"], str(matrix), "description")
