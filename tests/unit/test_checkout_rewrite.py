"""bin/checkout_rewrite.py: the prelude the three bin/update_*.py scripts share (the checkout
argument, `--check`, and "rewrote PATH" only when the file changes), and each script run as its
users run it, by path, importing the prelude from beside it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def prelude(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(REPO / "bin"))
    import checkout_rewrite

    return checkout_rewrite


def test_the_checkout_defaults_to_this_one_and_check_is_offered_only_when_asked(prelude) -> None:
    assert prelude.arguments("doc", []).root == REPO
    assert prelude.arguments("doc", ["/elsewhere"]).root == Path("/elsewhere")
    assert prelude.arguments("doc", ["--check"], check=True).check is True
    with pytest.raises(SystemExit):
        prelude.arguments("doc", ["--check"])


def test_a_file_is_rewritten_only_when_it_differs(prelude, tmp_path: Path, capsys) -> None:
    path = tmp_path / "doc.md"
    assert prelude.rewrite(path, "new\n") is True and path.read_text() == "new\n"
    assert capsys.readouterr().out == f"rewrote {path}\n"
    assert prelude.rewrite(path, "new\n") is False and capsys.readouterr().out == ""
    assert prelude.rewrite(path, "newer\n", check=True, differs="is stale: run it") is True
    assert path.read_text() == "new\n" and capsys.readouterr().out == f"{path} is stale: run it\n"


SCRIPTS = ("update_board_budget.py", "update_shell_commands.py", "update_matrix_schema.py")
# What the scripts read and write of a checkout, copied: a test never writes this one.
COPIED = (
    "docs/boards.md", "docs/arm.md", "docs/cortex-m.md", "src/iree_matrix/schemas/matrix-1.schema.json",
    "results/armv6/results.jsonl", "results/cortex-m/results.jsonl",
)  # fmt: skip


@pytest.mark.parametrize("script", SCRIPTS)
def test_each_script_run_by_path_finds_a_copy_of_this_checkout_current(script: str, tmp_path: Path) -> None:
    """Run by path on a copy of this checkout's files, each rewrites nothing (the unit tests hold
    them current): the prelude is found beside the script, and REPO is the argument it rewrites."""
    for name in COPIED:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO / name, tmp_path / name)
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run(
        [sys.executable, str(REPO / "bin" / script), str(tmp_path)], capture_output=True, text=True, env=env
    )
    assert (done.returncode, done.stdout) == (0, ""), done.stdout + done.stderr
    assert all((tmp_path / n).read_bytes() == (REPO / n).read_bytes() for n in COPIED)


def test_a_stale_copy_is_rewritten_and_said(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    for name in ("docs/arm.md", "docs/cortex-m.md"):
        shutil.copyfile(REPO / name, tmp_path / name)
    stale = (REPO / "docs/arm.md").read_text().replace("$CMAKE -G Ninja", "$CMAKE -G Stale", 1)
    (tmp_path / "docs/arm.md").write_text(stale)
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run(
        [sys.executable, str(REPO / "bin" / "update_shell_commands.py"), str(tmp_path)],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (0, f"rewrote {tmp_path / 'docs/arm.md'}\n"), done.stderr
    assert (tmp_path / "docs/arm.md").read_text() == (REPO / "docs/arm.md").read_text()
