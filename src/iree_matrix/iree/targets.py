"""CPU targets: an architecture and, for boards, the exact CPU — what a module is compiled for and
what its run is emulated as.

Compilation always happens on the host (IREE cross-compiles for any triple); only `run` needs the
target architecture, natively or under qemu-user with `QEMU_CPU` pinned to the board's CPU so no
newer instruction slips through unnoticed.

In a matrix file a target is `x86_64`, `aarch64:cortex-a72` (board CPU after the colon),
`armv6` (the Raspberry Pi Zero's ARM1176JZF-S) or `cortex-m:cortex-m4` (a bare-metal
microcontroller, docs/cortex-m.md); ids spell it `aarch64-cortex-a72`.
"""

from __future__ import annotations

import dataclasses
import platform
from typing import Optional


@dataclasses.dataclass(frozen=True)
class Platform:
    """A Debian architecture: what a run environment's root filesystem is built for, and how
    Docker and qemu-user name it."""

    debian: str  # debootstrap --arch
    oci: str  # OCI architecture
    variant: Optional[str]  # OCI variant
    machine: str  # uname -m, and the wheel platform suffix
    qemu: Optional[str]  # the qemu-user binary that runs it on another host

    @property
    def oci_platform(self) -> str:
        """`docker run --platform`'s value: linux/arm/v5."""
        return f"linux/{self.oci}" + (f"/{self.variant}" if self.variant else "")


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

    @property
    def platform(self) -> Platform:
        return PLATFORMS[self.debian]


ARCHES: dict[str, Arch] = {
    a.name: a
    for a in (
        Arch("x86_64", "x86_64-unknown-linux-gnu", "amd64", "x86_64"),
        Arch(
            "aarch64",
            "aarch64-unknown-linux-gnu",
            "arm64",
            "aarch64",
            cpus=("cortex-a53", "cortex-a72", "cortex-a76"),  # Pi 3 / Zero 2 W, Pi 4, Pi 5
            qemu={"cortex-a53": "cortex-a53", "cortex-a72": "cortex-a72", "cortex-a76": "cortex-a76"},
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
        ),
    )
}


@dataclasses.dataclass(frozen=True)
class Target:
    arch: Arch
    cpu: Optional[str]  # board CPU, or None where the compile profile decides

    @property
    def label(self) -> str:
        return self.arch.name if self.cpu is None else f"{self.arch.name}-{self.cpu}"

    @property
    def triple(self) -> str:
        return self.arch.cpu_triples.get(self.cpu or "", self.arch.triple)

    @property
    def qemu_cpu(self) -> Optional[str]:
        return self.arch.qemu.get(self.cpu or "")

    @property
    def emulated(self) -> bool:
        return self.arch.name != host_arch()


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
    pass


def parse(text: str) -> Target:
    """`x86_64`, `aarch64:cortex-a72` or its id spelling `aarch64-cortex-a72`, `armv6`."""
    name, sep, cpu = text.partition(":")
    if not sep:
        for known in ARCHES.values():
            if text.startswith(known.name + "-"):
                name, cpu = known.name, text[len(known.name) + 1 :]
    arch = ARCHES.get(name)
    if arch is None:
        raise UnknownTarget(f"unknown architecture (known: {', '.join(ARCHES)})")
    if not arch.cpus:
        if cpu:
            raise UnknownTarget(f"{name} takes no board CPU (the compile profile's target_cpu decides)")
        return Target(arch, None)
    cpu = cpu or arch.default_cpu or ""
    if cpu not in arch.cpus:
        choices = " | ".join(f"{name}:{c}" for c in arch.cpus)
        raise UnknownTarget(f"{name} needs a board CPU: {choices}")
    return Target(arch, cpu)
