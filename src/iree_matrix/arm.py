"""32-bit ARM (armv6) helpers: what is inside an IREE module, why it did not link, and whether a
foreign-CPU container really runs.

IREE publishes no 32-bit ARM runtime, so the part of the armv6 story this project can check on an
x86_64 host is the compiler's: the kernels it embeds in a .vmfb (an ELF per module, whose ARM
attributes say which CPU and FPU they need), the runtime-library symbols its `-nostdlib` link
cannot resolve, and a cross-compiled C program run under qemu-user in an armel Debian base.
"""

from __future__ import annotations

import dataclasses
import re
import struct
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

from iree_matrix import _proc

BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")
ELF_MAGIC = b"\x7fELF"

# The two 32-bit ARM Linux ABIs: armel (Debian armel, armv5te baseline) passes floats in integer
# registers (gnueabi; VFP may still be used inside functions: gcc -mfloat-abi=softfp); armhf passes
# them in VFP registers (gnueabihf; Debian's armhf needs armv7, Raspbian / Raspberry Pi OS build
# armhf for armv6). For IREE the choice does not matter (measured with iree-compile 3.9.0): the
# llvm-cpu backend rewrites the triple of its embedded-ELF kernels to
# `armv6-unknown-unknown-eabi-elf`, and both triples give a byte-identical .vmfb (kernel flagged
# hard-float, Tag_ABI_VFP_args: VFP registers). Nor does it matter to the runtime: its ELF loader
# checks only e_machine (EM_ARM), and every call into a kernel passes only ints and pointers
# (runtime/src/iree/hal/local/elf/arch/arm_32.c). So either triple serves either base; "armhf"
# (gnueabihf) is the default because it is what a Raspberry Pi OS runtime would be built for.
ARMV6_CPU = "arm1176jzf-s"
ARMV6_TRIPLES = {"armel": "armv6-unknown-linux-gnueabi", "armhf": "armv6-unknown-linux-gnueabihf"}
QEMU_CPU_ARMV6 = "arm1176"  # qemu-arm's name for the same core: `uname -m` then says armv6l


def armv6_compile_flags(abi: str = "armhf") -> list[str]:
    """iree-compile flags for armv6 kernels (CPU names do not imply features on ARM32: pass them)."""
    return [
        "--iree-hal-target-backends=llvm-cpu",
        f"--iree-llvmcpu-target-triple={ARMV6_TRIPLES[abi]}",
        f"--iree-llvmcpu-target-cpu={ARMV6_CPU}",
        "--iree-llvmcpu-target-cpu-features=+vfp2",
    ]


# --- binfmt_misc --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class BinfmtEntry:
    name: str
    enabled: bool
    interpreter: str
    flags: str

    @property
    def fix_binary(self) -> bool:
        """F: the interpreter was opened at registration, so it works in containers and chroots."""
        return "F" in self.flags


def parse_binfmt(name: str, text: str) -> BinfmtEntry:
    """One `/proc/sys/fs/binfmt_misc/<name>` file ("enabled\\ninterpreter ...\\nflags: OCF\\n...")."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    fields = {}
    for line in lines[1:]:
        key, _, value = line.partition(" ")
        fields[key.rstrip(":")] = value.strip()
    return BinfmtEntry(
        name=name,
        enabled=bool(lines) and lines[0] == "enabled",
        interpreter=fields.get("interpreter", ""),
        flags=fields.get("flags", ""),
    )


def binfmt_entry(name: str, root: Path = BINFMT_DIR) -> Optional[BinfmtEntry]:
    """The registered handler `name` (e.g. "qemu-arm"), or None (not registered, or binfmt_misc
    not mounted)."""
    try:
        return parse_binfmt(name, (root / name).read_text())
    except OSError:
        return None


def binfmt_problem(name: str, root: Path = BINFMT_DIR) -> Optional[str]:
    """Why `name` cannot run foreign binaries inside containers, or None when it can."""
    entry = binfmt_entry(name, root)
    if entry is None:
        mounted = (root / "register").exists()
        return f"{name} is not registered" + ("" if mounted else f" ({root} is not mounted)")
    if not entry.enabled:
        return f"{name} is registered but disabled"
    if not Path(entry.interpreter).exists():
        return f"{name}'s interpreter {entry.interpreter} does not exist"
    if not entry.fix_binary:
        flags = entry.flags or "none"
        return f"{name} lacks the F flag (flags: {flags}): containers cannot reach its interpreter"
    return None


# --- what is inside a .vmfb ---------------------------------------------------------------------


def module_kernels(vmfb: Path, out_dir: Path) -> list[Path]:
    """Extract the kernel ELF(s) IREE's llvm-cpu backend embedded in `vmfb` into `out_dir`.

    A .vmfb is a FlatBuffer followed by its external files and a zip central directory, so
    `zipfile` reads it (the kernels are stored, named like `module_linked_embedded_elf_arm_32.so`).
    When it is not zip-readable (another container layout), every ELF found by its magic is cut
    out at the size its own headers give, as `kernel_<n>.so`.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    found: list[Path] = []
    try:
        with zipfile.ZipFile(vmfb) as archive:
            for info in archive.infolist():
                data = archive.read(info)
                if data.startswith(ELF_MAGIC):
                    path = out_dir / Path(info.filename).name
                    path.write_bytes(data)
                    found.append(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        found = []
    if found:
        return found
    for n, data in enumerate(scan_elves(vmfb.read_bytes())):
        path = out_dir / f"kernel_{n}.so"
        path.write_bytes(data)
        found.append(path)
    return found


def scan_elves(blob: bytes) -> list[bytes]:
    """Every well-formed ELF image inside `blob`, cut at the end of its furthest header or section."""
    elves = []
    start = blob.find(ELF_MAGIC)
    while start >= 0:
        size = elf_size(blob, start)
        if size:
            elves.append(blob[start : start + size])
            start = blob.find(ELF_MAGIC, start + size)
        else:
            start = blob.find(ELF_MAGIC, start + 1)
    return elves


def elf_size(blob: bytes, start: int = 0) -> int:
    """The length of the ELF at `blob[start:]` from its own headers (0 when it is not one).

    The end is the furthest of: the section header table, the program header table, and every
    section with file contents (linkers put the section headers last, but do not promise it).
    """
    ident = blob[start : start + 16]
    if len(ident) < 16 or not ident.startswith(ELF_MAGIC) or ident[4] not in (1, 2) or ident[5] not in (1, 2):
        return 0
    wide, order = ident[4] == 2, "<" if ident[5] == 1 else ">"
    header = order + ("HHIQQQIHHHHHH" if wide else "HHIIIIIHHHHHH")
    try:
        (_, _, _, _, phoff, shoff, _, _, phentsize, phnum, shentsize, shnum, _) = struct.unpack_from(
            header, blob, start + 16
        )
        end = max(phoff + phentsize * phnum, shoff + shentsize * shnum)
        section = order + ("IIQQQQIIQQ" if wide else "IIIIIIIIII")
        for i in range(shnum):
            fields = struct.unpack_from(section, blob, start + shoff + i * shentsize)
            sh_type, offset, size = fields[1], fields[4], fields[5]
            if sh_type != 8:  # SHT_NOBITS occupies no file space
                end = max(end, offset + size)
    except struct.error:
        return 0
    return end if start + end <= len(blob) else 0


# --- ARM build attributes -----------------------------------------------------------------------

# Architectures an ARM1176JZF-S (ARMv6KZ, Raspberry Pi 1 / Zero) executes: v6T2 (Thumb-2) and v7
# do not run on it. Its FPU is VFPv2 (VFPv3 adds instructions it lacks); it has no NEON.
ARMV6_RUNNABLE_ARCHES = ("Pre-v4", "v4", "v4T", "v5T", "v5TE", "v5TEJ", "v6", "v6KZ", "v6K")
ARMV6_RUNNABLE_FP = ("VFPv1", "VFPv2")


def parse_arm_attributes(readelf_output: str) -> dict[str, Any]:
    """`readelf -h -A` output -> every `Tag_*` with its value, the header's float ABI, and
    `armv6_ok`: the code runs on an ARM1176 (CPU arch at most v6KZ, FP at most VFPv2, no NEON)."""
    tags: dict[str, str] = {}
    float_abi = None
    for line in readelf_output.splitlines():
        match = re.match(r"\s*(Tag_\w+):\s*(.*?)\s*$", line)
        if match:
            tags[match.group(1)] = match.group(2).strip('"')
        elif line.strip().startswith("Flags:"):
            abi = re.search(r"(soft|hard)-float ABI", line)
            float_abi = abi.group(1) if abi else None
    cpu, fp, simd = tags.get("Tag_CPU_arch"), tags.get("Tag_FP_arch"), tags.get("Tag_Advanced_SIMD_arch")
    return {
        **tags,
        "float_abi": float_abi,  # "hard" | "soft" | None (header flags say nothing)
        "armv6_ok": cpu in ARMV6_RUNNABLE_ARCHES and (fp is None or fp in ARMV6_RUNNABLE_FP) and simd is None,
    }


def arm_attributes(elf: Path, *, log: Optional[Path] = None) -> dict[str, Any]:
    """`parse_arm_attributes` of `readelf -h -A elf`."""
    done = _proc.run(["readelf", "-h", "-A", str(elf)], timeout=60, log=log, error_class="readelf")
    return parse_arm_attributes(done.stdout)


# --- link failures ------------------------------------------------------------------------------

_UNDEFINED = re.compile(r"undefined symbol: (.+?)\s*$", re.MULTILINE)


def undefined_symbols(compile_output: str) -> list[str]:
    """The symbols iree-compile's embedded linker could not resolve, in order of first mention.

    iree-lld links kernels `-nostdlib`, so on 32-bit ARM every helper LLVM calls instead of an
    instruction is missing (`__aeabi_idiv` for i32 division on armv6, which has no divide
    instruction; `__aeabi_ldivmod` for i64 division; `__aeabi_h2f` for f16 -> f32). The output
    reads `iree-lld: error: undefined symbol: __aeabi_idiv`.
    """
    return list(dict.fromkeys(m.group(1) for m in _UNDEFINED.finditer(compile_output)))


# --- running foreign binaries in a container ----------------------------------------------------


def docker_run_foreign(
    image: str,
    argv: Sequence[str],
    *,
    arch: str,
    qemu_cpu: Optional[str] = None,
    read_only: Sequence[Path] = (),
    timeout: float = 300,
    log: Optional[Path] = None,
    docker: str = "docker",
) -> _proc.Completed:
    """`docker run` of a foreign-arch image (e.g. an armel base) under the host's qemu-user binfmt
    handler, with `QEMU_CPU` pinned: no network, `read_only` host dirs mounted at the same paths,
    the container always removed. Raises StageFailure on a non-zero exit (the tool's output)."""
    import secrets

    from iree_matrix.images import ARCHES, LABEL

    spec = ARCHES[arch]
    platform = f"linux/{spec.docker}" + (f"/{spec.variant}" if spec.variant else "")
    name = f"iree-matrix-{arch}-{secrets.token_hex(4)}"
    opts = ["--rm", "--name", name, "--label", f"{LABEL}=1", "--network", "none", "--pull", "never",
            "--platform", platform]  # fmt: skip
    if qemu_cpu:
        opts += ["--env", f"QEMU_CPU={qemu_cpu}"]
    for path in read_only:
        path = Path(path).resolve()
        opts += ["--mount", f"type=bind,source={path},target={path},readonly"]
    try:
        return _proc.run(
            [docker, "run", *opts, image, *argv], timeout=timeout, log=log, error_class="docker-run"
        )
    finally:
        _proc.run([docker, "rm", "--force", name], timeout=60, check=False)


# --- an armv6 hello world -----------------------------------------------------------------------

HELLO_C = r"""#include <stdio.h>
#include <sys/utsname.h>

int main(int argc, char **argv) {
    struct utsname u;
    volatile double x = 1.5;  /* a VFP multiply under -mfloat-abi=softfp */
    (void)argc;
    uname(&u);
    printf("hello from %s on %s (%g)\n", argv[0], u.machine, x * x);
    return 0;
}
"""
CROSS_GCC = "arm-linux-gnueabi-gcc"
# Debian's armel gcc defaults to -march=armv5te -mfloat-abi=soft. softfp keeps armel's calling
# convention (floats in integer registers, so the armel libc links) while using VFP instructions.
HELLO_FLAGS = ("-march=armv6", "-marm", "-mfpu=vfp", "-mfloat-abi=softfp", "-O2")


def binary_facts(elf: Path, *, log: Optional[Path] = None) -> dict[str, Any]:
    """Size, interpreter, NEEDED libraries and required GLIBC_x.y versions of a (cross) binary."""
    headers = _proc.run(["readelf", "-l", "-d", "-V", str(elf)], timeout=60, log=log, error_class="readelf")
    return {"bytes": elf.stat().st_size, **parse_binary_facts(headers.stdout),
            "attributes": arm_attributes(elf, log=log)}  # fmt: skip


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


def hello_world(
    out_dir: Path, image: str, *, log: Optional[Path] = None, qemu_cpu: str = QEMU_CPU_ARMV6
) -> dict[str, Any]:
    """Cross-compile a C hello world for armv6 (static and dynamic, armel ABI) and run both in the
    armel `image` under qemu pinned to `qemu_cpu`. Returns the outputs, `uname -m`, the emulated
    /proc/cpuinfo, and each binary's `binary_facts`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    out_dir.chmod(0o755)
    source = out_dir / "hello.c"
    source.write_text(HELLO_C)
    binaries = {"static": out_dir / "hello-static", "dynamic": out_dir / "hello-dynamic"}
    for kind, binary in binaries.items():
        extra = ["-static"] if kind == "static" else []
        _proc.run(
            [CROSS_GCC, *HELLO_FLAGS, *extra, str(source), "-o", str(binary)],
            timeout=120, log=log, error_class="cross-gcc",
        )  # fmt: skip
    script = (
        "echo '== uname'; uname -m; "
        f"echo '== static'; {binaries['static']}; "
        f"echo '== dynamic'; {binaries['dynamic']}; "
        "echo '== auxv'; LD_SHOW_AUXV=1 /bin/true; "
        "echo '== cpuinfo'; cat /proc/cpuinfo"
    )
    done = docker_run_foreign(
        image, ["/bin/sh", "-ec", script], arch="armel", qemu_cpu=qemu_cpu, read_only=[out_dir], log=log
    )
    sections = _sections(done.stdout)
    return {
        "image": image,
        "qemu_cpu": qemu_cpu,
        "compiler": [CROSS_GCC, *HELLO_FLAGS],
        "uname_m": sections.get("uname", "").strip(),
        # What qemu tells the program about the CPU (from the pinned model): AT_PLATFORM "v6l",
        # AT_HWCAP "swp half thumb fastmult vfp edsp tls" for arm1176 (no neon, no idiva).
        **parse_auxv(sections.get("auxv", "")),
        # qemu-user (7.2) passes /proc/cpuinfo through from the host: it shows the x86 CPU.
        "cpuinfo": sections.get("cpuinfo", ""),
        "seconds": round(done.seconds, 1),
        **{
            kind: {
                "path": str(binary),
                "output": sections.get(kind, "").strip(),
                **binary_facts(binary, log=log),
            }
            for kind, binary in binaries.items()
        },
    }


def parse_auxv(ld_show_auxv: str) -> dict[str, Any]:
    """`LD_SHOW_AUXV=1 /bin/true` output -> {"platform": "v6l", "hwcap": ["swp", "half", ...]}."""
    fields = dict(re.findall(r"^(AT_\w+):[ \t]*(.*?)[ \t]*$", ld_show_auxv, re.MULTILINE))
    return {"platform": fields.get("AT_PLATFORM"), "hwcap": fields.get("AT_HWCAP", "").split()}


def _sections(stdout: str) -> Mapping[str, str]:
    sections: dict[str, list[str]] = {}
    current = None
    for line in stdout.splitlines():
        if line.startswith("== "):
            current = line[3:].strip()
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
    return {k: "\n".join(v) for k, v in sections.items()}
