"""`--model` (issue #69 item 4): the named models only, into a results folder named for them. Planned
with `--list` in-process (the offline index fixture holds there): a whole plan of the default matrix
file is parsed, seconds of CPU on 2 cores."""

from __future__ import annotations

from pathlib import Path

import pytest

from iree_matrix import cli
from iree_matrix.commands import options

USER_MODEL = """\
import torch
from models.api import ModelSpec


def build(seed=0):
    return ModelSpec(torch.nn.Linear(4, 4), (torch.randn(1, 4),), atol=1e-5, rtol=1e-4)
"""


def _planned(out: str) -> tuple[set[str], list[str]]:
    """(the models of the jobs `--list` printed, its settings lines)."""
    lines = out.splitlines()
    end = next(i for i, line in enumerate(lines) if i > 1 and not line.startswith("  "))
    jobs = [line.strip() for line in lines[2:end]]
    models = {job.split(":", 1)[1].split("/", 1)[0] for job in jobs if not job.startswith("install:")}
    at = next(i for i, line in enumerate(lines) if line.startswith("settings"))
    return models, lines[at + 1 :]


@pytest.mark.heavy
def test_model_runs_the_named_models_only_into_a_folder_named_for_them(tmp_path, monkeypatch, capsys):
    """The default file's [[include]] (tiny_cnn through 3.11.0, its window's edge) once added tiny_cnn
    to `--model my_net`, and the run wrote runs/default, the file's own run's folder."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my_net.py").write_text(USER_MODEL)
    assert cli.main(["matrix", "--model", "my_net.py:build", "--list"]) == 0
    models, settings = _planned(capsys.readouterr().out)
    assert models == {"my_net"}
    assert "  results = runs/default-my_net (from --model: runs/<matrix file name>-<models>)" in settings
    assert not Path("runs/default").exists()

    # A model the file's [[include]] names, given too: its cells of that rule come with it.
    assert cli.main(["matrix", "--model", "my_net.py:build", "--model", "tiny_cnn", "--list"]) == 0
    models, settings = _planned(capsys.readouterr().out)
    assert models == {"my_net", "tiny_cnn"}
    assert any("results = runs/default-my_net+tiny_cnn " in line for line in settings)


@pytest.mark.heavy
def test_a_users_matrix_file_keeps_the_cells_its_includes_name(tmp_path, monkeypatch, capsys):
    """Under `--model`, a file the user wrote adds what its [[include]] tables name, as written."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my_net.py").write_text(USER_MODEL)
    mine = tmp_path / "mine.toml"
    mine.write_text(
        'python = ["3.11"]\ntorch = ["2.13.0"]\nturbine = ["3.9.0"]\ncompiler = ["3.13.0"]\n'
        'models = ["mobilenet_v2"]\n\n[[include]]\nmodels = ["tiny_cnn"]\ncompiler = ["3.12.0"]\n'
    )
    assert cli.main(["matrix", "--matrix", str(mine), "--model", "my_net.py:build", "--list"]) == 0
    models, settings = _planned(capsys.readouterr().out)
    assert models == {"my_net", "tiny_cnn"}  # not the file's models axis (mobilenet_v2)
    assert "  results = runs/mine-my_net (from --model: runs/<matrix file name>-<models>)" in settings
    # --results-dir still wins.
    args = cli._parser().parse_args(["matrix", "--model", "tiny_cnn", "--results-dir", "here"])
    assert options.plan_settings(args).results_dir == tmp_path / "here"


def test_many_models_make_a_short_folder_name():
    many = [f"path/to/family_{i}.py:make" for i in range(12)]
    part = options.models_part(many)
    assert part.startswith("family_0-make+family_1-make+") and part.endswith("-more")
    assert len(part) <= 60 and int(part.rsplit("+", 1)[1].split("-")[0]) == 12 - part.count("family_")
    assert options.models_part(["a.py:build", "a.py:build", "mobilenet_v2"]) == "a+mobilenet_v2"
