"""Command-line inputs of the fifth bad-inputs round whose line named the wrong thing."""

from __future__ import annotations

import pytest

from iree_matrix import cli


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err.strip()


def test_query_kernel_with_an_empty_name_names_the_kernel(capsys):
    """It said "query kernel: the model's name '' is empty"."""
    assert cli.main(["query", "kernel", ""]) == 2
    assert _one_line(capsys) == "iree-matrix: error: query kernel: the kernel's name '' is empty; give one"


@pytest.mark.parametrize("command", [["matrix", "--list"], ["advise", "tiny_cnn"], ["doctor"], ["images"]])
@pytest.mark.parametrize("value", ["", " "])
def test_an_empty_matrix_option_is_said_empty(capsys, command, value):
    """`--matrix ''` was read as ".": "a directory, not a regular file" of a directory nobody named,
    after advise had printed its plan."""
    assert cli.main([command[0], "--matrix", value, *command[1:]]) == 2
    line = _one_line(capsys)
    assert "argument --matrix: an empty path: name a matrix file" in line, line
