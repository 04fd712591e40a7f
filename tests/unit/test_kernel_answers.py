"""Kernel answers issue 82 corrected (pure logic, fakes): `query kernel` reads each job's newest
record, says "takes it" only where the kernel was applied, and takes `--cache`; a release before
3.4 refusing the 3.4+ spec spelling is pointed to a `[[specs]]` window; the executables of a spec in
the generated specs' form (the test kernels' too) are found; a compile crash the kernel causes is its own."""

from __future__ import annotations

from iree_matrix.core.model.results import Record, ResultsLog, Status, log_path
from iree_matrix.iree import compile_errors
from iree_matrix.kernel import spec_text
from iree_matrix.kernel.findings import kernel_windows
from iree_matrix.kernel.findings import kernels as kernel_answers
from iree_matrix.kernel.iree import spec_gen
from iree_matrix.kernel.stages.kernel_compiled import kernel_refused
from tests.unit.test_kernels import LARGE, NEGABS, SPEC_ERROR, _cell, _compiled, _records


def test_query_kernel_reads_each_jobs_newest_record(tmp_path, capsys) -> None:
    """Issue 82: a crash the same log later replaced by a match answered the query ("crashes"),
    against the run's own COMPATIBILITY.md (which reads the newest record per job); `--cache`, which
    the matrix run took, was refused."""
    from iree_matrix import cli

    records = _records()[:3]
    crash = Record(**{**records[2].__dict__, "status": Status.FAIL, "error_class": "kernel-crash",
                      "message": "with kernel 'negabs': the run died of SIGSEGV"})  # fmt: skip
    log = ResultsLog(log_path(tmp_path / "results"))
    for record in (records[0], records[1], crash, records[2]):  # the crash first, the match after it
        log.append(record)
    (verdict,) = kernel_windows.window([records[0], records[1], crash, records[2]], "negabs")
    assert verdict.verdict == kernel_windows.TAKES and verdict.reason == ""
    argv = ["query", "kernel", "negabs", "--results-dir", str(tmp_path / "results")]
    assert cli.main([*argv, "--cache", str(tmp_path / "cache")]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "x86_64: takes it in 3.9.0"


def test_query_kernel_takes_it_only_where_the_kernel_was_applied() -> None:
    """A matching run whose compile the records call `kernel-not-applied` ran IREE's own ops: no
    "takes it (compile not applied, …)"."""
    records = _records()[:3]
    records[1] = Record(
        **{**records[1].__dict__, "status": Status.FAIL, "error_class": "kernel-not-applied",
           "message": "its transform spec matched nothing"}
    )  # fmt: skip
    (verdict,) = kernel_windows.window(records, "negabs")
    assert verdict.verdict == kernel_windows.NOTHING, verdict
    assert (verdict.compile, verdict.load, verdict.match) == ("not applied", "not run", "not run")
    assert not kernel_answers.answer(records, "negabs").text().startswith("x86_64: takes it")


def test_a_run_by_another_runtime_of_an_applied_compile_takes_it() -> None:
    """A run's id is its compile's cell plus its runtime where they differ (the armv6 cells' run by a
    source-built runtime, …/rtsrc3.9.0+static): its match is the kernel's too (the published armv6
    rows read "compiles, not run" when only equal ids counted)."""
    records = _records()[:3]
    run = records[2]
    records[2] = Record(**{**run.__dict__, "job": run.job + "/rtsrc3.9.0+static"})
    (verdict,) = kernel_windows.window(records, "negabs")
    assert verdict.verdict == kernel_windows.TAKES, verdict


def test_a_release_before_3_4_refusing_the_count_spelling_points_to_a_specs_window() -> None:
    """Issue 82: 2.9.0-3.3.0 refuse the 3.4+ `count(...)` spelling; the refusal names the fix (a
    [[specs]] window with the older spelling) and the shipped example of one."""
    said = str(kernel_refused("mine", _compiled(1, SPEC_ERROR), "spec.mlir"))
    assert "refuses its transform spec" in said and "custom op 'count' is unknown" in said
    assert "give kernel.toml a [[specs]] window" in said and 'before = "3.4.0"' in said
    assert "or let the tool write the spec" in said
    assert "[[specs]]" not in str(kernel_refused("mine", _compiled(1, LARGE), "spec.mlir"))


def test_a_source_form_specs_executable_is_found() -> None:
    """`"hal.executable.source"() ({...}) {sym_name = ...}`: its attributes after the region
    (the generated specs' form, and the test kernels' since issue 82)."""
    after = '"hal.executable.source"() ({ builtin.module {} }) {sym_name = "dw3", sym_visibility = "private"}'
    assert spec_text.spec_executables(after) == ("dw3",)
    ir = (NEGABS.parent / "hswish_preprocessed_3.13.0.mlir").read_text()
    generated = spec_gen.spec(ir, {"6": "act Hardswish"}, spec_gen.Declaration("h", "f", module="act"), "h.o")
    assert spec_text.spec_executables(generated[0]) == ("h_0",)
    assert spec_text.spec_executables((NEGABS / "spec.mlir").read_text()) == ("negabs_executable",)


CRASH = "Stack dump:\n0.\tProgram arguments: iree-compile m.mlir\n#0 0x1 abort\n"


def test_a_compile_crash_the_kernel_causes_is_the_kernels_not_a_compiler_bug() -> None:
    """Issue 85: a crash with a kernel's flags or spec, in a cell that compiles without them, was
    called "a compiler bug, not an error in the model"; the kernel's flags or spec are the cause."""
    for alone in (_compiled(0), _compiled(1, CRASH)):  # without its spec: compiles; crashes too
        said = str(kernel_refused("dw", _compiled(1, CRASH), "spec.mlir", ("--iree-x=1",), alone))
        assert "compiler bug" not in said and "iree-compile crashed: caused by the kernel's" in said, said
    flags = str(kernel_refused("dw", _compiled(1, CRASH), "spec.mlir", ("--iree-x=1",), _compiled(1, CRASH)))
    assert "crashed: caused by the kernel's required flags;" in flags
    named = compile_errors.first_error(CRASH, compile_errors.KERNEL_CAUSE)
    assert named is not None and named.text().startswith("iree-compile crashed: caused by the kernel's spec")
    assert compile_errors.first_error(LARGE, "x") == compile_errors.first_error(LARGE)


def test_query_kernel_names_the_cpu_its_own_newest_runs_were_measured_on() -> None:
    """A published kernels log holds other kernels' runs and older sittings (results/kernels: the plugin's
    runs from a Zen 5, depthwise3x3's re-made on a Zen 4): "measured on" names the CPU of the asked
    kernel's own runs, the newest, not the first run of that architecture in the log."""
    from iree_matrix.core.model.host_identity import HostIdentity
    from iree_matrix.findings import other_cpus

    def cpu(family: str, model: str, llvm: str) -> HostIdentity:
        fields = {"cpu": "AMD EPYC", "family": family, "model": model, "llvm_cpu": llvm, "machine": "x86_64"}
        return HostIdentity.of({"identity": f"x86_64|AuthenticAMD|{family}|{model}", **fields})

    zen5, zen4 = cpu("26", "2", "znver5"), cpu("25", "17", "znver4")
    records = _records()[:3]
    other = Record(**{**records[2].__dict__, "job": "run:" + _cell("3.9.0").replace("negabs", "other"),
                      "labels": {**records[2].labels, "kernel": "other"}, "host": zen5})  # fmt: skip
    older = Record(**{**records[2].__dict__, "host": zen5})
    newer = Record(**{**records[2].__dict__, "host": zen4})
    for log in ([other, records[0], records[1], newer], [older, records[0], records[1], newer]):
        found = kernel_answers.answer(log, "negabs")
        lines = other_cpus.kernel_answer(found, log, zen4).lines
        assert f"  measured on {zen4.label()}" in lines, lines
        assert not any("znver5" in line for line in lines), lines
