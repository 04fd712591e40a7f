"""Bad inputs, sixth round (issues 67 and 69): each input that gave a traceback, a misleading line or
was taken silently, now one line naming it and the fix. The process-level ones are in
tests/processes (test_stop_signals, test_bundle_stop)."""

from __future__ import annotations

from pathlib import Path

import pytest

from iree_matrix import cli
from iree_matrix.matrix import kernels

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
