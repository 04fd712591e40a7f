"""Unit tests for the bare-metal Cortex-M target's pure logic: the target, its compile flags, its
plan, the firmware's generated files and what is read back from its output (no toolchain, no qemu)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from iree_matrix import stages
from iree_matrix.core.errors import SpecError, StageFailure
from iree_matrix.iree import flags, targets
from iree_matrix.matrix import spec_file
from iree_matrix.source_builds import cortex_m

MATRIX = Path(__file__).resolve().parents[2] / "matrix" / "cortex-m.toml"


def test_target_parses_with_its_board_cpu():
    target = targets.parse("cortex-m:cortex-m4")
    assert target.arch.bare_metal and target.cpu == "cortex-m4" and target.label == "cortex-m-cortex-m4"
    assert targets.parse("cortex-m-cortex-m4") == target  # the id spelling
    assert targets.parse("cortex-m").cpu == "cortex-m4"  # the default CPU
    with pytest.raises(targets.UnknownTarget, match="cortex-m:cortex-m4"):
        targets.parse("cortex-m:cortex-m99")
    assert not targets.parse("armv6").arch.bare_metal
    m55 = targets.parse("cortex-m:cortex-m55")
    assert m55.triple == "thumbv8.1m.main-none-eabihf" and target.triple == "thumbv7em-none-eabihf"


def test_compile_flags_ask_for_a_hard_float_static_library():
    got = flags.compile_flags("3.9.0", "cortex-m:cortex-m4", flags.BUILTIN_PROFILES["default"])
    assert "--iree-llvmcpu-target-triple=thumbv7em-none-eabihf" in got
    assert "--iree-llvmcpu-target-cpu=cortex-m4" in got  # the board's CPU, not the host's
    assert "--iree-llvmcpu-target-float-abi=hard" in got
    assert "--iree-llvmcpu-link-static" in got and "--iree-llvmcpu-link-embedded=false" in got
    m55 = flags.compile_flags("3.9.0", "cortex-m:cortex-m55", flags.BUILTIN_PROFILES["default"])
    assert "--iree-llvmcpu-target-triple=thumbv8.1m.main-none-eabihf" in m55
    assert "--iree-llvmcpu-target-cpu=cortex-m55" in m55
    host = flags.compile_flags("3.9.0", "x86_64", flags.BUILTIN_PROFILES["default"])
    assert "--iree-llvmcpu-link-static" not in host


def test_plan_runs_firmware_without_a_runtime_install(tmp_path):
    matrix = spec_file.load(MATRIX)
    p = stages.plan(matrix)
    runs = [j for j in p.jobs if j.stage == "run"]
    assert len(runs) == 16  # 2 models x (5 releases on the Cortex-M4 + 3 on the Cortex-M55)
    assert not any(j.env.kind == "runtime" for j in p.jobs if j.stage == "install")
    for job in runs:
        assert [d.split(":")[0] for d in job.deps] == ["export", "compile"]
        release = job.labels["compiler"]
        assert job.labels["runtime"] == f"src:{release}"
        assert job.labels["runtime_source"].endswith(f"@v{release}")  # IREE's repository unless told
    m55 = sorted(j.labels["compiler"] for j in runs if j.labels["arch"] == "cortex-m-cortex-m55")
    assert m55 == ["3.11.0", "3.11.0", "3.3.0", "3.3.0", "3.9.0", "3.9.0"]


def test_a_pip_runtime_on_bare_metal_is_a_one_line_error(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text(
        'python = ["3.11"]\ntorch = ["2.13.0"]\nturbine = ["3.9.0"]\ncompiler = ["3.9.0"]\n'
        'arch = ["cortex-m:cortex-m4"]\nmodels = ["tiny_cnn"]\n'
    )
    with pytest.raises(SpecError, match=r'runtime = \["src:3.9.0"\]'):
        stages.plan(spec_file.load(path))


def test_linker_script_places_code_in_flash_and_the_stack_at_the_top_of_ram():
    text = cortex_m.linker_script(cortex_m.machine("cortex-m4"))
    assert "FLASH (rx) : ORIGIN = 0x0, LENGTH = 0x400000" in text
    assert "RAM (rwx) : ORIGIN = 0x20000000, LENGTH = 0x400000" in text
    assert f"__stack_bottom = __stack_top - {cortex_m.STACK_BYTES:#x}" in text
    with pytest.raises(StageFailure, match="no qemu-system-arm machine"):
        cortex_m.machine("cortex-m0")


def test_model_data_embeds_bytecode_inputs_and_every_library_query(tmp_path):
    vmfb, header = tmp_path / "module.vmfb", tmp_path / "module.h"
    vmfb.write_bytes(b"\0" * 100)
    header.write_text(
        "const iree_hal_executable_library_header_t**\nmodule_linked_library_query(\n"
        "iree_hal_executable_library_version_t v, const void* e);\n"
    )
    np.save(tmp_path / "input0.npy", np.arange(6, dtype=np.float32).reshape(2, 3))
    out = tmp_path / "fw"
    out.mkdir()
    text = cortex_m.model_data(vmfb, header, [tmp_path / "input0.npy"], "main", out).read_text()
    assert "iree_matrix_libraries[] = {module_linked_library_query}" in text
    assert 'iree_matrix_function[] = "module.main"' in text
    assert "iree_matrix_vmfb_size = 100;" in text
    assert "{0x21000020u, 2, input0_shape, input0_data, 24}" in text  # f32, rank 2, 6 x 4 bytes
    assert (out / "input0.bin").read_bytes() == np.arange(6, dtype="<f4").tobytes()
    np.save(tmp_path / "input1.npy", np.zeros(2, dtype=np.float16))
    with pytest.raises(StageFailure, match="float16"):
        cortex_m.model_data(vmfb, header, [tmp_path / "input1.npy"], "main", out)
    header.write_text("/* nothing */")
    with pytest.raises(StageFailure, match="no \\*_library_query"):
        cortex_m.model_data(vmfb, header, [], "main", out)


def test_firmware_output_is_read_back_exactly():
    values = np.array([[1.5, -2.25, 3e-8]], dtype="<f4")
    hex_bytes = values.tobytes().hex()
    text = "\n".join(
        ["BOOT", "INVOKE", "OUTPUT 0 21000020 2 1 3", f"DATA {hex_bytes[:16]}", f"DATA {hex_bytes[16:]}",
         "HEAP_AT instance 1024", "HEAP_AT inputs 150000", "HEAP_PEAK 212856", "STACK_PEAK 12856",
         "IREE_MATRIX_OK"]
    )  # fmt: skip
    got = cortex_m.parse(text, ["float32"], 0, 0.5)
    assert got.ok and got.heap_peak == 212856 and got.stack_peak == 12856
    assert got.heap_at == {"instance": 1024, "inputs": 150000}
    assert got.outputs[0].shape == (1, 3) and np.array_equal(got.outputs[0], values)


def test_firmware_failure_keeps_the_runtime_words():
    text = "BOOT\nHEAP_PEAK 10\nSTACK_PEAK 20\nIREE_MATRIX_FAIL RESOURCE_EXHAUSTED; out of memory"
    got = cortex_m.parse(text, [], 1, 0.1)
    assert not got.ok and got.message == "RESOURCE_EXHAUSTED; out of memory"
    silent = cortex_m.parse("BOOT\n", [], 1, 0.1)
    assert not silent.ok and "without a verdict (qemu exit 1)" in silent.message


def test_link_errors_name_what_is_missing_or_too_big():
    missing = "ld: module.o: in function `x':\n(.text+0x1): undefined reference to `__aeabi_h2f'\n"
    assert cortex_m._link_error(missing) == "undefined symbols at link: __aeabi_h2f"
    big = (
        "ld: firmware.elf section `.rodata' will not fit in region `FLASH'\n"
        "ld: region `FLASH' overflowed by 1234 bytes"
    )
    assert cortex_m._link_error(big) == "does not fit: region FLASH overflowed by 1234 bytes"


def test_api_defines_follow_the_release_headers(tmp_path):
    def tree(hal: str, bytecode: str, allocator: str) -> Path:
        root = tmp_path / str(len(list(tmp_path.iterdir())))
        for rel, text in (("modules/hal/module.h", hal), ("vm/bytecode/module.h", bytecode),
                          ("base/allocator.h", allocator)):  # fmt: skip
            path = root / "runtime/src/iree" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return root

    old = tree("iree_host_size_t device_count,", "iree_const_byte_span_t archive_contents", "")
    assert cortex_m._api_defines(old) == ("IREE_MATRIX_HAL_MODULE_API=1", "IREE_MATRIX_BYTECODE_FLAGS=0")
    new = tree(
        "iree_hal_module_device_policy_t device_policy, iree_hal_device_group_t* device_group,",
        "iree_vm_bytecode_module_flags_t flags,",
        "#if defined(IREE_ALLOCATOR_SYSTEM_CTL)",
    )
    assert cortex_m._api_defines(new) == (
        "IREE_MATRIX_HAL_MODULE_API=3",
        "IREE_MATRIX_BYTECODE_FLAGS=1",
        "IREE_ALLOCATOR_SYSTEM_CTL=iree_allocator_libc_ctl",
    )


def test_fits_compares_with_real_boards():
    assert cortex_m.fits(900 * 1024, 250 * 1024, "cortex-m4")["Arduino Nano 33 BLE (nRF52840)"]
    assert not cortex_m.fits(900 * 1024, 300 * 1024, "cortex-m4")["Arduino Nano 33 BLE (nRF52840)"]
    assert cortex_m.fits(100, 100, "cortex-m55") == {}  # no Cortex-M4/M7 board runs Helium code
    assert cortex_m.fits(1500 * 1024, 900 * 1024, "cortex-m4") == {
        "Arduino Nano 33 BLE (nRF52840)": False,
        "STM32F4-Discovery (STM32F407VG)": False,
        "Arduino Portenta H7 (STM32H747, Cortex-M7)": True,
    }


def test_doctor_names_the_missing_cortex_m_tools(monkeypatch):
    from iree_matrix.envs import doctor

    monkeypatch.setattr(
        doctor.shutil, "which", lambda tool: None if tool == "qemu-system-arm" else f"/usr/bin/{tool}"
    )
    check = doctor.check_cortex_m_toolchain()
    assert not check.ok and check.detail == "missing qemu-system-arm" and "setup-host.sh" in check.fix
    monkeypatch.setattr(doctor.shutil, "which", lambda tool: f"/usr/bin/{tool}")
    assert doctor.check_cortex_m_toolchain().ok


def test_a_cmake_error_keeps_the_lines_that_say_what():
    output = (
        "-- Configuring done\n"
        "CMake Error at build_tools/cmake/external_cc_library.cmake:116 (target_sources):\n"
        "  Cannot find source file:\n\n    /src/iree/third_party/printf/src/printf/printf.c\n"
        "Call Stack (most recent call first):\n"
    )
    got = cortex_m._build_error(output)
    assert got.splitlines()[:3] == [
        "CMake Error at build_tools/cmake/external_cc_library.cmake:116 (target_sources):",
        "Cannot find source file:",
        "/src/iree/third_party/printf/src/printf/printf.c",
    ]


SHIFT = "alignment.h:129:20: error: right shift count >= width of type [-Werror=shift-count-overflow]"


def test_a_compiler_error_is_its_message_not_its_command_line():
    output = (
        "FAILED: runtime/src/iree/base/x.c.obj\n"
        "/usr/bin/arm-none-eabi-gcc -Wno-error=char-subscripts -c x.c -o x.c.obj\n"
        f"{SHIFT}\n"
    )
    assert cortex_m._build_error(output) == SHIFT
