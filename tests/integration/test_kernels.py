"""A kernel of one's own through the CLI, end to end on real torch / turbine / IREE 3.9.0 and a real
C compiler (Zig's clang from PyPI): the tiny test kernel (tests/data/kernels/negabs: -|a * b|)
built, swapped in, run and checked against torch; the same kernel on a model it does not apply to
("not applied", never run); a kernel computing the wrong thing (its mismatch blamed on it); one
that does not compile (the C compiler's first error) given with `--kernel`; one whose spec
iree-compile refuses (its words); one whose release window names another spec (taken by 3.9.0,
its default spec broken). Then `query kernel` answers from the records. And both test kernels
beside a dispatch of IREE's own, on 3.9.0 and 3.13.0."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from iree_matrix.core.model.results import Status
from iree_matrix.execution import abtest

from .conftest import EXPORTER, REPO, TomlValue, iree_matrix, iree_source, matrix_toml, records

pytestmark = [pytest.mark.integration, pytest.mark.shared_tmp]

DATA = REPO / "tests" / "data" / "kernels"
NEGABS = f"negabs_model-negabs/{EXPORTER}/iree3.9.0/x86_64/default"
PLAIN = f"negabs_model-plain_add/{EXPORTER}/iree3.9.0/x86_64/default"

NEGABS_MODELS = [f"{DATA}/negabs_model.py:negabs", f"{DATA}/negabs_model.py:plain_add"]


def _kernel_matrix(models: list[str], kernels: list[str], repetitions: int = 0, **keys: TomlValue) -> str:
    """A matrix of these models with these kernels, its axes written as lists (as a kernel's user
    writes them): the exporter every tier uses, IREE 3.9.0 unless `keys` say otherwise (and any other
    keys); a [benchmark] table of `repetitions` when given, else the tool's default."""
    axes: dict[str, TomlValue] = {"python": ["3.11"], "torch": ["2.13.0"], "turbine": ["3.9.0"]}
    axes |= {"compiler": ["3.9.0"], **keys}
    tables = {"benchmark": {"repetitions": repetitions}} if repetitions else {}
    return matrix_toml(**axes, models=models, kernels=kernels, tables=tables)


ANSWERS = ["negabs_wrong", "bad_spec", "windowed", "stacked", "unknown_flag", "crashing"]
MATRIX = _kernel_matrix(NEGABS_MODELS, [f"{DATA}/negabs", *ANSWERS], repetitions=1)


def _variant(tmp_path: Path, name: str, **keys: str) -> Path:
    """The test kernel copied under another name, for the negabs model only, keys added."""
    where = tmp_path / name
    shutil.copytree(DATA / "negabs", where)
    text = (where / "kernel.toml").read_text().replace('name = "negabs"', f'name = "{name}"')
    text += 'models = ["negabs_model-negabs"]\n' + "".join(f"{k} = {v}\n" for k, v in keys.items())
    (where / "kernel.toml").write_text(text)
    return where


def test_a_kernel_across_its_answers_then_query_kernel(cache: Path, tmp_path: Path) -> None:
    _variant(tmp_path, "negabs_wrong", cflags='["-DNEGABS_BIAS=0.5f"]')  # off by 0.5: wrong results
    bad_spec = _variant(tmp_path, "bad_spec")
    (bad_spec / "spec.mlir").write_text((bad_spec / "spec.mlir").read_text() + "\n#not_an_attribute<\n")
    # Specs by release window: 3.9.0 falls in the window, whose spec is the good one; the default
    # spec is refused by any compiler, so a compile that took it would fail.
    windowed = _variant(tmp_path, "windowed")
    # (its own bytes: a compile is keyed by the spec's content, and the same content and object as
    # negabs's would reuse negabs's compile, whose record names that kernel's spec)
    good = (windowed / "spec.mlir").read_text() + "\n// the window's spelling\n"
    (windowed / "spec-window.mlir").write_text(good)
    (windowed / "spec.mlir").write_text((windowed / "spec.mlir").read_text() + "\n#not_an_attribute<\n")
    with open(windowed / "kernel.toml", "a") as toml:
        toml.write('[[specs]]\nfile = "spec-window.mlir"\nfrom = "3.9.0"\nbefore = "3.10.0"\n')
    # Runtime flags a kernel's modules need (kernel.toml run_flags): every run passes them; one the
    # runtime does not know fails the run in its words. (The same sources and spec as negabs: the
    # object and the module are negabs's, only the runs are their own.)
    _variant(tmp_path, "stacked", run_flags='["--task_worker_stack_size=262144"]')
    _variant(tmp_path, "unknown_flag", run_flags='["--task_no_such_runtime_flag=1"]')
    # A kernel that writes far outside its output: the run dies of SIGSEGV, named as such.
    crashing = _variant(tmp_path, "crashing")
    (crashing / "negabs.c").write_text(
        "#include <stddef.h>\n"
        "void negabs_workgroup(float* a0, float* a, size_t ao, size_t as, size_t ast, float* b0, float* b,\n"
        "    size_t bo, size_t bs, size_t bst, float* o0, float* out, size_t oo, size_t os, size_t ost,\n"
        "    size_t first) { out[oo + first + ((size_t)1 << 40)] = 1.0f; }\n"
    )
    broken = _variant(tmp_path, "broken")
    (broken / "negabs.c").write_text("void negabs_workgroup(void) { return undeclared_name; }\n")
    matrix = tmp_path / "kernels.toml"
    matrix.write_text(MATRIX)
    results = tmp_path / "results"

    done = iree_matrix(
        "matrix", "--matrix", str(matrix), "--backend", "venv", "--kernel", str(broken),
        cache=cache, results=results, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr  # failures are answers (exit 1 only with --strict)
    got = records(results)

    built = got["kernel:negabs/x86_64/host"]
    assert built.status is Status.OK, built.message
    assert built.metrics["cc"].startswith("zig 0.15.1") and built.metrics["object_bytes"] > 0
    assert built.metrics["object_functions"] == ["negabs_workgroup"]

    # The kernel swapped in: the module differs from the kernel-less one, and its outputs match torch's.
    with_kernel = got[f"compile:{NEGABS}+k:negabs"]
    assert with_kernel.status is Status.OK, with_kernel.message
    facts = with_kernel.metrics["custom_kernel"]
    assert facts["applied"] and facts["baseline_job"] == f"compile:{NEGABS}"
    assert facts["functions_found"] == ["negabs_workgroup"]
    assert facts["object_sha256"] == built.metrics["object_sha256"]
    assert "--iree-preprocessing-transform-spec-filename=spec.mlir" in with_kernel.command
    assert got[f"run:{NEGABS}+k:negabs"].status is Status.OK
    assert got[f"run:{NEGABS}"].status is Status.OK

    # A model the spec matches nothing in: said, and never run as if it were the kernel's.
    plain = got[f"compile:{PLAIN}+k:negabs"]
    assert (plain.status, plain.error_class) == (Status.FAIL, "kernel-not-applied")
    assert (
        "matched nothing" in (plain.message or "") and plain.metrics["custom_kernel"]["identical_to_baseline"]
    )
    assert got[f"run:{PLAIN}+k:negabs"].status is Status.NOT_RUN

    # Wrong results: the kernel's error.
    wrong = got[f"run:{NEGABS}+k:negabs_wrong"]
    assert (wrong.status, wrong.error_class) == (Status.MISMATCH, "kernel-mismatch")
    assert "with kernel 'negabs_wrong'" in (wrong.message or "")

    # A spec iree-compile refuses: its words.
    refused = got[f"compile:{NEGABS}+k:bad_spec"]
    assert (refused.status, refused.error_class) == (Status.FAIL, "kernel-rejected"), refused.message
    assert "refuses its transform spec" in (refused.message or "")

    # The release's spec: the window's, named in the compile's record and command.
    took = got[f"compile:{NEGABS}+k:windowed"]
    assert took.status is Status.OK, took.message
    taken = took.metrics["custom_kernel"]
    assert taken["spec"] == "spec-window.mlir" and taken["applied"]
    assert "--iree-preprocessing-transform-spec-filename=spec-window.mlir" in took.command
    assert facts["spec"] == "spec.mlir"  # a kernel without windows: its one spec
    assert got[f"run:{NEGABS}+k:windowed"].status is Status.OK

    stacked = got[f"run:{NEGABS}+k:stacked"]
    assert stacked.status is Status.OK, stacked.message
    assert "--task_worker_stack_size=262144" in stacked.command
    assert stacked.key != got[f"run:{NEGABS}+k:negabs"].key  # the same module, run otherwise
    # What times it again (compare, calibrate, search, advise's sitting and proof) passes the flag
    # too, and one module with other run flags is another build: both timed, by the real tool.
    plain_arm = abtest.arm_of(got[f"run:{NEGABS}+k:negabs"], "negabs", [cache])
    stacked_arm = abtest.arm_of(stacked, "stacked", [cache])
    assert "--task_worker_stack_size=262144" in stacked_arm.argv
    assert stacked_arm.module == plain_arm.module
    timed = abtest.compare(plain_arm, stacked_arm, rounds=2, repetitions=1)
    assert len(timed.b_ms) == 2 and all(ms > 0 for ms in timed.b_ms), timed
    unknown = got[f"run:{NEGABS}+k:unknown_flag"]
    assert unknown.status is Status.FAIL and "task_no_such_runtime_flag" in (unknown.message or ""), (
        unknown.message
    )

    crashed = got[f"run:{NEGABS}+k:crashing"]
    assert (crashed.status, crashed.error_class) == (Status.FAIL, "kernel-crash"), crashed.message
    first = (crashed.message or "").splitlines()[0]
    assert "with kernel 'crashing'" in first and "the run died of SIGSEGV (Segmentation fault" in first, first
    assert "--device=local-sync" in first, first  # re-made there: no status from either call

    # A kernel that does not compile (given with --kernel): the C compiler's first error.
    c_error = got["kernel:broken/x86_64/host"]
    assert (c_error.status, c_error.error_class) == (Status.FAIL, "kernel-c-error")
    assert "negabs.c:1:" in (c_error.message or "") and "error:" in (c_error.message or "")
    assert got[f"compile:{NEGABS}+k:broken"].status is Status.NOT_RUN

    assert "## Your kernels across releases" in (results / "COMPATIBILITY.md").read_text()
    answered = _query("negabs", results)
    assert answered.returncode == 0, answered.stderr
    assert answered.stdout.splitlines()[0] == "x86_64: takes it in 3.9.0"
    assert "IREE 3.9.0: wrong results" in _query("negabs_wrong", results).stdout
    assert "IREE 3.9.0: does not build" in _query("broken", results).stdout


PLUGIN_MATRIX = _kernel_matrix(
    [f"{DATA}/negabs_model.py:negabs"], [f"{DATA}/negabs_plugin", "plugin_wrong"], repetitions=1
)


def test_a_kernel_as_a_runtime_plugin(cache: Path, tmp_path: Path) -> None:
    """The same test kernel by IREE's other mechanism: built by Zig's clang and lld into a standalone
    plugin against IREE's header (from the IREE source tarball), the spec declaring an import, the
    module loading the plugin at run (--executable_plugin=embedded:) and matching torch; a plugin
    computing the wrong thing blamed on the kernel. ~60 s."""
    wrong = tmp_path / "plugin_wrong"
    shutil.copytree(DATA / "negabs_plugin", wrong)
    toml = (wrong / "kernel.toml").read_text().replace('name = "negabs_plugin"', 'name = "plugin_wrong"')
    toml = toml.replace('object = "negabs_plugin.so"', 'cflags = ["-DNEGABS_BIAS=0.5f"]')  # and its own .so
    (wrong / "kernel.toml").write_text(toml)
    matrix = tmp_path / "plugin.toml"
    matrix.write_text(PLUGIN_MATRIX)
    results = _ran(matrix, cache, tmp_path)
    got = records(results)

    built = got["kernel:negabs_plugin/x86_64/host"]
    assert built.status is Status.OK, built.message
    assert built.metrics["mechanism"] == "plugin" and len(built.metrics["plugin_header_sha256"]) == 64
    assert built.metrics["object_functions"] == ["iree_hal_executable_plugin_query"]  # its one export

    compiled = got[f"compile:{NEGABS}+k:negabs_plugin"]
    assert compiled.status is Status.OK, compiled.message
    facts = compiled.metrics["custom_kernel"]
    assert facts["applied"] and facts["functions_found"] == ["negabs_workgroup"]  # the import, by name
    assert not any(a.startswith("--iree-hal-executable-object-search-path") for a in compiled.command)

    ran = got[f"run:{NEGABS}+k:negabs_plugin"]
    assert ran.status is Status.OK, ran.message
    loads = [a for a in ran.command if a.startswith("--executable_plugin=embedded:")]
    assert len(loads) == 1 and loads[0].endswith("/negabs_plugin.so")
    assert got[f"run:{NEGABS}"].status is Status.OK

    wrong_run = got[f"run:{NEGABS}+k:plugin_wrong"]
    assert (wrong_run.status, wrong_run.error_class) == (Status.MISMATCH, "kernel-mismatch")
    assert _query("negabs_plugin", results).stdout.splitlines()[0] == "x86_64: takes it in 3.9.0"


BESIDE_MATRIX = _kernel_matrix(
    [f"{DATA}/negabs_model.py:matmul_negabs"],
    [f"{DATA}/negabs", f"{DATA}/negabs_plugin"],
    compiler=["3.9.0", "3.13.0"],
    repetitions=1,
)


def test_the_test_kernels_beside_another_dispatch(cache: Path, tmp_path: Path) -> None:
    """Issue 82: both test kernels (embedded and plugin) in a model where IREE makes a dispatch of
    its own before theirs (a matmul: `vecmat_16x16_f32`), on 3.9.0 and 3.13.0. With the specs'
    earlier form (a hal.executable with its own variant) 3.9.0 ran wrong results (max abs err 9.95,
    `kernel-mismatch`) and 3.13.0 refused the module (`export '..._vecmat_16x16_f32' not found in
    library`); the "hal.executable.source" form applies and matches torch on both. ~2 min."""
    matrix = tmp_path / "beside.toml"
    matrix.write_text(BESIDE_MATRIX)
    results = _ran(matrix, cache, tmp_path)
    got = records(results)
    for release in ("3.9.0", "3.13.0"):
        cell = f"negabs_model-matmul_negabs/{EXPORTER}/iree{release}/x86_64/default"
        assert got[f"run:{cell}"].status is Status.OK, got[f"run:{cell}"].message
        for kernel in ("negabs", "negabs_plugin"):
            compiled = got[f"compile:{cell}+k:{kernel}"]
            assert compiled.status is Status.OK, compiled.message
            assert compiled.metrics["custom_kernel"]["functions_found"] == ["negabs_workgroup"]
            ran = got[f"run:{cell}+k:{kernel}"]
            assert (ran.status, ran.error_class) == (Status.OK, None), (release, kernel, ran.message)
    for kernel in ("negabs", "negabs_plugin"):
        assert _query(kernel, results).stdout.splitlines()[0] == "x86_64: takes it in 3.9.0, 3.13.0"


def test_a_status_local_task_hides_is_said_from_local_sync(cache: Path, tmp_path: Path) -> None:
    """The test kernel with its spec in the form that breaks beside other dispatches
    (tests/data/kernels/negabs_variant.mlir), in a model that reads its operands again after it, on
    3.9.0: local-task's run says only `ABORTED` (its fence's word); the record quotes the same call on
    local-sync, which names the cause (`binding count mismatch`). ~1 min."""
    variant = _variant(tmp_path, "variant")
    (variant / "spec.mlir").write_text((DATA / "negabs_variant.mlir").read_text())
    toml = (
        (variant / "kernel.toml").read_text().replace("negabs_model-negabs", "negabs_model-negabs_then_reads")
    )
    (variant / "kernel.toml").write_text(toml)
    matrix = tmp_path / "variant.toml"
    matrix.write_text(_kernel_matrix([f"{DATA}/negabs_model.py:negabs_then_reads"], ["variant"]))
    results = tmp_path / "results"
    done = iree_matrix("matrix", "--matrix", str(matrix), "--backend", "venv", cache=cache, results=results)
    assert done.returncode == 0, done.stderr
    ran = records(results)[
        f"run:negabs_model-negabs_then_reads/{EXPORTER}/iree3.9.0/x86_64/default+k:variant"
    ]
    first = (ran.message or "").splitlines()[0]
    assert ran.status is Status.FAIL and first.startswith(
        "ABORTED; while invoking native function hal.fence.await"
    )
    assert "the same call on --device=local-sync says:" in first and "binding count mismatch" in first, first


def _shipped_for(tmp_path: Path, kernel: str, name: str, model: str) -> Path:
    """A shipped kernel copied (its links followed) under another name, meant for `model` alone: the
    same sources and specs."""
    where = tmp_path / name
    shutil.copytree(REPO / "kernels" / kernel, where)
    toml = (where / "kernel.toml").read_text().replace(f'name = "{kernel}"', f'name = "{name}"')
    lines = [f'models = ["{model}"]' if ln.startswith("models =") else ln for ln in toml.splitlines()]
    (where / "kernel.toml").write_text("\n".join([*lines, ""]))  # (its line: before any [[specs]])
    return where


def test_the_depthwise_kernels_beside_other_dispatches(cache: Path, tmp_path: Path) -> None:
    """kernels/depthwise3x3_plugin (its declaration, C and required flags as shipped) in a tiny model
    where IREE's own 1x1 convolutions run before and after the depthwise block the kernel takes
    (tests/data/kernels/depthwise_model.py), on 3.9.0 and 3.13.0: applied and matching torch. The
    plugin's declaration names MobileNetV2's modules: its copy names the model's three (`depthwise`,
    `norm`, `act`, one call) and drops the stem's [[calls]]; its spec, written by the tool, imports the
    function the plugin resolves. (kernels/depthwise3x3's generated spec: tests/integration/
    test_kernel_generated.py runs it beside MobileNetV2's own 1x1 convolutions.) ~2 min."""
    model = "depthwise_model-depthwise_block"
    toml = _shipped_for(tmp_path, "depthwise3x3_plugin", "dw_plugin", model) / "kernel.toml"
    said = [ln for ln in toml.read_text().split("[[calls]]")[0].splitlines() if not ln.startswith("replaces")]
    toml.write_text(
        "\n".join([*said, 'replaces = { module = ["depthwise", "norm", "act"], together = true }', ""])
    )
    matrix = tmp_path / "dw.toml"
    models = [f"{DATA}/depthwise_model.py:depthwise_block"]
    matrix.write_text(_kernel_matrix(models, ["dw_plugin"], compiler=["3.9.0", "3.13.0"]))
    results = _ran(matrix, cache, tmp_path)
    got = records(results)
    for release in ("3.9.0", "3.13.0"):
        cell = f"{model}/{EXPORTER}/iree{release}/x86_64/default"
        compiled = got[f"compile:{cell}+k:dw_plugin"]
        assert compiled.status is Status.OK, compiled.message
        assert "depthwise3x3_bn_relu6_torch" in compiled.metrics["custom_kernel"]["functions_found"]
        ran = got[f"run:{cell}+k:dw_plugin"]
        assert (ran.status, ran.error_class) == (Status.OK, None), (release, ran.message)


def test_an_arm_object_with_default_visibility_is_refused(cache: Path, tmp_path: Path) -> None:
    """The test kernel compiled for armv6 by the real C compiler with its entry point left default:
    refused before any compile (IREE's ARM loaders never fill the PLT slots calls to it would take),
    naming the function and the fix; with `protected` it builds. Only the kernel jobs run."""
    exposed = _variant(tmp_path, "exposed", cflags='["-fvisibility=default"]')
    bound = _variant(tmp_path, "bound", cflags='["-fvisibility=protected"]')
    matrix = tmp_path / "arm.toml"
    matrix.write_text(_kernel_matrix(NEGABS_MODELS, [str(exposed), str(bound)], arch=["armv6"]))
    results = _kernel_jobs_only(matrix, cache, tmp_path)
    got = {r.job.split("/")[0]: r for r in records(results).values() if r.stage == "kernel"}
    refused = got["kernel:exposed"]
    assert (refused.status, refused.error_class) == (Status.FAIL, "kernel-c-error"), refused.message
    assert "negabs_workgroup has default visibility" in (refused.message or "")
    assert got["kernel:bound"].status is Status.OK, got["kernel:bound"].message


def test_a_kernel_of_two_sources_is_built_by_the_line_its_answer_prints(cache: Path, tmp_path: Path) -> None:
    """Issue 67: the answer's "build its object" line was the kernel job's last step alone, the
    link of the sources' objects, which fails where they were never compiled. The test kernel with
    a second source, built by the kernel stage (real Zig clang and lld); the line the answer prints
    from its record (advise's and a bundle's `kernel_build`), run as printed by a shell with the C
    compiler's environment first on PATH, compiles each source and links them: the object the
    compile would link, byte for byte."""
    from iree_matrix.advise.advise_sitting import build_command
    from iree_matrix.kernel import kernels as kernel_files

    two = _variant(tmp_path, "two_sources")
    (two / "helper.c").write_text(
        '__attribute__((visibility("protected"))) float negabs_helper(float x) { return x < 0 ? x : -x; }\n'
    )
    toml = (
        (two / "kernel.toml")
        .read_text()
        .replace('sources = ["negabs.c"]', 'sources = ["negabs.c", "helper.c"]')
    )
    (two / "kernel.toml").write_text(toml)
    matrix = tmp_path / "two.toml"
    matrix.write_text(_kernel_matrix(NEGABS_MODELS, [str(two)]))
    results = _kernel_jobs_only(matrix, cache, tmp_path)
    (built,) = [r for r in records(results).values() if r.stage == "kernel"]
    assert built.status is Status.OK, built.message
    line = build_command(built, kernel_files.load(two))
    assert line.count(" cc ") == 2 and " ld.lld -r negabs.c.o helper.c.o -o negabs.o" in line, line
    zig = list((cache / "envs" / "venv").glob("py3.11-ziglang*/bin/python"))
    assert zig, "no C compiler environment in the cache"
    env = {
        **os.environ,
        "PATH": f"{zig[0].parent}:{os.environ['PATH']}",
        "ZIG_GLOBAL_CACHE_DIR": str(tmp_path / "zig"),
    }
    # pasted before the compile, whose paths start where the user stands: the shell is back there
    ran = subprocess.run(
        ["bash", "-c", f"{line}\npwd"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == str(tmp_path)
    stored = cache / "store" / "kernel" / built.key / "objects" / "negabs.o"
    assert (two / "negabs.o").read_bytes() == stored.read_bytes()


def _ran(matrix: Path, cache: Path, tmp_path: Path) -> Path:
    """`matrix` run whole on the venv backend, with the IREE source the kernel tests share
    (`--iree-source`); its results directory."""
    results = tmp_path / "results"
    done = iree_matrix(
        "matrix", "--matrix", str(matrix), "--backend", "venv", "--iree-source", iree_source(),
        cache=cache, results=results, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return results


def _kernel_jobs_only(matrix: Path, cache: Path, tmp_path: Path) -> Path:
    """`matrix` run with only its kernel jobs (`--select 'kernel:*'`: the C builds, no model); its
    results directory."""
    results = tmp_path / "results"
    done = iree_matrix(
        "matrix", "--matrix", str(matrix), "--backend", "venv", "--select", "kernel:*",
        cache=cache, results=results, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return results


def _query(kernel: str, results: Path) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "iree_matrix", "query", "kernel", kernel, "--results-dir", str(results)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


def test_the_depthwise_kernel_against_a_plain_loop_on_the_host(cache: Path, tmp_path: Path) -> None:
    """kernels/depthwise3x3 built by the tool's kernel stage (Zig's clang, the host's CPU), then
    linked with its check_host.c by the same compiler and run: every entry the models take (3x3
    stride 1 and 2 with BatchNorm + ReLU6, the stem, and the 5x5 stride 1 and 2 MobileNetV3-small
    takes) against a double-precision loop, at the models' sizes and odd ones (channel tails,
    images smaller than the window)."""
    matrix = tmp_path / "dw.toml"
    matrix.write_text(_kernel_matrix(["mobilenet_v3_small"], [str(REPO / "kernels" / "depthwise3x3")]))
    results = _kernel_jobs_only(matrix, cache, tmp_path)
    (built,) = [r for r in records(results).values() if r.stage == "kernel"]
    assert built.status is Status.OK, built.message
    objects = list((cache / "store" / "kernel").glob("*/objects/depthwise3x3.o"))
    zig = list((cache / "envs" / "venv").glob("py3.11-ziglang*/bin/python"))
    assert objects and zig, (objects, zig)
    check = tmp_path / "check"
    source = REPO / "kernels" / "depthwise3x3" / "check_host.c"
    link = [
        str(zig[0]),
        "-m",
        "ziglang",
        "cc",
        "-O1",
        "-w",
        str(source),
        str(objects[0]),
        "-lm",
        "-o",
        str(check),
    ]
    linked = subprocess.run(link, capture_output=True, text=True, timeout=600)
    assert linked.returncode == 0, linked.stderr
    ran = subprocess.run([str(check)], capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0 and ran.stdout.rstrip().endswith("ok"), ran.stdout
    lines = ran.stdout.splitlines()
    assert (
        sum(ln.startswith("dw5x5 s1 ") for ln in lines) >= 3
        and sum(ln.startswith("dw5x5 s2 ") for ln in lines) >= 3
    )
    assert any(ln.startswith("stem ") for ln in lines) and any(ln.startswith("dw s2 ") for ln in lines)
