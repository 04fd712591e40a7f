"""A venv command writes only where a container could (issue #41): real processes under Landlock.
Skipped where the kernel has no Landlock (the command then runs unrestricted, as documented)."""

from __future__ import annotations

from pathlib import Path

import pytest

from iree_matrix.core import _landlock, _proc

pytestmark = pytest.mark.skipif(not _landlock.available(), reason="this kernel has no Landlock")


def test_a_command_cannot_delete_or_write_outside_its_directories(tmp_path: Path) -> None:
    job, out, elsewhere = tmp_path / "job", tmp_path / "out", tmp_path / "precious"
    for d in (job, out, elsewhere):
        d.mkdir()
    victim = elsewhere / "precious.txt"
    victim.write_text("keep me")
    script = (
        f"rm -f {victim}; echo no > {elsewhere}/new.txt; mkdir {elsewhere}/d; "
        f"echo yes > {out}/result.txt; echo here > relative.txt"
    )
    done = _proc.run(["sh", "-c", script], cwd=job, check=False, writes_beneath=[str(job), str(out)])
    assert victim.read_text() == "keep me"
    assert not (elsewhere / "new.txt").exists() and not (elsewhere / "d").exists()
    assert "Permission denied" in done.output
    assert (out / "result.txt").read_text() == "yes\n" and (job / "relative.txt").is_file()


def test_without_the_argument_nothing_is_restricted(tmp_path: Path) -> None:
    victim = tmp_path / "v.txt"
    victim.write_text("x")
    assert _proc.run(["rm", str(victim)], check=False).returncode == 0 and not victim.exists()
