"""Inputs a user names (a matrix file, a model file) are regular files read to a bound: a device
(`/dev/zero` says 0 bytes and never ends), a FIFO (opening it waits for a writer), a directory or a
loop of symbolic links is one line, never a hang, an OOM or a traceback. Real files, FIFOs and
devices."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest

from iree_matrix import cli
from iree_matrix.core import input_files
from iree_matrix.core.input_files import InputFileError

SMOKE = Path(__file__).parents[2] / "matrix" / "smoke.toml"


def _loop(tmp_path: Path, name: str) -> Path:
    (tmp_path / name).symlink_to(tmp_path / f"{name}.other")
    (tmp_path / f"{name}.other").symlink_to(tmp_path / name)
    return tmp_path / name


def _within(seconds: float, call):
    """`call()`'s result, or a failure when it has not returned in `seconds` (a FIFO's open hangs)."""
    done: list = []
    worker = threading.Thread(target=lambda: done.append(_outcome(call)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert done, f"still waiting after {seconds} s"
    kind, value = done[0]
    if kind == "raised":
        raise value
    return value


def _outcome(call):
    try:
        return "returned", call()
    except BaseException as exc:  # handed to the test's thread
        return "raised", exc


def test_a_regular_file_is_read_whole_up_to_the_bound(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_bytes(b"x" * 100)
    assert input_files.read_bounded(path, 100) == b"x" * 100
    with pytest.raises(InputFileError, match="larger than 99 bytes") as raised:
        input_files.read_bounded(path, 99)
    assert raised.value.too_large


def test_an_endless_device_is_refused_before_a_byte_is_read(monkeypatch) -> None:
    reads: list[int] = []
    real = os.read
    monkeypatch.setattr(os, "read", lambda fd, n: reads.append(n) or real(fd, n))
    with pytest.raises(InputFileError, match="a character device, not a regular file"):
        input_files.read_bounded(Path("/dev/zero"), 4 << 20)
    assert reads == []


def test_a_file_whose_size_lies_is_read_one_byte_past_the_bound_at_most(tmp_path: Path, monkeypatch) -> None:
    """What is read is bounded by the limit, not by what stat says: a file that grows (or a /proc
    file that says 0) still costs at most limit + 1 bytes."""
    path = tmp_path / "big"
    path.write_bytes(b"x" * (3 << 20))
    reads: list[int] = []
    real = os.read
    monkeypatch.setattr(os, "read", lambda fd, n: reads.append(n) or real(fd, n))
    with pytest.raises(InputFileError, match="larger than 1 MiB"):
        input_files.read_bounded(path, 1 << 20)
    assert sum(reads) <= (1 << 20) + 1


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda p: os.mkfifo(p) or p, "a FIFO (named pipe), not a regular file"),
        (lambda p: p.mkdir() or p, "a directory, not a regular file"),
        (lambda p: _loop(p.parent, p.name), "a loop of symbolic links"),
    ],
)
def test_what_is_not_a_regular_file_is_refused_at_once(tmp_path: Path, make, said: str) -> None:
    path = make(tmp_path / "input")
    with pytest.raises(InputFileError, match=re.escape(said)):
        _within(10, lambda: input_files.read_bounded(path, 1024))


def _one_line(argv: list[str], capsys) -> str:
    code = _within(60, lambda: cli.main(argv))
    out, err = capsys.readouterr()
    assert code == 2 and out == "", (code, out, err)
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda p: Path("/dev/zero"), "/dev/zero: a character device, not a regular file"),
        (lambda p: os.mkfifo(p) or p, "a FIFO (named pipe), not a regular file"),
        (lambda p: p.mkdir() or p, "a directory, not a regular file"),
        (lambda p: _loop(p.parent, p.name), "a loop of symbolic links"),
    ],
)
def test_matrix_names_a_matrix_file_that_is_no_file_in_one_line(tmp_path: Path, capsys, make, said) -> None:
    matrix = make(tmp_path / "m.toml")
    assert said in _one_line(["matrix", "--matrix", str(matrix), "--list"], capsys)


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda p: Path("/dev/zero"), "/dev/zero: a character device, not a regular file"),
        (lambda p: os.mkfifo(p) or p, "a FIFO (named pipe), not a regular file"),
        (lambda p: _loop(p.parent, p.name), "a loop of symbolic links"),
    ],
)
def test_a_model_file_that_is_no_file_is_one_line(tmp_path: Path, capsys, make, said) -> None:
    model = make(tmp_path / "net.py")
    argv = ["matrix", "--matrix", str(SMOKE), "--model", f"{model}:build", "--list"]
    assert said in _one_line(argv, capsys)


def test_a_model_file_is_read_to_a_bound(tmp_path: Path, monkeypatch) -> None:
    from iree_matrix.matrix import models

    model = tmp_path / "net.py"
    model.write_text("def build():\n    pass\n" + "#" * 200 + "\n")
    monkeypatch.setattr(models, "MAX_FILE_BYTES", 100)
    with pytest.raises(models.ModelError, match="larger than 100 bytes"):
        models.resolve(f"{model}:build", tmp_path)


@pytest.mark.parametrize("option", ["--cache", "--results-dir"])
def test_a_directory_option_that_is_a_symlink_loop_is_one_line(tmp_path: Path, capsys, option: str) -> None:
    loop = _loop(tmp_path, "dir")
    err = _one_line(["report", option, str(loop)] if option == "--results-dir" else
                    ["matrix", "--matrix", str(SMOKE), option, str(loop), "--list"], capsys)  # fmt: skip
    assert f"argument {option}: {loop}: a loop of symbolic links" in err


def test_a_loop_reached_later_is_one_line_too(tmp_path: Path, capsys) -> None:
    """Below the option itself (results.jsonl a loop inside a real directory) the CLI says it."""
    _loop(tmp_path, "results.jsonl")
    err = _one_line(["report", "--results-dir", str(tmp_path)], capsys)
    assert "results.jsonl: Too many levels of symbolic links; a loop of symbolic links" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["calibrate", "--out", ""],  # was accepted: it wrote into the working directory
        ["calibrate", "--results-dir", ""],
        ["report", "--results-dir", " "],
        ["matrix", "--matrix", str(SMOKE), "--cache", "", "--list"],
    ],
)
def test_an_empty_directory_option_is_refused_in_one_line(argv: list[str], capsys) -> None:
    option = next(a for a in argv if a.startswith("--") and argv[argv.index(a) + 1].strip() == "")
    assert f"argument {option}: an empty path: name a directory" in _one_line(argv, capsys)
