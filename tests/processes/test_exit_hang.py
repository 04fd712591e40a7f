"""An export whose process hangs at exit after writing its outputs (iree-base-compiler 3.6.0's
bindings: stuck in PyGILState_Ensure while MLIR's resources are destroyed) is stored as exported,
with the hang as its finding, and its MLIR is used (issue #51 item 9). The worker's supervisor
decides from the child's CPU time; the stage also takes a stage timeout after complete outputs
as the same finding. Fake children here; tests/integration/test_exit_hang.py has the real 3.6.0."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from iree_matrix.core.system import processes
from iree_matrix.stages import export as export_stage
from iree_matrix.stages.base import Context

SCRIPTS = Path(__file__).parents[2] / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

import export_exit  # noqa: E402  (the supervisor's limits are read in its own module)
import export_model as em  # noqa: E402  (needs no torch to import)

pytestmark = pytest.mark.processes  # children that hang are waited for and killed on real timeouts

# ------------------------------------------------------------------ the decision: ExitWatch


def _feed(watch: em.ExitWatch, samples: list[tuple[float, float | None]]) -> list[bool]:
    return [watch.hung(t, cpu) for t, cpu in samples]


def test_an_idle_process_is_hung_once_the_grace_and_the_idle_window_have_passed() -> None:
    watch = em.ExitWatch(100.0, grace=20.0, idle=10.0, idle_cpu=0.05)
    verdicts = _feed(watch, [(100.0 + t, 7.0) for t in range(0, 31)])
    assert verdicts.index(True) == 20  # at the grace: its CPU time has not moved for 20 s
    assert watch.idle_seconds(130.0) == 30.0


def test_a_process_still_computing_after_the_grace_is_waited_for() -> None:
    watch = em.ExitWatch(0.0, grace=20.0, idle=10.0, idle_cpu=0.05)
    busy = [(float(t), 0.5 * t) for t in range(0, 40)]  # half a core of teardown work
    assert not any(_feed(watch, busy))
    # it stops computing: hung once it has been idle for the whole window
    idle = [(float(t), 19.5) for t in range(40, 60)]
    verdicts = _feed(watch, idle)
    assert verdicts.index(True) == 9  # t = 49: no CPU since the last busy sample, t = 39
    assert watch.idle_seconds(49.0) == pytest.approx(10.0)


def test_a_little_cpu_inside_the_window_is_still_idle() -> None:
    watch = em.ExitWatch(0.0, grace=5.0, idle=5.0, idle_cpu=0.05)
    # a timed wait waking now and then (3.3/3.4's pthread_cond_timedwait) uses a few ms
    verdicts = _feed(watch, [(float(t), 1.0 + 0.001 * t) for t in range(0, 12)])
    assert verdicts.index(True) == 5


def test_without_proc_the_grace_is_the_long_one() -> None:
    watch = em.ExitWatch(0.0, grace=5.0, idle=5.0, no_proc_grace=60.0)
    assert not any(_feed(watch, [(float(t), None) for t in range(0, 60)]))
    assert watch.hung(60.0, None)


def test_cpu_seconds_reads_this_process_and_nothing_for_a_missing_one() -> None:
    import os

    mine = em.cpu_seconds(os.getpid())
    assert mine is not None and mine > 0
    assert em.cpu_seconds(2**22 + 12345) is None


# ------------------------------------------------------------------ the supervisor, with real children


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_exit, "EXIT_GRACE", 1.0)
    monkeypatch.setattr(export_exit, "IDLE", 0.5)
    monkeypatch.setattr(export_exit, "POLL", 0.05)


def _child(out: Path, then: str, name: str = "export.json") -> list[str]:
    """A child that writes its result the worker's way, then does `then`."""
    return [
        sys.executable,
        "-c",
        f"import json, pathlib, time\n"
        f"p = pathlib.Path({str(out / name)!r})\n"
        f"p.with_name(p.name + '.part').write_text(json.dumps({{'seconds': 1.0, 'importer': 'x 3.6.0'}}))\n"
        f"p.with_name(p.name + '.part').replace(p)\n"
        f"{then}\n",
    ]


def test_a_child_hung_after_its_outputs_is_killed_and_the_export_stands(tmp_path, quick) -> None:
    code = em.supervise([], tmp_path, _child(tmp_path, "time.sleep(600)"))
    assert code == 0
    info = json.loads((tmp_path / "export.json").read_text())
    hang = info["exit_hang"]
    assert hang["seconds_after_outputs"] >= 1.0 and hang["idle_seconds"] >= 0.5
    assert info["importer"] == "x 3.6.0"  # the rest of export.json is kept


def test_a_failed_child_that_hangs_stays_a_failure(tmp_path, quick) -> None:
    code = em.supervise([], tmp_path, _child(tmp_path, "time.sleep(600)", name="error.json"))
    assert code == 1
    assert "exit_hang" in json.loads((tmp_path / "error.json").read_text())


def test_a_child_that_ends_is_not_a_finding(tmp_path, quick) -> None:
    assert em.supervise([], tmp_path, _child(tmp_path, "raise SystemExit(0)")) == 0
    assert "exit_hang" not in json.loads((tmp_path / "export.json").read_text())


def test_a_child_still_tearing_down_is_waited_for(tmp_path, quick) -> None:
    busy = "t = time.process_time()\nwhile time.process_time() - t < 2.5: pass"
    assert em.supervise([], tmp_path, _child(tmp_path, busy)) == 0
    assert "exit_hang" not in json.loads((tmp_path / "export.json").read_text())


def test_a_child_killed_by_a_signal_is_an_exit_code(tmp_path, quick) -> None:
    assert em.supervise([], tmp_path, [sys.executable, "-c", "import os; os.kill(os.getpid(), 9)"]) == 137


# ------------------------------------------------------------------ the stage


def test_the_finding_names_the_importer_and_how_it_was_ended() -> None:
    words = export_stage.exit_hang_words(
        {
            "importer": "iree-base-compiler 3.6.0",
            "exit_hang": {"seconds_after_outputs": 20.5, "idle_seconds": 20.5},
        }
    )
    assert words is not None
    assert words.startswith(
        "exported; the importer's Python process hangs at exit (iree-base-compiler 3.6.0)"
    )
    assert "20.5 s after writing its outputs" in words and "MLIR is used" in words
    assert export_stage.exit_hang_words({"importer": "iree-base-compiler 3.9.0"}) is None


class _Env:
    """An environment whose command writes the worker's outputs (or not) and then times out."""

    def __init__(self, write: bool) -> None:
        self.write = write

    def python(self) -> str:
        return "python"

    def run(self, request):
        argv, timeout = request.argv, request.timeout
        out = Path(argv[argv.index("--out") + 1])
        if self.write:
            (out / "model.mlir").write_text("module {}\n")
            info = {"seconds": 2.0, "eager_ms": {"median": 1.0}, "parameters": 3, "torch_threads": 2,
                    "importer": "iree-base-compiler 3.6.0"}  # fmt: skip
            (out / "export.json").write_text(json.dumps(info))
        raise processes.Timeout(argv, timeout, "exported\n")


def _execute(tmp_path: Path, write: bool, monkeypatch: pytest.MonkeyPatch):
    from iree_matrix.stages import model_worker

    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr(
        model_worker, "command", lambda job, ctx, python, script, *extra: ([python, script, *extra], [])
    )

    class Ctx:
        spec = type(
            "Spec", (), {"bytecode": False, "models": {}, "kernels": {}}
        )()  # no recipe: the default export
        timeout = 300.0
        log = tmp_path / "log"
        quiet = None  # no quiet lock to take: no handshake
        request = Context.request  # the real one: the job's timeout and log

        def environment(self, job):
            return _Env(write)

    job = type("Job", (), {"label": type("Labels", (), {"form": ""})(), "model": "m"})()
    return export_stage.STAGE.execute(job, Ctx(), out)  # type: ignore[arg-type]


def test_a_stage_timeout_after_the_worker_wrote_its_outputs_is_still_a_timeout(tmp_path, monkeypatch) -> None:
    """The worker's files are no verdict: a model can write export.json itself and then hang (a drill's
    model was stored as an ok export with forged numbers), so a stage timeout is a timeout, whatever
    files exist; the worker's own exit-hang check (scripts/export_exit.py) is the one that says so."""
    with pytest.raises(processes.Timeout):
        _execute(tmp_path, True, monkeypatch)


def test_a_stage_timeout_before_the_outputs_is_still_a_timeout(tmp_path, monkeypatch) -> None:
    with pytest.raises(processes.Timeout):
        _execute(tmp_path, False, monkeypatch)
