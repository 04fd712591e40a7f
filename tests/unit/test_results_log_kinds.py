"""A results folder whose results.jsonl is no regular file (bad inputs, fifth round): a FIFO hung
`report` for good, a link to /dev/zero read until memory ran out, a directory was an
IsADirectoryError traceback, and `query`/`show` called each of them "no such results file". Each is
now one line naming the file and what it is; a run's append refuses them too (records sent to a
FIFO or /dev/null are lost)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from iree_matrix import cli
from iree_matrix.core.errors import StorageError
from iree_matrix.core.model.results import Record, ResultsLog, Status


class _Hung(Exception):
    """The command still waited after the alarm (the FIFO's open blocked)."""


@pytest.fixture
def alarm():
    """Fail, rather than hang the tier, a command that blocks: SIGALRM after 10 s raises _Hung."""

    def ring(signum, frame):
        raise _Hung

    old = signal.signal(signal.SIGALRM, ring)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def _folder(tmp_path: Path, kind: str) -> Path:
    folder = tmp_path / f"r-{kind}"
    folder.mkdir()
    log = folder / "results.jsonl"
    if kind == "fifo":
        os.mkfifo(log)
    elif kind == "device":
        log.symlink_to("/dev/zero")
    else:
        log.mkdir()
    return folder


@pytest.mark.parametrize("kind, said", [("fifo", "a FIFO (named pipe)"), ("device", "a character device"),
                                        ("directory", "a directory")])  # fmt: skip
@pytest.mark.parametrize(
    "command",
    [["report"], ["query", "model", "tiny_cnn"], ["show", "run:*"], ["reproduce", "run:*"],
     ["query", "load", "--compiler", "3.9.0", "--runtime", "3.13.0"]],
)  # fmt: skip
def test_a_log_that_is_no_regular_file_is_one_line(tmp_path, capsys, alarm, kind, said, command):
    folder = _folder(tmp_path, kind)
    assert cli.main([*command, "--results-dir", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert str(folder / "results.jsonl") in lines[0] and said in lines[0], lines[0]
    assert "not a regular file" in lines[0] and "no such results file" not in lines[0], lines[0]
    assert not (folder / "COMPATIBILITY.md").exists()


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_run_does_not_append_its_records_to_a_fifo_or_a_device(tmp_path, alarm, kind):
    folder = _folder(tmp_path, kind)
    record = Record(job="compile:a", stage="compile", cell="a", key="a", status=Status.OK, labels={})
    with pytest.raises(StorageError) as caught:
        ResultsLog(folder / "results.jsonl").append(record)
    assert "not a regular file" in str(caught.value) and "no record was written" in str(caught.value)


def test_a_regular_log_still_reads_and_appends(tmp_path):
    log = ResultsLog(tmp_path / "results.jsonl")
    record = Record(job="compile:a", stage="compile", cell="a", key="a", status=Status.OK, labels={})
    log.append(record)
    assert [r.job for r in log] == ["compile:a"]
