"""Compile profiles (named flag sets) and the version-aware flags they turn into.

A profile names intent ("tuned for the host CPU", "generic CPU", "O2"); `compile_flags` turns it
into the spelling a given compiler version accepts, or raises `StageSkipped` when that version has
no such flag, so the cell says so instead of failing on an unknown option.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

from packaging.version import Version

from iree_matrix import targets, versions
from iree_matrix.errors import StageSkipped

OPT_LEVELS = ("O0", "O1", "O2", "O3")

# Renamed 2023-03 (IREE-NOTES.md: `--iree-llvm-*` -> `--iree-llvmcpu-*`).
_LLVMCPU_RENAME = Version("20230330")
# `--iree-opt-level` first shipped in 3.3.0.
_OPT_LEVEL_SINCE = Version("3.3.0")


@dataclasses.dataclass(frozen=True)
class Profile:
    name: str
    target_cpu: Optional[str] = "host"  # "host", an LLVM CPU name, or None for a generic CPU
    opt_level: Optional[str] = None
    flags: tuple[str, ...] = ()
    description: str = ""


BUILTIN_PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("default", target_cpu="host", description="llvm-cpu for this machine's CPU"),
        Profile(
            "generic", target_cpu=None, description="llvm-cpu, no target CPU (what turbine's compile() does)"
        ),
        Profile("O2", target_cpu="host", opt_level="O2", description="host CPU, --iree-opt-level=O2"),
    )
}


def _llvmcpu_prefix(version: str) -> str:
    if versions.is_date_versioned(version) and Version(version) < _LLVMCPU_RENAME:
        return "--iree-llvm-"
    return "--iree-llvmcpu-"


def target_cpu(target: targets.Target, profile: Profile) -> Optional[str]:
    """The CPU to tune for: a board's own CPU replaces "host" (the host is not the board), and a
    generic profile stays generic everywhere."""
    if profile.target_cpu is None:
        return None
    return target.cpu or profile.target_cpu


def compile_flags(version: str, arch: str, profile: Profile) -> list[str]:
    """iree-compile flags for `profile` on target `arch`, spelled for compiler `version`."""
    target = targets.parse(arch)
    # The one target flag every version accepts (deprecated but alive, IREE-NOTES.md).
    flags = ["--iree-hal-target-backends=llvm-cpu"]
    prefix = _llvmcpu_prefix(version)
    flags.append(f"{prefix}target-triple={target.arch.triple}")
    cpu = target_cpu(target, profile)
    if cpu:
        flags.append(f"{prefix}target-cpu={cpu}")
    if target.arch.features:
        flags.append(f"{prefix}target-cpu-features={','.join(target.arch.features)}")
    if profile.opt_level:
        if versions.is_date_versioned(version) or Version(version) < _OPT_LEVEL_SINCE:
            raise StageSkipped(
                f"profile '{profile.name}' needs --iree-opt-level, which IREE {version} lacks "
                f"(it exists from {_OPT_LEVEL_SINCE})"
            )
        flags.append(f"--iree-opt-level={profile.opt_level}")
    flags.extend(profile.flags)
    return flags
