"""Unit tests for the command line: user errors become one line and exit code 2, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iree_matrix import cli
from iree_matrix.commands import options
from iree_matrix.envs.cache_usage import default_cache
from iree_matrix.execution import workflow

MATRIX_DIR = Path(__file__).resolve().parents[2] / "matrix"
SMOKE = MATRIX_DIR / "smoke.toml"


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    """Whatever a test does, it never touches the user's ~/.cache."""
    monkeypatch.setenv("IREE_MATRIX_CACHE", str(tmp_path / "cache"))


def _one_error_line(err: str) -> str:
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("iree-matrix: error: ")
    return lines[0]


def test_bad_matrix_file(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'python = "3.11"\ntorch = "2.13.0"\nturbine = "3.9.0"\ncompiler = "3.9.x"\nmodels = "tiny_cnn"\n'
    )
    assert cli.main(["matrix", "--matrix", str(bad), "--list"]) == 2
    out, err = capsys.readouterr()
    line = _one_error_line(err)
    assert str(bad) in line
    assert "compiler = '3.9.x'" in line
    assert out == ""


def test_missing_matrix_file(tmp_path, capsys):
    missing = tmp_path / "missing.toml"
    assert cli.main(["matrix", "--matrix", str(missing)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert f"{missing}: no such matrix file" in line


def test_invalid_toml_matrix(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("python = [\n")
    assert cli.main(["matrix", "--matrix", str(bad), "--list"]) == 2
    assert "not valid TOML" in _one_error_line(capsys.readouterr().err)


def test_list_prints_the_plan(capsys):
    assert cli.main(["matrix", "--matrix", str(SMOKE), "--list"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    assert lines[0] == f"{SMOKE}: 4 cells"
    assert lines[1] == "12 jobs: 5 install, 1 export, 2 compile, 4 run"
    assert "  install:py3.11-torch2.13.0-turbine3.9.0" in lines
    assert "  compile:tiny_cnn/py3.11-torch2.13.0-turbine3.9.0/iree3.9.0/x86_64/default" in lines
    assert "  run:tiny_cnn/py3.11-torch2.13.0-turbine3.9.0/iree3.9.0/x86_64/default/rt3.13.0" in lines
    assert lines[2 + 12].startswith(
        "settings (those not the defaults"
    )  # after the plan, where each came from


def test_list_with_select(capsys):
    argv = ["matrix", "--matrix", str(SMOKE), "--list", "--select", "*iree3.13.0*/rt3.9.0"]
    assert cli.main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "6 jobs: 3 install, 1 export, 1 compile, 1 run"
    assert (
        lines[2 + 6 - 1] == "  run:tiny_cnn/py3.11-torch2.13.0-turbine3.9.0/iree3.13.0/x86_64/default/rt3.9.0"
    )
    assert lines[-1] == "  select = *iree3.13.0*/rt3.9.0 (from --select)"


def test_select_without_match(capsys):
    assert cli.main(["matrix", "--matrix", str(SMOKE), "--list", "--select", "nothing*"]) == 2
    out, err = capsys.readouterr()
    assert "'nothing*'" in _one_error_line(err)
    assert out == ""


def test_select_without_match_when_running(capsys):
    assert cli.main(["matrix", "--matrix", str(SMOKE), "--select", "nothing*"]) == 2
    assert "matches no job" in _one_error_line(capsys.readouterr().err)


@pytest.mark.parametrize("jobs", ["0", "-3"])
def test_jobs_must_be_positive(capsys, jobs):
    assert cli.main(["matrix", "--matrix", str(SMOKE), "--jobs", jobs]) == 2
    assert f"--jobs {jobs}: expected 1 or more" in _one_error_line(capsys.readouterr().err)


def test_report_without_results(tmp_path, capsys):
    assert cli.main(["report", "--results-dir", str(tmp_path)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "no results yet" in line
    assert str(tmp_path / "results.jsonl") in line
    assert not (tmp_path / "COMPATIBILITY.md").exists()


def test_default_cache_honours_the_environment(tmp_path, monkeypatch):
    assert default_cache() == tmp_path / "cache"
    monkeypatch.delenv("IREE_MATRIX_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache() == tmp_path / "xdg" / "iree-matrix"


def test_verb_is_required(capsys):
    assert cli.main([]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.splitlines()) == 1, err


def test_help_and_version_still_exit_0(capsys):
    assert cli.main(["--version"]) == 0
    assert cli.main(["matrix", "--help"]) == 0
    assert "--retime" in capsys.readouterr().out


def test_retime_without_a_matching_timed_job(capsys):
    # compile jobs are not timed: re-measuring them means nothing, so the glob is refused.
    assert cli.main(["matrix", "--matrix", str(SMOKE), "--list", "--retime", "compile:*"]) == 2
    assert "--retime 'compile:*' matches no timed job" in _one_error_line(capsys.readouterr().err)
    assert cli.main(["matrix", "--matrix", str(SMOKE), "--list", "--retime", "run:*"]) == 0


# --- runs apart from the published results (issue #18) ------------------------------------------


def test_a_run_defaults_to_its_own_directory_never_the_published_one(monkeypatch):
    assert options.default_results_dir(None, SMOKE) == Path("runs") / "smoke"
    args = cli._parser().parse_args(["matrix", "--matrix", str(SMOKE), "--list"])
    settings = options.plan_settings(args)
    loaded = workflow.load_plan(settings)
    assert loaded.results_dir == settings.results_dir == Path("runs") / "smoke"
    assert args.results_dir is None  # the command line's settings are made once, never written back
    # Without --matrix, the command's own matrix file names it.
    default = options.plan_settings(cli._parser().parse_args(["search", "--list"]))
    assert default.results_dir == Path("runs") / "search" and default.matrix.name == "search.toml"


def _record_line(job: str, status: str = "ok") -> str:
    from iree_matrix.core.model.results import Record, Status

    return Record(job, job.split(":")[0], job.split(":", 1)[1], "k", Status(status), {"model": "m"}).to_json()


def test_publish_copies_the_run_and_renders_it(tmp_path, capsys, no_published):
    run, published = tmp_path / "runs" / "x", tmp_path / "results"
    (run / "manifests").mkdir(parents=True)
    (run / "results.jsonl").write_text(_record_line("export:m/e") + "\n")
    (run / "releases.json").write_text('{"schema": 1, "packages": {}}\n')
    (run / "manifests" / "env.json").write_text("{}")
    assert cli.main(["publish", str(run), "--to", str(published)]) == 0
    assert (published / "results.jsonl").read_text() == (run / "results.jsonl").read_text()
    assert (published / "releases.json").is_file() and (published / "manifests" / "env.json").is_file()
    assert "# IREE compatibility matrix" in (published / "COMPATIBILITY.md").read_text()


def test_publish_carries_a_flag_searchs_walks_and_renders_them(tmp_path, capsys, no_published):
    run, published = tmp_path / "runs" / "search", tmp_path / "results"
    run.mkdir(parents=True)
    (run / "results.jsonl").write_text(_record_line("export:m/e") + "\n")
    walk = {"unit": "m", "compiler": "3.9.0", "path": "default → data-tiling", "result": "data-tiling",
            "spent": 3, "stopped": "budget spent", "pruned": []}  # fmt: skip
    (run / "search.json").write_text(json.dumps({"budget": {"budget": 3}, "descents": [walk]}))
    assert cli.main(["publish", str(run), "--to", str(published)]) == 0
    assert (published / "search.json").read_text() == (run / "search.json").read_text()
    from iree_matrix.findings import results_folder
    from iree_matrix.report.documents import has_performance

    # So publish renders PERFORMANCE.md's search section from them.
    assert has_performance(results_folder.load(published))


def test_publish_of_nothing_is_a_one_line_error(tmp_path, capsys):
    assert cli.main(["publish", str(tmp_path / "nowhere"), "--to", str(tmp_path / "results")]) == 2
    assert "no such results file" in _one_error_line(capsys.readouterr().err)


def test_results_forget_removes_cells_and_keeps_a_backup(tmp_path, capsys, no_published):
    log = tmp_path / "results.jsonl"
    lines = [_record_line("install:py3.11-iree-compiler3.99.0", "fail"), _record_line("export:m/e")]
    log.write_text("\n".join(lines) + "\n")
    argv = ["results", "forget", "*3.99.0*", "--results-dir", str(tmp_path)]
    assert cli.main(argv) == 0
    assert log.read_text() == lines[1] + "\n"
    assert (tmp_path / "results.jsonl.bak").read_text().count("\n") == 2
    assert cli.main(argv) == 2  # nothing left to forget: said, not silently done
    assert "no record matches" in _one_error_line(capsys.readouterr().err)


def test_forgetting_every_record_says_how_many_and_exits_0(tmp_path, capsys):
    """`results forget '*'` emptied the log, then said "no results yet" and exited 2."""
    log = tmp_path / "results.jsonl"
    log.write_text(
        _record_line("install:py3.11-iree-compiler3.99.0") + "\n" + _record_line("export:m/e") + "\n"
    )
    assert cli.main(["results", "forget", "*", "nothing-like-this", "--results-dir", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert f"{log}: removed 2 records, kept 0 (the previous file is results.jsonl.bak); matched nothing: " \
        "'nothing-like-this'\n" in out  # fmt: skip
    assert f"{log} is empty now" in out and err == ""
    assert log.read_text() == "" and (tmp_path / "results.jsonl.bak").read_text().count("\n") == 2
    assert cli.main(["results", "forget", "*", "--results-dir", str(tmp_path)]) == 2
    assert "no record matches '*'; nothing forgotten (0 records there)" in _one_error_line(
        capsys.readouterr().err
    )


def test_headline_puts_the_error_before_its_path(tmp_path):
    from iree_matrix.execution.progress import headline

    cache = tmp_path / "cache"
    message = (
        f"{cache}/store/export/cfbc8d97/model.mlir:525:12: error: 'linalg.generic' op inferred input/output "
        "operand #1 too small\nnote: see current operation"
    )
    assert headline(message, cache) == (
        "error: 'linalg.generic' op inferred input/output operand #1 too small "
        "(at <store>/export/cfbc8d97/model.mlir:525:12)"
    )


def test_headline_keeps_the_newest_versions_pip_lists():
    from iree_matrix.execution.progress import headline

    message = (
        "ERROR: Could not find a version that satisfies the requirement iree-base-runtime==3.7.1 "
        "(from versions: 2.9.0, 3.0.0, 3.1.0, 3.2.0, 3.3.0, 3.4.0, 3.5.0, 3.6.0, 3.7.0, 3.8.0, 3.9.0, "
        "3.10.0, 3.11.0, 3.12.0, 3.13.0)\nERROR: No matching distribution found for iree-base-runtime==3.7.1"
    )
    assert headline(message) == (
        "ERROR: Could not find a version that satisfies the requirement iree-base-runtime==3.7.1 "
        "(from versions: 2.9.0 … 3.10.0, 3.11.0, 3.12.0, 3.13.0)"
    )


def test_a_long_stage_gets_a_heartbeat():
    import io
    import time

    from iree_matrix.execution.progress import Progress
    from iree_matrix.matrix.plan import EnvSpec, Job

    out = io.StringIO()
    progress = Progress(1, out=out, heartbeat=0.05)
    job = Job(
        "compile", "yolox_nano/e/iree3.9.0/x86_64/default", (), {}, EnvSpec("compiler", "3.11", (), "c")
    )
    progress.started(job)
    time.sleep(0.2)
    progress.close()
    lines = out.getvalue().splitlines()
    assert lines[0].endswith("compile yolox_nano/e/iree3.9.0/x86_64/default ...")
    assert any("still running (0 min 00 s)" in line for line in lines[1:])


def test_list_shows_each_jobs_state_from_the_runs_log(tmp_path, capsys):
    (tmp_path / "results.jsonl").write_text(
        _record_line("install:py3.11-torch2.13.0-turbine3.9.0")
        + "\n"
        + _record_line("install:py3.11-iree-compiler3.13.0", "fail")
        + "\n"
    )
    argv = ["matrix", "--matrix", str(SMOKE), "--list", "--results-dir", str(tmp_path)]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "  install:py3.11-torch2.13.0-turbine3.9.0  [done]" in out
    assert "  install:py3.11-iree-compiler3.13.0  [failed]" in out
    assert "  run:tiny_cnn/py3.11-torch2.13.0-turbine3.9.0/iree3.9.0/x86_64/default  [pending]" in out
    assert "12 jobs: 5 install, 1 export, 2 compile, 4 run (1 failed, 10 pending, 1 done, from " in out


def test_show_prints_the_whole_message_and_where_the_logs_are(tmp_path, capsys):
    from iree_matrix.core.model.results import Record, Status
    from iree_matrix.execution.execute import job_log

    job = "compile:yolox/e/iree3.9.0/x86_64/default"
    words = "\n".join(f"line {i}: error: 'linalg.generic' op …" for i in range(40))  # longer than any table
    record = Record(job, "compile", job.split(":", 1)[1], "abc", Status.FAIL, {"model": "yolox"},
                    error_class="compile-error", message=words)  # fmt: skip
    (tmp_path / "results.jsonl").write_text(record.to_json() + "\n" + _record_line("run:yolox/e/x") + "\n")
    cache = tmp_path / "cache"
    job_log(cache, job).parent.mkdir(parents=True)
    job_log(cache, job).write_text("iree-compile …\nthe log\n")
    where = ["--results-dir", str(tmp_path), "--cache", str(cache)]
    assert cli.main(["show", "compile:yolox/*", "--log", *where]) == 0
    out = capsys.readouterr().out
    assert "status: fail (compile-error)" in out and "line 39: error" in out  # the whole message
    assert str(job_log(cache, job)) in out and out.rstrip().endswith("the log")
    assert cli.main(["show", "*yolox*", *where]) == 2  # two jobs match: say which
    assert "2 jobs matching" in _one_error_line(capsys.readouterr().err)


def test_show_finds_the_runs_own_cache_recorded_in_its_results_directory(tmp_path, capsys, monkeypatch):
    """Issue #39 item 5: a run on --cache elsewhere records it; `show --log` reads it back."""
    from iree_matrix.core.model.results import Record, Status
    from iree_matrix.execution.execute import job_log
    from iree_matrix.execution.workflow import recorded_cache, remember_cache

    monkeypatch.setenv("IREE_MATRIX_CACHE", str(tmp_path / "default-cache"))  # not where the run was
    job = "compile:yolox/e/iree3.9.0/x86_64/default"
    record = Record(job, "compile", job.split(":", 1)[1], "abc", Status.FAIL, {"model": "yolox"},
                    error_class="compile-error", message="error: x")  # fmt: skip
    (tmp_path / "results.jsonl").write_text(record.to_json() + "\n")
    cache = tmp_path / "elsewhere"
    job_log(cache, job).parent.mkdir(parents=True)
    job_log(cache, job).write_text("iree-compile …\nthe run's own log\n")
    assert recorded_cache(tmp_path) == (None, None)
    remember_cache(tmp_path, cache)
    assert recorded_cache(tmp_path) == (cache, cache / "store")
    assert cli.main(["show", job, "--log", "--results-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert str(job_log(cache, job)) in out and out.rstrip().endswith("the run's own log")


def test_a_users_run_goes_to_an_ignored_directory_never_the_published_one():
    """`iree-matrix matrix` without --results-dir writes runs/<matrix>/, which git ignores, so a
    newcomer's smoke run leaves `git status` clean and results/ byte-identical."""
    import subprocess

    repo = Path(__file__).resolve().parents[2]
    assert options.default_results_dir(None, SMOKE) == Path("runs") / "smoke"  # relative to where one runs it
    ignored = subprocess.run(
        ["git", "check-ignore", "runs/smoke/results.jsonl"], cwd=repo, capture_output=True, text=True
    )
    assert ignored.returncode == 0, "runs/ must be git-ignored"


def test_a_read_only_disk_anywhere_is_one_line_not_a_traceback(tmp_path, monkeypatch, capsys):
    """Issue 29: whatever write meets a read-only or full disk, the CLI says where in one line."""
    import errno

    from iree_matrix.commands import report as report_command

    def read_only(args):
        raise OSError(errno.EROFS, "Read-only file system", str(tmp_path / "out" / ".x.tmp"))

    monkeypatch.setattr(report_command, "main", read_only)
    assert cli.main(["report", "--results-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{tmp_path / 'out'}: " in err and "Read-only file system" in err and "writable" in err


def test_a_redefined_built_in_profile_is_said_in_the_plan_output(tmp_path, capsys):
    """Issue 29: [profile.default] silently replaced the built-in `default`."""
    matrix = tmp_path / "m.toml"
    matrix.write_text('python = "3.11"\ntorch = "2.13.0"\nturbine = "3.9.0"\ncompiler = "3.9.0"\n'
                      'models = "tiny_cnn"\n[profile.default]\ntarget_cpu = ""\n')  # fmt: skip
    assert cli.main(["matrix", "--matrix", str(matrix), "--list", "--results-dir", str(tmp_path / "r")]) == 0
    out, err = capsys.readouterr()  # a warning: on stderr, the plan (the answer) on stdout
    assert "warning: " in err and "redefines the built-in profile 'default' ([profile.default])" in err
    assert "redefines" not in out and f"{matrix}: 1 cells" in out


def test_every_command_module_is_registered_and_has_the_four_names():
    """A module in commands/ that cli.COMMANDS does not name would be a command nobody can run."""
    import argparse

    from iree_matrix import commands

    package = Path(commands.__file__).parent
    # What commands share, and advise's proof (its own module to keep advise's functions short).
    shared = {"__init__", "base", "options", "option_types"}
    folders = (package, package.parent / "kernel" / "commands")  # the kernel's, kept with the kernel
    modules = sorted(p.stem for folder in folders for p in folder.glob("*.py") if p.stem not in shared)
    assert sorted(cli.COMMANDS) == modules
    names = []
    for command in cli.commands():
        assert isinstance(command.NAME, str) and isinstance(command.HELP, str)
        assert callable(command.add_arguments) and callable(command.main)
        command.add_arguments(argparse.ArgumentParser())
        names.append(command.NAME)
    assert len(set(names)) == len(names)


def test_a_failed_cell_exits_0_unless_strict_and_the_summary_names_it(
    tmp_path, monkeypatch, capsys, no_published
):
    """A run's exit policy (tasks/runs.py): a failure is a recorded result; --strict exits 1."""
    from iree_matrix.core.model.results import Record, ResultsLog, Status
    from iree_matrix.envs import backends
    from iree_matrix.execution import execute, summary

    class Ran:
        def __init__(self, matrix, the_plan, *, cache, results, backend, options):
            self.results, self.options = results, options

        def run(self) -> summary.Summary:
            failed = Record("compile:m/x", "compile", "m/x", "k", Status.FAIL, {"model": "m"}, message="boom")
            self.results.append(failed)
            return summary.Summary(records={failed.job: failed}, seconds=1.0)

    monkeypatch.setattr(backends, "choose", lambda backend, jobs=(), named=None: ("venv", "asked for"))
    monkeypatch.setitem(backends.BACKENDS, "venv", lambda cache, matrix: None)
    monkeypatch.setattr(execute, "Executor", Ran)
    # Nothing runs (the executor is a fake), so whether bubblewrap can make a sandbox here is beside
    # the point: on a machine where it cannot, the plan's sandbox check would stop the run first.
    from iree_matrix.core.system import bubblewrap

    monkeypatch.setattr(bubblewrap, "problem", lambda: None)
    argv = ["matrix", "--matrix", str(SMOKE), "--select", "compile:*", "--results-dir", str(tmp_path / "r")]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "fail     compile:m/x" in out and "exit 0 (pass --strict to exit 1)" in out
    assert [r.job for r in ResultsLog(tmp_path / "r" / "results.jsonl")] == ["compile:m/x"]
    assert (tmp_path / "r" / "COMPATIBILITY.md").is_file()
    assert cli.main([*argv, "--strict"]) == 1
    assert "exit 1 (--strict)" in capsys.readouterr().out


@pytest.mark.parametrize("value", ["", " "])
def test_an_empty_cache_variable_is_refused_not_read_as_the_working_directory(
    tmp_path, monkeypatch, capsys, value
):
    """Bad inputs, fifth round: IREE_MATRIX_CACHE= made the working directory the cache, and `cache
    prune logs` removed the ./logs of whatever folder it was run in."""
    work = tmp_path / "work"
    (work / "logs").mkdir(parents=True)
    (work / "logs" / "mine.log").write_text("keep me\n")
    monkeypatch.chdir(work)
    monkeypatch.setenv("IREE_MATRIX_CACHE", value)
    assert cli.main(["cache", "prune", "logs"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "IREE_MATRIX_CACHE is set but empty" in line and "unset it" in line, line
    assert (work / "logs" / "mine.log").read_text() == "keep me\n"
