"""`iree-matrix publish` is one step (issue #41 item 4): a publish killed halfway leaves a mark the
next command finds, and that command finishes it - the run's records copied again and every
document rendered from them - saying so. A real SIGKILL, at the moment the documents are rendered."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from iree_matrix import cli
from iree_matrix.commands import publish as publish_command
from iree_matrix.core.errors import UserError
from iree_matrix.findings import publish as published

pytestmark = pytest.mark.processes  # a publish is killed in a child process and finished by the next

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "results" / "runtime-source"

# The publish command, SIGKILLed where it starts rendering: its records are copied by then.
_KILLED_AT_RENDER = """
import os, signal, sys
from iree_matrix import cli
from iree_matrix.commands import publish
publish.render = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
cli.main(["publish", sys.argv[1], "--to", sys.argv[2]])
"""


@pytest.fixture
def run_and_published(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A run of 21 records, and a published set (results/src, from the working directory) where an
    older publish of 10 of them is rendered."""
    monkeypatch.chdir(tmp_path)  # no results/ of this repository's looked at
    run = tmp_path / "runs" / "src"
    run.mkdir(parents=True)
    shutil.copy(SOURCE / "results.jsonl", run / "results.jsonl")
    old = tmp_path / "old"
    old.mkdir()
    (old / "results.jsonl").write_text("".join((SOURCE / "results.jsonl").read_text().splitlines(True)[:10]))
    to = tmp_path / "results" / "src"  # a published set, where a user publishes
    assert cli.main(["publish", str(old), "--to", str(to)]) == 0
    return run, to


def _killed_publish(run: Path, to: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, "-c", _KILLED_AT_RENDER, str(run), str(to)], env=env, timeout=120)
    assert done.returncode == -9
    assert (to / published.PENDING).is_file(), "the mark stays when the publish is killed"
    assert (to / "results.jsonl").read_bytes() == (run / "results.jsonl").read_bytes()  # copied, not rendered


def test_a_killed_publish_is_finished_by_the_next_command_with_a_warning(run_and_published, capsys):
    run, to = run_and_published
    before = (to / "COMPATIBILITY.md").read_text()
    _killed_publish(run, to)
    assert (to / "COMPATIBILITY.md").read_text() == before  # half a publish: new records, old tables
    # Any command run from here (its results/ sets are looked at), or naming the published directory.
    assert cli.main(["results", "forget", "no-such-job", "--results-dir", str(run)]) == 2
    err = capsys.readouterr().err
    assert f"warning: the publish of {run} into {to} (pid " in err
    assert "was interrupted; finished now: its records copied again from" in err
    assert not (to / published.PENDING).exists()
    after = (to / "COMPATIBILITY.md").read_text()
    assert after != before and "21 records" in after


def test_a_killed_publish_whose_run_is_gone_is_rendered_from_what_it_copied(run_and_published, capsys):
    run, to = run_and_published
    _killed_publish(run, to)
    shutil.rmtree(run)
    warnings = publish_command.finish_interrupted([to])
    assert (
        len(warnings) == 1 and f"{run} is gone: its documents rendered from {to}/results.jsonl" in warnings[0]
    )
    assert "21 records" in (to / "COMPATIBILITY.md").read_text()
    assert not (to / published.PENDING).exists()


def test_a_torn_mark_is_still_finished(run_and_published):
    run, to = run_and_published
    (to / published.PENDING).write_text('{"run": ')
    (warning,) = publish_command.finish_interrupted([to])
    assert "a publish into" in warning and "its run is not known" in warning
    assert not (to / published.PENDING).exists()


def test_a_running_publish_is_neither_finished_nor_joined(run_and_published):
    """Its lock is held (by another process here): the mark is its own, not a killed publish's."""
    run, to = run_and_published
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); "
         "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); sys.stdin.read()", str(to)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        (to / published.PENDING).write_text('{"run": "/elsewhere", "pid": 1, "since": 0}')
        assert publish_command.finish_interrupted([to]) == []
        assert (to / published.PENDING).exists()
        refused = "another iree-matrix command is writing .*: a process that left no note"
        with pytest.raises(UserError, match=refused):
            with published.publishing(run, to):
                pass
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=10)


def test_a_publish_that_ends_leaves_no_mark_and_no_lock(run_and_published):
    run, to = run_and_published
    assert cli.main(["publish", str(run), "--to", str(to)]) == 0
    assert not (to / published.PENDING).exists()
    assert sorted(p.name for p in to.iterdir() if p.name.startswith(".")) == []
    fd = os.open(to, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # nobody holds it
    finally:
        os.close(fd)


def test_a_publish_refused_before_it_starts_leaves_no_mark(run_and_published, capsys):
    """Issue #52: a publish of a missing run directory left `.publish-pending.json`, and the next
    command said "the publish … was interrupted; finished now" and rendered the set again."""
    _, to = run_and_published
    before = (to / "COMPATIBILITY.md").stat().st_mtime_ns
    assert cli.main(["publish", str(to.parent / "no-such-run"), "--to", str(to)]) == 2
    assert "no such results file" in capsys.readouterr().err
    assert not (to / published.PENDING).exists()
    assert publish_command.finish_interrupted([to]) == []
    assert (to / "COMPATIBILITY.md").stat().st_mtime_ns == before


def test_publish_keeps_what_it_replaces(tmp_path, capsys):
    """#51: a publish replaced 3,003 records with 6 and kept nothing: now the previous log is kept
    as results.jsonl.bak and the jobs it loses are counted on stderr."""
    from iree_matrix.core.model.results import Record, Status
    from iree_matrix.findings.publish import publish

    def log(directory, *jobs):
        directory.mkdir(parents=True, exist_ok=True)
        records = [Record(j, "install", j.split(":")[1], "k", Status.OK, {}) for j in jobs]
        (directory / "results.jsonl").write_text("".join(r.to_json() + "\n" for r in records))
        return (directory / "results.jsonl").read_bytes()

    before = log(tmp_path / "published", "install:a", "install:b", "install:c")
    log(tmp_path / "run", "install:a")
    publish(tmp_path / "run", tmp_path / "published")
    assert (tmp_path / "published" / "results.jsonl.bak").read_bytes() == before
    assert "2 of its 3 jobs are not in what replaces it" in capsys.readouterr().err


# The merge command, SIGKILLed where it starts rendering: its log is written by then.
_MERGE_KILLED_AT_RENDER = """
import os, signal, sys
from iree_matrix import cli
from iree_matrix.commands import merge
merge.write_documents = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
cli.main(["merge", sys.argv[1], "--to", sys.argv[2]])
"""


def test_a_merge_killed_while_rendering_is_rendered_by_the_next_command(run_and_published, capsys):
    """Issue 68 item 6: `kill -9` during merge's rendering left COMPATIBILITY.md, compat.json and the
    site disagreeing with the log, and nothing marked the folder. The merge marks it before it writes
    the log, as publish does; the next command renders its documents and says so."""
    run, to = run_and_published
    before = (to / "COMPATIBILITY.md").read_text()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-c", _MERGE_KILLED_AT_RENDER, str(run), str(to)], env=env, timeout=300
    )
    assert done.returncode == -9
    assert (to / published.PENDING).is_file(), "the mark stays when the merge is killed"
    assert (to / "COMPATIBILITY.md").read_text() == before  # the merged log, the old tables
    assert cli.main(["results", "forget", "no-such-job", "--results-dir", str(run)]) == 2
    err = capsys.readouterr().err
    assert f"warning: the merge into {to} (pid " in err and "its documents rendered from" in err, err
    assert not (to / published.PENDING).exists()
    assert "21 records" in (to / "COMPATIBILITY.md").read_text()


def test_a_merge_and_a_forget_that_end_leave_no_mark(run_and_published):
    run, to = run_and_published
    assert cli.main(["merge", str(run), "--to", str(to)]) == 0
    assert not (to / published.PENDING).exists()
    assert cli.main(["results", "forget", "run:*", "--results-dir", str(to)]) == 0
    assert not (to / published.PENDING).exists()


@pytest.mark.parametrize("inside", ["", "sub"])
def test_publish_to_a_file_is_one_line_naming_it(run_and_published, tmp_path, capsys, inside):
    """`publish RUN --to FILE` (or a folder under a file) was a FileExistsError traceback from the
    results lock; it is one line naming the file, and nothing is copied."""
    run, _ = run_and_published
    file = tmp_path / "afile.txt"
    file.write_text("not a folder\n")
    to = file / inside if inside else file
    assert cli.main(["publish", str(run), "--to", str(to)]) == 2
    err = capsys.readouterr().err
    assert f"{file} exists and is not a directory" in err and "Traceback" not in err
    assert file.read_text() == "not a folder\n"
