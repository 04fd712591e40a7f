"""A run's settings are made once from the command line (`options.plan_settings`), and each says
where its value came from: the command line (which option), the environment, the matrix file, or a
default. `-v` shows them on stderr before the plan or the run."""

from __future__ import annotations

import dataclasses
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
    assert given(parse(["search", "--rounds", "3"])) == {"descent_batches"}  # an old spelling gives it too
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
    assert said["cache"] == (str(tmp_path / "cache"), "environment IREE_MATRIX_CACHE")
    assert said["jobs"] == ("1", "--jobs") and said["backend"] == ("auto", "default")
    assert said["models"] == ("tiny_cnn", f"matrix file {matrix}")
    assert said["timeout of export"] == ("300 s", f"matrix file {matrix} [timeouts]")
    assert said["timeout of compile"] == ("100 s", "--timeout")  # the command line over the file
    assert said["timeout of run"] == ("50 s", "--timeout")


def test_a_commands_own_rewrite_is_said_as_its_own(tmp_path: Path) -> None:
    said = _settings(
        ["tune", "--matrix", str(SMOKE), "--list", "--profiles", "default,O3", "--model", "tiny_cnn"]
    )
    assert said["profiles"] == ("O3, default", "--profiles") and said["models"] == ("tiny_cnn", "--model")
    plain = options.plan_settings(cli._parser().parse_args(["matrix", "--matrix", str(SMOKE), "--list"]))
    searched = workflow.load_plan(plain.with_retime(["run:*"]))  # as the flag search measures batch 1
    assert ("retime", "run:*", "the command's own") in [
        (s.name, s.value, s.source) for s in searched.settings
    ]


def test_verbose_shows_the_settings_and_the_default_says_nothing(capsys) -> None:
    assert cli.main(["-v", "matrix", "--matrix", str(SMOKE), "--list"]) == 0
    err = capsys.readouterr().err
    assert "settings (where each came from):" in err and "  jobs: " in err and "(default: one per CPU" in err
    assert cli.main(["matrix", "--matrix", str(SMOKE), "--list"]) == 0
    assert capsys.readouterr().err == ""


def test_list_ends_with_each_setting_not_from_the_defaults(tmp_path: Path, capsys) -> None:
    matrix = tmp_path / "mine.toml"
    matrix.write_text(SMOKE.read_text() + "\n[timeouts]\nexport = 300\n")
    argv = [
        "matrix",
        "--matrix",
        str(matrix),
        "--list",
        "--timeout",
        "run=50",
        "--results-dir",
        str(tmp_path),
    ]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    head, _, said = out.partition("settings (those not the defaults, and where each came from):\n")
    assert head.startswith(f"{matrix}: ") and said, out  # the plan first, as before; then the settings
    lines = said.splitlines()
    assert f"  matrix = {matrix} (from --matrix)" in lines
    assert f"  cache = {tmp_path / 'cache'} (from environment IREE_MATRIX_CACHE)" in lines
    assert f"  timeout of export = 300 s (from matrix file {matrix} [timeouts])" in lines
    assert "  timeout of run = 50 s (from --timeout)" in lines
    assert not any(line.startswith(("  jobs", "  backend")) for line in lines)  # defaults: left out


def test_the_command_line_is_merged_before_one_parse(tmp_path: Path, monkeypatch) -> None:
    """No rewrite chain after the parse: the file with the command line over it is parsed once."""
    from iree_matrix.matrix import spec_file

    parsed = []
    real = spec_file.parse
    monkeypatch.setattr(spec_file, "parse", lambda *a, **k: parsed.append(a) or real(*a, **k))
    tree = tmp_path / "iree"
    (tree / "runtime").mkdir(parents=True)
    (tree / "CMakeLists.txt").write_text("")
    matrix = tmp_path / "src.toml"
    matrix.write_text(SMOKE.read_text().replace('runtime = "same"', 'runtime = ["same", "src:3.9.0"]', 1))
    argv = ["tune", "--matrix", str(matrix), "--list", "--timeout", "run=50", "--profiles", "O3"]
    settings = options.plan_settings(cli._parser().parse_args([*argv, "--iree-source", str(tree)]))
    said = {s.name: s for s in workflow.load_plan(settings).settings}
    assert len(parsed) == 1
    data = parsed[0][0]
    assert data["iree_source"] == {"*": str(tree.resolve())}
    # --timeout, checked where it was read, goes over the parsed limits (one step, not a chain)
    assert (said["timeout of run"].value, said["timeout of run"].source) == ("50 s", "--timeout")
    assert (said["IREE source of *"].value, said["IREE source of *"].source) == (
        str(tree.resolve()),
        "--iree-source",
    )
    assert said["profiles"].value == "O3" and said["profiles"].source == "--profiles"


def test_a_release_source_joins_the_files_and_the_environment_is_named(tmp_path: Path, monkeypatch) -> None:
    from iree_matrix.matrix.settings import Layered
    from iree_matrix.source_builds.cmake_runtime import SOURCE_ENV

    tree = tmp_path / "iree"
    (tree / "runtime").mkdir(parents=True)
    matrix = tmp_path / "m.toml"
    matrix.write_text('iree_source = "every.tar.xz"\n' + SMOKE.read_text())
    plain = workflow.PlanSettings(matrix=matrix, results_dir=tmp_path, cache=tmp_path)
    monkeypatch.setenv(SOURCE_ENV, f"3.9.0={tree}")
    layered = workflow.merged(Layered.read(matrix), plain)
    assert layered.data["iree_source"] == {"*": "every.tar.xz", "3.9.0": str(tree.resolve())}
    assert layered.origins.get("iree_source.3.9.0") == f"environment {SOURCE_ENV}"
    assert layered.origins.get("iree_source.*") is None  # the file's
    given = workflow.merged(Layered.read(matrix), dataclasses.replace(plain, iree_sources=(str(tree),)))
    assert given.data["iree_source"] == {"*": str(tree.resolve())}  # one source for every release
    assert given.origins.get("iree_source.*") == "--iree-source"


def test_a_bad_kernel_option_is_said_as_the_option_typed(tmp_path: Path) -> None:
    """`advise`/`matrix --kernel DIR` join the matrix file's `kernels`; a bad DIR is named as the
    option the user typed, not as the file's key (matrix/advise.toml: kernels: ...) it was not in."""
    from iree_matrix.core.errors import UserError
    from iree_matrix.matrix.settings import Layered

    plain = workflow.PlanSettings(
        matrix=SMOKE, results_dir=tmp_path, cache=tmp_path, kernels=(str(tmp_path),)
    )
    with pytest.raises(UserError) as said:
        workflow.merged(Layered.read(SMOKE), plain)
    missing = f"{tmp_path}/kernel.toml: no such file (a kernel directory holds a kernel.toml)"
    assert str(said.value) == f"--kernel {tmp_path}: {missing}"
    good = dataclasses.replace(plain, kernels=(str(ROOT / "kernels" / "depthwise3x3"),))
    assert workflow.merged(Layered.read(SMOKE), good).origins.get("kernels") == "--kernel"
