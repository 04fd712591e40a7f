"""Unit tests for `processes`: the one way iree-matrix starts a process (real, tiny children)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from iree_matrix.core.errors import StageFailure
from iree_matrix.core.system import process_output, processes
from iree_matrix.core.system.process_request import ProcessRequest

pytestmark = pytest.mark.processes  # every test runs real subprocesses, some until their timeout


def _py(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for a parent that never reaps counts as dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def test_stdout_and_stderr_captured(tmp_path):
    done = processes.run(
        ProcessRequest(_py("import sys; print('hello out'); print('hello err', file=sys.stderr)"))
    )
    assert done.returncode == 0
    assert done.stdout == "hello out\n"
    assert done.stderr == "hello err\n"
    assert done.output == "hello out\n\nhello err"
    assert done.argv == (sys.executable, "-c", done.argv[2])
    assert done.seconds >= 0


def test_peak_rss_is_the_childs_largest_resident_set():
    # Measured from a fresh interpreter, not from pytest's process: Linux records the spawning
    # process's resident high-water mark into the child's at exec (fs/exec.c exec_mmap,
    # setmax_mm_hiwater_rss), so from here the figure would be whatever earlier test grew this
    # process most (1.15 GB once, after a big child), not this child's 64 MiB.
    probe = (
        "from iree_matrix.core.system import processes;"
        "from iree_matrix.core.system.process_request import ProcessRequest;"
        "import sys;"
        "done = processes.run(ProcessRequest([sys.executable, '-c', 'b = bytearray(64 * 2**20)']));"
        "print(done.peak_rss_bytes)"
    )
    done = processes.run(ProcessRequest(_py(probe)))
    assert done.returncode == 0, done.stderr
    peak = int(done.stdout.strip())
    assert peak > 64 * 2**20  # zero-filled: every page touched
    assert peak < 2**30  # KiB converted to bytes once, not twice


def test_env_and_cwd(tmp_path):
    done = processes.run(
        ProcessRequest(
            _py("import os; print(os.getcwd()); print(os.environ['IREE_MATRIX_TEST_VAR'])"),
            cwd=tmp_path,
            env={"IREE_MATRIX_TEST_VAR": "42"},
        )
    )
    assert done.stdout.splitlines() == [str(tmp_path), "42"]


def test_log_gets_the_command_and_the_output(tmp_path):
    log = tmp_path / "job.log"
    log.write_text("earlier\n")
    argv = _py("import sys; print('to stdout'); print('to stderr', file=sys.stderr)")
    processes.run(ProcessRequest(argv, log=log))
    text = log.read_text()
    assert text.startswith("earlier\n$ ")  # appended, never truncated
    assert f"$ {processes.format_command(argv)}\n" in text
    assert "to stdout" in text
    assert "to stderr" in text
    assert "[exit 0 after" in text


def test_format_command_quotes():
    assert processes.format_command(["iree-compile", "a b.mlir", "--x=1"]) == "iree-compile 'a b.mlir' --x=1"


def test_non_zero_exit_raises_with_the_tools_words(tmp_path):
    log = tmp_path / "job.log"
    code = "import sys; print('chatter'); sys.stderr.write('error: the module is broken\\n'); sys.exit(3)"
    with pytest.raises(StageFailure) as info:
        processes.run(ProcessRequest(_py(code), log=log, error_class="compile-error"))
    assert "error: the module is broken" in info.value.message
    assert "error: the module is broken" in str(info.value)
    assert info.value.error_class == "compile-error"
    assert info.value.cacheable is True
    assert "[exit 3 after" in log.read_text()


def test_non_zero_exit_default_error_class_names_the_tool():
    with pytest.raises(StageFailure) as info:
        processes.run(ProcessRequest(_py("import sys; sys.stderr.write('cannot go on\\n'); sys.exit(1)")))
    assert info.value.error_class == f"{Path(sys.executable).name}-error"
    assert "cannot go on" in info.value.message


def test_silent_failure_says_the_exit_code():
    with pytest.raises(StageFailure) as info:
        processes.run(ProcessRequest(_py("import sys; sys.exit(5)")))
    assert "exited 5" in info.value.message


def test_non_zero_exit_without_check_returns():
    done = processes.run(ProcessRequest(_py("import sys; sys.exit(4)"), check=False))
    assert done.returncode == 4


def test_missing_tool_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        processes.run(ProcessRequest([str(tmp_path / "no-such-tool")]))


def test_timeout_kills_the_child(tmp_path):
    log = tmp_path / "job.log"
    start = time.monotonic()
    with pytest.raises(processes.Timeout) as info:
        processes.run(
            ProcessRequest(
                _py("import time; print('started', flush=True); time.sleep(30)"), timeout=1, log=log
            )
        )
    elapsed = time.monotonic() - start
    assert elapsed < 10
    assert info.value.seconds == 1
    assert "did not finish within 1 s" in str(info.value)
    assert info.value.output == "started"
    assert "[timed out after 1 s]" in log.read_text()
    assert not processes._live


def test_timeout_kills_the_whole_process_tree(tmp_path):
    pids = tmp_path / "pids"
    code = (
        "import os, subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'])\n"
        f"open({str(pids)!r}, 'w').write(f'{{os.getpid()}} {{child.pid}}')\n"
        "time.sleep(30)\n"
    )
    start = time.monotonic()
    with pytest.raises(processes.Timeout):
        processes.run(ProcessRequest(_py(code), timeout=1))
    assert time.monotonic() - start < 10
    parent, grandchild = map(int, pids.read_text().split())
    deadline = time.monotonic() + 5
    while (_alive(parent) or _alive(grandchild)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(parent)
    assert not _alive(grandchild)


# --- excerpt ----------------------------------------------------------------------------------


def test_excerpt_keeps_error_lines_and_drops_pip_noise():
    output = "\n".join(
        [
            "Looking in links: /wheels",
            "WARNING: Location 'file:///wheels/' is ignored: it is either a non-existing path or lacks a "
            "specific scheme.",
            "Collecting iree-base-compiler==9.9.9",
            "ERROR: Could not find a version that satisfies the requirement iree-base-compiler==9.9.9",
            "ERROR: No matching distribution found for iree-base-compiler==9.9.9",
            "[notice] A new release of pip is available: 23.0 -> 25.0",
        ]
    )
    text = process_output.excerpt(output)
    assert text.splitlines() == [
        "ERROR: Could not find a version that satisfies the requirement iree-base-compiler==9.9.9",
        "ERROR: No matching distribution found for iree-base-compiler==9.9.9",
    ]
    assert "WARNING: Location" not in text
    assert "[notice]" not in text


def test_excerpt_without_errors_keeps_the_tail():
    output = "\n".join(f"line {i}" for i in range(100))
    text = process_output.excerpt(output, max_lines=5)
    assert text.splitlines() == [f"line {i}" for i in range(95, 100)]


def test_excerpt_drops_blank_lines_and_trailing_spaces():
    assert process_output.excerpt("\n\n  \nonly line   \n\n") == "only line"
    assert process_output.excerpt("") == ""
    assert process_output.excerpt("WARNING: Location 'file:///x' is ignored\n") == ""


def test_excerpt_bounds_the_number_of_error_lines():
    output = "\n".join(f"error {i}" for i in range(40))
    lines = process_output.excerpt(output, max_lines=10).splitlines()
    assert lines == [f"error {i}" for i in range(10)] + ["... (30 more lines)"]


def test_excerpt_bounds_the_length():
    text = process_output.excerpt("error: " + "x" * 10_000, max_chars=4000)
    assert len(text) <= 4000
    assert text.startswith("error: xxx")
    assert text.endswith(" ...")
    many = process_output.excerpt("\n".join("error " + "y" * 500 for _ in range(25)))
    assert len(many) <= 4000


@pytest.mark.parametrize(
    ("script", "cacheable"),
    [
        ("import sys; sys.exit(1)", True),  # the tool said no: a result worth storing
        ("import sys; sys.exit(127)", False),  # the shell could not run the tool: a broken env
        ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", False),  # OOM-killer style
    ],
)
def test_failure_is_stored_only_when_the_tool_itself_answered(script: str, cacheable: bool) -> None:
    with pytest.raises(StageFailure) as err:
        processes.run(ProcessRequest([sys.executable, "-c", script]))
    assert err.value.cacheable is cacheable


def test_no_process_starts_after_kill_all(monkeypatch):
    """#14 defect 1: Ctrl-C while `iree-compile --help-hidden` ran killed it, and then the real
    compile started anyway (and the tool waited for it). After `kill_all` nothing new starts."""
    monkeypatch.setattr(processes, "_stopping", processes.threading.Event())
    processes.kill_all()
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        processes.run(ProcessRequest(_py("import time; time.sleep(30)")))
    assert time.monotonic() - start < 5
    processes.resume()
    assert processes.run(ProcessRequest(_py("print('again')"))).stdout.strip() == "again"


def test_feed_streams_chunks_into_stdin_then_end_of_file():
    """`docker load` reads the hand-made image archive this way: generated, never written to disk."""
    chunks = (bytes([65 + i % 26]) * 65536 for i in range(64))  # 4 MiB: more than a pipe holds
    done = processes.run(
        ProcessRequest(_py("import sys, hashlib; print(len(sys.stdin.buffer.read()))"), feed=chunks)
    )
    assert done.stdout.strip() == str(64 * 65536)


def test_feed_ends_when_the_child_stops_reading_and_a_failing_source_is_raised():
    endless = iter(lambda: b"x" * 65536, None)  # never ends: only the child's exit stops it
    done = processes.run(ProcessRequest(_py("import sys; sys.stdin.read(10)"), feed=endless, check=False))
    assert done.returncode == 0

    def broken():
        yield b"some"
        raise OSError("the archive's layer vanished")

    with pytest.raises(OSError, match="vanished"):
        processes.run(ProcessRequest(_py("import sys; sys.stdin.read()"), feed=broken()))
