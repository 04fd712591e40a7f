"""A busy cache (issue #52): the refusal names its holder — pid, command, since when — as the quiet
lock's message does, and `--wait` waits for it instead."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import threading
import time
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from iree_matrix import cli
from iree_matrix.core.cache_layout import CacheLayout
from iree_matrix.core.model.results import ResultsLog
from iree_matrix.core.system import locks
from iree_matrix.execution.execute import Executor, Options
from iree_matrix.matrix import plan
from tests.unit.test_execute import FakeBackend

pytestmark = pytest.mark.processes  # real file locks held by other processes, and waits

ROOT = Path(__file__).resolve().parents[2]

# Another run: holds the cache, as `iree-matrix matrix --matrix m.toml` would, until its stdin closes.
_HOLD = """
import sys
from pathlib import Path
from iree_matrix.core.system import locks
sys.argv = ["/venv/bin/iree-matrix", "matrix", "--matrix", "m.toml"]
with locks.cache_lock(Path(sys.stdin.readline().strip())):
    print("held", flush=True)
    sys.stdin.read()
"""


@contextlib.contextmanager
def another_run_uses(cache: Path) -> Iterator[subprocess.Popen]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(f"{cache}\n")
        proc.stdin.flush()
        assert proc.stdout.readline() == "held\n"
        yield proc
    finally:
        if proc.stdin is not None and not proc.stdin.closed:
            proc.stdin.close()
        proc.wait(timeout=10)


def test_a_busy_cache_is_refused_with_its_holders_pid_command_and_since_when(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with another_run_uses(cache) as other:
        with pytest.raises(locks.CacheBusy) as info:
            with locks.cache_lock(cache):
                pass
    said = str(info.value)
    assert said.startswith(f"another iree-matrix run is using {cache}: pid {other.pid} ")
    assert "(iree-matrix matrix --matrix m.toml since " in said
    assert "--wait waits for it" in said and "\n" not in said
    with locks.cache_lock(cache):  # let go: free again, and no note of the old holder left
        assert locks.holder(CacheLayout(cache).run_lock).pid == os.getpid()
    assert not locks.holder_path(CacheLayout(cache).run_lock).exists()


def test_wait_takes_the_cache_once_its_holder_ends_and_says_whom_it_waits_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """...and, every WAIT_NOTE_EVERY s, that it still waits and how long so far (once, it said nothing
    more for as long as it waited), then that it took the cache."""
    monkeypatch.setattr(locks, "WAIT_NOTE_EVERY", 0.3)
    cache = tmp_path / "cache"
    said: list[str] = []
    took: list[float] = []
    with another_run_uses(cache) as other:

        def wait() -> None:
            with locks.cache_lock(cache, wait=True, report=said.append):
                took.append(time.monotonic())

        waiter = threading.Thread(target=wait, daemon=True)
        waiter.start()
        time.sleep(1.6)
        assert not took, "it took a cache another process holds"
        ended = time.monotonic()
        assert other.stdin is not None
        other.stdin.close()
    waiter.join(timeout=10)
    assert took and took[0] >= ended
    assert said and said[0].startswith(
        f"waiting for the cache {cache}: in use by pid {other.pid} (iree-matrix"
    )
    again = said[1:-1]  # one every 0.3 s, whom for and, from 1 s on, how long so far; then took it
    assert 3 <= len(again) <= 8 and all(s.startswith(said[0].split(" since ")[0]) for s in again)
    assert again[-1].endswith("; waited 1 s so far")
    assert said[-1] == f"took the cache {cache} after waiting 1 s"


def test_a_wait_ends_at_once_on_cancel(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with another_run_uses(cache):
        start = time.monotonic()
        with pytest.raises(locks.LockCancelled):
            with locks.cache_lock(cache, wait=True, cancelled=lambda: time.monotonic() - start > 0.5):
                pass
        assert time.monotonic() - start < 2


def test_a_run_with_wait_runs_after_the_holder_and_says_so(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    the_plan = plan.Plan(())
    out = io.StringIO()
    executor = Executor(
        types.SimpleNamespace(timeouts={}), the_plan, cache=cache, results=ResultsLog(tmp_path / "r.jsonl"),
        backend=FakeBackend(), options=Options(wait=True), out=out,
    )  # fmt: skip
    with another_run_uses(cache) as other:
        runner = threading.Thread(target=executor.run, daemon=True)
        runner.start()
        time.sleep(1.5)
        assert runner.is_alive()
        assert other.stdin is not None
        ended = time.monotonic()
        other.stdin.close()
    runner.join(timeout=10)
    assert not runner.is_alive()
    assert f"waiting for the cache {cache}: in use by pid {other.pid}" in out.getvalue()
    # The estimate starts again after the wait (its ETA had counted the wait as the run's own time).
    assert executor.progress.start >= ended


def test_cache_prune_of_a_busy_cache_is_one_line_naming_the_holder(tmp_path: Path, capsys) -> None:
    cache = tmp_path / "cache"
    with another_run_uses(cache) as other:
        assert cli.main(["cache", "prune", "--cache", str(cache)]) == 2
    err = capsys.readouterr().err
    assert f"another iree-matrix run is using {cache}: pid {other.pid} (iree-matrix matrix" in err
    assert len(err.strip().splitlines()) == 1


def test_a_sitting_holds_its_cache_across_its_runs_and_a_queued_run_waits_for_all(tmp_path: Path) -> None:
    """`advise` holds the cache over its builds, sitting and proof: its own runs' lock takes nothing,
    and another process is refused between two of them (a queued run came in before the proof)."""
    cache = tmp_path / "cache"
    probe = (
        "import sys\nfrom pathlib import Path\nfrom iree_matrix.core.system import locks\n"
        "try:\n    with locks.cache_lock(Path(sys.argv[1])):\n        print('got it')\n"
        "except locks.CacheBusy as e:\n    print('busy:', e)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}

    def another() -> str:
        done = subprocess.run(
            [sys.executable, "-c", probe, str(cache)], capture_output=True, text=True, env=env
        )
        return done.stdout.strip()

    with locks.cache_lock(cache, reentrant=True):  # the sitting
        with locks.cache_lock(cache):  # its first run: re-entered at once, not refused by itself
            pass
        assert another().startswith("busy: another iree-matrix run is using")  # between two runs
        with locks.cache_lock(cache):  # its proof's run
            pass
    assert another() == "got it"  # released once, at the end of the sitting


def test_a_sitting_that_waited_for_the_cache_still_reenters_it(tmp_path: Path) -> None:
    """An `advise --wait` that first waited for another run's hold then waited for itself, for ever
    ("waiting for the cache …: in use by pid <its own>"): the wait loop's name for the holder it saw
    overwrote the lock's key, so the key it kept was the other run's and its own runs did not
    re-enter."""
    cache = tmp_path / "cache"
    with another_run_uses(cache) as other:
        threading.Timer(0.5, lambda: other.stdin.close() if other.stdin else None).start()
        with locks.cache_lock(cache, wait=True, reentrant=True):  # the sitting, after the wait
            with locks.cache_lock(cache):  # its first run: re-entered, not refused by itself
                reentered = True
    assert reentered
