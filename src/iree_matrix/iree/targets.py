"""CPU and GPU targets: an architecture and, for boards, the exact CPU (`x86_64`, `aarch64:cortex-a72`,
`armv6`, `cortex-m:cortex-m4`, `cuda:sm_80`; ids spell it `aarch64-cortex-a72`). `ARCHES` is the one table
of target facts (CONTRIBUTING.md, "Adding a CPU target"); everything else reads them here. Compiles
happen on the host; a run needs the target's architecture, natively or under qemu-user with `QEMU_CPU`
pinned to the board's CPU, and a GPU target runs on the host's runtime by its HAL driver."""

from __future__ import annotations

import dataclasses
import platform
from collections.abc import Mapping
from typing import Any, Optional


@dataclasses.dataclass(frozen=True)
class Platform:
    """A Debian architecture: what a run environment's root filesystem is built for, and how
    Docker and qemu-user name it."""

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
    """How IREE's runtime is built for a target (source_builds/cmake_runtime.py) with the host's cmake and
    ninja: the C and C++ compilers, their flags, and the Debian packages that provide them (the
    runtime-build image installs them; images/setup-host.sh, the host)."""

    cc: str
    cxx: str
    cflags: str = ""
    cross: bool = False  # a cross build: it needs a native build's host tools
    system_processor: str = ""  # a cross build's CMAKE_SYSTEM_PROCESSOR
    packages: tuple[str, ...] = ()  # Debian packages: the compilers and binutils (strip)


@dataclasses.dataclass(frozen=True)
class DispatchCodeCheck:
    """What a board's CPU executes, by the ARM build attributes `readelf -A` prints: a module's
    dispatch code (the compile stage) and a cross-built binary must ask for no more (iree/elf.py)."""

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
    # The arch's CPU (one of its `cpus`) whose modules and firmwares it runs, when the matrix has no
    # target of the board's own CPU: a Cortex-M7 (ARMv7E-M, FPv5) runs the Cortex-M4 target's code
    # (ARMv7E-M, FPv4-SP: a subset).
    runs: Optional[str] = None

    @property
    def target_cpu(self) -> str:
        """The target CPU whose modules are checked against this board."""
        return self.runs or self.cpu


@dataclasses.dataclass(frozen=True)
class Machine:
    """A qemu-system-arm machine a bare-metal CPU's firmware runs on (source_builds/cortex_m.py):
    its CPU, the compile flags for it, and its memory map. Its repr is part of a firmware run's key."""

    qemu: str  # -machine
    cpu: str  # LLVM / GCC CPU name
    gcc_flags: tuple[str, ...]
    flash: tuple[int, int]  # origin, bytes: where code and constants go
    ram: tuple[int, int]  # origin, bytes: data, bss, heap, stack
    description: str


@dataclasses.dataclass(frozen=True)
class Gpu:
    """A GPU backend: what iree-compile is told (its backend and, per release, the flag naming the
    chip) and which of the runtime's HAL drivers runs its modules."""

    backend: str  # --iree-hal-target-backends=<backend>
    driver: str  # iree-run-module --device=<driver>
    kind: str  # what people call its devices: "CUDA", "HIP", "Vulkan"
    # The flag naming the chip, newest spelling first: a release takes the first its iree-compile
    # lists (compiler_options.json: --iree-hip-target 2.9.0-3.11.0, --iree-rocm-target 3.11.0-).
    chip_flags: tuple[str, ...] = ()
    # Debian packages a run on this machine needs (the Vulkan loader, Mesa's lavapipe device, and
    # chromium-common's SwiftShader for the runtimes that hide lavapipe: iree/devices.py).
    packages: tuple[str, ...] = ()

    def compile_flags(self, chip: Optional[str], listed: Optional[frozenset[str]] = None) -> list[str]:
        """The backend and chip flags; `listed`: the options this compiler has (its --help-hidden, or
        compiler_options.json's row), choosing the chip flag's spelling (None: the newest)."""
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
    # The calling convention of the run environment's C library (None: the native one). Kernels and
    # a runtime built for the board must agree with it.
    float_abi: Optional[str] = None
    # No OS: the module is a static library linked into a firmware that qemu-system-arm runs on
    # the host (cortex_m.py); no runtime environment, no install.
    bare_metal: bool = False
    # A board CPU of another ISA than the arch's triple says (the Cortex-M55 is ARMv8.1-M): its triple.
    cpu_triples: dict[str, str] = dataclasses.field(default_factory=dict)
    toolchain: Optional[Toolchain] = None  # None: no runtime is built from source for it
    code_check: Optional[DispatchCodeCheck] = None  # None: its dispatch code is not checked (the target is)
    # Per board CPU, the heading of its section in BOARDS.md ("Pi 4 (Cortex-A72, aarch64)"): which
    # IREE release runs a model on it. A CPU without one has no section.
    board_titles: dict[str, str] = dataclasses.field(default_factory=dict)
    boards: tuple[Board, ...] = ()
    # A bare-metal CPU's emulated machine, per CPU of `cpus` (qemu-system-arm runs its firmware).
    machines: tuple[Machine, ...] = ()
    # A GPU target: compiled for `gpu.backend`, run by the host's runtime on its `gpu.driver`.
    gpu: Optional[Gpu] = None

    @property
    def platform(self) -> Platform:
        return PLATFORMS[self.debian]

    @property
    def code_verdict(self) -> str:
        """The key of the dispatch code check's verdict in a compile's `kernel` metric (its stored
        name): `armv6_ok`."""
        return f"{self.name}_ok"

    def label(self, cpu: Optional[str]) -> str:
        """A target's label (what records name it): `aarch64-cortex-a72`."""
        return self.name if cpu is None else f"{self.name}-{cpu}"


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
            # Runs happen in Debian armel (soft-float calling convention, gnueabi): the kernels are
            # compiled for that ABI too, so runtime and kernels agree by construction (a hard-float
            # Raspberry Pi OS board needs gnueabihf for both; the run stage checks they match).
            "armv6-unknown-linux-gnueabi",
            "armel",
            None,
            cpus=("arm1176jzf-s",),
            default_cpu="arm1176jzf-s",
            features=("+vfp2",),
            qemu={"arm1176jzf-s": "arm1176"},
            float_abi="soft",
            # -mcpu, not -march=armv6 (IREE uses `yield`, an ARMv6K instruction); VFPv2 with Debian
            # armel's soft-float calling convention; the task executor's 32-bit cast kept a warning.
            toolchain=Toolchain(
                "arm-linux-gnueabi-gcc",
                "arm-linux-gnueabi-g++",
                "-mcpu=arm1176jzf-s -marm -mfpu=vfp -mfloat-abi=softfp -Wno-error=pointer-to-int-cast",
                cross=True,
                system_processor="arm",
                packages=("gcc-arm-linux-gnueabi", "g++-arm-linux-gnueabi", "binutils-arm-linux-gnueabi"),
            ),
            # ARMv6KZ: v6T2 (Thumb-2) and v7 do not run on it; VFPv2 (VFPv3 adds instructions it
            # lacks); no NEON.
            code_check=DispatchCodeCheck(
                cpu_arches=("Pre-v4", "v4", "v4T", "v5T", "v5TE", "v5TEJ", "v6", "v6KZ", "v6K"),
                fp_arches=("VFPv1", "VFPv2"),
                what="ARMv6 code an ARM1176",
            ),
            board_titles={"arm1176jzf-s": "Pi Zero / Pi 1 (ARM1176JZF-S, armv6, VFPv2)"},
            boards=(Board("Pi Zero", "arm1176jzf-s", 512 * 2**20, aliases=("pi-zero", "pi1")),),
        ),
        Arch(
            # A microcontroller (Nano 33 BLE, STM32F4): Thumb-2, ARMv7E-M, single-precision FPU,
            # hard-float calling convention as arm-none-eabi-gcc's -mfloat-abi=hard (cortex_m.py).
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
                # QEMU's MPS2 AN386 (hw/arm/mps2.c, https://www.qemu.org/docs/master/system/arm/mps2.html):
                # a Cortex-M4 with FPU, 4 MB ZBT SSRAM1 at 0 (code) and 4 MB SSRAM2/3 at 0x20000000 (data).
                Machine(
                    "mps2-an386",
                    "cortex-m4",
                    ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"),
                    (0x00000000, 4 * MiB),
                    (0x20000000, 4 * MiB),
                    "Arm MPS2 AN386 (Cortex-M4F), 4 MB code SRAM, 4 MB data SRAM",
                ),
                # QEMU's MPS3 AN547: Corstone-300's Cortex-M55, 512 KiB ITCM and DTCM. The core boots
                # Secure (bit 28 set), so the firmware lives at the Secure aliases 0x10000000 / 0x30000000.
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
        # GPU targets (docs/gpu.md): compiled on the host, run there by the host's runtime (its
        # `debian` and wheel are the host's; `run.environment` picks the host's runtime). The chips
        # are the ones the published matrices use and their neighbours; iree-compile takes more.
        Arch(
            "vulkan-spirv",
            "",
            "amd64",
            "x86_64",
            gpu=Gpu(
                "vulkan-spirv",
                "vulkan",
                "Vulkan",
                packages=("libvulkan1", "mesa-vulkan-drivers", "chromium-common"),
            ),
        ),
        Arch(
            "cuda",
            "",
            "amd64",
            "x86_64",
            # sm_90a: Hopper's arch-specific variant, which a Hopper user may name as well as sm_90.
            cpus=("sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_89", "sm_90", "sm_90a"),
            default_cpu="sm_80",
            gpu=Gpu("cuda", "cuda", "CUDA", chip_flags=("--iree-cuda-target",)),
        ),
        Arch(
            "rocm",
            "",
            "amd64",
            "x86_64",
            cpus=("gfx908", "gfx90a", "gfx942", "gfx1030", "gfx1100"),
            default_cpu="gfx942",
            gpu=Gpu("rocm", "hip", "HIP", chip_flags=("--iree-rocm-target", "--iree-hip-target")),
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
        """The architecture whose runtime runs this target's modules: a GPU's is the host's."""
        return host_arch() if self.arch.gpu is not None else self.arch.name


# --- readers of the table (at call time, so an entry added to ARCHES is every reader's) ----------


def toolchains() -> dict[str, Toolchain]:
    """The targets IREE's runtime can be built for, and how."""
    return {a.name: a.toolchain for a in ARCHES.values() if a.toolchain is not None}


def boards() -> list[tuple[Target, Board]]:
    """Every real board and its target, in the table's order."""
    return [(Target(a, b.target_cpu), b) for a in ARCHES.values() for b in a.boards]


def machines() -> dict[str, Machine]:
    """The bare-metal CPUs' emulated machines, by CPU."""
    return {m.cpu: m for a in ARCHES.values() for m in a.machines}


def board_pages() -> dict[str, str]:
    """Target label -> its BOARDS.md heading: the 32-bit boards (the smallest) first, then the
    table's order."""
    pages = [
        (a.triple.startswith(("aarch64", "x86_64")), a.label(cpu), title)
        for a in ARCHES.values()
        for cpu, title in a.board_titles.items()
    ]
    return {label: title for _, label, title in sorted(pages, key=lambda p: p[0])}


def gpus() -> dict[str, Arch]:
    """The GPU targets, by name."""
    return {a.name: a for a in ARCHES.values() if a.gpu is not None}


def host_arch() -> str:
    """This host as a target name (x86_64, aarch64)."""
    machine = platform.machine()
    return {"arm64": "aarch64", "amd64": "x86_64"}.get(machine, machine)


def host_platform() -> str:
    """This host's Debian architecture (amd64, arm64)."""
    machine = platform.machine()
    for found in PLATFORMS.values():
        if found.machine == machine:
            return found.debian
    raise UnknownTarget(f"no Debian architecture known for this host's machine type {machine!r}")


class UnknownTarget(ValueError):
    """An architecture, board CPU or chip the target table does not know; the message names the known ones."""


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


def is_gpu(label: str) -> bool:
    """A GPU target's label (`vulkan-spirv`, `cuda-sm_80`); False for a CPU's and for none known."""
    try:
        return parse(label).gpu is not None
    except UnknownTarget:
        return False


# The x86-64 CPUs iree-compile takes for --iree-llvmcpu-target-cpu, as IREE 3.13.0 lists them when it
# refuses another (an older release's LLVM knows fewer: its compile says so); a misspelt CPU is refused
# up front instead of failing every cell of `bundle --advise --cpu`.
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


# The first release whose matmul vectorizes its parallel dimensions on an x86 CPU without AVX-512:
# before it a target without +avx512f got vector tiles [1, 1, N], one horizontal reduction per output
# (iree-org/iree#24700, fixed by #24701; docs/performance.md: 3.9.0's x86-64-v3 matmul has no ymm
# instruction). An answer made on an AVX-512 CPU with an older release may not hold on such a CPU.
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
    """Why `cpu` (`--cpu`, `--fleet`) is no CPU of this host's architecture iree-compile takes: checked
    against the list on x86-64, elsewhere refused when it is an x86-64 one (each cell would fail); None
    otherwise."""
    if (arch := host_arch()) == "x86_64":
        return x86_64_cpu_problem(cpu)
    if cpu in X86_64_LLVM_CPUS and cpu != "host":
        example = "neoverse-n1, cortex-a72" if arch == "aarch64" else "the board's CPU"
        return f"an x86-64 CPU, and this machine is {arch}: name a CPU of {arch} (e.g. {example})"
    return None
