"""What is inside ELF files this project meets: the kernels IREE embeds in a .vmfb, their ARM
build attributes (which CPU and FPU they need), the symbols a `-nostdlib` link could not resolve,
and a (cross-)built binary's interpreter, NEEDED libraries and GLIBC versions."""

from __future__ import annotations

import re
import struct
import zipfile
from pathlib import Path
from typing import Any, Optional

from iree_matrix.core.system import processes
from iree_matrix.core.system.process_request import ProcessRequest
from iree_matrix.iree import targets

ELF_MAGIC = b"\x7fELF"


def dispatch_code(vmfb: Path, out_dir: Path) -> list[Path]:
    """Extract the ELF(s) IREE's llvm-cpu backend embedded in `vmfb` into `out_dir`: by zip, else every
    ELF found by its magic, cut at the size its headers give."""
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(vmfb) as archive:
            elves = {
                Path(i.filename).name: data
                for i in archive.infolist()
                if (data := archive.read(i)).startswith(ELF_MAGIC)
            }
    except (zipfile.BadZipFile, OSError, ValueError):
        elves = {}
    elves = elves or {f"kernel_{n}.so": data for n, data in enumerate(scan_elves(vmfb.read_bytes()))}
    for name, data in elves.items():
        (out_dir / name).write_bytes(data)
    return [out_dir / name for name in elves]


def scan_elves(blob: bytes) -> list[bytes]:
    """Every well-formed ELF image inside `blob`, cut at the end of its furthest header or section."""
    elves = []
    start = blob.find(ELF_MAGIC)
    while start >= 0:
        if size := elf_size(blob, start):
            elves.append(blob[start : start + size])
        start = blob.find(ELF_MAGIC, start + (size or 1))
    return elves


def _sections(blob: bytes, start: int = 0) -> Optional[tuple[bool, str, Any, list[Any]]]:
    """(64-bit, byte order, header fields, section headers) of the ELF at `blob[start:]`, or None."""
    ident = blob[start : start + 16]
    if len(ident) < 16 or not ident.startswith(ELF_MAGIC) or ident[4] not in (1, 2) or ident[5] not in (1, 2):
        return None
    wide, order = ident[4] == 2, "<" if ident[5] == 1 else ">"
    header = struct.unpack_from(order + ("HHIQQQIHHHHHH" if wide else "HHIIIIIHHHHHH"), blob, start + 16)
    shoff, shentsize, shnum = header[5], header[10], header[11]
    section = order + ("IIQQQQIIQQ" if wide else "IIIIIIIIII")
    return (
        wide,
        order,
        header,
        [struct.unpack_from(section, blob, start + shoff + i * shentsize) for i in range(shnum)],
    )


def defined_functions(blob: bytes, *, default_visibility: bool = False) -> list[str]:
    """The global or weak functions an ELF object defines, hidden included unless `default_visibility` (then
    only STV_DEFAULT ones: a shared-object link may preempt them, so calls to them go through the PLT);
    [] for no ELF or symbol table."""
    try:
        if len(blob) < 64 or (parsed := _sections(blob)) is None:
            return []
        wide, order, _, sections = parsed
        found = []
        for _, sh_type, _, _, offset, size, link, _, _, entsize in sections:
            if sh_type != 2 or not entsize:  # SHT_SYMTAB
                continue
            strings = sections[link]
            for at in range(offset, offset + size, entsize):
                if wide:
                    name, info, other, shndx = struct.unpack_from(order + "IBBH", blob, at)
                else:
                    name, _, _, info, other, shndx = struct.unpack_from(order + "IIIBBH", blob, at)
                # FUNC, GLOBAL/WEAK, defined; STV_DEFAULT where asked
                shown = not (default_visibility and other & 3)
                if info & 0xF == 2 and info >> 4 in (1, 2) and shndx != 0 and shown:
                    start = strings[4] + name
                    found.append(blob[start : blob.index(b"\0", start)].decode("utf-8", "replace"))
        return found
    except (struct.error, IndexError, ValueError):
        return []


def elf_size(blob: bytes, start: int = 0) -> int:
    """The length of the ELF at `blob[start:]`: the furthest of its header tables and sections (0: none)."""
    try:
        if (parsed := _sections(blob, start)) is None:
            return 0
        (_, _, _, _, phoff, shoff, _, _, phentsize, phnum, shentsize, shnum, _), sections = parsed[2:]
        end = max(phoff + phentsize * phnum, shoff + shentsize * shnum)
        for _, sh_type, _, _, offset, size, *_ in sections:
            if sh_type != 8:  # SHT_NOBITS occupies no file space
                end = max(end, offset + size)
    except struct.error:
        return 0
    return end if start + end <= len(blob) else 0


def parse_arm32_attributes(readelf_output: str) -> dict[str, Any]:
    """`readelf -h -A` output -> every `Tag_*`, the float ABI, and each dispatch code check's `<arch>_ok`."""
    lines = readelf_output.splitlines()
    tags = {m[1]: m[2].strip('"') for line in lines if (m := re.match(r"\s*(Tag_\w+):\s*(.*?)\s*$", line))}
    # The header's flags line (the last, should there be two) says the float ABI, or nothing.
    abis = [re.search(r"(soft|hard)-float ABI", line) for line in lines if line.strip().startswith("Flags:")]
    float_abi = abis[-1].group(1) if abis and abis[-1] else None
    return {
        **tags,
        "float_abi": float_abi,  # "hard" | "soft" | None (header flags say nothing)
        **{
            a.code_verdict: a.code_check.runs(tags)
            for a in targets.ARCHES.values()
            if a.code_check is not None
        },
    }


def arm32_attributes(elf: Path, *, log: Optional[Path] = None) -> dict[str, Any]:
    request = ProcessRequest(["readelf", "-h", "-A", str(elf)], timeout=60, log=log, error_class="readelf")
    return parse_arm32_attributes(processes.run(request).stdout)


def arm32_calls_past_text(blob: bytes) -> list[int]:
    """Addresses of the ARM-mode `bl`s in a 32-bit ELF's `.text` that call just past its end: the size-0
    `fmaf` IREE links for a CPU without FMA lies there, and such a call faults (docs/boards.md)."""
    try:
        if (parsed := _sections(blob)) is None or parsed[:2] != (False, "<"):  # ELF32, little-endian
            return []
        header, sections = parsed[2:]
        names_offset = sections[header[12]][4]  # e_shstrndx
    except (struct.error, IndexError):
        return []
    for name, _type, _flags, addr, offset, size, *_ in sections:
        if blob[names_offset + name : blob.find(b"\0", names_offset + name)] == b".text":
            words = enumerate(struct.iter_unpack("<I", blob[offset : offset + size - size % 4]))
            # BL, condition "always", to the end of .text
            return [
                addr + 4 * n for n, (w,) in words if w >> 24 == 0xEB and 4 * n + _branch_offset(w) == size
            ]
    return []


def _branch_offset(word: int) -> int:
    """Where an ARM-mode `b`/`bl` goes from its own address: its signed 24-bit word offset from pc (+8)."""
    return ((((word & 0xFFFFFF) ^ 0x800000) - 0x800000) << 2) + 8


_UNDEFINED = re.compile(r"undefined symbol: (.+?)\s*$", re.MULTILINE)


def undefined_symbols(compile_output: str) -> list[str]:
    """The symbols iree-compile's `-nostdlib` embedded linker could not resolve, in order of first mention."""
    return list(dict.fromkeys(m.group(1) for m in _UNDEFINED.finditer(compile_output)))


def binary_facts(elf: Path, *, log: Optional[Path] = None) -> dict[str, Any]:
    """Size, interpreter, NEEDED libraries and required GLIBC_x.y versions of a (cross) binary."""
    readelf = ["readelf", "-l", "-d", "-V", str(elf)]
    headers = processes.run(ProcessRequest(readelf, timeout=60, log=log, error_class="readelf"))
    return {
        "bytes": elf.stat().st_size,
        **parse_binary_facts(headers.stdout),
        "attributes": arm32_attributes(elf, log=log),
    }


def parse_binary_facts(readelf_output: str) -> dict[str, Any]:
    """`readelf -l -d -V` output -> interpreter (None for a static binary), NEEDED, GLIBC versions."""
    interp = re.search(r"\[Requesting program interpreter: ([^\]]+)\]", readelf_output)
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", readelf_output)
    versions = set(re.findall(r"Name: (GLIBC_[0-9.]+)", readelf_output))
    return {
        "interpreter": interp.group(1) if interp else None,
        "needed": needed,
        "glibc_versions": sorted(versions, key=lambda v: [int(x) for x in v[6:].split(".")]),
    }
