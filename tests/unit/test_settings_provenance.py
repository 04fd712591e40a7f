"""A run's settings are made once from the command line (`options.plan_settings`), and each says
where its value came from: the command line (which option), the environment, the matrix file, or a
default. `-v` shows them on stderr before the plan or the run."""

from __future__ import annotations

from pathlib import Path

import pytest

from iree_matrix import cli
from iree_matrix.commands import options
from iree_matrix.commands.option_types import given
from iree_matrix.execution import workflow

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "matrix" / "smoke.toml"


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("IREE_MATRIX_CACHE", str(tmp_path / "cache"))


def test_the_command_line_says_which_options_it_gave_and_no_default_counts() -> None:
    parse = cli._parser().parse_args
    assert given(parse(["matrix"])) == frozenset()
    args = parse(
        ["-v", "matrix", "--jobs", "2", "--select", "a", "--select", "b", "--backend", "auto", "--list"]
    )
    assert given(args) == {"verbose", "jobs", "select", "backend", "list"}  # `auto` is the default, but given
    assert given(parse(["search", "--rounds", "3"])) == {"descent_rounds"}  # an old spelling gives it too
    assert given(parse(["query", "model", "x", "--arch", "y"])) == {"name", "arch"}


def _settings(argv: list[str]) -> dict[str, tuple[str, str]]:
    loaded = workflow.load_plan(options.plan_settings(cli._parser().parse_args(argv)))
    return {s.name: (s.value, s.source) for s in loaded.settings}


def test_each_setting_says_where_it_came_from(tmp_path: Path) -> None:
    matrix = tmp_path / "mine.toml"
    matrix.write_text(SMOKE.read_text() + "\n[timeouts]\nexport = 300\ncompile = 200\n")
    said = _settings(
        ["matrix", "--matrix", str(matrix), "--list", "--timeout", "compile=100,run=50", "--jobs", "1"]
    )
    assert said["matrix"] == (str(matrix), "--matrix")
    assert said["results"] == (str(Path("runs") / "mine"), "default")
    assert said["cache"] == (str(tmp_path / "cache"), "$IREE_MATRIX_CACHE")
    assert said["jobs"] == ("1", "--jobs") and said["backend"] == ("auto", "default")
    assert said["models"] == ("tiny_cnn", "the matrix file")
    assert said["timeout of export"] == ("300 s", "the matrix file's [timeouts]")
    assert said["timeout of compile"] == ("100 s", "--timeout")  # the command line over the file
    assert said["timeout of run"] == ("50 s", "--timeout")


def test_a_commands_own_rewrite_is_said_as_its_own(tmp_path: Path) -> None:
    said = _settings(
        ["tune", "--matrix", str(SMOKE), "--list", "--profiles", "default,O3", "--model", "tiny_cnn"]
    )
    assert said["profiles"] == ("O3, default", "--profiles") and said["models"] == ("tiny_cnn", "--model")
    plain = options.plan_settings(cli._parser().parse_args(["matrix", "--matrix", str(SMOKE), "--list"]))
    searched = workflow.load_plan(plain.with_retime(["run:*"]))  # as the flag search measures round 1
    assert ("retime", "run:*", "the command's own") in [
        (s.name, s.value, s.source) for s in searched.settings
    ]


def test_verbose_shows_the_settings_and_the_default_says_nothing(capsys) -> None:
    assert cli.main(["-v", "matrix", "--matrix", str(SMOKE), "--list"]) == 0
    err = capsys.readouterr().err
    assert "settings (where each came from):" in err and "  jobs: " in err and "(default: one per CPU" in err
    assert cli.main(["matrix", "--matrix", str(SMOKE), "--list"]) == 0
    assert capsys.readouterr().err == ""
