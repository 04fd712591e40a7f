"""The ONNX front door (issue #38 item 3): the `onnx` form's spec, plan, export digests and the
compile's importer check."""

from __future__ import annotations

import json
import types
from pathlib import Path

import pytest

from iree_matrix import stages
from iree_matrix.core.errors import SpecError, StageSkipped
from iree_matrix.core.system import processes
from iree_matrix.core.system.process_request import Bounds
from iree_matrix.iree import versions
from iree_matrix.matrix import releases, spec, spec_file
from iree_matrix.stages import artifacts, onnx_import
from iree_matrix.stages.base import Context
from tests.unit.fake_index import INDEX, FakeIndex

BASE = (
    'python = "3.11"\ncompiler = ["3.9.0", "3.13.0"]\nmodels = "tiny_cnn"\n'
    'torch = "2.13.0"\nturbine = "3.9.0"\n'
)


def _load(tmp_path: Path, text: str) -> spec.MatrixSpec:
    path = tmp_path / "m.toml"
    path.write_text(text, encoding="utf-8")
    return spec_file.load(path, resolver=releases.Resolver(None, query=FakeIndex(INDEX)))


def test_onnx_opset_reads_the_form():
    assert spec.onnx_opset("onnx") == spec.DEFAULT_ONNX_OPSET == 17
    assert spec.onnx_opset("onnx:18") == 18
    assert spec.onnx_opset("text") is None
    assert spec.onnx_opset("bytecode") is None
    assert spec.onnx_opset("onnx18") is None


def test_an_opset_out_of_range_is_one_line(tmp_path):
    with pytest.raises(SpecError, match=r"forms = 'onnx:3': an ONNX opset between 7 and 30"):
        _load(tmp_path, BASE + 'forms = "onnx:3"\n')


def test_the_onnx_form_plans_its_own_export_and_importing_compilers(tmp_path):
    matrix = _load(tmp_path, BASE + 'forms = ["text", "onnx", "onnx:18"]\n')
    plan = stages.plan(matrix)
    by_id = {j.id: j for j in plan.jobs}
    exports = sorted(j.cell for j in plan.jobs if j.stage == "export")
    env = "py3.11-torch2.13.0-turbine3.9.0"
    assert exports == [
        f"tiny_cnn/{env}",
        f"tiny_cnn/{env}+onnx1.23.2-opset17",
        f"tiny_cnn/{env}+onnx1.23.2-opset18",
    ]
    onnx_export = by_id[f"export:tiny_cnn/{env}+onnx1.23.2-opset17"]
    assert onnx_export.label.form == "onnx:17"
    assert versions.ONNX_REQUIREMENT in onnx_export.env.requirements
    compile_id = f"compile:tiny_cnn/{env}+onnx1.23.2-opset17/iree3.13.0/x86_64/default"
    compiled = by_id[compile_id]
    assert compiled.label.form == "onnx:17"
    assert compiled.env.requirements == ("iree-base-compiler==3.13.0", versions.ONNX_REQUIREMENT)
    assert compiled.env.id == "py3.11-iree-compiler3.13.0+onnx1.23.2"
    assert onnx_export.id in compiled.deps
    # The text form keeps its ids and its compiler environment (no onnx in it).
    text = by_id[f"compile:tiny_cnn/{env}/iree3.13.0/x86_64/default"]
    assert text.label.form == "" and text.env.id == "py3.11-iree-compiler3.13.0"
    # Every compile of an ONNX export is run, against that export's torch outputs.
    run = by_id[f"run:tiny_cnn/{env}+onnx1.23.2-opset17/iree3.13.0/x86_64/default"]
    assert onnx_export.id in run.deps and compile_id in run.deps


def test_an_onnx_exports_digest_is_its_onnx_file(tmp_path):
    (tmp_path / "inputs").mkdir()
    (tmp_path / "reference").mkdir()
    (tmp_path / "model.onnx").write_bytes(b"onnx")
    (tmp_path / "export.json").write_text(json.dumps({"atol": 1e-4, "rtol": 1e-3, "function": "main_graph"}))
    digests = artifacts.export_digests(tmp_path)
    assert set(digests) == {"onnx_sha256", "io_sha256"}


class _NoImporter:
    """A compiler environment whose package has no import_onnx module (the probe exits 3)."""

    def __init__(self) -> None:
        self.argvs: list[list[str]] = []

    def python(self) -> str:
        return "python"

    def tool(self, name: str) -> str:
        return name

    def run(self, request):
        self.argvs.append(list(request.argv))
        return processes.Completed(request.argv, 3, "", "", 0.1)


def test_a_compiler_without_the_importer_is_a_skip_saying_so(tmp_path):
    env = _NoImporter()
    job = types.SimpleNamespace(label=types.SimpleNamespace(compiler="20231004.665", form="onnx:17"))
    ctx = types.SimpleNamespace(log=None, timeout=60, bounds=Bounds(60))
    ctx.request = lambda argv, **options: Context.request(ctx, argv, **options)  # type: ignore[arg-type]
    with pytest.raises(StageSkipped, match=r"IREE 20231004.665's compiler package ships no ONNX importer"):
        onnx_import.imported(env, job, ctx, tmp_path)  # type: ignore[arg-type]
    assert len(env.argvs) == 1 and "import_onnx" in env.argvs[0][-1]


def _onnx_records():
    from iree_matrix.core.model.results import Record, Status

    exporter = "py3.11-torch2.13.0-turbine3.9.0+onnx1.23.2-opset17"
    base = {"model": "tiny", "source_model": "tiny", "python": "3.11", "torch": "2.13.0", "turbine": "3.9.0",
            "exporter": exporter, "form": "onnx:17"}  # fmt: skip
    records = [Record(f"export:tiny/{exporter}", "export", f"tiny/{exporter}", "k", Status.OK, base,
                      {"onnx_sha256": "a" * 64, "onnx_opset": 17})]  # fmt: skip
    outcomes = {"3.3.0": (Status.FAIL, "error: failed to legalize operation 'torch.operator'"),
                "3.13.0": (Status.OK, ""),
                "20231004.665": (Status.SKIP, "ships no ONNX importer")}  # fmt: skip
    for compiler, (status, message) in outcomes.items():
        cell = f"tiny/{exporter}/iree{compiler}/x86_64/default"
        labels = {**base, "compiler": compiler, "arch": "x86_64", "profile": "default"}
        records.append(Record(f"compile:{cell}", "compile", cell, "k", status, labels, {}, message=message))
        if status is Status.OK:
            run_labels = {**labels, "runtime": compiler}
            records.append(Record(f"run:{cell}", "run", cell, "k", Status.OK, run_labels, {}))
    return records


def test_query_export_onnx_opset_lists_the_importing_compilers():
    from iree_matrix.findings import onnx

    answer = onnx.export(_onnx_records(), 17)
    assert answer.answer == "imports"
    text = answer.text()
    assert "imports and compiles: 3.13.0 (of 3 compilers tried)" in text
    assert "runs and matches torch: 3.13.0" in text
    assert "3.3.0: fail: error: failed to legalize operation 'torch.operator'" in text
    assert "20231004.665: skip: ships no ONNX importer" in text
    assert onnx.export(_onnx_records(), 18).answer == "not measured"


def test_the_install_answer_of_a_turbine_release_says_what_pip_gives_and_the_pin():
    from iree_matrix.findings import onnx

    lines = onnx.install_lines("2.5.1", "3.6.0")
    assert "gives iree-base-compiler 3.13.0 today" in lines[0] and "float8_e8m0fnu" in lines[0]
    assert "iree-base-compiler==3.6.0" in lines[1]
    # that pin imports and exports, but the process hangs at exit (issue #51 item 9)
    assert "never ends after it" in lines[1] and "PyGILState_Ensure" in lines[1]
    assert "hangs" not in onnx.install_lines("2.5.1", "3.2.0")[1]
    assert onnx.install_lines("2.13.0", "3.9.0")[0].endswith("Conv2d + ReLU)")
    assert onnx.install_lines("1.0", "0.1") == []


@pytest.mark.parametrize(
    ("main", "code", "said"),
    [
        ("", 0, ""),
        ("import iree.runtime as rt\n", 4, "iree.runtime"),  # iree-base-compiler 3.0.0's importer
        ("import no_such_package_here\n", 1, "ModuleNotFoundError"),  # else: the environment's fault
    ],
)
def test_the_importer_probe_tells_a_missing_runtime_from_a_damaged_environment(tmp_path, main, code, said):
    """iree-base-compiler 3.0.0's iree-import-onnx imports iree.runtime, which the compiler wheel does
    not install: the cell says so in one line with the fix, instead of "the environment is damaged"
    (a fresh environment fails the same way)."""
    import shutil
    import subprocess
    import sys

    package = tmp_path / "iree" / "compiler" / "tools" / "import_onnx"
    package.mkdir(parents=True)
    for part in (tmp_path / "iree", tmp_path / "iree" / "compiler", tmp_path / "iree" / "compiler" / "tools"):
        (part / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(main)
    done = subprocess.run(
        [sys.executable, "-c", onnx_import.HAS_IMPORTER], cwd=tmp_path, capture_output=True, text=True,
        env={"PYTHONPATH": str(tmp_path)},
    )  # fmt: skip
    assert done.returncode == code and said in done.stdout + done.stderr
    if code == 4:
        words = onnx_import.importer_needs("3.0.0", done.stdout)
        assert words == (
            "IREE 3.0.0's iree-import-onnx imports iree.runtime, which its compiler package does not "
            "install (No module named 'iree.runtime'): it cannot start without the runtime of the same "
            "release beside it: pip install 'iree-base-runtime==3.0.0'"
        )
    shutil.rmtree(package)
    gone = subprocess.run(
        [sys.executable, "-c", onnx_import.HAS_IMPORTER], cwd=tmp_path, env={"PYTHONPATH": str(tmp_path)}
    )
    assert gone.returncode == 3  # no importer at all: a skip
