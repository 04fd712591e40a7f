"""elf.py's, binfmt.py's and arm.py's parsers on outputs captured from the real tools (iree-compile
3.9.0's embedded linker, binutils 2.40 readelf on kernels and on cross-compiled binaries, Linux
6.x binfmt_misc)."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import pytest

from iree_matrix.core.system import binfmt
from iree_matrix.iree import elf
from iree_matrix.source_builds import armv6_hello

# iree-compile 3.9.0, a torch `div(a, b, rounding_mode="trunc")` on int32 exported by turbine 3.9,
# with the armv6 flags of that time (hard-float triple; the start of its output).
IDIV_FAILURE = """\
iree-lld: error: undefined symbol: __aeabi_idiv
>>> referenced by div.mlir:4
>>>               /tmp/main_async_dispatch_0-8efb13.o:(main$async_dispatch_0_elementwise_32_i32)
>>> referenced by div.mlir:4
>>>               /tmp/main_async_dispatch_0-8efb13.o:(main$async_dispatch_0_elementwise_32_i32)
>>> referenced 1 more times
Linking failed; escaped command line returned exit code 256:

LLD_VERSION=IREE /tmp/dev/lib/python3.11/site-packages/iree/compiler/_mlir_libs/iree-lld -flavor gnu \
-o /tmp/main_async_dispatch_0-8efb13.so --build-id=none -nostdlib -static -shared --no-undefined

div.mlir:4:10: error: failed to link executable and generate target dylib (check above for more \
specific error messages)
"""

# The same flags on an MLIR file with an i64 division and an f16 -> f32 extension.
LDIV_H2F_FAILURE = """\
iree-lld: error: undefined symbol: __aeabi_ldivmod
>>> referenced by -:1
>>>               /tmp/more_linked-6a88dd.o:(ldiv_dispatch_0_elementwise_4_i64)
>>> referenced 1 more times
iree-lld: error: undefined symbol: __aeabi_h2f
>>> referenced by -:5
>>>               /tmp/more_linked-6a88dd.o:(h2f_dispatch_0_elementwise_4_f16xf32)
>>> referenced 1 more times
more.mlir:0:0: error: failed to link executable and generate target dylib
"""

# `readelf -h -A` of the kernel ELF of a Linear+ReLU compiled for armv6 (hard-float triple).
ARMV6_KERNEL = """\
ELF Header:
  Class:                             ELF32
  Machine:                           ARM
  Flags:                             0x5000400, Version5 EABI, hard-float ABI
Attribute Section: aeabi
File Attributes
  Tag_conformance: "2.09"
  Tag_CPU_name: "arm1176jzf-s"
  Tag_CPU_arch: v6
  Tag_ARM_ISA_use: Yes
  Tag_THUMB_ISA_use: Thumb-1
  Tag_FP_arch: VFPv2
  Tag_ABI_VFP_args: VFP registers
  Tag_CPU_unaligned_access: v6
"""

# The same model for armv7a-unknown-linux-gnueabihf, cortex-a7, +neon,+vfp4.
ARMV7_KERNEL = """\
  Flags:                             0x5000400, Version5 EABI, hard-float ABI
  Tag_CPU_name: "cortex-a7"
  Tag_CPU_arch: v7
  Tag_CPU_arch_profile: Application
  Tag_FP_arch: VFPv4
  Tag_Advanced_SIMD_arch: NEONv1 with Fused-MAC
"""


def test_undefined_symbols_of_the_armv6_link_failures() -> None:
    assert elf.undefined_symbols(IDIV_FAILURE) == ["__aeabi_idiv"]
    assert elf.undefined_symbols(LDIV_H2F_FAILURE) == ["__aeabi_ldivmod", "__aeabi_h2f"]
    assert elf.undefined_symbols("error: failed to legalize operation 'foo'") == []


def test_armv6_kernel_attributes_pass_and_armv7_neon_ones_do_not() -> None:
    v6 = elf.parse_arm32_attributes(ARMV6_KERNEL)
    assert v6["Tag_CPU_arch"] == "v6" and v6["Tag_FP_arch"] == "VFPv2"
    assert v6["Tag_CPU_name"] == "arm1176jzf-s"  # quotes stripped
    assert "Tag_Advanced_SIMD_arch" not in v6
    assert v6["float_abi"] == "hard" and v6["armv6_ok"] is True
    v7 = elf.parse_arm32_attributes(ARMV7_KERNEL)
    assert v7["Tag_Advanced_SIMD_arch"] == "NEONv1 with Fused-MAC" and v7["armv6_ok"] is False
    # VFPv3 alone (no NEON) still does not run on an ARM1176.
    assert not elf.parse_arm32_attributes(ARMV6_KERNEL.replace("VFPv2", "VFPv3"))["armv6_ok"]


# `readelf -l -d -V` of hello-dynamic (arm-linux-gnueabi-gcc 12, -march=armv6 -mfloat-abi=softfp).
DYNAMIC_HELLO = """\
Program Headers:
  Type           Offset   VirtAddr   PhysAddr   FileSiz MemSiz  Flg Align
  INTERP         0x000154 0x00000154 0x00000154 0x00013 0x00013 R   0x1
      [Requesting program interpreter: /lib/ld-linux.so.3]
  LOAD           0x000000 0x00000000 0x00000000 0x00740 0x00740 R E 0x1000

Dynamic section at offset 0xf10 contains 26 entries:
  Tag        Type                         Name/Value
 0x00000001 (NEEDED)                     Shared library: [libc.so.6]
 0x0000000c (INIT)                       0x3c4

Version needs section '.gnu.version_r' contains 1 entry:
 Addr: 0x0000000000000324  Offset: 0x00000324  Link: 6 (.dynstr)
  000000: Version: 1  File: libc.so.6  Cnt: 2
  0x0010:   Name: GLIBC_2.4  Flags: none  Version: 3
  0x0020:   Name: GLIBC_2.34  Flags: none  Version: 2
"""


def test_binary_facts_of_a_dynamic_and_a_static_binary() -> None:
    facts = elf.parse_binary_facts(DYNAMIC_HELLO)
    assert facts == {
        "interpreter": "/lib/ld-linux.so.3",
        "needed": ["libc.so.6"],
        "glibc_versions": ["GLIBC_2.4", "GLIBC_2.34"],  # numeric order
    }
    static = (
        "Elf file type is EXEC (Executable file)\nEntry point 0x10478\n\n"
        "There is no dynamic section in this file.\n\nNo version information found in this file.\n"
    )
    assert elf.parse_binary_facts(static) == {"interpreter": None, "needed": [], "glibc_versions": []}


def test_binfmt_entry_text() -> None:
    entry = binfmt.parse(
        "qemu-arm",
        "enabled\ninterpreter /usr/libexec/qemu-binfmt/arm-binfmt-P\nflags: POF\noffset 0\n"
        "magic 7f454c4601010100000000000000000002002800\nmask ffffffffffffff00fffffffffffffffffeffffff\n",
    )
    assert entry == binfmt.BinfmtEntry("qemu-arm", True, "/usr/libexec/qemu-binfmt/arm-binfmt-P", "POF")
    assert entry.fix_binary
    assert not binfmt.parse("qemu-arm", "disabled\ninterpreter /x\nflags: OC\n").enabled
    assert not binfmt.parse("qemu-arm", "disabled\ninterpreter /x\nflags: OC\n").fix_binary


def _host_elf() -> bytes:
    path = shutil.which("true")
    if path is None:
        pytest.skip("no `true` binary to use as an ELF")
    return Path(path).read_bytes()


def test_elves_are_cut_out_of_a_container_by_their_own_headers(tmp_path: Path) -> None:
    binary = _host_elf()
    assert elf.elf_size(binary) == len(binary)
    # A stray magic before the real one, and data after it, as in a FlatBuffer with trailing files.
    blob = b"\x00" * 13 + b"\x7fELF\x09junk" + binary + b"\x00trailer" + binary[:100]
    assert elf.scan_elves(blob) == [binary]
    container = tmp_path / "module.vmfb"
    container.write_bytes(blob)
    (kernel,) = elf.dispatch_code(container, tmp_path / "out")
    assert kernel.name == "kernel_0.so" and kernel.read_bytes() == binary


def test_a_truncated_elf_is_not_cut_out() -> None:
    binary = _host_elf()
    assert elf.scan_elves(binary[: len(binary) - 1]) == []
    assert elf.elf_size(b"\x7fELF" + struct.pack("<BB", 3, 1) + b"\0" * 60) == 0


def test_auxv_of_qemu_pinned_to_arm1176_and_cortex_a7() -> None:
    # `LD_SHOW_AUXV=1 /bin/true` in the bookworm armel base, QEMU_CPU=arm1176 / cortex-a7.
    arm1176 = (
        "AT_HWCAP:        swp half thumb fastmult vfp edsp tls\nAT_HWCAP2:      \nAT_PLATFORM:          v6l\n"
    )
    assert armv6_hello.parse_auxv(arm1176) == {
        "platform": "v6l",
        "hwcap": ["swp", "half", "thumb", "fastmult", "vfp", "edsp", "tls"],
    }
    a7 = (
        "AT_HWCAP:        swp half thumb fastmult vfp edsp thumbee neon vfpv3 tls vfpv4 idiva idivt "
        "vfpd32 lpae\n"
        "AT_PLATFORM:          v7l\n"
    )
    assert "neon" in armv6_hello.parse_auxv(a7)["hwcap"] and armv6_hello.parse_auxv(a7)["platform"] == "v7l"
    assert armv6_hello.parse_auxv("") == {"platform": None, "hwcap": []}


def _elf32_with_text(words: list[int], addr: int = 0x1000) -> bytes:
    """A minimal little-endian ELF32 with a .text of these instruction words at `addr`."""
    import struct

    text = b"".join(struct.pack("<I", w) for w in words)
    names = b"\0.text\0.shstrtab\0"
    text_off = 52
    names_off = text_off + len(text)
    shoff = names_off + len(names)
    header = b"\x7fELF\x01\x01\x01" + b"\0" * 9
    header += struct.pack("<HHIIIIIHHHHHH", 3, 40, 1, 0, 0, shoff, 0x5000000, 52, 0, 0, 40, 3, 2)
    sections = [
        struct.pack("<10I", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        struct.pack("<10I", 1, 1, 6, addr, text_off, len(text), 0, 0, 4, 0),
        struct.pack("<10I", 7, 3, 0, 0, names_off, len(names), 0, 0, 1, 0),
    ]
    return header + text + names + b"".join(sections)


def test_calls_to_a_function_with_no_code_are_found_in_arm_kernels() -> None:
    """IREE 3.9.0's empty fmaf (QuartzNet's log_softmax on armv6): a `bl` to just past .text."""
    from iree_matrix.stages.run import empty_function_problem

    # 0x1000: bl 0x100c (the end: 3 words), 0x1004: bl 0x1000 (inside), 0x1008: blne 0x100c (conditional)
    words = [0xEB000001, 0xEBFFFFFD, 0x1B000000 | ((0x100C - 0x1008 - 8) >> 2 & 0xFFFFFF)]
    assert elf.arm32_calls_past_text(_elf32_with_text(words)) == [0x1000]
    assert elf.arm32_calls_past_text(b"not an elf") == []
    metrics = {"kernel": {"armv6_ok": True, "calls_to_empty_function": 19}}
    problem = empty_function_problem(metrics)
    assert "19 call(s) to a function with no code" in problem and "fmaf" in problem
    assert empty_function_problem({"kernel": {"armv6_ok": True}}) == ""
    # Only a crash is explained by it (a runtime that refuses the module first says its own words).
    from iree_matrix.core.system.processes import Completed
    from iree_matrix.stages.run import _crashed

    qemu = "EXEC @main\nqemu: uncaught target signal 11 (Segmentation fault) - core dumped"
    assert _crashed(Completed(("irm",), 139, "", qemu, 16.0))
    assert not _crashed(Completed(("irm",), 1, "", "INVALID_ARGUMENT; required module features [Ch]", 0.1))
