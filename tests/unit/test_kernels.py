"""Kernels as an input (kernel/kernels.py, kernel/stages/kernel_build.py, the compile's kernel cells, query
kernel): kernel.toml read and checked in one line per mistake, `kernels` and `--kernel` planned as
an axis beside the kernel-less cells, the kernel in every key it affects, the C compiler's flags
and first error, and the verdicts `query kernel` derives from records (pure logic, fakes)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import pytest

from iree_matrix import stages
from iree_matrix.core.errors import SpecError
from iree_matrix.core.model.results import Record, ResultsLog, Status, log_path
from iree_matrix.core.model.store import Entry
from iree_matrix.core.system import processes
from iree_matrix.execution.workflow import PlanSettings, merged
from iree_matrix.iree import targets
from iree_matrix.iree.flags import BUILTIN_PROFILES
from iree_matrix.kernel import kernels
from iree_matrix.kernel.findings import kernel_windows
from iree_matrix.kernel.findings import kernels as kernel_answers
from iree_matrix.kernel.iree import custom_dispatch
from iree_matrix.kernel.stages import kernel_build as kernel_stage
from iree_matrix.kernel.stages import kernel_seam
from iree_matrix.kernel.stages.kernel_compiled import kernel_refused, not_applied_words, without_spec
from iree_matrix.matrix import plan, spec_file
from iree_matrix.matrix.settings import Layered
from iree_matrix.stages import Context
from iree_matrix.stages.compile import CompileStage
from tests.unit.builders import stage_labels

# A kernel's files are taken only from folders others may enter (core/system/shared_files.py).
pytestmark = pytest.mark.shared_tmp

NEGABS = Path(__file__).resolve().parents[1] / "data" / "kernels" / "negabs"
EXPORTER = "py3.11-torch2.13.0-turbine3.9.0"
BASE = f"tiny_cnn/{EXPORTER}/iree3.9.0/x86_64"

MATRIX = """
python = ["3.11"]
torch = ["2.13.0"]
turbine = ["3.9.0"]
compiler = ["3.9.0", "3.13.0"]
models = ["tiny_cnn", "mobilenet_v2"]
"""


def _kernel_dir(tmp_path: Path, dirname: str = "negabs", **changes: Any) -> Path:
    """A copy of the test kernel named after its directory, its kernel.toml's keys changed (None:
    removed)."""
    where = tmp_path / dirname
    shutil.copytree(NEGABS, where)
    lines = {}
    for line in (where / "kernel.toml").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            lines[key.strip()] = value.strip()
    lines["name"] = f'"{dirname}"'
    for key, value in changes.items():
        if value is None:
            lines.pop(key, None)
        else:
            lines[key] = value
    (where / "kernel.toml").write_text("".join(f"{k} = {v}\n" for k, v in lines.items()))
    return where


def _matrix(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "m.toml"
    path.write_text(MATRIX + extra)
    return path


# --- kernel.toml --------------------------------------------------------------------------------


def test_the_test_kernel_reads() -> None:
    kernel = kernels.load(NEGABS)
    assert (kernel.name, kernel.sources, kernel.spec, kernel.object) == (
        "negabs",
        ("negabs.c",),
        "spec.mlir",
        "negabs.o",
    )
    assert kernel.for_model("anything") and kernel.cflags == () and kernel.models == ()
    assert kernels.load(NEGABS / "kernel.toml") == kernel


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"sources": '["missing.c"]'}, "sources = 'missing.c': no such file"),
        ({"sources": '["../negabs/negabs.c"]'}, "sources = '../negabs/negabs.c': expected a .c file"),
        ({"spec": '"nope.mlir"'}, "spec = 'nope.mlir': no such file"),
        ({"object": '"other.o"'}, "object = 'other.o': the spec (spec.mlir) names no such object"),
        ({"object": '"dir/x.o"'}, "expected a bare file name ending in .o"),
        ({"colour": '"red"'}, "unknown key 'colour'"),
        ({"object": None}, "no 'object'"),
        ({"sources": '"negabs.c"'}, "sources = 'negabs.c': expected a list of C files"),
        ({"name": '"has space"'}, "name = 'has space': expected a name"),
        ({"cflags": '["-march=native"]'}, "cflags = '-march=native': the target's flags"),
        ({"cflags": '["-o", "x"]'}, "cflags = '-o'"),
    ],
)
def test_a_bad_kernel_is_one_line_naming_the_file_and_key(tmp_path: Path, changes: dict, said: str) -> None:
    where = _kernel_dir(tmp_path, **changes)
    if "name" in changes:  # _kernel_dir sets the name; put the bad one back
        text = (where / "kernel.toml").read_text().replace('name = "negabs"', f"name = {changes['name']}")
        (where / "kernel.toml").write_text(text)
    with pytest.raises(kernels.KernelError) as caught:
        kernels.load(where)
    message = str(caught.value)
    assert said in message and str(where / "kernel.toml") in message and "\n" not in message


def test_a_missing_kernel_directory_or_file_is_said(tmp_path: Path) -> None:
    with pytest.raises(kernels.KernelError, match="no such kernel directory"):
        kernels.load(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(kernels.KernelError, match="kernel.toml: no such file"):
        kernels.load(tmp_path / "empty")
    bad = _kernel_dir(tmp_path, "bad")
    (bad / "kernel.toml").write_text("name = ")
    with pytest.raises(kernels.KernelError, match="not valid TOML"):
        kernels.load(bad)


def test_configuration_spells_the_kernel_after_the_profile() -> None:
    from iree_matrix.core.model.configuration import Config

    assert Config.parse("default").with_kernel("negabs").profile_label == "default+k:negabs"
    assert Config.parse("default").with_kernel("").profile_label == "default"
    found = Config.parse("fast+loop-unrolling+k:negabs")
    assert (found.without_kernel().profile_label, found.kernel) == ("fast+loop-unrolling", "negabs")
    assert Config.parse("default").kernel == ""


def test_the_source_digest_follows_sources_headers_and_flags(tmp_path: Path) -> None:
    where = _kernel_dir(tmp_path)
    first = kernels.load(where).source_digest()
    (where / "extra.h").write_text("#define X 1\n")
    with_header = kernels.load(where).source_digest()
    flagged = kernels.load(_kernel_dir(tmp_path / "f", cflags='["-DNEGABS_BIAS=0.5f"]')).source_digest()
    assert len({first, with_header, flagged}) == 3


# --- the matrix file and the command line --------------------------------------------------------


def test_kernels_plan_each_cell_without_and_with_the_kernel(tmp_path: Path) -> None:
    _kernel_dir(tmp_path)
    matrix = spec_file.load(_matrix(tmp_path, 'kernels = ["negabs"]\n'))
    assert set(matrix.kernels) == {"negabs"}
    assert len(matrix.cells) == 2 * 2 * 2  # models x compilers x (without, with)
    the_plan = stages.plan(matrix)
    ids = {job.id for job in the_plan.jobs}
    assert f"compile:{BASE}/default" in ids and f"compile:{BASE}/default+k:negabs" in ids
    assert f"run:{BASE}/default+k:negabs" in ids
    assert "kernel:negabs/x86_64/host" in ids and "install:py3.11-ziglang0.15.1" in ids
    assert the_plan.count("kernel") == 1  # one object for every compiler and model on this target
    by_id = the_plan.by_id()
    with_kernel = by_id[f"compile:{BASE}/default+k:negabs"]
    assert {"kernel:negabs/x86_64/host", f"compile:{BASE}/default"} <= set(with_kernel.deps)
    assert with_kernel.label.kernel == "negabs" and with_kernel.label.profile == "default+k:negabs"
    assert by_id[f"compile:{BASE}/default"].label.kernel == ""
    run = by_id[f"run:{BASE}/default+k:negabs"]
    assert run.label.kernel == "negabs" and run.deps[1] == with_kernel.id
    kernel_job = by_id["kernel:negabs/x86_64/host"]
    assert kernel_job.label.kernel == "negabs" and kernel_job.deps == ("install:py3.11-ziglang0.15.1",)
    for job in the_plan.jobs:  # every job carries the labels its stage's records must
        stage_labels(job.labels, job.id, job.stage)


def test_a_kernel_meant_for_some_models_is_planned_for_those(tmp_path: Path) -> None:
    _kernel_dir(tmp_path, models='["mobilenet_v2"]')
    matrix = spec_file.load(_matrix(tmp_path, 'kernels = ["negabs"]\n'))
    assert {c.model for c in matrix.cells if c.kernel} == {"mobilenet_v2"}


def test_a_kernel_per_cpu_a_profile_compiles_for(tmp_path: Path) -> None:
    _kernel_dir(tmp_path)
    matrix = spec_file.load(_matrix(tmp_path, 'kernels = ["negabs"]\nprofiles = ["default", "generic"]\n'))
    ids = {job.id for job in stages.plan(matrix).jobs if job.stage == "kernel"}
    assert ids == {"kernel:negabs/x86_64/host", "kernel:negabs/x86_64/generic"}


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ('kernels = ["missing"]', "kernels: " + "{tmp}/missing: no such kernel directory"),
        ('kernels = ["negabs", "copy"]', "two kernels are both called 'negabs'"),
        ("kernels = [3]", "kernels = 3: expected a string"),
    ],
)
def test_a_bad_kernels_entry_is_one_line(tmp_path: Path, value: str, said: str) -> None:
    _kernel_dir(tmp_path)
    shutil.copytree(tmp_path / "negabs", tmp_path / "copy")
    with pytest.raises(SpecError) as caught:
        spec_file.load(_matrix(tmp_path, value + "\n"))
    assert said.format(tmp=tmp_path) in str(caught.value) and "\n" not in str(caught.value)


def test_the_command_lines_kernel_joins_the_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _kernel_dir(tmp_path)
    _kernel_dir(tmp_path, "other")
    path = _matrix(tmp_path, 'kernels = ["negabs"]\n')
    monkeypatch.chdir(tmp_path)
    settings = PlanSettings(matrix=path, results_dir=tmp_path / "r", cache=tmp_path / "c", kernels=("other",))
    layered = merged(Layered.read(path), settings)
    assert layered.data["kernels"] == ["negabs"]  # the file's, which the parse reads
    assert [k.directory for k in layered.kernels] == [(tmp_path / "other").resolve()]  # the option's
    assert layered.origins.get("kernels") == "--kernel"
    loads: list[Path] = []
    load = kernels.load
    monkeypatch.setattr(kernels, "load", lambda where: loads.append(where) or load(where))
    matrix = spec_file.parse(layered.data, path, kernels=layered.kernels)
    assert set(matrix.kernels) == {"negabs", "other"}
    assert loads == [path.parent / "negabs"]  # each directory read once: the option's is not read again


# --- the C compiler ------------------------------------------------------------------------------


def test_the_c_flags_name_the_target_and_cpu() -> None:
    x86 = targets.parse("x86_64")
    flags = custom_dispatch.cflags(x86, "host", ("-DX=1",))
    assert flags[:3] == ["-target", "x86_64-freestanding-none", "-mcpu=native"]
    assert "-ffreestanding" in flags and "-fvisibility=hidden" in flags and flags[-1] == "-DX=1"
    assert custom_dispatch.cflags(x86, "znver4")[2] == "-mcpu=znver4"
    assert custom_dispatch.cflags(x86, None)[2] == "-mcpu=baseline"
    armv6 = targets.parse("armv6")
    armv6_flags = custom_dispatch.cflags(armv6, "arm1176jzf-s")
    assert armv6_flags[1:3] == ["arm-freestanding-eabi", "-mcpu=arm1176jzf_s+vfp2"]
    assert "-mfloat-abi=softfp" in armv6_flags and "-mfloat-abi=softfp" not in flags
    pi4 = targets.parse("aarch64:cortex-a72")
    assert custom_dispatch.cflags(pi4, "cortex-a72")[1:3] == ["aarch64-freestanding-none", "-mcpu=cortex_a72"]


def test_the_c_compilers_first_error() -> None:
    output = (
        "negabs.c:3:1: warning: unused\nnegabs.c:12:5: error: use of undeclared identifier 'x'\n"
        "negabs.c:13:1: error: later\n"
    )
    assert custom_dispatch.first_c_error(output) == "negabs.c:12:5: error: use of undeclared identifier 'x'"
    assert custom_dispatch.first_c_error("error: unable to parse target\n") == "error: unable to parse target"
    assert custom_dispatch.first_c_error("all fine") == ""
    assert custom_dispatch.spec_refused("spec.mlir:4:3: error: unknown attribute", "spec.mlir")
    assert not custom_dispatch.spec_refused("model.mlir:4:3: error: failed to legalize", "spec.mlir")


# --- keys ----------------------------------------------------------------------------------------


def _record(job: str, stage: str, status: Status = Status.OK, metrics: Any = None, **labels: str) -> Record:
    return Record(job, stage, job.split(":", 1)[1], "k-" + job, status, labels, metrics or {})


def _compile_ctx(
    tmp_path: Path, object_sha: str = "obj", spec_sha: str = "spec", baseline: str = "base", needs: str = "",
    kernel: Any = None, specs: Any = None,
):  # fmt: skip
    install = Record("install:py3.11-iree-compiler3.9.0", "install", "c", "k", Status.OK, {},
                     env={"backend": "venv", "lock_digest": "lock-3.9.0", "python": "3.11.7"})  # fmt: skip
    export = _record(f"export:tiny_cnn/{EXPORTER}", "export", metrics={"mlir_sha256": "mlir"})
    built = _record("kernel:negabs/x86_64/host", "kernel",
                    metrics={"object_sha256": object_sha, "spec_sha256": spec_sha,
                             **({"specs_sha256": specs} if specs else {})},
                    kernel="negabs")  # fmt: skip
    without = _record(f"compile:{BASE}/default", "compile", metrics={"module_sha256": baseline})
    labels = {"model": "tiny_cnn", "exporter": EXPORTER, "compiler": "3.9.0", "arch": "x86_64",
              "profile": "default+k:negabs", "kernel": "negabs"}  # fmt: skip
    deps = (export.job, install.job, built.job, without.job)
    job = plan.Job("compile", f"{BASE}/default+k:negabs", deps, labels, None,  # type: ignore[arg-type]
                   profile=BUILTIN_PROFILES["default"], model="tiny_cnn")  # fmt: skip

    kernel = kernel or kernels.load(NEGABS)
    if needs:
        kernel = dataclasses.replace(kernel, requires_flags=(needs,))

    class Spec:
        kernels = {"negabs": kernel}

        class benchmark:
            @staticmethod
            def opts_in(key: str, unit: str, profile: str) -> bool:
                return False

    entries = {r.job: Entry(r, tmp_path) for r in (install, export, built, without)}
    return job, Context(Spec(), None, None, entries, 60.0, tmp_path / "log")  # type: ignore[arg-type]


def test_the_kernels_object_and_spec_are_in_the_compile_key(tmp_path: Path) -> None:
    key = CompileStage().key(*_compile_ctx(tmp_path))
    assert key == CompileStage().key(*_compile_ctx(tmp_path))
    assert key != CompileStage().key(*_compile_ctx(tmp_path, object_sha="other"))
    assert key != CompileStage().key(*_compile_ctx(tmp_path, spec_sha="other"))
    assert key != CompileStage().key(*_compile_ctx(tmp_path, baseline="other"))
    assert key != CompileStage().key(*_compile_ctx(tmp_path, needs="--iree-opt-data-tiling"))


def test_requires_flags(tmp_path: Path) -> None:
    kernel = kernels.load(_kernel_dir(tmp_path, requires_flags='["--iree-opt-data-tiling"]'))
    assert kernel.requires_flags == ("--iree-opt-data-tiling",)
    with pytest.raises(kernels.KernelError, match="not a flag a kernel may ask for"):
        kernels.load(_kernel_dir(tmp_path / "b", requires_flags='["-O3"]'))


def _kernel_ctx(tmp_path: Path, kernel: kernels.Kernel, lock: str = "zig-lock") -> tuple[plan.Job, Context]:
    install = Record("install:py3.11-ziglang0.15.1", "install", "c", "k", Status.OK, {},
                     env={"backend": "venv", "lock_digest": lock, "python": "3.11.7"})  # fmt: skip
    job = plan.Job("kernel", "negabs/x86_64/znver4", (install.job,), {"kernel": "negabs", "arch": "x86_64"},
                   kernel_stage.environment("3.11"))  # fmt: skip

    class Spec:
        kernels = {"negabs": kernel}

    return job, Context(Spec(), None, None, {install.job: Entry(install, tmp_path)}, 60.0, tmp_path / "log")  # type: ignore[arg-type]


def test_the_kernel_key_holds_sources_spec_flags_and_the_c_compiler(tmp_path: Path) -> None:
    where = _kernel_dir(tmp_path)
    kernel = kernels.load(where)
    key = kernel_stage.STAGE.key(*_kernel_ctx(tmp_path, kernel))
    assert kernel_stage.job_cpu(_kernel_ctx(tmp_path, kernel)[0]) == "znver4"
    assert key != kernel_stage.STAGE.key(*_kernel_ctx(tmp_path, kernel, lock="another zig"))
    (where / "negabs.c").write_text((where / "negabs.c").read_text() + "\n// changed\n")
    changed_source = kernel_stage.STAGE.key(*_kernel_ctx(tmp_path, kernel))
    (where / "spec.mlir").write_text((where / "spec.mlir").read_text() + "\n// changed\n")
    changed_spec = kernel_stage.STAGE.key(*_kernel_ctx(tmp_path, kernel))
    assert len({key, changed_source, changed_spec}) == 3


# --- words ---------------------------------------------------------------------------------------


def test_a_mismatch_with_a_kernel_blames_the_kernel() -> None:
    said = kernel_seam.blamed("negabs", "outputs differ from torch: max abs err 0.5")
    assert said.startswith("with kernel 'negabs' (the kernel's error, not IREE's")
    assert kernel_seam.blamed("", "outputs differ") == "outputs differ"
    assert "matched nothing" in not_applied_words("negabs") and "byte for byte" in not_applied_words("negabs")


def _compiled(returncode: int, output: str = "") -> processes.Completed:
    return processes.Completed(("iree-compile",), returncode, output, "", 1.0)


LARGE = "model.mlir:1268:12: error: One or more operations with large vector sizes (32768 bytes) were found:"
SPEC_ERROR = "spec.mlir:59:67: error: custom op 'count' is unknown (tried 'builtin.count' as well)"


def test_a_refusal_the_kernels_flags_alone_give_is_said_to_be_the_flags() -> None:
    """YOLOX-nano: the kernel cell fails, and the same compile with the kernel's required flags but
    without its spec fails too: the refusal is the flags' with this configuration, not the kernel's."""
    needs = ("--iree-preprocessing-pass-pipeline=X",)
    said = str(kernel_refused("dw", _compiled(1, LARGE), "spec.mlir", needs, _compiled(1, LARGE)))
    assert "refuses the kernel's required flags (--iree-preprocessing-pass-pipeline=X) with this" in said
    assert "spec or not" in said and "large vector sizes (32768 bytes)" in said
    assert "refuses it " not in said
    # Without its spec it compiles: the spec or object is what the compiler refuses.
    said = str(kernel_refused("dw", _compiled(1, SPEC_ERROR), "spec.mlir", needs, _compiled(0)))
    assert "refuses its transform spec (the cell compiles without it)" in said and "'count'" in said
    # A kernel with no flags of its own is never retried: the kernel is what it refuses.
    said = str(kernel_refused("dw", _compiled(1, LARGE), "spec.mlir"))
    assert "refuses it (the cell compiles without it)" in said


def test_the_retry_without_the_spec_drops_only_the_flags_that_swap_the_kernel_in(tmp_path: Path) -> None:
    spec, objects = (
        f"{flag}=x" for flag in (custom_dispatch.TRANSFORM_SPEC_FLAG, custom_dispatch.OBJECT_SEARCH_PATH_FLAG)
    )
    argv = ["iree-compile", "model.mlir", "--iree-opt-data-tiling=true", spec, objects,
            "-o", "out/module.vmfb", "--iree-llvmcpu-target-cpu=host"]  # fmt: skip
    again = without_spec(argv, tmp_path / "w.vmfb")
    out = str(tmp_path / "w.vmfb")
    assert again == [
        "iree-compile",
        "model.mlir",
        "--iree-opt-data-tiling=true",
        "-o",
        out,
        "--iree-llvmcpu-target-cpu=host",
    ]


# --- query kernel --------------------------------------------------------------------------------


def _cell(release: str, model: str = "m") -> str:
    return f"{model}/{EXPORTER}/iree{release}/x86_64/default+k:negabs"


def _records() -> list[Record]:
    labels = {"kernel": "negabs", "arch": "x86_64"}
    return [
        _record("kernel:negabs/x86_64/host", "kernel", **labels),
        _record(f"compile:{_cell('3.9.0')}", "compile", compiler="3.9.0", **labels),
        _record(f"run:{_cell('3.9.0')}", "run", compiler="3.9.0", runtime="3.9.0", **labels),
        _record(f"compile:{_cell('3.9.0', 'other')}", "compile", Status.FAIL, compiler="3.9.0", **labels),
        _record(f"compile:{_cell('3.13.0')}", "compile", Status.FAIL, compiler="3.13.0", **labels),
        _record(f"compile:{_cell('3.11.0')}", "compile", compiler="3.11.0", **labels),
        _record(f"run:{_cell('3.11.0')}", "run", Status.MISMATCH, compiler="3.11.0", **labels),
        _record(f"compile:{_cell('3.8.0')}", "compile", Status.FAIL, compiler="3.8.0", **labels),
    ]


def test_query_kernel_says_each_releases_verdict_with_its_evidence() -> None:
    records = _records()
    # The failures as their stages write them.
    records[3] = Record(
        **{**records[3].__dict__, "error_class": "kernel-not-applied", "message": "not applied"}
    )
    refused = "with kernel 'negabs' this iree-compile refuses its spec: bad"
    records[4] = Record(**{**records[4].__dict__, "error_class": "kernel-rejected", "message": refused})
    records[6] = Record(
        **{**records[6].__dict__, "error_class": "kernel-mismatch", "message": "with kernel 'negabs': differ"}
    )
    records[7] = Record(
        **{**records[7].__dict__, "error_class": "kernel-not-applied", "message": "not applied"}
    )
    verdicts = {v.release: v for v in kernel_windows.window(records, "negabs")}
    assert list(verdicts) == ["3.8.0", "3.9.0", "3.11.0", "3.13.0"]
    assert verdicts["3.9.0"].verdict == kernel_windows.TAKES
    assert verdicts["3.9.0"].evidence[0] == "kernel:negabs/x86_64/host"
    assert f"run:{_cell('3.9.0')}" in verdicts["3.9.0"].evidence
    assert verdicts["3.11.0"].verdict == kernel_windows.WRONG and "differ" in verdicts["3.11.0"].reason
    assert (
        verdicts["3.13.0"].verdict == kernel_windows.REFUSED
        and "refuses its spec" in verdicts["3.13.0"].reason
    )
    assert verdicts["3.8.0"].verdict == kernel_windows.NOTHING
    answer = kernel_answers.answer(records, "negabs")
    assert answer.answer == kernel_windows.TAKES and answer.decided
    text = answer.text()
    assert text.splitlines()[0] == "x86_64: takes it in 3.9.0"
    assert "IREE 3.13.0: refused (compile refused, load not run, match not run)" in text
    assert answer.as_json()["data"]["releases"][0]["release"] == "3.8.0"


def test_a_bare_query_kernel_asks_the_published_kernels_set(tmp_path, monkeypatch, capsys) -> None:
    """Kernels are measured in their own published set (results/kernels), not in the model results:
    `query kernel NAME` without --results-dir answers from it (it said "no kernel was measured")."""
    from iree_matrix import cli

    ResultsLog(log_path(tmp_path / "results")).append(_records()[1])  # the models' set: no kernel verdict
    log = ResultsLog(log_path(tmp_path / "results" / "kernels"))
    for record in _records():
        log.append(record)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["query", "kernel", "negabs"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "x86_64: takes it in 3.9.0"
    # --results-dir names the set asked, kernels or not
    assert cli.main(["query", "kernel", "negabs", "--results-dir", "results"]) == 0
    assert cli.main(["query", "kernel", "negabs", "--results-dir", str(tmp_path / "nothing")]) == 2


def test_query_kernel_of_a_kernel_not_measured() -> None:
    answer = kernel_answers.answer(_records(), "other")
    assert not answer.decided and "the kernels measured: negabs" in answer.text()


def test_a_kernel_that_does_not_build_is_its_releases_answer() -> None:
    labels = {"kernel": "negabs", "arch": "x86_64"}
    records = [
        Record("kernel:negabs/x86_64/host", "kernel", "c", "k", Status.FAIL, labels,
               error_class="kernel-c-error",
               message="kernel 'negabs' does not compile: negabs.c:1:1: error: x"),
        Record(f"compile:{_cell('3.9.0')}", "compile", "c", "", Status.NOT_RUN,
               {**labels, "compiler": "3.9.0"}, blocked_by="kernel:negabs/x86_64/host"),
    ]  # fmt: skip
    (verdict,) = kernel_windows.window(records, "negabs")
    assert verdict.verdict == kernel_windows.NO_BUILD and "negabs.c:1:1: error: x" in verdict.reason


# --- show --commands -----------------------------------------------------------------------------


def test_a_kernel_cells_commands_build_the_object_before_the_compile(tmp_path: Path) -> None:
    from iree_matrix.stages import shell_commands

    labels = {"kernel": "negabs", "arch": "x86_64", "compiler": "3.9.0", "profile": "default+k:negabs"}
    export = Record(
        f"export:m/{EXPORTER}", "export", f"m/{EXPORTER}", "ke", Status.OK, {}, command=("python", "x")
    )
    built = Record("kernel:negabs/x86_64/host", "kernel", "negabs/x86_64/host", "kk", Status.OK,
                   {"kernel": "negabs", "arch": "x86_64"}, {"object_sha256": "o"},
                   command=("python", "-m", "ziglang", "cc", "-c", "negabs.c"))  # fmt: skip
    cell = f"m/{EXPORTER}/iree3.9.0/x86_64/default+k:negabs"
    linked = {"custom_kernel": {"object_sha256": "o"}}
    compiled = Record(f"compile:{cell}", "compile", cell, "kc", Status.OK, labels, linked,
                      command=("iree-compile", "model.mlir"))  # fmt: skip
    run = Record(f"run:{cell}", "run", cell, "kr", Status.OK, {**labels, "runtime": "3.9.0"},
                 command=("iree-run-module",))  # fmt: skip
    text = shell_commands.cell_commands(
        run, [export, built, compiled, run], tmp_path / "store", tmp_path / "cache"
    )
    assert text.index("ziglang cc") < text.index("iree-compile model.mlir") < text.index("iree-run-module")
    assert f"{tmp_path}/store/kernel/kk/src" in text


def test_compatibility_md_has_a_kernels_window() -> None:
    from iree_matrix.kernel.report import custom_kernels

    lines = custom_kernels.render(_records())
    assert lines[0] == "## Your kernels across releases" and "### negabs" in lines
    assert any("| x86_64 | 3.9.0  | takes it" in line for line in lines)
    assert custom_kernels.render([]) == []


def test_compat_json_holds_the_kernels_window_and_validates() -> None:
    from iree_matrix.findings import compat

    document = compat.derive(_records())
    compat.validate(document)
    (entry,) = document["kernels"]
    assert entry["kernel"] == "negabs" and {r["release"] for r in entry["releases"]} >= {"3.9.0", "3.13.0"}
    assert "kernels" not in compat.derive([])


def test_a_runtime_refusing_a_cross_does_not_hide_a_run_that_matched() -> None:
    labels = {"kernel": "negabs", "arch": "x86_64", "compiler": "3.9.0"}
    records = [
        _record(f"compile:{_cell('3.9.0')}", "compile", **labels),
        _record(f"run:{_cell('3.9.0')}", "run", runtime="3.9.0", **labels),
        _record(f"run:{_cell('3.9.0')}/rt3.13.0", "run", Status.FAIL, runtime="3.13.0", **labels),
    ]
    (verdict,) = kernel_windows.window(records, "negabs")
    assert verdict.verdict == kernel_windows.TAKES and verdict.load == "loads"


def _object(wide: bool, symbols: list[tuple[str, int, int]]) -> bytes:
    """A minimal relocatable ELF (header, null, .symtab, .strtab): `symbols` as (name, st_info,
    st_shndx)."""
    import struct

    strtab = b"\0" + b"".join(name.encode() + b"\0" for name, _, _ in symbols)
    offsets, at = [], 1
    for name, _, _ in symbols:
        offsets.append(at)
        at += len(name) + 1
    if wide:
        entries = [struct.pack("<IBBHQQ", 0, 0, 0, 0, 0, 0)]
        entries += [
            struct.pack("<IBBHQQ", o, info, 0, shndx, 0, 0) for o, (_, info, shndx) in zip(offsets, symbols)
        ]
    else:
        entries = [struct.pack("<IIIBBH", 0, 0, 0, 0, 0, 0)]
        entries += [
            struct.pack("<IIIBBH", o, 0, 0, info, 0, shndx) for o, (_, info, shndx) in zip(offsets, symbols)
        ]
    symtab = b"".join(entries)
    header_size, section_size = (64, 64) if wide else (52, 40)
    symtab_at = header_size
    strtab_at = symtab_at + len(symtab)
    shoff = strtab_at + len(strtab)
    entsize = 24 if wide else 16
    section = "<IIQQQQIIQQ" if wide else "<IIIIIIIIII"
    sections = [
        struct.pack(section, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        struct.pack(section, 0, 2, 0, 0, symtab_at, len(symtab), 2, 1, 8, entsize),
        struct.pack(section, 0, 3, 0, 0, strtab_at, len(strtab), 0, 0, 1, 0),
    ]
    ident = b"\x7fELF" + bytes([2 if wide else 1, 1, 1]) + bytes(9)
    fields = "<HHIQQQIHHHHHH" if wide else "<HHIIIIIHHHHHH"
    header = ident + struct.pack(fields, 1, 62 if wide else 40, 1, 0, 0, shoff, 0, header_size, 0, 0,
                                 section_size, 3, 2)  # fmt: skip
    return header + symtab + strtab + b"".join(sections)


@pytest.mark.parametrize("wide", [True, False])
def test_the_functions_an_object_defines(wide: bool) -> None:
    from iree_matrix.iree import elf

    blob = _object(wide, [("kernel_a", 0x12, 1), ("hidden_b", 0x12, 1), ("local_c", 0x02, 1),
                          ("undefined_d", 0x12, 0), ("data_e", 0x11, 1), ("weak_f", 0x22, 1)])  # fmt: skip
    assert elf.defined_functions(blob) == ["kernel_a", "hidden_b", "weak_f"]
    assert elf.defined_functions(b"not an object") == [] and elf.defined_functions(blob[:70]) == []


# --- specs by release window ---------------------------------------------------------------------


def _windowed(tmp_path: Path, windows: str) -> Path:
    where = _kernel_dir(tmp_path)
    shutil.copyfile(where / "spec.mlir", where / "spec-old.mlir")
    with open(where / "kernel.toml", "a") as toml:
        toml.write(windows)
    return where


def test_a_compile_takes_its_releases_spec(tmp_path: Path) -> None:
    where = _windowed(tmp_path, '[[specs]]\nfile = "spec-old.mlir"\nbefore = "3.4.0"\n')
    kernel = kernels.load(where)
    assert kernel.spec_windows == (kernels.SpecWindow("spec-old.mlir", "", "3.4.0"),)
    assert [kernel.spec_for(r) for r in ("2.9.0", "3.3.0", "3.4.0", "3.13.0")] == [
        "spec-old.mlir", "spec-old.mlir", "spec.mlir", "spec.mlir",
    ]  # fmt: skip
    assert kernel.spec_for("20240410.865") == "spec-old.mlir"  # the date releases came before 2.9.0
    assert kernel.spec_files() == ("spec.mlir", "spec-old.mlir")
    # Every spec is in the kernel's key: a change to the old one rebuilds the entry that holds it.
    before = kernel.spec_digest()
    (where / "spec-old.mlir").write_text((where / "spec-old.mlir").read_text() + "\n// changed\n")
    assert kernel.spec_digest() != before
    bounded = kernels.SpecWindow("x.mlir", "3.0.0", "3.4.0")
    assert [bounded.holds(r) for r in ("2.9.0", "3.0.0", "3.3.0", "3.4.0")] == [False, True, True, False]


def test_a_kernel_without_windows_keeps_its_spec_digest(tmp_path: Path) -> None:
    kernel = kernels.load(_kernel_dir(tmp_path))
    assert kernel.spec_windows == () and kernel.spec_for("2.9.0") == "spec.mlir"
    from iree_matrix.core.hashing import file_sha256

    assert kernel.spec_digest() == file_sha256(kernel.directory / "spec.mlir")  # stored keys stay valid


@pytest.mark.parametrize(
    ("windows", "said"),
    [
        ('[[specs]]\nfile = "spec-old.mlir"\n', "no window"),
        ('[[specs]]\nbefore = "3.4.0"\n', "no file"),
        ('[[specs]]\nfile = "gone.mlir"\nbefore = "3.4.0"\n', "specs[0].file = 'gone.mlir': no such file"),
        ('[[specs]]\nfile = "spec-old.mlir"\nbefore = "soon"\n', "specs[0].before = 'soon': expected an"),
        ('[[specs]]\nfile = "spec-old.mlir"\nfrom = "3.4.0"\nbefore = "3.0.0"\n', "an empty window"),
        ('[[specs]]\nfile = "spec-old.mlir"\nuntil = "3.4.0"\n', "expected keys file, from, before"),
        ('specs = ["spec-old.mlir"]\n', "expected tables [[specs]]"),
    ],
)
def test_a_bad_spec_window_is_one_line(tmp_path: Path, windows: str, said: str) -> None:
    where = _windowed(tmp_path, windows)
    with pytest.raises(kernels.KernelError) as caught:
        kernels.load(where)
    assert said in str(caught.value) and "\n" not in str(caught.value)


def test_a_windowed_spec_must_name_the_object(tmp_path: Path) -> None:
    where = _windowed(tmp_path, '[[specs]]\nfile = "spec-old.mlir"\nbefore = "3.4.0"\n')
    (where / "spec-old.mlir").write_text("// names no object\n")
    with pytest.raises(kernels.KernelError, match=r"the spec \(spec-old.mlir\) names no such object"):
        kernels.load(where)


def test_the_compile_key_and_record_take_the_releases_spec(tmp_path: Path) -> None:
    """The kernel entry holds every spec; a 3.9.0 compile keys and reads the window's, by name."""
    where = _windowed(tmp_path, '[[specs]]\nfile = "spec-old.mlir"\nfrom = "3.9.0"\nbefore = "3.10.0"\n')
    kernel = kernels.load(where)
    job, ctx = _compile_ctx(tmp_path, kernel=kernel, specs={"spec.mlir": "new", "spec-old.mlir": "old"})
    (tmp_path / "specs").mkdir()  # the kernel entry (its record's path: tmp_path)
    for name in kernel.spec_files():
        shutil.copyfile(where / name, tmp_path / "specs" / name)
    assert kernel_seam.spec_for(job, ctx, kernel, None, None).name == "spec-old.mlir"
    assert kernel_seam.spec_digest(job, ctx, kernel) == "old"
    later = dataclasses.replace(job, labels={**job.labels, "compiler": "3.13.0"})
    assert kernel_seam.spec_for(later, ctx, kernel, None, None).name == "spec.mlir"
    assert kernel_seam.spec_digest(later, ctx, kernel) == "new"
    assert CompileStage().key(job, ctx) != CompileStage().key(later, ctx)


def test_a_kernels_directory_is_shown_relative_to_the_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Answers print the directory relative to where the tool ran, or to its checkout; a directory
    outside both as it was given: never a machine's absolute path to a checkout (issue 67)."""
    repo = NEGABS.parents[3]
    kernel = kernels.load(NEGABS)  # absolute, as settings make a --kernel
    monkeypatch.chdir(repo)
    assert kernel.shown_directory() == "tests/data/kernels/negabs"
    assert kernel.shown_directory(cwd=repo / "tests") == "data/kernels/negabs"
    monkeypatch.chdir(tmp_path)  # elsewhere: the checkout the package runs from
    assert kernel.shown_directory() == "tests/data/kernels/negabs"
    outside = kernels.load(_kernel_dir(tmp_path / "own"))
    assert outside.shown_directory() == "own/negabs"  # inside the working directory
    assert outside.shown_directory(cwd=repo) == str(tmp_path / "own" / "negabs")  # as given


def test_a_plugin_kernel_cells_commands_load_the_plugin_in_the_run(tmp_path: Path) -> None:
    """`show --commands` of a plugin kernel's run cell: the run as recorded carries the plugin's flag
    (the module alone is refused at load), and the note says the plugin is the run's input, not an
    object beside the compile."""
    from iree_matrix.stages import shell_commands

    labels = {"kernel": "negabs_plugin", "arch": "x86_64", "compiler": "3.9.0",
              "profile": "default+k:negabs_plugin"}  # fmt: skip
    built = Record("kernel:negabs_plugin/x86_64/host", "kernel", "negabs_plugin/x86_64/host", "kp", Status.OK,
                   {"kernel": "negabs_plugin", "arch": "x86_64"}, {"mechanism": "plugin"},
                   command=("python", "-m", "ziglang", "ld.lld", "-shared", "x.o", "-o", "p.so"))  # fmt: skip
    cell = f"m/{EXPORTER}/iree3.9.0/x86_64/default+k:negabs_plugin"
    compiled = Record(f"compile:{cell}", "compile", cell, "kc", Status.OK, labels, {"custom_kernel": {}},
                      command=("iree-compile", "model.mlir"))  # fmt: skip
    plugin = f"--executable_plugin=embedded:{tmp_path}/store/kernel/kp/objects/negabs_plugin.so"
    run = Record(f"run:{cell}", "run", cell, "kr", Status.OK, {**labels, "runtime": "3.9.0"},
                 command=("iree-run-module", "--module=m.vmfb", plugin, "--function=main"))  # fmt: skip
    text = shell_commands.cell_commands(run, [built, compiled, run], tmp_path / "store", tmp_path / "cache")
    run_line = next(line for line in text.splitlines() if line.startswith("iree-run-module"))
    assert plugin in run_line
    assert f"the run loads the plugin from {tmp_path}/store/kernel/kp/objects" in text
    assert "and the object of" not in text
