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


HEAD = 'python = "3.11"\ntorch = "2.13.0"\nturbine = "3.9.0"\ncompiler = "3.13.0"\nmodels = "tiny_cnn"\n'


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("IREE_MATRIX_CACHE", str(tmp_path / "cache"))


@pytest.mark.parametrize("key", ["dispatches", "op_timings", "roofline"])
@pytest.mark.parametrize(
    "glob", ["nosuch/default", "tiny_cnn.encoder/*", "tiny-cnn/default", "tiny_cnn/nosuch"]
)
def test_an_opt_in_glob_that_matches_no_function_is_refused(tmp_path, capsys, private_cache, key, glob):
    """`[benchmark] dispatches = ["nosuch/default"]` opted nothing in, without a word."""
    matrix = tmp_path / "m.toml"
    matrix.write_text(f'{HEAD}[benchmark]\n{key} = ["{glob}"]\n')
    assert cli.main(["matrix", "--matrix", str(matrix), "--list"]) == 2
    line = _one_line(capsys)
    assert f"benchmark.{key} = {glob!r}: matches no <function>/<profile> of this matrix" in line, line
    assert "(functions: tiny_cnn)" in line, line


@pytest.mark.parametrize("glob", ["*/default", "tiny_cnn/default", "tiny_*/*", "tiny_cnn/O3"])
def test_opt_in_globs_that_match_are_planned(tmp_path, capsys, private_cache, glob):
    """Any profile the file knows: `tune --profiles O3` runs the file's cells under another."""
    matrix = tmp_path / "m.toml"
    matrix.write_text(f'{HEAD}[benchmark]\ndispatches = ["{glob}"]\n')
    assert cli.main(["matrix", "--matrix", str(matrix), "--list"]) == 0, capsys.readouterr().err


def test_under_model_the_files_opt_ins_are_not_checked(tmp_path, capsys, private_cache):
    """--model replaces the models the file's globs were written for (as an [[exclude]] is not)."""
    matrix = tmp_path / "m.toml"
    matrix.write_text(f'{HEAD}[benchmark]\ndispatches = ["tiny_cnn/default"]\n')
    argv = ["matrix", "--matrix", str(matrix), "--list", "--model", "mobilenet_v2"]
    assert cli.main(argv) == 0, capsys.readouterr().err


def test_an_interpreter_the_matrix_names_that_is_none_is_said_when_another_is_taken(
    tmp_path, monkeypatch, caplog
):
    """`[interpreters] "3.12" = "/nowhere/python"` took the next Python 3.12 without a word."""
    from iree_matrix.matrix import interpreters

    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))
    monkeypatch.setenv("PATH", "")
    monkeypatch.setattr(interpreters, "_SAID", set())
    shim = tmp_path / "versions/3.12.1/bin/python3.12"
    shim.parent.mkdir(parents=True)
    shim.write_text("#!/bin/sh\n")
    assert interpreters.find("3.12", {"3.12": "/nowhere/python"}, ask={str(shim): "3.12"}.get) == str(shim)
    said = [r.getMessage() for r in caplog.records]
    assert any(
        "[interpreters] '3.12' = '/nowhere/python' is not a Python 3.12" in s and str(shim) in s for s in said
    ), said
    caplog.clear()
    interpreters.find("3.12", {"3.12": "/nowhere/python"}, ask={str(shim): "3.12"}.get)
    assert not caplog.records  # said once a run, though the plan's check and the backend both look
    assert interpreters.find("3.12", {"3.12": str(shim)}, ask={str(shim): "3.12"}.get) == str(shim)
    assert not caplog.records  # the one named, taken: nothing to say


def test_a_full_results_folder_is_not_told_to_move_the_cache(tmp_path):
    """A report that could not be written to a full results folder said "free some space (or point
    --cache at a bigger disk)": the cache was not what was full."""
    import errno
    import os

    from iree_matrix.core.atomic_files import storage_error

    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    line = str(storage_error(tmp_path / "runs", full, needed=5072, doing="cannot write COMPATIBILITY.md"))
    assert "point --cache at a bigger disk" not in line, line
    assert "--results-dir for results and documents, --cache for the cache" in line, line


def test_a_tools_disk_full_words_over_two_lines_are_said_in_one(tmp_path):
    """iree-compile 3.13.0 on a full 30 MB tmpfs cache said two lines; the error printed both, a second
    line with no `iree-matrix: error:` before it."""
    from iree_matrix.core.atomic_files import storage_error

    said = (
        "error opening input file: No space left on device\n"
        "LLVM ERROR: IO failure on output stream: No space left on device\n"
    )
    line = str(storage_error(tmp_path, said, doing="compile failed"))
    assert "\n" not in line, line
    assert "No space left on device; LLVM ERROR: IO failure on output stream" in line, line


def test_a_quiet_lock_that_is_a_directory_is_one_line_not_a_cells_failure(tmp_path, monkeypatch):
    """`IREE_MATRIX_QUIET_LOCK=DIR` was recorded as each timed cell's "os-error: [Errno 21] Is a
    directory"; the run (workflow.execute) and each sitting now refuse it first, in one line."""
    from iree_matrix.core.errors import UserError
    from iree_matrix.core.system import locks

    monkeypatch.setenv("IREE_MATRIX_QUIET_LOCK", str(tmp_path))
    with pytest.raises(UserError) as caught:
        locks.quiet_lock_path()
    line = str(caught.value)
    assert f"$IREE_MATRIX_QUIET_LOCK {tmp_path}: a directory, not a regular file" in line, line
    monkeypatch.setenv("IREE_MATRIX_QUIET_LOCK", str(tmp_path / "new" / "quiet.lock"))
    assert locks.quiet_lock_path() == tmp_path / "new" / "quiet.lock"  # made when first taken


@pytest.mark.parametrize("option", ["--results-dir", "--cache"])
@pytest.mark.parametrize("under", ["a file", "a dangling link"])
def test_a_directory_option_under_a_file_or_a_dangling_link_is_one_line(tmp_path, capsys, option, under):
    """`--results-dir FILE/sub`, `--cache FILE/sub` and a link to nothing were mkdir tracebacks
    (NotADirectoryError, FileExistsError) after the plan was printed, in matrix and in report."""
    blocker = tmp_path / "blocker"
    if under == "a file":
        blocker.write_text("")
        given, said = blocker / "sub", f"{blocker} is a file"
    else:
        blocker.symlink_to(tmp_path / "nowhere")
        given, said = blocker, f"{blocker} is a link to nothing ({tmp_path / 'nowhere'})"
    for command in (["matrix", "--matrix", "matrix/smoke.toml", "--list"], ["report"]):
        if option == "--cache" and command[0] == "report":
            continue
        assert cli.main([*command, option, str(given)]) == 2
        line = _one_line(capsys)
        assert f"argument {option}: {given}: {said}, so no directory can be made there" in line, line


def test_a_cache_variable_under_a_file_is_one_line_naming_the_variable(tmp_path, capsys, monkeypatch):
    """`IREE_MATRIX_CACHE=FILE/sub` was a mkdir traceback after the plan; `IREE_MATRIX_CACHE=FILE` was
    blamed on a `--cache` nobody gave."""
    (tmp_path / "afile").write_text("")
    for value, said in [(tmp_path / "afile" / "sub", f"{tmp_path / 'afile'} is a file"),
                        (tmp_path / "afile", "exists and is not a directory")]:  # fmt: skip
        monkeypatch.setenv("IREE_MATRIX_CACHE", str(value))
        assert cli.main(["matrix", "--matrix", "matrix/smoke.toml", "--list"]) == 2
        line = _one_line(capsys)
        assert line.startswith(f"iree-matrix: error: $IREE_MATRIX_CACHE {value}: {said}"), line


@pytest.mark.parametrize("command", [["cache", "prune", "logs"], ["cache"], ["doctor"]])
def test_the_cache_commands_check_the_cache_variable(tmp_path, capsys, monkeypatch, command):
    """`IREE_MATRIX_CACHE=FILE iree-matrix cache prune logs` was a FileExistsError traceback, and
    `iree-matrix cache` printed nothing wrong."""
    (tmp_path / "afile").write_text("kept\n")
    monkeypatch.setenv("IREE_MATRIX_CACHE", str(tmp_path / "afile"))
    assert cli.main(command) == 2
    line = _one_line(capsys)
    assert f"$IREE_MATRIX_CACHE {tmp_path / 'afile'}: exists and is not a directory" in line, line
    assert (tmp_path / "afile").read_text() == "kept\n"


@pytest.mark.parametrize(
    "argv, help_of",
    [
        (["query", "model", "tiny_cnn", "--cpu", "x"], "iree-matrix query model"),
        (["query", "model", "tiny_cnn", "extra"], "iree-matrix query model"),
        (["matrix", "--list", "--bogus"], "iree-matrix matrix"),
        (["results", "forget", "x*", "--results-dir", "runs/none", "--bogus"], "iree-matrix results"),
    ],
)
def test_an_unrecognized_option_points_at_its_commands_help(capsys, argv, help_of):
    """It pointed at `iree-matrix --help`, which lists no option of the command's."""
    assert cli.main(argv) == 2
    line = _one_line(capsys)
    assert line.startswith("iree-matrix: error: unrecognized arguments:"), line
    assert line.endswith(f"(`{help_of} --help` lists the options)"), line
