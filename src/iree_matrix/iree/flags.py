"""Compile profiles (named flag sets) and the version-aware flags they turn into.

A profile names intent ("tuned for the host CPU", "generic CPU", "O2"); `compile_flags` turns it
into the spelling a given compiler version accepts, or raises `StageSkipped` when that version has
no such flag, so the cell says so instead of failing on an unknown option.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Optional

from packaging.version import Version

from iree_matrix.core.errors import StageSkipped
from iree_matrix.iree import targets, versions

OPT_LEVELS = ("O0", "O1", "O2", "O3")

# Renamed 2023-03 (IREE-NOTES.md: `--iree-llvm-*` -> `--iree-llvmcpu-*`).
_LLVMCPU_RENAME = Version("20230330")
# `--iree-opt-level` first shipped in 3.3.0.
_OPT_LEVEL_SINCE = Version("3.3.0")


# Debug information the brief's author wanted gone from a deployed module.
STRIP_FLAGS = (
    "--iree-llvmcpu-debug-symbols=false",
    "--iree-vm-bytecode-module-strip-source-map=true",
    "--iree-vm-bytecode-module-strip-debug-ops=true",
    "--iree-hal-executable-debug-level=0",  # no source file names and locations in executables
)


# IREE's portable backend: executables as VM bytecode (no native code, so no target triple, CPU
# or float ABI), run by the VMVX module loader every CPU runtime has (IREE's docs, "CPU - VMVX";
# runtime/src/iree/hal/local/loaders/vmvx_module_loader.c). The fallback where llvm-cpu's code
# cannot run (a link gap or a function without code on ARM32).
VMVX = "--iree-hal-target-backends=vmvx"

# A bare-metal target (targets.Arch.bare_metal): the kernels as an object file linked into the
# firmware, not an embedded ELF (IREE's bare-metal guide,
# https://iree.dev/guides/deployment-configurations/bare-metal/, which adds the partitioning flag
# for single-threaded targets). The compile stage adds the object's path (cortex_m.STATIC_OUTPUT_FLAG).
STATIC_LIBRARY_FLAGS = (
    "--iree-llvmcpu-link-embedded=false",
    "--iree-llvmcpu-link-static",
    "--iree-stream-partitioning-favor=min-peak-memory",
)


# How 32-bit ARM kernels are linked: a wrapper around the compiler's iree-lld in scripts/, then
# the files it uses (part of the compile key). The default adds one definition; `soft-fmaf`'s also
# links a software fmaf, which a CPU without fused multiply-add (VFPv2) otherwise calls into nothing.
ARM32_LINKER = ("iree_lld_arm32.sh",)
ARM32_LINKER_SOFT_FMAF = ("iree_lld_arm32_fmaf.sh", "arm32_fmaf.py")


@dataclasses.dataclass(frozen=True)
class Profile:
    name: str
    target_cpu: Optional[str] = "host"  # "host", an LLVM CPU name, or None for a generic CPU
    opt_level: Optional[str] = None
    flags: tuple[str, ...] = ()
    description: str = ""
    arm32_linker: tuple[str, ...] = ARM32_LINKER  # only ARM32 targets link through it


BUILTIN_PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("default", target_cpu="host", description="llvm-cpu for this machine's CPU"),
        Profile(
            "generic", target_cpu=None, description="llvm-cpu, no target CPU (what turbine's compile() does)"
        ),
        Profile("O2", target_cpu="host", opt_level="O2", description="host CPU, --iree-opt-level=O2"),
        Profile("O3", target_cpu="host", opt_level="O3", description="host CPU, --iree-opt-level=O3"),
        Profile(
            "no-data-tiling",
            flags=("--iree-opt-data-tiling=false",),
            description="host CPU, data tiling off (it fails on some models)",
        ),
        Profile(
            "ukernels",
            flags=("--iree-llvmcpu-enable-ukernels=all",),
            description="host CPU, every microkernel IREE has for it",
        ),
        Profile(
            "O3-stack",
            target_cpu="host",
            opt_level="O3",
            # O3 fails the Whisper encoder with "exceeded stack allocation limit" at the default.
            flags=("--iree-llvmcpu-stack-allocation-limit=1048576",),
            description="host CPU, --iree-opt-level=O3 with a 1 MiB stack allocation limit",
        ),
        Profile(
            "channels-last",
            flags=(
                "--iree-preprocessing-pass-pipeline="
                "builtin.module(util.func(iree-preprocessing-convert-conv-to-channels-last))",
            ),
            description="host CPU, convolutions rewritten channels-last before lowering",
        ),
        Profile(
            "im2col",
            flags=("--iree-global-opt-use-im2col-for-convs=true",),
            description="host CPU, convolutions as im2col + matmul",
        ),
        Profile(
            "aggressive-fusion",
            flags=("--iree-dispatch-creation-enable-aggressive-fusion=true",),
            description="host CPU, aggressive dispatch fusion",
        ),
        Profile(
            "transposes",
            flags=("--iree-opt-aggressively-propagate-transposes=true",),
            description="host CPU, transposes propagated aggressively",
        ),
        # Four more knobs of the budgeted search (issue #25). Defaults from IREE's source
        # (compiler/src/iree/compiler/Codegen/LLVMCPU/Passes.cpp and, from 3.11, its options
        # binder): FP-reduction reassociation is off at codegen opt level O0, the default since the
        # binder tied it to `--iree-llvmcpu-mlir-opt-level`; softmax decomposition fuses by default.
        Profile(
            "reassociate-fp",
            flags=("--iree-llvmcpu-reassociate-fp-reductions=true",),
            description="host CPU, FP reductions may be reassociated (vectorised sums)",
        ),
        Profile(
            "softmax-unfused",
            flags=("--iree-llvmcpu-use-decompose-softmax-fuse=false",),
            description="host CPU, softmax decomposed without its inter-pass fusion",
        ),
        Profile(
            "fast-min-max",
            flags=("--iree-llvmcpu-use-fast-min-max-ops=true",),
            description="host CPU, arith.minf/maxf instead of NaN-propagating minimumf/maximumf",
        ),
        Profile(
            "vector-256",
            flags=("--iree-llvmcpu-target-vector-width-in-bytes=32",),
            description="host CPU, 256-bit vectors (AVX2 width) even where the CPU has AVX-512",
        ),
        Profile(
            "avx2",
            # valgrind emulates no AVX-512 CPU: the module whose instructions callgrind counts
            # (stages/instructions.py) is compiled for x86-64-v3 (AVX2, FMA, BMI2).
            target_cpu="x86-64-v3",
            description="llvm-cpu for an AVX2 CPU (x86-64-v3): what valgrind can run, for instruction counts",
        ),
        Profile(
            "stripped",
            flags=STRIP_FLAGS,
            description="host CPU, no DWARF, source map or debug ops (the module you would ship)",
        ),
        Profile(
            "soft-fmaf",
            arm32_linker=ARM32_LINKER_SOFT_FMAF,
            description="llvm-cpu; 32-bit ARM kernels linked with a software fmaf (VFPv2 has no fused "
            "multiply-add, and the fmaf IREE links there has no code)",
        ),
        Profile(
            "vmvx",
            target_cpu=None,
            flags=(VMVX,),
            description="vmvx: IREE's portable VM backend, no native code (any arch, any CPU runtime)",
        ),
    )
}


def is_vmvx(profile: Profile) -> bool:
    return VMVX in profile.flags


# What `iree-matrix tune` compares when the matrix names no profiles of its own.
TUNE_PROFILES = ("default", "generic", "O3", "no-data-tiling", "ukernels", "stripped")

# The flag search's knobs (issue #13): each a built-in profile that is `default` plus one change.
# Which compiler has which flag comes from its `--help-hidden` (the compile stage skips a knob whose
# flag a release lacks); a pass named inside a pipeline string can only be tried, and a release
# without it fails with the compiler's own words.
SEARCH_KNOBS = (
    "O2", "O3-stack", "no-data-tiling", "ukernels", "channels-last", "im2col", "aggressive-fusion",
    "transposes", "reassociate-fp", "softmax-unfused", "fast-min-max", "vector-256", "avx2",
)  # fmt: skip


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
    if is_vmvx(profile):  # one backend, not llvm-cpu beside it (the option is a list); no CPU flags
        return [VMVX, *_opt_level(version, profile), *(f for f in profile.flags if f != VMVX)]
    # The one target flag every version accepts (deprecated but alive, IREE-NOTES.md).
    flags = ["--iree-hal-target-backends=llvm-cpu"]
    prefix = _llvmcpu_prefix(version)
    flags.append(f"{prefix}target-triple={target.triple}")
    cpu = target_cpu(target, profile)
    if cpu:
        flags.append(f"{prefix}target-cpu={cpu}")
    if target.arch.features:
        flags.append(f"{prefix}target-cpu-features={','.join(target.arch.features)}")
    if target.arch.float_abi:
        # Without it IREE 3.9/3.13 give ARM32 kernels the hard-float calling convention (ELF header
        # "hard-float ABI", Tag_ABI_VFP_args) whatever the triple says; the board's runtime here
        # is armel (soft-float): say it, so kernels and runtime agree by construction.
        flags.append(f"{prefix}target-float-abi={target.arch.float_abi}")
    if target.arch.bare_metal:  # kernels as a static library for a firmware (cortex_m.py)
        flags.extend(STATIC_LIBRARY_FLAGS)
    flags.extend(_opt_level(version, profile))
    flags.extend(profile.flags)
    return flags


def _opt_level(version: str, profile: Profile) -> list[str]:
    if not profile.opt_level:
        return []
    if versions.is_date_versioned(version) or Version(version) < _OPT_LEVEL_SINCE:
        raise StageSkipped(
            f"profile '{profile.name}' needs --iree-opt-level, which IREE {version} lacks "
            f"(it exists from {_OPT_LEVEL_SINCE})"
        )
    return [f"--iree-opt-level={profile.opt_level}"]


def flag_name(flag: str) -> str:
    return flag.split("=", 1)[0]


def missing_flags(flags: Sequence[str], help_text: str) -> list[str]:
    """The flags (by name) that a compiler's `--help-hidden` listing does not mention: a profile
    that uses one is skipped for that compiler, not failed on an unknown option."""
    listed = set(re.findall(r"^\s+(--[\w.-]+)", help_text, flags=re.MULTILINE))
    return [flag_name(f) for f in flags if flag_name(f) not in listed]


COMBINE = "+"


def combine(name: str, known: Mapping[str, Profile]) -> Profile:
    """ "channels-last+im2col": the union of named profiles' changes to `default` (the flag search's
    second round). A named target CPU (`avx2`: x86-64-v3) replaces the others' `host`; two opt
    levels, two named CPUs, or a generic CPU with any other, cannot combine."""
    parts = name.split(COMBINE)
    unknown = [p for p in parts if p not in known]
    if unknown:
        raise KeyError(unknown[0])
    chosen = [known[p] for p in parts]
    levels = {p.opt_level for p in chosen if p.opt_level}
    cpus = {p.target_cpu for p in chosen}
    if len(cpus) > 1 and None not in cpus:
        cpus.discard("host")  # the named CPU is the change; the others' flags apply on top
    if len(levels) > 1 or len(cpus) > 1:
        raise ValueError(f"profiles {', '.join(parts)} set different opt levels or target CPUs")
    flags = tuple(dict.fromkeys(f for p in chosen for f in p.flags))
    linkers = {p.arm32_linker for p in chosen} - {ARM32_LINKER}
    if len(linkers) > 1:
        raise ValueError(f"profiles {', '.join(parts)} link ARM32 kernels differently")
    return Profile(
        name,
        target_cpu=cpus.pop(),
        opt_level=levels.pop() if levels else None,
        flags=flags,
        description=" + ".join(p.description or p.name for p in chosen),
        arm32_linker=linkers.pop() if linkers else ARM32_LINKER,
    )
