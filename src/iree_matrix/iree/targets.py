"""CPU and GPU targets (`x86_64`, `aarch64:cortex-a72`, `cortex-m:cortex-m4`, `cuda:sm_80`; ids spell
it `aarch64-cortex-a72`). `ARCHES` is the one table of target facts; everything else reads them here."""

from __future__ import annotations

import contextlib
import dataclasses
import platform
from collections.abc import Mapping
from typing import Any, Optional


@dataclasses.dataclass(frozen=True)
class Platform:
    """A Debian architecture, and how Docker and qemu-user name it."""

    debian: str  # debootstrap --arch
    oci: str  # OCI architecture
    oci_variant: Optional[str]  # OCI's `variant` (v5, v7, v8)
    machine: str  # uname -m, and the wheel platform suffix
    qemu: Optional[str]  # the qemu-user binary that runs it on another host


PLATFORMS: dict[str, Platform] = {
    p.debian: p
    for p in (
        Platform("amd64", "amd64", None, "x86_64", None),
        Platform("arm64", "arm64", "v8", "aarch64", "qemu-aarch64"),
        Platform("armhf", "arm", "v7", "armv7l", "qemu-arm"),
        Platform("armel", "arm", "v5", "armv5tel", "qemu-arm"),
    )
}


@dataclasses.dataclass(frozen=True)
class Toolchain:
    """How IREE's runtime is built for a target: compilers, flags, and the Debian packages providing them."""

    cc: str
    cxx: str
    cflags: str = ""
    cross: bool = False  # a cross build: it needs a native build's host tools
    system_processor: str = ""  # a cross build's CMAKE_SYSTEM_PROCESSOR
    packages: tuple[str, ...] = ()  # Debian packages: the compilers and binutils (strip)


@dataclasses.dataclass(frozen=True)
class DispatchCodeCheck:
    """What a board's CPU executes, by the ARM build attributes `readelf -A` prints (iree/elf.py)."""

    cpu_arches: tuple[str, ...]  # Tag_CPU_arch values the CPU runs
    fp_arches: tuple[str, ...]  # Tag_FP_arch values its FPU has (no tag: no FP asked for)
    what: str  # "ARMv6 code an ARM1176": a failure says the kernels are not `what` can run
    simd_arches: tuple[str, ...] = ()  # Tag_Advanced_SIMD_arch values it has (none: no NEON)

    def runs(self, tags: Mapping[str, Any]) -> bool:
        fp, simd = tags.get("Tag_FP_arch"), tags.get("Tag_Advanced_SIMD_arch")
        return (
            tags.get("Tag_CPU_arch") in self.cpu_arches
            and (fp is None or fp in self.fp_arches)
            and (simd is None or simd in self.simd_arches)
        )


@dataclasses.dataclass(frozen=True)
class Board:
    """A real board: what people call it, its CPU, and its memory."""

    name: str  # "Pi Zero", "Arduino Nano 33 BLE (nRF52840)"
    cpu: str  # its own CPU (LLVM name): "cortex-a72", "cortex-m7"
    ram: int  # bytes (of the smallest model)
    flash: Optional[int] = None  # a microcontroller's flash
    aliases: tuple[str, ...] = ()  # what `query --arch` takes for it: "pi-zero"
    source: str = ""  # where the figures are from
    # The arch's CPU whose code it runs when the matrix has no target of its own CPU: a Cortex-M7
    # (ARMv7E-M, FPv5) runs the Cortex-M4 target's code (FPv4-SP: a subset).
    runs: Optional[str] = None

    @property
    def target_cpu(self) -> str:
        return self.runs or self.cpu


@dataclasses.dataclass(frozen=True)
class Machine:
    """A qemu-system-arm machine a bare-metal firmware runs on. Its repr is part of a firmware run's key."""

    qemu: str  # -machine
    cpu: str  # LLVM / GCC CPU name
    gcc_flags: tuple[str, ...]
    flash: tuple[int, int]  # origin, bytes: where code and constants go
    ram: tuple[int, int]  # origin, bytes: data, bss, heap, stack
    description: str


@dataclasses.dataclass(frozen=True)
class Gpu:
    """A GPU backend: what iree-compile is told and which HAL driver runs its modules."""

    backend: str  # --iree-hal-target-backends=<backend>
    driver: str  # iree-run-module --device=<driver>
    kind: str  # what people call its devices: "CUDA", "HIP", "Vulkan"
    # The flag naming the chip, newest spelling first: a release takes the first its iree-compile lists.
    chip_flags: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()  # Debian packages a run on this machine needs (iree/devices.py)

    def compile_flags(self, chip: Optional[str], listed: Optional[frozenset[str]] = None) -> list[str]:
        """`listed`: the options this compiler has, choosing the chip flag's spelling (None: the newest)."""
        flags = [f"--iree-hal-target-backends={self.backend}"]
        if chip and self.chip_flags:
            spelled = [f for f in self.chip_flags if listed is None or f in listed]
            flags.append(f"{(spelled or list(self.chip_flags))[0]}={chip}")
        return flags


@dataclasses.dataclass(frozen=True)
class Arch:
    name: str  # x86_64 | aarch64 | armv6
    triple: str
    debian: str  # the Debian architecture of the run environment (a key of PLATFORMS)
    wheel_machine: Optional[str]  # the wheel platform suffix; None: IREE publishes no wheel
    cpus: tuple[str, ...] = ()  # board CPUs (LLVM names); empty: the profile decides (host/generic)
    default_cpu: Optional[str] = None
    features: tuple[str, ...] = ()  # LLVM CPU names don't imply features on ARM32: pass them
    qemu: dict[str, str] = dataclasses.field(default_factory=dict)  # LLVM CPU -> QEMU_CPU
    # The run environment's C library's calling convention (None: native): kernels and runtime agree with it.
    float_abi: Optional[str] = None
    bare_metal: bool = False  # no OS: the module is linked into a firmware qemu-system-arm runs
    # A board CPU of another ISA than the arch's triple says (the Cortex-M55 is ARMv8.1-M): its triple.
    cpu_triples: dict[str, str] = dataclasses.field(default_factory=dict)
    toolchain: Optional[Toolchain] = None  # None: no runtime is built from source for it
    code_check: Optional[DispatchCodeCheck] = None  # None: its dispatch code is not checked (the target is)
    # Per board CPU, the heading of its section in BOARDS.md; a CPU without one has no section.
    board_titles: dict[str, str] = dataclasses.field(default_factory=dict)
    boards: tuple[Board, ...] = ()
    machines: tuple[Machine, ...] = ()  # a bare-metal CPU's emulated machine, per CPU of `cpus`
    gpu: Optional[Gpu] = None

    @property
    def platform(self) -> Platform:
        return PLATFORMS[self.debian]

    @property
    def code_verdict(self) -> str:
        """The dispatch code check's verdict's key in a compile's `kernel` metric."""
        return f"{self.name}_ok"

    def label(self, cpu: Optional[str]) -> str:
        return self.name if cpu is None else f"{self.name}-{cpu}"


def _on_host(gpu: Gpu, **more: Any) -> Arch:
    """A GPU target (docs/gpu.md), named by its backend: compiled on the host, run by the host's runtime."""
    return Arch(gpu.backend, "", "amd64", "x86_64", gpu=gpu, **more)


KiB = 1024
MiB = 1024 * KiB

ARCHES: dict[str, Arch] = {
    a.name: a
    for a in (
        Arch(
            "x86_64",
            "x86_64-unknown-linux-gnu",
            "amd64",
            "x86_64",
            toolchain=Toolchain("gcc", "g++", packages=("gcc", "g++", "binutils")),
        ),
        Arch(
            "aarch64",
            "aarch64-unknown-linux-gnu",
            "arm64",
            "aarch64",
            cpus=("cortex-a53", "cortex-a72", "cortex-a76"),  # Pi 3 / Zero 2 W, Pi 4, Pi 5
            qemu={"cortex-a53": "cortex-a53", "cortex-a72": "cortex-a72", "cortex-a76": "cortex-a76"},
            board_titles={
                "cortex-a72": "Pi 4 (Cortex-A72, aarch64)",
                "cortex-a53": "Pi 3 / Zero 2 W (Cortex-A53, aarch64)",
            },
            # Raspberry Pi's product pages: Pi 4 Model B 1, 2, 4 or 8 GB; Pi 3 Model B 1 GB; Zero 2 W 512 MB.
            boards=(
                Board("smallest Pi 4", "cortex-a72", 2**30, aliases=("pi4",)),
                Board("Zero 2 W", "cortex-a53", 512 * 2**20),
                Board("Pi 3", "cortex-a53", 2**30, aliases=("pi3",)),
            ),
        ),
        Arch(
            "armv6",
            # Runs happen in Debian armel (soft-float, gnueabi): kernels are compiled for that ABI too.
            "armv6-unknown-linux-gnueabi",
            "armel",
            None,
            cpus=("arm1176jzf-s",),
            default_cpu="arm1176jzf-s",
            features=("+vfp2",),
            qemu={"arm1176jzf-s": "arm1176"},
            float_abi="soft",
            # -mcpu, not -march=armv6: IREE uses `yield`, an ARMv6K instruction.
            toolchain=Toolchain(
                "arm-linux-gnueabi-gcc",
                "arm-linux-gnueabi-g++",
                "-mcpu=arm1176jzf-s -marm -mfpu=vfp -mfloat-abi=softfp -Wno-error=pointer-to-int-cast",
                cross=True,
                system_processor="arm",
                packages=("gcc-arm-linux-gnueabi", "g++-arm-linux-gnueabi", "binutils-arm-linux-gnueabi"),
            ),
            # ARMv6KZ: no v6T2 (Thumb-2), v7, VFPv3 or NEON.
            code_check=DispatchCodeCheck(
                cpu_arches=("Pre-v4", "v4", "v4T", "v5T", "v5TE", "v5TEJ", "v6", "v6KZ", "v6K"),
                fp_arches=("VFPv1", "VFPv2"),
                what="ARMv6 code an ARM1176",
            ),
            board_titles={"arm1176jzf-s": "Pi Zero / Pi 1 (ARM1176JZF-S, armv6, VFPv2)"},
            boards=(Board("Pi Zero", "arm1176jzf-s", 512 * 2**20, aliases=("pi-zero", "pi1")),),
        ),
        Arch(
            # A microcontroller (Nano 33 BLE, STM32F4): ARMv7E-M, single-precision FPU, hard-float ABI.
            "cortex-m",
            "thumbv7em-none-eabihf",
            "amd64",  # runs on the host, in qemu-system-arm: no Debian root filesystem of its own
            None,
            cpus=("cortex-m4", "cortex-m55"),
            default_cpu="cortex-m4",
            qemu={"cortex-m4": "cortex-m4", "cortex-m55": "cortex-m55"},
            float_abi="hard",
            bare_metal=True,
            cpu_triples={"cortex-m55": "thumbv8.1m.main-none-eabihf"},  # Helium (MVE), FPv5
            # Real boards with these cores, for "does the firmware fit" (vendors' data sheets).
            boards=(
                Board(
                    "Arduino Nano 33 BLE (nRF52840)",
                    "cortex-m4",
                    256 * KiB,
                    1 * MiB,
                    source="https://docs.arduino.cc/hardware/nano-33-ble/",
                ),
                Board(
                    "STM32F4-Discovery (STM32F407VG)",
                    "cortex-m4",
                    192 * KiB,
                    1 * MiB,
                    source="https://www.st.com/en/microcontrollers-microprocessors/stm32f407vg.html",
                ),
                Board(
                    "Arduino Portenta H7 (STM32H747, Cortex-M7)",
                    "cortex-m7",
                    1 * MiB,
                    2 * MiB,
                    source="https://docs.arduino.cc/hardware/portenta-h7/",
                    runs="cortex-m4",
                ),
            ),
            machines=(
                Machine(  # QEMU's MPS2 AN386 (hw/arm/mps2.c)
                    "mps2-an386",
                    "cortex-m4",
                    ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"),
                    (0x00000000, 4 * MiB),
                    (0x20000000, 4 * MiB),
                    "Arm MPS2 AN386 (Cortex-M4F), 4 MB code SRAM, 4 MB data SRAM",
                ),
                # QEMU's MPS3 AN547: the core boots Secure, so the firmware lives at the Secure aliases.
                Machine(
                    "mps3-an547",
                    "cortex-m55",
                    ("-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard"),
                    (0x10000000, 512 * KiB),
                    (0x30000000, 512 * KiB),
                    "Arm MPS3 AN547 (Corstone-300, Cortex-M55), 512 KiB ITCM, 512 KiB DTCM",
                ),
            ),
        ),
        _on_host(
            Gpu(
                "vulkan-spirv",
                "vulkan",
                "Vulkan",
                packages=("libvulkan1", "mesa-vulkan-drivers", "chromium-common"),
            )
        ),
        _on_host(
            Gpu("cuda", "cuda", "CUDA", chip_flags=("--iree-cuda-target",)),
            cpus=("sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_89", "sm_90", "sm_90a"),
            default_cpu="sm_80",
        ),
        _on_host(
            Gpu("rocm", "hip", "HIP", chip_flags=("--iree-rocm-target", "--iree-hip-target")),
            cpus=("gfx908", "gfx90a", "gfx942", "gfx1030", "gfx1100"),
            default_cpu="gfx942",
        ),
    )
}


@dataclasses.dataclass(frozen=True)
class Target:
    arch: Arch
    cpu: Optional[str]  # board CPU, or None where the compile profile decides

    @property
    def label(self) -> str:
        return self.arch.label(self.cpu)

    @property
    def triple(self) -> str:
        return self.arch.cpu_triples.get(self.cpu or "", self.arch.triple)

    @property
    def qemu_cpu(self) -> Optional[str]:
        return self.arch.qemu.get(self.cpu or "")

    @property
    def emulated(self) -> bool:
        return self.arch.gpu is None and self.arch.name != host_arch()

    @property
    def gpu(self) -> Optional[Gpu]:
        return self.arch.gpu

    def run_arch(self) -> str:
        return host_arch() if self.arch.gpu is not None else self.arch.name


def toolchains() -> dict[str, Toolchain]:
    return {a.name: a.toolchain for a in ARCHES.values() if a.toolchain is not None}


def boards() -> list[tuple[Target, Board]]:
    return [(Target(a, b.target_cpu), b) for a in ARCHES.values() for b in a.boards]


def machines() -> dict[str, Machine]:
    return {m.cpu: m for a in ARCHES.values() for m in a.machines}


def board_pages() -> dict[str, str]:
    """Target label -> its BOARDS.md heading: the 32-bit boards (the smallest) first."""
    pages = [
        (a.triple.startswith(("aarch64", "x86_64")), a.label(cpu), title)
        for a in ARCHES.values()
        for cpu, title in a.board_titles.items()
    ]
    return {label: title for _, label, title in sorted(pages, key=lambda p: p[0])}


def gpus() -> dict[str, Arch]:
    return {a.name: a for a in ARCHES.values() if a.gpu is not None}


def host_arch() -> str:
    machine = platform.machine()
    return {"arm64": "aarch64", "amd64": "x86_64"}.get(machine, machine)


def host_platform() -> str:
    machine = platform.machine()
    for found in PLATFORMS.values():
        if found.machine == machine:
            return found.debian
    raise UnknownTarget(f"no Debian architecture known for this host's machine type {machine!r}")


class UnknownTarget(ValueError):
    """An architecture, board CPU or chip the target table does not know."""


def parse(text: str) -> Target:
    """`x86_64`, `aarch64:cortex-a72` or its id spelling `aarch64-cortex-a72`, `armv6`."""
    name, sep, cpu = text.partition(":")
    if not sep:
        for known in ARCHES.values():
            if text.startswith(known.name + "-"):
                name, cpu = known.name, text[len(known.name) + 1 :]
    if (arch := ARCHES.get(name)) is None:
        raise UnknownTarget(f"unknown architecture (known: {', '.join(ARCHES)})")
    if not arch.cpus:
        if cpu:
            what = "chip" if arch.gpu else "board CPU (the compile profile's target_cpu decides)"
            raise UnknownTarget(f"{name} takes no {what}")
        return Target(arch, None)
    cpu = cpu or arch.default_cpu or ""
    if cpu not in arch.cpus:
        choices = " | ".join(f"{name}:{c}" for c in arch.cpus)
        raise UnknownTarget(f"{name} needs a {'chip' if arch.gpu else 'board CPU'}: {choices}")
    return Target(arch, cpu)


def known(text: str) -> Optional[Target]:
    """`parse`'s target; None for none named or one this table does not know (a record's own words)."""
    with contextlib.suppress(UnknownTarget):
        return parse(text) if text else None
    return None


def is_gpu(label: str) -> bool:
    """A GPU target's label (`vulkan-spirv`, `cuda-sm_80`); False for a CPU's and for none known."""
    return (target := known(label)) is not None and target.gpu is not None


# The x86-64 CPUs IREE 3.13.0's iree-compile takes: a misspelt CPU is refused up front instead of
# failing every cell of `bundle --advise --cpu`.
X86_64_LLVM_CPUS = frozenset(
    "nocona core2 penryn bonnell atom silvermont slm goldmont goldmont-plus tremont nehalem corei7 westmere "
    "sandybridge corei7-avx ivybridge core-avx-i haswell core-avx2 broadwell skylake skylake-avx512 skx "
    "cascadelake cooperlake cannonlake icelake-client rocketlake icelake-server tigerlake sapphirerapids "
    "alderlake raptorlake meteorlake arrowlake arrowlake-s lunarlake gracemont pantherlake wildcatlake "
    "novalake sierraforest grandridge graniterapids graniterapids-d emeraldrapids clearwaterforest "
    "diamondrapids knl knm k8 athlon64 athlon-fx opteron k8-sse3 athlon64-sse3 opteron-sse3 amdfam10 "
    "barcelona btver1 btver2 bdver1 bdver2 bdver3 bdver4 znver1 znver2 znver3 znver4 znver5 znver6 c86-4g-m4 "
    "c86-4g-m6 c86-4g-m7 c86-4g-m8 x86-64 x86-64-v2 x86-64-v3 x86-64-v4 host".split()
)


# The first release whose matmul vectorizes on an x86 CPU without AVX-512 (iree-org/iree#24701): an
# answer made on an AVX-512 CPU with an older release may not hold on such a CPU.
AVX2_MATMUL_FIXED = "3.12.0"


def x86_64_cpu_problem(cpu: str) -> Optional[str]:
    """Why `cpu` is no x86-64 CPU iree-compile takes (None: it is one), with the nearest names."""
    if cpu in X86_64_LLVM_CPUS:
        return None
    import difflib

    near = difflib.get_close_matches(cpu, sorted(X86_64_LLVM_CPUS), n=3, cutoff=0.6)
    said = f"did you mean {', '.join(near)}?" if near else "e.g. znver4, emeraldrapids, x86-64-v3"
    return f"not an x86-64 CPU that LLVM knows (IREE 3.13.0's list of accepted CPUs); {said}"


def host_cpu_problem(cpu: str) -> Optional[str]:
    """Why `cpu` is no CPU of this host's architecture iree-compile takes (None: it is one)."""
    if (arch := host_arch()) == "x86_64":
        return x86_64_cpu_problem(cpu)
    if cpu in X86_64_LLVM_CPUS and cpu != "host":
        example = "neoverse-n1, cortex-a72" if arch == "aarch64" else "the board's CPU"
        return f"an x86-64 CPU, and this machine is {arch}: name a CPU of {arch} (e.g. {example})"
    return None
