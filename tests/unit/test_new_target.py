"""A new CPU target is one entry in iree/targets.py's table (CONTRIBUTING.md, "Adding a CPU target"):
a fake armv7 hard-float target (a Raspberry Pi 2's Cortex-A7 under Raspberry Pi OS 32-bit), added
here and nowhere else, is taken by every reader of target facts — the matrix file's `arch`, the
plan (a runtime built from source, cross), the runtime build's toolchain and CMake flags, the
toolchain image's packages, the kernel check of the compile stage and of `readelf`, BOARDS.md's
sections and RAM, and `query --arch` by the board's name."""

from __future__ import annotations

from pathlib import Path

import pytest

from iree_matrix import stages
from iree_matrix.core.model.results import Record, Status
from iree_matrix.findings import query
from iree_matrix.images import debian
from iree_matrix.iree import elf, targets
from iree_matrix.matrix import spec_file
from iree_matrix.report import boards
from iree_matrix.source_builds import cmake_runtime
from iree_matrix.stages import compile as compile_stage

ARMV7HF = targets.Arch(
    "armv7hf",
    "armv7-unknown-linux-gnueabihf",
    "armhf",
    None,
    cpus=("cortex-a7",),
    default_cpu="cortex-a7",
    features=("+neon", "+vfp4"),
    qemu={"cortex-a7": "cortex-a7"},
    float_abi="hard",
    toolchain=targets.Toolchain(
        "arm-linux-gnueabihf-gcc",
        "arm-linux-gnueabihf-g++",
        "-mcpu=cortex-a7 -mfpu=neon-vfpv4 -mfloat-abi=hard",
        cross=True,
        system_processor="arm",
        packages=("gcc-arm-linux-gnueabihf", "g++-arm-linux-gnueabihf", "binutils-arm-linux-gnueabihf"),
    ),
    code_check=targets.DispatchCodeCheck(
        cpu_arches=("v4", "v4T", "v5T", "v5TE", "v6", "v6KZ", "v6K", "v6T2", "v7"),
        fp_arches=("VFPv1", "VFPv2", "VFPv3", "VFPv3-D16", "VFPv4"),
        simd_arches=("NEONv1", "NEONv1 with Fused-MAC"),
        what="ARMv7 code a Cortex-A7",
    ),
    board_titles={"cortex-a7": "Pi 2 (Cortex-A7, armv7, hard-float)"},
    boards=(targets.Board("Pi 2", "cortex-a7", 2**30, aliases=("pi2",)),),
)
LABEL = "armv7hf-cortex-a7"

# `readelf -h -A` of a kernel compiled for cortex-a7 with NEON (tests/unit/test_arm.py's ARMV7_KERNEL).
ARMV7_KERNEL = """\
  Flags:                             0x5000400, Version5 EABI, hard-float ABI
  Tag_CPU_name: "cortex-a7"
  Tag_CPU_arch: v7
  Tag_FP_arch: VFPv4
  Tag_Advanced_SIMD_arch: NEONv1 with Fused-MAC
"""


@pytest.fixture(autouse=True)
def armv7hf(monkeypatch: pytest.MonkeyPatch) -> targets.Arch:
    monkeypatch.setitem(targets.ARCHES, ARMV7HF.name, ARMV7HF)
    return ARMV7HF


def test_a_matrix_file_names_it_and_the_plan_cross_builds_its_runtime(tmp_path: Path) -> None:
    target = targets.parse("armv7hf")
    assert target.label == LABEL and target.triple == "armv7-unknown-linux-gnueabihf"
    assert target.qemu_cpu == "cortex-a7"
    assert (target.arch.platform.oci, target.arch.platform.oci_variant) == ("arm", "v7")  # linux/arm/v7
    matrix = spec_file.parse(
        {"python": "3.11", "torch": "2.13.0", "turbine": "3.9.0", "compiler": "3.9.0",
         "runtime": "src:3.9.0", "models": "tiny_cnn", "arch": "armv7hf"},
        tmp_path / "m.toml",
    )  # fmt: skip
    jobs = stages.plan(matrix).by_id()
    cross = jobs["runtime-build:src:3.9.0/armv7hf"]
    assert cross.deps == (f"runtime-build:src:3.9.0/{targets.host_arch()}",)
    assert f"compile:tiny_cnn/py3.11-torch2.13.0-turbine3.9.0/iree3.9.0/{LABEL}/default" in jobs
    assert any(j.startswith(f"run:tiny_cnn/py3.11-torch2.13.0-turbine3.9.0/iree3.9.0/{LABEL}/") for j in jobs)


def test_its_runtime_is_built_with_its_toolchain_which_the_image_installs() -> None:
    tc = cmake_runtime.toolchain("armv7hf")
    assert tc.cross and tc.cc == "arm-linux-gnueabihf-gcc" and tc.float_abi == "hard"
    assert tc.system_processor == "arm" and "-mfloat-abi=hard" in tc.cflags
    assert "-DIREE_ENABLE_WERROR_FLAG=OFF" in cmake_runtime.release_cmake("3.11.0", "armv7hf")  # cross
    assert "gcc-arm-linux-gnueabihf" in debian.toolchain_packages()


def test_its_kernel_check_judges_the_module_and_readelf(monkeypatch, tmp_path: Path) -> None:
    attributes = elf.parse_arm32_attributes(ARMV7_KERNEL)
    assert attributes["armv7hf_ok"] is True and attributes["armv6_ok"] is False
    kernel = tmp_path / "kernel.so"
    kernel.write_bytes(b"")
    monkeypatch.setattr(elf, "dispatch_code", lambda module, out: [kernel])
    monkeypatch.setattr(
        elf, "arm32_attributes", lambda path, log=None: elf.parse_arm32_attributes(ARMV7_KERNEL)
    )
    facts = compile_stage.dispatch_code_facts(tmp_path / "module.vmfb", tmp_path, None, ARMV7HF)
    assert facts["armv7hf_ok"] is True and facts["Tag_CPU_arch"] == "v7" and facts["float_abi"] == "hard"


def _run(compiler: str, peak: int) -> Record:
    labels = {"model": "tiny_cnn", "function": "main", "compiler": compiler, "runtime": "src:3.9.0",
              "arch": LABEL, "profile": "default"}  # fmt: skip
    job = f"run:tiny_cnn/{compiler}/{LABEL}"
    metrics = {"latency_ms": {"median": 10.0}, "peak_memory_bytes": peak}
    return Record(job, "run", job[4:], "k", Status.OK, labels, metrics, None, None)


def test_boards_md_has_its_section_and_its_boards_ram() -> None:
    records = [_run("3.9.0", 3 * 2**30)]
    assert boards.has_boards(records)
    text = boards.render_markdown(records)
    assert "## Pi 2 (Cortex-A7, armv7, hard-float): the newest release that runs each function" in text
    assert boards.over_ram(3 * 2**30, records[0]) == ", over the Pi 2's 1.00 GiB"


def test_query_takes_its_board_by_name() -> None:
    records = [_run("3.9.0", 2**20)]
    assert query.target_arch(records, "pi2") == LABEL
