"""Printed commands run as printed (issue 95 item 4): every command the tool prints starts with the
invocation the user ran (the bare `iree-matrix` only where the PATH's runs this very tool, else the
running entry point's absolute path), keeps the run's own settings and no stale ones, and a kernel's
build line names the kernel's folder absolutely."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from iree_matrix.core import pasted, shipped
from iree_matrix.kernel.findings import kernel_trials
from iree_matrix.matrix import export_recipes
from iree_matrix.report import machine
from tests.unit.test_machine import _records


def _launcher(folder: Path) -> Path:
    folder.mkdir(parents=True)
    launcher = folder / "iree-matrix"
    launcher.write_text("#!/bin/sh\n")
    launcher.chmod(0o755)
    return launcher


@pytest.fixture
def ran_by(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """The tool as run by a launcher (relative, from the working directory), its venv not active."""
    launcher = _launcher(tmp_path / "venv" / "bin")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["venv/bin/iree-matrix", "matrix"])
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("PATH", "/usr/bin")
    return launcher


def test_the_entry_point_run_is_printed_absolutely_where_the_path_has_no_iree_matrix(ran_by, tmp_path):
    assert shipped.command() == str(ran_by)  # absolute: it runs from any directory
    other = _launcher(tmp_path / "other" / "bin")  # another install's first on the PATH: not this tool
    import os

    os.environ["PATH"] = f"{other.parent}:/usr/bin"
    assert shipped.command() == str(ran_by)
    os.environ["PATH"] = f"{ran_by.parent}:/usr/bin"
    assert shipped.command() == "iree-matrix"


def test_python_m_without_a_launcher_prints_the_interpreter(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", [str(tmp_path / "src" / "iree_matrix" / "__main__.py")])
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "no-venv"))
    assert shipped.command() == f"{Path(sys.executable).absolute()} -m iree_matrix"


def test_every_printed_command_starts_with_the_invocation_and_keeps_the_runs_settings(ran_by, tmp_path):
    """`run it:`, `search-recipes` and `show` lines (all by `Where.line`) as `advise`'s already were."""
    here = pasted.Where(Path("lab.toml"), Path("runs/lab"), None)
    advise, matrix = export_recipes.commands("tiny_cnn", "fx+decompose", here)
    assert advise == f"{ran_by} advise 'tiny_cnn~fx+decompose' --matrix lab.toml --results-dir runs/lab"
    assert matrix.startswith(f"{ran_by} matrix --model 'tiny_cnn~fx+decompose' --matrix lab.toml")
    assert f"`{ran_by} search-recipes --model m.py:build --matrix lab.toml" in export_recipes.search_offer(
        "m.py:build", here
    )
    assert pasted.HERE.line("iree-matrix show JOB") == f"{ran_by} show JOB"
    said = "what to do: `iree-matrix bisect 'run:x'` (or iree-matrix advise m); /opt/bin/iree-matrix advise m"
    assert pasted.invoked_in(said) == (
        f"what to do: `{ran_by} bisect 'run:x'` (or {ran_by} advise m); /opt/bin/iree-matrix advise m"
    )
    assert pasted.invoked("iree-matrix-like thing") == "iree-matrix-like thing"


def test_advise_lines_only_for_the_models_this_run_ran():
    """A folder's earlier run of another matrix's model got this run's `--matrix` (stale): only the
    models this run ran are suggested with its settings."""
    here = pasted.Where(Path("lab.toml"), Path("runs/lab"), None)
    lines = machine.console_lines(_records(), "r", tool="iree-matrix", where=here, ran={"tiny_cnn"})
    advised = [line.strip() for line in lines if " advise " in line]
    assert advised == ["iree-matrix advise tiny_cnn --matrix lab.toml --results-dir runs/lab"]


def test_a_kernels_build_line_names_its_folder_absolutely(tmp_path, monkeypatch):
    (tmp_path / "kernels" / "dw").mkdir(parents=True)
    build = "(cd kernels/dw && python -m ziglang cc -c dw.c -o dw.o)"
    flags = "iree-compile --iree-codegen-transform-dialect-library=kernels/dw/spec.mlir model.mlir"
    monkeypatch.chdir(tmp_path)
    absolute = str((tmp_path / "kernels" / "dw").resolve())
    assert (
        kernel_trials.placed(build, "kernels/dw")
        == f"(cd {absolute} && python -m ziglang cc -c dw.c -o dw.o)"
    )
    assert kernel_trials.placed(flags, "kernels/dw").endswith(f"={absolute}/spec.mlir model.mlir")
    # the checkout's own kernel, from a directory outside it
    monkeypatch.chdir(tmp_path / "kernels")
    checkout = shipped.scripts_dir().parent / "kernels" / "depthwise3x3"
    assert kernel_trials.placed("(cd kernels/depthwise3x3 && cc)", "kernels/depthwise3x3") == (
        f"(cd {checkout.resolve()} && cc)"
    )
    assert kernel_trials.placed(build, "kernels/absent") == build  # nowhere here: as kept
