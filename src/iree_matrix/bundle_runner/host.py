"""This machine as iree-matrix's records describe a host (core/system/host.py `describe`): CPU vendor,
family / model / stepping, LLVM's name for it where CPUID's table knows it, each flag by digest,
cores; and each NVIDIA GPU nvidia-smi lists."""

from __future__ import annotations

import hashlib
import os
import platform
import re
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from .base import INTERESTING_FLAGS, BundleError

if TYPE_CHECKING:
    from .base import Json


# Another CPU's saved /proc/cpuinfo read in place of this machine's, as the tool reads it
# (core/system/host.py CPUINFO_ENV): the identity is that file's, marked simulated.
CPUINFO_ENV = "IREE_MATRIX_CPUINFO"


def _cpuinfo_text() -> str:
    given = os.environ.get(CPUINFO_ENV, "").strip()
    try:
        return Path(given or "/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        if not given:
            return ""
        raise BundleError(
            f"{CPUINFO_ENV}={given}: cannot read it ({exc.strerror or exc}); unset it"
        ) from None


def cpuinfo_fields(text: str) -> dict[str, str]:
    """The first processor's `key: value` lines of a /proc/cpuinfo text (ARM puts the model once at the end:
    the first value of each key is kept); core/system/host.py reads them with this too."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() and key.strip() not in fields:
            fields[key.strip()] = value.strip()
    return fields


# Arm Ltd's (implementer 0x41) parts: the core's name (Linux's arch/arm64/include/asm/cputype.h) and
# LLVM's (Host.cpp, getHostCPUNameForARM); the tool names the CPU the same way (core/system/host.py).
_ARM_CORES = {
    "0xb76": ("ARM1176", "arm1176jzf-s"),
    "0xc07": ("Cortex-A7", "cortex-a7"),
    "0xd03": ("Cortex-A53", "cortex-a53"),
    "0xd08": ("Cortex-A72", "cortex-a72"),
    "0xd0b": ("Cortex-A76", "cortex-a76"),
    "0xd0c": ("Neoverse-N1", "neoverse-n1"),
    "0xd40": ("Neoverse-V1", "neoverse-v1"),
    "0xd49": ("Neoverse-N2", "neoverse-n2"),
    "0xd4f": ("Neoverse-V2", "neoverse-v2"),
}


def arm_core(fields: dict[str, str]) -> tuple[str, str]:
    """(the name of an ARM CPU whose cpuinfo has none, LLVM's name for it): ("ARM Neoverse-N1 (part
    0xd0c)", "neoverse-n1"); the part alone where the table does not know it."""
    part = fields.get("CPU part", "")
    known = _ARM_CORES.get(part.lower()) if fields.get("CPU implementer", "").lower() == "0x41" else None
    return (f"ARM {known[0]} (part {part})", known[1]) if known else (part, "")


def machine_of(fields: dict[str, str]) -> str:
    """The architecture (uname -m) a cpuinfo text is of: x86's names a vendor_id; ARM's an implementer, with
    `CPU architecture: 8` on 64-bit cores and the ISA in 32-bit ones' model name ("(v6l)": armv6l)."""
    if "vendor_id" in fields:
        return "x86_64"
    if "CPU implementer" not in fields:
        return platform.machine()
    if found := re.search(r"\((v\d+l)\)", fields.get("model name") or fields.get("Processor") or ""):
        return "arm" + found.group(1)
    return "aarch64" if fields.get("CPU architecture", "").strip() in ("8", "9", "AArch64") else "armv7l"


def instance() -> str:
    """Which machine this is, apart from its CPU identity (`merge` keeps two machines' records of one job
    only if they say they are two): a salted digest of /etc/machine-id (machine-id(5)), else of this boot's
    id. core/system/host.py records this one too."""
    for source in ("/etc/machine-id", "/var/lib/dbus/machine-id", "/proc/sys/kernel/random/boot_id"):
        try:
            text = Path(source).read_text().strip()
        except OSError:
            continue
        if text:
            return hashlib.sha256(("iree-matrix instance " + text).encode()).hexdigest()[:16]
    return ""


# LLVM's name for the host CPU, as llvm/lib/TargetParser/Host.cpp (sys::getHostCPUName) derives it
# from CPUID's vendor, family and model: the cases of the CPUs seen by this project and their
# neighbours. On the machine that compiled, iree-compile itself is asked; here there is no compiler,
# so a CPU outside the table is recorded without a name (its family / model still identify it).
_AMD = {
    25: [
        ((0x10, 0x1F), "znver4"),
        ((0x60, 0x7F), "znver4"),
        ((0xA0, 0xAF), "znver4"),
        ((0x00, 0x0F), "znver3"),
        ((0x20, 0x5F), "znver3"),
    ],
    26: [((0x00, 0xFF), "znver5")],
    23: [((0x30, 0x3F), "znver2"), ((0x60, 0x7F), "znver2"), ((0x00, 0x2F), "znver1")],
}
# Packed by hand: a lookup table, several entries a line; formatted, it would take one line per entry.
_INTEL = {0xA7: "rocketlake", 0xCF: "emeraldrapids", 0x8F: "sapphirerapids", 0xAD: "graniterapids",
          0xAE: "graniterapids", 0x6A: "icelake-server", 0x6C: "icelake-server", 0x7D: "icelake-client",
          0x7E: "icelake-client", 0x8C: "tigerlake", 0x8D: "tigerlake", 0x97: "alderlake", 0x9A: "alderlake",
          0xB7: "raptorlake", 0xBA: "raptorlake", 0xBF: "raptorlake", 0x4E: "skylake", 0x5E: "skylake",
          0x8E: "skylake", 0x9E: "skylake", 0x3C: "haswell", 0x3F: "haswell", 0x45: "haswell",
          0x46: "haswell", 0x3D: "broadwell", 0x47: "broadwell", 0x4F: "broadwell",
          0x56: "broadwell"}  # fmt: skip


def llvm_cpu_name(vendor: str, family: str, model: str, stepping: str) -> str:
    try:
        fam, mod, step = int(family), int(model), int(stepping or 0)
    except ValueError:
        return ""
    if vendor == "AuthenticAMD":
        return next((name for (low, high), name in _AMD.get(fam, []) if low <= mod <= high), "")
    if vendor == "GenuineIntel" and fam == 6:
        if mod == 0x55:  # one model number, three CPUs by stepping (Host.cpp)
            return "cooperlake" if step >= 10 else "cascadelake" if step >= 5 else "skylake-avx512"
        return _INTEL.get(mod, "")
    return ""


def described(text: str, given: str) -> Json:
    """The host a cpuinfo text is of, as iree-matrix's records describe one (core/system/host.py uses this
    too: one CPU, one `identity`). `given`: the IREE_MATRIX_CPUINFO file the text was read from."""
    fields = cpuinfo_fields(text)
    flags = sorted(set((fields.get("flags") or fields.get("Features") or "").split()))
    processors = max(1, len(re.findall(r"^processor\s*:", text, re.MULTILINE)))
    found: Json = {
        "machine": machine_of(fields) if given else platform.machine(),
        "cpu": fields.get("model name")
        or fields.get("Model")
        or arm_core(fields)[0]
        or platform.processor()
        or "unknown",
        # x86: vendor_id / cpu family / model / stepping; ARM: implementer / architecture / part / revision
        "vendor": fields.get("vendor_id") or fields.get("CPU implementer") or "",
        "family": fields.get("cpu family") or fields.get("CPU architecture") or "",
        "model": fields.get("model") or fields.get("CPU part") or "",
        "stepping": fields.get("stepping") or fields.get("CPU revision") or "",
        "cpu_features": sorted(f for f in flags if f in INTERESTING_FLAGS),
        # Every flag, by digest (the list is ~1.4 kB): equal digests, equal instruction sets.
        "cpu_flags_sha256": hashlib.sha256(" ".join(flags).encode()).hexdigest(),
        "cores": processors if given else os.cpu_count(),
        "system": platform.platform(),
        "libc": "-".join(platform.libc_ver()),
        "python": platform.python_version(),
        "instance": instance(),
    }
    if given:
        found["cpuinfo_from"] = given
    found["identity"] = identity_string(found, bool(given))
    return found


def identity_string(host: Mapping[str, Any], simulated: bool) -> str:
    """The identity string of a host's fields (also how a reader names a record that carries the fields
    but not the string); `simulated` (IREE_MATRIX_CPUINFO's file) never equals the real identity."""
    parts = [host.get(k) or "" for k in ("machine", "vendor", "family", "model", "stepping")]
    parts += [(host.get("cpu_flags_sha256") or "")[:16], host.get("cores") or ""]
    return "|".join(map(str, parts)) + ("|simulated" if simulated else "")


def identity() -> Json:
    """This machine as iree-matrix's records describe a host (`described`), with LLVM's name for its
    CPU from CPUID's table (there is no compiler here to ask)."""
    text = _cpuinfo_text()
    found = described(text, os.environ.get(CPUINFO_ENV, "").strip())
    fields = cpuinfo_fields(text)
    llvm = (
        llvm_cpu_name(found["vendor"], found["family"], found["model"], found["stepping"])
        or arm_core(fields)[1]
    )
    if llvm:
        found["llvm_cpu"] = llvm
        found["llvm_cpu_from"] = "CPUID family/model (LLVM Host.cpp's table); no compiler here"
    return found


def slug(host: Json) -> str:
    parts = [host.get("vendor") or "unknown", host.get("family"), host.get("model"), host.get("llvm_cpu")]
    parts += ["simulated"] if host.get("cpuinfo_from") else []
    return re.sub(r"[^a-z0-9.]+", "-", "-".join(str(p) for p in parts if p).lower()).strip("-")


def nvidia_gpus() -> list[dict[str, str]]:
    """What nvidia-smi says of each GPU (name, driver, compute capability), where it exists."""
    if not (tool := shutil.which("nvidia-smi")):
        return []
    try:
        query = [tool, "--query-gpu=name,driver_version,compute_cap,memory.total", "--format=csv,noheader"]
        done = subprocess.run(query, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return []
    rows = [[c.strip() for c in line.split(",")] for line in done.stdout.splitlines()]
    return [
        {
            "vendor": "NVIDIA",
            "name": cols[0],
            "driver": cols[1],
            "compute_capability": cols[2],
            "memory": cols[3] if len(cols) > 3 else "",
        }
        for cols in rows
        if len(cols) >= 3
    ]
