"""-v/-q and where words go (core/console.py): an answer on stdout at every verbosity; progress,
detail, warnings and errors on stderr, each shown from its verbosity on. The CLI runs in-process."""

from __future__ import annotations

import io
import logging
import sys
import warnings

import pytest

from iree_matrix import cli
from iree_matrix.core import console
from iree_matrix.core.model.results import Record, Status
from iree_matrix.core.system import processes
from iree_matrix.core.system.process_request import ProcessRequest
from iree_matrix.execution.progress import Steps
from tests.unit import source_tree


@pytest.fixture(autouse=True)
def _default_verbosity(tmp_path, monkeypatch):
    """Each test leaves the default verbosity behind (cli.main sets it for the whole process)."""
    monkeypatch.setenv("IREE_MATRIX_CACHE", str(tmp_path / "cache"))
    yield
    console.configure(0)


def _results_with_a_bad_line(where) -> None:
    """A results log `show` can answer from, with a line that is not JSON (a warning on reading)."""
    where.mkdir()
    cell = "m/e/iree3.9.0/x86_64/default"
    record = Record(f"compile:{cell}", "compile", cell, "k", Status.FAIL, {"model": "m"},
                    error_class="compile-error", message="error: boom")  # fmt: skip
    (where / "results.jsonl").write_text("not json\n" + record.to_json() + "\n")


def _show(tmp_path, capsys, *flags: str, after: tuple[str, ...] = ()) -> tuple[str, str]:
    where = tmp_path / f"run{len(list(tmp_path.iterdir()))}"  # a new file: its warning is said again
    _results_with_a_bad_line(where)
    argv = [*flags, "show", "compile:m/*", "--results-dir", str(where), *after]
    assert cli.main(argv) == 0
    return capsys.readouterr()


@pytest.mark.parametrize(
    "flags, after, warned",
    [
        ((), (), True),
        (("-q",), (), True),
        (("-qq",), (), False),
        ((), ("-qq",), False),
        (("-q",), ("-q",), False),
    ],
)
def test_the_answer_is_on_stdout_and_a_warning_on_stderr_unless_quieter(
    tmp_path, capsys, flags, after, warned
):
    out, err = _show(tmp_path, capsys, *flags, after=after)
    assert "status: fail (compile-error)" in out and "error: boom" in out  # the answer, at every verbosity
    assert "not JSON" not in out and "warning" not in out
    assert ("results.jsonl:1: not JSON, skipped" in err) is warned, err
    if warned:
        assert err.startswith("warning: ") and err.count("\n") == 1, err


def test_v_and_q_count_before_and_after_the_command(tmp_path, capsys):
    _show(tmp_path, capsys, "-v", after=("-v",))
    assert logging.getLogger(console.LOGGER).level == logging.DEBUG
    _show(tmp_path, capsys, "-v", after=("-qq",))  # 1 - 2: warnings and errors only
    assert logging.getLogger(console.LOGGER).level == logging.WARNING
    _show(tmp_path, capsys, after=("--quiet",))
    assert not console.shows() and console.shows(logging.WARNING)


def test_an_error_is_one_line_on_stderr_even_at_qq(tmp_path, capsys):
    assert cli.main(["-qq", "show", "nothing*", "--results-dir", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("iree-matrix: error: ") and err.count("\n") == 1, err


@pytest.mark.parametrize("verbosity, shown", [(-1, False), (0, True), (1, True)])
def test_progress_lines_go_to_stderr_and_q_hides_them(capsys, verbosity, shown):
    console.configure(verbosity)
    steps = Steps([1.0, 1.0])
    steps.finished("first: no difference")
    out, err = capsys.readouterr()
    assert out == ""
    assert ("[1/2 " in err and "] first: no difference" in err) is shown, err


def test_progress_given_a_stream_writes_there_whatever_the_verbosity(capsys):
    console.configure(-2)
    into = io.StringIO()
    Steps([1.0], out=into).finished("one")
    assert "] one" in into.getvalue() and capsys.readouterr() == ("", "")


@pytest.mark.parametrize("verbosity", [0, 1])
def test_v_shows_the_commands_run_and_what_was_reused(tmp_path, capsys, verbosity):
    console.configure(verbosity)
    processes.run(ProcessRequest([sys.executable, "-c", "print('from the child')"], timeout=60))
    log = tmp_path / "compile--m" / "started.log"
    log.parent.mkdir()
    processes.note(log, "[venv] reusing /envs/x (the same pins)")
    out, err = capsys.readouterr()
    said = f"$ {sys.executable} -c "
    assert (said in err) is (verbosity == 1), err
    assert ("compile--m: [venv] reusing /envs/x (the same pins)" in err) is (verbosity == 1), err
    assert said not in out and "reusing" not in out
    assert log.read_text() == "[venv] reusing /envs/x (the same pins)\n"  # the job log, always


@pytest.mark.parametrize("verbosity, shown", [(-1, False), (0, False), (1, True), (2, True)])
def test_python_warnings_are_logged_and_shown_from_v_on(capsys, verbosity, shown):
    console.configure(verbosity)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        console.configure(verbosity)  # inside: catch_warnings restores showwarning when it ends
        warnings.warn("a library's complaint", UserWarning, stacklevel=1)
    out, err = capsys.readouterr()
    assert out == ""
    assert ("UserWarning: a library's complaint" in err) is shown, err
    if shown:
        assert "warning: " in err


def test_other_libraries_logs_only_from_v_and_their_debug_from_vv(capsys):
    theirs = logging.getLogger("matplotlib.font_manager")
    for verbosity, warning_shown, debug_shown in [(0, False, False), (1, True, False), (2, True, True)]:
        console.configure(verbosity)
        theirs.warning("findfont: Font family 'x' not found.")
        theirs.debug("font cache rebuilt")
        err = capsys.readouterr().err
        assert ("findfont" in err) is warning_shown, (verbosity, err)
        assert ("font cache rebuilt" in err) is debug_shown, (verbosity, err)
        if debug_shown:
            assert "[matplotlib.font_manager] " in err  # -vv names each line's logger


def test_configure_twice_keeps_one_handler():
    console.configure(0)
    console.configure(1)
    ours = logging.getLogger(console.LOGGER)
    assert [h.get_name() for h in ours.handlers].count(console.LOGGER) == 1
    assert [h.get_name() for h in logging.getLogger().handlers].count(console.LOGGER) == 1


def _two_releases_timed(where) -> None:
    """A results log `compare 3.12.0 3.13.0` reads: one function timed natively by each release."""
    from iree_matrix.core.model import host_identity
    from iree_matrix.core.model.results import ResultsLog

    log = ResultsLog(where / "results.jsonl")
    for release in ("3.12.0", "3.13.0"):
        labels = {
            "model": "alpha",
            "exporter": "e",
            "compiler": release,
            "runtime": release,
            "profile": "default",
        }
        job = f"run:alpha/e/iree{release}/x86_64/default"
        metrics = {"timing": "native", "latency_median": 2.0}
        log.append(Record(job=job, stage="run", cell=job[4:], status=Status.OK, key="k", labels=labels,
                          metrics=metrics, host=host_identity.here()))  # fmt: skip


@pytest.mark.parametrize("flags", [(), ("-q",), ("-v",)])
def test_compare_with_q_prints_its_table_and_says_nothing_else(tmp_path, monkeypatch, capsys, flags):
    """A long command end to end: its cost line and progress (stderr) go with -q, its table stays."""
    from iree_matrix.core.model import stats
    from iree_matrix.execution import abtest

    _two_releases_timed(tmp_path)
    monkeypatch.setenv("IREE_MATRIX_QUIET_LOCK", str(tmp_path / "quiet.lock"))
    monkeypatch.setattr(abtest, "arm_of", lambda record, name, caches: abtest.Arm(name, (), tmp_path))
    same = abtest.Comparison("a", "b", (1.0,) * 6, (1.0,) * 6, stats.paired([1.0] * 6, [1.0] * 6))
    monkeypatch.setattr(abtest, "compare", lambda a, b, rounds, repetitions: same)
    argv = [*flags, "compare", "3.12.0", "3.13.0", "--results-dir", str(tmp_path), "--rounds", "6"]
    assert cli.main(argv) == 0
    out, err = capsys.readouterr()
    assert "| alpha" in out and "3.13.0 against 3.12.0 on " in out and "ETA" not in out
    if flags == ("-q",):
        assert err == ""
    else:
        assert err.startswith("compare 3.12.0 3.13.0: 1 function(s) x 6 paired rounds") and "[1/1 " in err


def test_below_the_commands_nothing_prints_to_stdout_but_a_programs_own_main():
    """Answers are the commands' to print (commands/); a module below them logs instead, so `-q` and
    a redirected stdout mean what they say. Allowed: a module's own command line (`def main`, e.g.
    `python -m iree_matrix.execution.distributed resources`) and a print to a stream its caller gave
    (`file=`). The runner a bundle carries (bundle_runner/) is a program of its own, run as run.py
    where iree-matrix is not: its prints are its user interface."""
    import ast
    from pathlib import Path

    package = Path(console.__file__).resolve().parents[1]
    found = []
    for path in sorted(package.rglob("*.py")):
        if path.relative_to(package).parts[0] in ("commands", "bundle_runner"):
            continue
        tree = source_tree.tree(path)
        allowed = {
            id(call)
            for fn in ast.walk(tree)
            if isinstance(fn, ast.FunctionDef) and fn.name == "main"
            for call in ast.walk(fn)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
                if id(node) not in allowed and not any(k.arg == "file" for k in node.keywords):
                    found.append(f"{path.relative_to(package)}:{node.lineno}")
    assert found == [], f"print() below commands/ (log it: console.logger(__name__)): {found}"
