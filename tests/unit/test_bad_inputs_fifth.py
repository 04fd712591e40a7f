"""Command-line inputs of the fifth bad-inputs round whose line named the wrong thing."""

from __future__ import annotations

from iree_matrix import cli


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err.strip()


def test_query_kernel_with_an_empty_name_names_the_kernel(capsys):
    """It said "query kernel: the model's name '' is empty"."""
    assert cli.main(["query", "kernel", ""]) == 2
    assert _one_line(capsys) == "iree-matrix: error: query kernel: the kernel's name '' is empty; give one"
