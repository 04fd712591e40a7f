"""Exporters that write byte-identical MLIR share one compile and one run: the compile key hashes
the MLIR's content and the run key the inputs/reference, never the exporter (pure logic, fakes)."""

from __future__ import annotations

from pathlib import Path

from iree_matrix.core.model.results import Record, Status
from iree_matrix.core.model.store import Entry
from iree_matrix.execution import execute
from iree_matrix.iree.flags import BUILTIN_PROFILES
from iree_matrix.matrix import plan
from iree_matrix.matrix.spec import Cell
from iree_matrix.stages import Context
from iree_matrix.stages import compile as compile_stage
from iree_matrix.stages import export as export_stage
from iree_matrix.stages.compile import CompileStage

DATA = Path(__file__).parent / "data"


def _ctx(turbine: str, mlir_sha: str, tmp_path: Path) -> tuple[plan.Job, Context]:
    cell = Cell("tiny_cnn", "3.11", "2.13.0", turbine, "3.9.0", "3.9.0", "x86_64", "default")
    export_env, compiler_env = export_stage.environment(cell), compile_stage.environment(cell)
    export = Record(f"export:tiny_cnn/{export_env.id}", "export", "c", f"export-key-{turbine}", Status.OK,
                    {"model": "tiny_cnn"}, {"mlir_sha256": mlir_sha})  # fmt: skip
    install = Record(f"install:{compiler_env.id}", "install", "c", "k", Status.OK, {},
                     env={"backend": "venv", "lock_digest": "lock-3.9.0", "python": "3.11.7"})  # fmt: skip
    labels = {"model": "tiny_cnn", "exporter": export_env.id, "compiler": "3.9.0", "arch": "x86_64",
              "profile": "default"}  # fmt: skip
    job = plan.Job("compile", f"tiny_cnn/{export_env.id}/iree3.9.0/x86_64/default", (export.job, install.job),
                   labels, compiler_env, profile=BUILTIN_PROFILES["default"], model="tiny_cnn")  # fmt: skip

    class Spec:
        class benchmark:
            @staticmethod
            def opts_in(key, unit, profile):
                return False

    deps = {export.job: Entry(export, tmp_path), install.job: Entry(install, tmp_path)}
    return job, Context(Spec(), None, None, deps, 60.0, tmp_path / "log")  # type: ignore[arg-type]


def test_identical_mlir_from_two_exporters_is_one_compile(tmp_path):
    a = CompileStage().key(*_ctx("3.8.0", "sha-same", tmp_path))
    b = CompileStage().key(*_ctx("3.9.0", "sha-same", tmp_path))
    c = CompileStage().key(*_ctx("3.9.0", "sha-other", tmp_path))
    assert a == b != c


def test_a_shared_result_is_published_under_each_jobs_own_id(tmp_path):
    job_a, _ = _ctx("3.8.0", "s", tmp_path)
    job_b, _ = _ctx("3.9.0", "s", tmp_path)
    made = Record(job_a.id, "compile", job_a.cell, "key", Status.OK, dict(job_a.labels), {"module_bytes": 5})
    shared = execute._as_job(made, job_b)
    assert shared.job == job_b.id and shared.labels["exporter"] == job_b.labels["exporter"]
    assert shared.key == made.key and shared.metrics == {"module_bytes": 5, "same_result_as": job_a.id}
