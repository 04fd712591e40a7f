"""The software fmaf object the `soft-fmaf` profile links into ARM32 kernels (scripts/arm32_fmaf.py):
a well-formed relocatable ARM ELF whose one function is the documented instructions."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from iree_matrix.core import shipped
from iree_matrix.iree import elf

_SPEC = importlib.util.spec_from_file_location("arm32_fmaf", shipped.scripts_dir() / "arm32_fmaf.py")
assert _SPEC is not None and _SPEC.loader is not None
arm32_fmaf = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(arm32_fmaf)

# What the module's docstring says the code is, as the assembler spells it.
SOURCE = """
    .syntax unified
    .arm
    .fpu vfp
    vmov s0, r0
    vmov s1, r1
    vmov s2, r2
    vcvt.f64.f32 d2, s0
    vcvt.f64.f32 d3, s1
    vcvt.f64.f32 d4, s2
    vmul.f64 d2, d2, d3
    vadd.f64 d2, d2, d4
    vcvt.f32.f64 s0, d2
    vmov r0, s0
    bx lr
"""


def test_the_object_is_a_soft_float_arm_relocatable_with_one_hidden_function(tmp_path: Path) -> None:
    blob = arm32_fmaf.object_bytes("my_fmaf")
    assert blob[:4] == b"\x7fELF" and blob[4] == 1 and blob[5] == 1  # ELF32, little-endian
    if shutil.which("readelf") is None:
        pytest.skip("no readelf (binutils)")
    obj = tmp_path / "fmaf.o"
    obj.write_bytes(blob)
    out = subprocess.run(["readelf", "-h", "-S", "-s", str(obj)], capture_output=True, text=True, check=True)
    assert "REL (Relocatable file)" in out.stdout and "Machine:                           ARM" in out.stdout
    assert "soft-float ABI" in out.stdout
    assert re.search(r"\.text\s+PROGBITS\s+\S+\s+\S+\s+00002c\s+00\s+AX", out.stdout)
    assert re.search(r"44 FUNC\s+GLOBAL HIDDEN\s+1 my_fmaf", out.stdout)
    # no call leaves the function (elf's empty-function check sees no bl at all)
    assert elf.arm32_calls_past_text(blob) == []


def test_the_code_is_what_the_assembler_makes_of_the_documented_instructions(tmp_path: Path) -> None:
    as_ = shutil.which("arm-linux-gnueabi-as")
    if as_ is None:
        pytest.skip("no arm-linux-gnueabi-as (bash images/setup-host.sh installs gcc-arm-linux-gnueabi)")
    (tmp_path / "f.S").write_text(SOURCE)
    obj = tmp_path / "f.o"
    subprocess.run(
        [as_, "-mcpu=arm1176jzf-s", "-mfpu=vfp", "-o", str(obj), str(tmp_path / "f.S")], check=True
    )
    subprocess.run(["arm-linux-gnueabi-objcopy", "-O", "binary", "-j", ".text", str(obj),
                    str(tmp_path / "f.bin")], check=True)  # fmt: skip
    code = (tmp_path / "f.bin").read_bytes()
    assert code == b"".join(w.to_bytes(4, "little") for w in arm32_fmaf.CODE)


def test_only_a_link_of_arm_objects_gets_the_object_and_the_ordering(tmp_path: Path) -> None:
    arm = tmp_path / "kernels.o"
    arm.write_bytes(arm32_fmaf.object_bytes("k"))  # any relocatable ARM object
    host = tmp_path / "jit.o"
    host.write_bytes(
        b"\x7fELF\x02\x01\x01" + b"\0" * 9 + (1).to_bytes(2, "little") + (62).to_bytes(2, "little")
    )
    assert arm32_fmaf.link_options(str(tmp_path), ["-o", "x.so", str(host)]) == []
    assert not (tmp_path / "fmaf.o").exists()
    options = arm32_fmaf.link_options(str(tmp_path), ["-flavor", "gnu", "-o", "x.so", str(arm)])
    assert options[0] == str(tmp_path / "fmaf.o") and (tmp_path / "fmaf.o").read_bytes()[:4] == b"\x7fELF"
    assert f"--symbol-ordering-file={tmp_path / 'order.txt'}" in options
    assert (tmp_path / "order.txt").read_text().split() == ["fmaf", "iree_matrix_fmaf"]


# lld's -Map lines, as iree-lld wrote them for QuartzNet's kernels (IREE 3.9.0, ARM1176).
_MAP = """     VMA      LMA     Size Align Out     In      Symbol
   115ec    115ec        0     4         /tmp/module_linked-741ccf.o:(.text.fmaf)
   115ec    115ec        0     1                 fmaf
   {ours:x}    {ours:x}       2c     4         /tmp/tmp.Jr6bpEOBfE/fmaf.o:(.text)
   {ours:x}    {ours:x}       2c     1                 iree_matrix_fmaf
"""


def test_the_check_fails_the_link_unless_the_empty_fmaf_is_where_the_software_one_is() -> None:
    assert arm32_fmaf.map_problem(_MAP.format(ours=0x115EC)) == ""
    problem = arm32_fmaf.map_problem(_MAP.format(ours=0x1A338))
    assert "empty fmaf is at 0x115ec, iree_matrix_fmaf at 0x1a338" in problem
    assert arm32_fmaf.map_problem("   100   100   2c   4   a.o:(.text)\n") == ""  # no empty fmaf: no calls
