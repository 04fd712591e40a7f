"""An export's process that does not end is never the worker's: the export workers end by os._exit
once their outputs are written (iree-base-compiler 3.3.0/3.4.0/3.6.0's bindings otherwise hang at
exit), and the model's code, in the same process, can write any file. So a stage timeout is a
timeout, whatever files exist (issue 85), and the known hang at exit is said from the tool's own
table. tests/integration/test_exit_hang.py has the real 3.6.0."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iree_matrix.core.system import processes
from iree_matrix.iree import versions
from iree_matrix.stages import export as export_stage
from iree_matrix.stages.base import Context

pytestmark = pytest.mark.processes

# ------------------------------------------------------------------ the stage


def test_the_finding_is_the_tools_table_never_the_workers_word() -> None:
    importer = "iree-base-compiler 3.6.0"
    words = export_stage.exit_hang_words(importer, versions.EXIT_HANGS[importer])
    assert words is not None
    assert words.startswith(
        "exported; the importer's Python process hangs at exit (iree-base-compiler 3.6.0: stuck in "
        "PyGILState_Ensure"
    )
    assert "os._exit" in words
    assert "iree-base-compiler 3.9.0" not in versions.EXIT_HANGS and "H3-FORGED" not in versions.EXIT_HANGS
    assert (
        export_stage.exit_hang_words("H3-FORGED", None) is None
        and export_stage.exit_hang_words(None, None) is None
    )


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
        bounds, request = Context.bounds, Context.request  # the real ones: the job's timeout and log

        def environment(self, job):
            return _Env(write)

    job = type("Job", (), {"label": type("Labels", (), {"form": ""})(), "model": "m"})()
    return export_stage.STAGE.execute(job, Ctx(), out)  # type: ignore[arg-type]


def test_a_stage_timeout_after_the_worker_wrote_its_outputs_is_still_a_timeout(tmp_path, monkeypatch) -> None:
    """The worker's files are no verdict: a model can write export.json itself and then hang (a drill's
    model was stored as an ok export with forged numbers), so a stage timeout is a timeout, whatever
    files exist (the worker ends by os._exit once its outputs are written)."""
    with pytest.raises(processes.Timeout):
        _execute(tmp_path, True, monkeypatch)


def test_a_stage_timeout_before_the_outputs_is_still_a_timeout(tmp_path, monkeypatch) -> None:
    with pytest.raises(processes.Timeout):
        _execute(tmp_path, False, monkeypatch)
