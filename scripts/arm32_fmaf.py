"""Write an ARM32 ELF object holding one function, `float fmaf(float x, float y, float z)` for a
CPU without fused multiply-add (VFPv2: the Pi Zero's ARM1176JZF-S), under the name given.

Why: LLVM lowers `llvm.fma.f32` to a call to `fmaf` where the CPU has no FMA instruction, and the
`fmaf` IREE links into embedded kernels has no code on such a CPU, so every call runs off the end of
the kernels' text (docs/boards.md, "fmaf"). `iree_lld_arm32_fmaf.sh` links this object into the
kernels and points their calls at it. Computed in double precision: the product of two floats is
exact in a double (24 + 24 significant bits fit in 53), the sum is rounded once to double and once
to float, so the result is the fused one except where that double rounding lands on a tie (at most
one unit in the last place) - musl's own fmaf starts the same way before its tie fix-up.

The machine code (ARM mode, soft-float calling convention: x, y, z in r0-r2, the result in r0;
only caller-saved VFP registers), as `arm-linux-gnueabi-as -mcpu=arm1176jzf-s -mfpu=vfp` assembles
it: the words below are that assembler's output, checked by tests/unit/test_arm32_fmaf.py.

    vmov s0, r0 ; vmov s1, r1 ; vmov s2, r2
    vcvt.f64.f32 d2, s0 ; vcvt.f64.f32 d3, s1 ; vcvt.f64.f32 d4, s2
    vmul.f64 d2, d2, d3 ; vadd.f64 d2, d2, d4
    vcvt.f32.f64 s0, d2 ; vmov r0, s0 ; bx lr

How the kernels' calls reach it: the `fmaf` in the kernels' object is a *local* symbol of size 0
in its own section `.text.fmaf` (the calls are relocations against that local symbol, which no
--defsym or --wrap can redirect). So the link orders `.text.fmaf` and then this object's `.text`
first in the output (--symbol-ordering-file): the empty function's address is then this one's,
and every call lands here. `check` reads the link map and fails the link if that did not happen.

Usage (scripts/iree_lld_arm32_fmaf.sh):
  python3 arm32_fmaf.py link DIR LINKER-ARGUMENT...   when the link's input objects are 32-bit ARM,
      writes DIR/fmaf.o and DIR/order.txt and prints the linker options to add; for any other
      link (iree-compile also links the host's x86_64 code for evaluating constants through the
      same linker) writes and prints nothing
  python3 arm32_fmaf.py check DIR                     after the link: exit 1 unless the kernels'
      empty fmaf (if any) has this function's address
Standard library only: it runs in the compiler's environment, wherever iree-compile runs.
"""

from __future__ import annotations

import os
import re
import struct
import sys

CODE = (
    0xEE000A10, 0xEE001A90, 0xEE012A10,  # vmov s0, r0; vmov s1, r1; vmov s2, r2
    0xEEB72AC0, 0xEEB73AE0, 0xEEB74AC1,  # vcvt.f64.f32 d2, s0; d3, s1; d4, s2
    0xEE222B03, 0xEE322B04,  # vmul.f64 d2, d2, d3; vadd.f64 d2, d2, d4
    0xEEB70BC2, 0xEE100A10, 0xE12FFF1E,  # vcvt.f32.f64 s0, d2; vmov r0, s0; bx lr
)  # fmt: skip

EM_ARM = 40
EF_ARM_EABI_VER5 = 0x05000000
EF_ARM_ABI_FLOAT_SOFT = 0x200
SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB = 1, 2, 3
SHF_ALLOC, SHF_EXECINSTR = 0x2, 0x4
STB_LOCAL, STB_GLOBAL = 0, 1
STT_NOTYPE, STT_FUNC, STT_SECTION = 0, 2, 3
STV_HIDDEN = 2


def _strtab(names: list[str]) -> tuple[bytes, dict[str, int]]:
    blob, where = b"\0", {"": 0}
    for name in names:
        where[name] = len(blob)
        blob += name.encode() + b"\0"
    return blob, where


def object_bytes(symbol: str = "iree_matrix_fmaf") -> bytes:
    """A relocatable ELF32 little-endian ARM object: `.text` with CODE, a `$a` mapping symbol and
    `symbol` (global, hidden: nothing outside the kernels sees it, as nothing in them is exported)."""
    text = b"".join(struct.pack("<I", w) for w in CODE)
    strtab, name_at = _strtab(["$a", symbol])
    shstrtab, sh_at = _strtab([".text", ".symtab", ".strtab", ".shstrtab"])

    def sym(name: int, value: int, size: int, bind: int, kind: int, other: int, shndx: int) -> bytes:
        return struct.pack("<IIIBBH", name, value, size, (bind << 4) | kind, other, shndx)

    symtab = b"".join(
        (
            sym(0, 0, 0, STB_LOCAL, STT_NOTYPE, 0, 0),
            sym(0, 0, 0, STB_LOCAL, STT_SECTION, 0, 1),
            sym(name_at["$a"], 0, 0, STB_LOCAL, STT_NOTYPE, 0, 1),  # ARM code from here (AAELF)
            sym(name_at[symbol], 0, len(text), STB_GLOBAL, STT_FUNC, STV_HIDDEN, 1),
        )
    )
    header_size, section_header_size = 52, 40
    offsets, body = [], b""
    for blob, align in ((text, 4), (symtab, 4), (strtab, 1), (shstrtab, 1)):
        pad = (-(header_size + len(body))) % align
        body += b"\0" * pad
        offsets.append(header_size + len(body))
        body += blob
    body += b"\0" * ((-(header_size + len(body))) % 4)
    shoff = header_size + len(body)

    def section(name: int, kind: int, flags: int, offset: int, size: int, link: int = 0, info: int = 0,
                align: int = 1, entsize: int = 0) -> bytes:  # fmt: skip
        return struct.pack("<10I", name, kind, flags, 0, offset, size, link, info, align, entsize)

    sections = b"".join(
        (
            section(0, 0, 0, 0, 0),
            section(sh_at[".text"], SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, offsets[0], len(text), align=4),
            # link: the string table; info: the first global symbol's index
            section(sh_at[".symtab"], SHT_SYMTAB, 0, offsets[1], len(symtab), 3, 3, 4, 16),
            section(sh_at[".strtab"], SHT_STRTAB, 0, offsets[2], len(strtab)),
            section(sh_at[".shstrtab"], SHT_STRTAB, 0, offsets[3], len(shstrtab)),
        )
    )
    ident = b"\x7fELF" + bytes([1, 1, 1, 0]) + b"\0" * 8  # ELF32, little-endian, version 1, SYSV
    header = ident + struct.pack(
        "<HHIIIIIHHHHHH",
        1,  # ET_REL
        EM_ARM,
        1,  # EV_CURRENT
        0,  # entry
        0,  # program headers: none
        shoff,
        EF_ARM_EABI_VER5 | EF_ARM_ABI_FLOAT_SOFT,
        header_size,
        0,
        0,
        section_header_size,
        5,  # sections
        4,  # .shstrtab's index
    )
    return header + body + sections


SYMBOL = "iree_matrix_fmaf"


def is_arm32_object(path: str) -> bool:
    """A relocatable ELF32 little-endian object for 32-bit ARM (e_machine EM_ARM)."""
    try:
        with open(path, "rb") as f:
            head = f.read(20)
    except OSError:
        return False
    return (
        len(head) == 20
        and head[:6] == b"\x7fELF\x01\x01"
        and struct.unpack_from("<HH", head, 16) == (1, EM_ARM)
    )


def link_options(folder: str, link: list[str]) -> list[str]:
    """What to add to an ARM32 link (and the files it names, written to `folder`); [] otherwise."""
    if not any(arg.endswith(".o") and is_arm32_object(arg) for arg in link):
        return []
    obj, order = os.path.join(folder, "fmaf.o"), os.path.join(folder, "order.txt")
    with open(obj, "wb") as f:
        f.write(object_bytes(SYMBOL))
    with open(order, "w") as f:
        f.write(f"fmaf\n{SYMBOL}\n")
    # The --defsym keeps this object's section through --gc-sections (and names the global fmaf).
    return [obj, f"--symbol-ordering-file={order}", "--no-warn-symbol-ordering",
            f"-Map={os.path.join(folder, MAP)}", f"--defsym=fmaf={SYMBOL}"]  # fmt: skip


MAP = "link.map"
# lld's map: "     VMA      LMA     Size Align Out     In      Symbol"
_MAP_LINE = re.compile(r"^\s*([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+\d+\s+(.*?)\s*$")


def map_problem(map_text: str) -> str:
    """Why the link did not put this fmaf where the kernels' empty one is ("" when it did)."""
    empty_at, ours_at = None, None
    for line in map_text.splitlines():
        m = _MAP_LINE.match(line)
        if not m:
            continue
        addr, size, what = int(m[1], 16), int(m[2], 16), m[3]
        if what.endswith(":(.text.fmaf)") and size == 0:
            empty_at = addr
        elif what == SYMBOL:
            ours_at = addr
    if empty_at is None:  # no empty fmaf: nothing calls into nothing
        return ""
    if ours_at != empty_at:
        where = "absent" if ours_at is None else hex(ours_at)
        return f"the kernels' empty fmaf is at {hex(empty_at)}, {SYMBOL} at {where}: their calls miss it"
    return ""


def main(argv: list[str]) -> int:
    if len(argv) >= 3 and argv[1] == "link":
        print(" ".join(link_options(argv[2], argv[3:])))
        return 0
    if len(argv) == 3 and argv[1] == "check":
        path = os.path.join(argv[2], MAP)
        if not os.path.exists(path):  # not an ARM32 link
            return 0
        with open(path) as f:
            problem = map_problem(f.read())
        if problem:
            print(f"arm32_fmaf.py: {problem}", file=sys.stderr)
            return 1
        return 0
    print("usage: arm32_fmaf.py link DIR LINKER-ARGUMENT... | check DIR", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
