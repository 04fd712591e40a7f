"""Compile profiles (named flag sets) and the version-aware flags they turn into: `compile_flags`
spells a profile for a compiler version, or raises `StageSkipped` when that version has no such flag."""

from __future__ import annotations

import dataclasses
import re
import shlex
from collections.abc import Mapping, Sequence
from typing import Any, Optional

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from iree_matrix.core.errors import StageSkipped
from iree_matrix.core.model.configuration import Config, NamedCpu
from iree_matrix.iree import targets, versions

OPT_LEVELS = ("O0", "O1", "O2", "O3")

_LLVMCPU_RENAME = Version("20230330")  # `--iree-llvm-*` -> `--iree-llvmcpu-*`
_OPT_LEVEL_SINCE = Version("3.3.0")


# Debug information wanted gone from a deployed module.
STRIP_FLAGS = tuple(
    "--iree-llvmcpu-debug-symbols=false --iree-vm-bytecode-module-strip-source-map=true "
    "--iree-vm-bytecode-module-strip-debug-ops=true --iree-hal-executable-debug-level=0".split()
)


# IREE's portable backend (VM bytecode, run by every CPU runtime's VMVX loader): the fallback where
# llvm-cpu's code cannot run (a link gap or a function without code on ARM32).
VMVX = "--iree-hal-target-backends=vmvx"

# A bare-metal target: the kernels as an object file linked into the firmware (IREE's bare-metal guide).
STATIC_LIBRARY_FLAGS = (
    "--iree-llvmcpu-link-embedded=false",
    "--iree-llvmcpu-link-static",
    "--iree-stream-partitioning-favor=min-peak-memory",
)


# How 32-bit ARM kernels are linked: a wrapper around iree-lld in scripts/, then the files it uses
# (part of the compile key). `soft-fmaf`'s links a software fmaf, which VFPv2 lacks.
ARM32_LINKER = ("iree_lld_arm32.sh",)
ARM32_LINKER_SOFT_FMAF = ("iree_lld_arm32_fmaf.sh", "arm32_fmaf.py")


@dataclasses.dataclass(frozen=True)
class Profile:
    """A named flag set: `default` plus changes. A knob is a profile the flag search may switch on."""

    name: str
    target_cpu: Optional[str] = "host"  # "host", an LLVM CPU name, or None for a generic CPU
    opt_level: Optional[str] = None
    flags: tuple[str, ...] = ()
    description: str = ""
    arm32_linker: tuple[str, ...] = ARM32_LINKER  # only ARM32 targets link through it
    # Knobs whose flags this one always takes with it (`with_needs` folds them into `flags`).
    needs: tuple[str, ...] = ()
    # Knobs of one group exclude each other (one dimension of the search); "" is a group of its own.
    group: str = ""
    # The releases the knob is for (a PEP 440 specifier; "": every release with its flags).
    releases: str = ""
    source: str = ""  # where the knob comes from: IREE's docs, its benchmark configs, an issue
    # Knobs it works together with: beside one of them the search ranks it as promising as that one
    # was alone (SLP packs the scalar ops unrolling exposes: alone it finds little).
    pairs: tuple[str, ...] = ()

    def applies_to(self, version: str) -> bool:
        if not self.releases or versions.is_date_versioned(version):
            return not self.releases
        return Version(version) in SpecifierSet(self.releases)


def cpu_profile(named: NamedCpu) -> Profile:
    """The profile `cpu-NAME`: `default` compiled for that LLVM CPU instead of `host`."""
    return Profile(named.name, target_cpu=named.cpu, description=f"compiled for the LLVM CPU {named.cpu}")


def _knob(name: str, flag: str, what: str, **more: Any) -> Profile:
    """A knob that is `default` with one flag more; `more`: the rest of its data."""
    return Profile(name, flags=(flag,), description=f"host CPU, {what}", **more)


def _llvm_pass(name: str, what: str, helped: str, **more: Any) -> Profile:
    """A knob turning on LLVM pass `name` (`what`, `helped` in iree-compile's help), off by default."""
    source = f"iree-compile --help-hidden: 'Enable LLVM {helped} opt' (off by default)"
    return _knob(name, f"--iree-llvmcpu-{name}=true", f"LLVM's {what}", source=source, **more)


BUILTIN_PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("default", target_cpu="host", description="llvm-cpu for this machine's CPU"),
        Profile(
            "generic", target_cpu=None, description="llvm-cpu, no target CPU (what turbine's compile() does)"
        ),
        *(Profile(o, opt_level=o, description=f"host CPU, --iree-opt-level={o}") for o in ("O2", "O3")),
        _knob(
            "no-data-tiling",
            "--iree-opt-data-tiling=false",
            "data tiling off (it fails on some models)",
            group="data tiling",
        ),
        _knob("ukernels", "--iree-llvmcpu-enable-ukernels=all", "every microkernel IREE has for it"),
        Profile(
            "O3-stack",
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
        _knob("im2col", "--iree-global-opt-use-im2col-for-convs=true", "convolutions as im2col + matmul"),
        _knob(
            "aggressive-fusion",
            "--iree-dispatch-creation-enable-aggressive-fusion=true",
            "aggressive dispatch fusion",
        ),
        _knob(
            "transposes",
            "--iree-opt-aggressively-propagate-transposes=true",
            "transposes propagated aggressively",
        ),
        # Defaults from IREE's LLVMCPU Passes.cpp: FP-reduction reassociation is off at codegen opt
        # level O0 (the default from 3.11); softmax decomposition fuses by default.
        _knob(
            "reassociate-fp",
            "--iree-llvmcpu-reassociate-fp-reductions=true",
            "FP reductions may be reassociated (vectorised sums)",
        ),
        _knob(
            "softmax-unfused",
            "--iree-llvmcpu-use-decompose-softmax-fuse=false",
            "softmax decomposed without its inter-pass fusion",
        ),
        _knob(
            "fast-min-max",
            "--iree-llvmcpu-use-fast-min-max-ops=true",
            "arith.minf/maxf instead of NaN-propagating minimumf/maximumf",
        ),
        _knob(
            "vector-256",
            "--iree-llvmcpu-target-vector-width-in-bytes=32",
            "256-bit vectors (AVX2 width) even where the CPU has AVX-512",
        ),
        Profile(
            "avx2",
            # valgrind emulates no AVX-512 CPU: the module whose instructions callgrind counts
            # (stages/instructions.py) is compiled for x86-64-v3 (AVX2, FMA, BMI2).
            target_cpu="x86-64-v3",
            description="llvm-cpu for an AVX2 CPU (x86-64-v3): what valgrind can run, for instruction counts",
        ),
        # Data tiling is off by default since iree-org/iree#21935; before it `no-data-tiling` is the change.
        _knob(
            "stack-1m",
            "--iree-llvmcpu-stack-allocation-limit=1048576",
            "a 1 MiB stack allocation limit (data-tiled YOLOX-nano exceeds the default)",
        ),
        _knob(
            "data-tiling",
            "--iree-opt-data-tiling=true",
            "data tiling on (packed mmt4d layouts for matmuls and convolutions)",
            needs=("stack-1m",),
            group="data tiling",
            source="IREE's x86 benchmark configs; off by default since iree-org/iree#21935",
        ),
        _knob(
            "dt-ukernels",
            "--iree-llvmcpu-enable-ukernels=all",
            "data tiling on with every microkernel (IREE's x86 benchmark config)",
            needs=("data-tiling",),
            group="data tiling",
            source="IREE's x86 benchmark configs (--iree-opt-data-tiling=true "
            "--iree-llvmcpu-enable-ukernels=all)",
        ),
        # LLVM's own loop and SLP passes: IREE leaves them off and no `--iree-opt-level` turns them on.
        _llvm_pass("loop-unrolling", "loop unrolling", "loop unrolling"),
        _llvm_pass("slp-vectorization", "SLP vectorizer", "SLP Vectorization", pairs=("loop-unrolling",)),
        _llvm_pass("loop-vectorization", "loop vectorizer", "loop vectorization"),
        # LLVM interleaves the loops its loop vectorizer handles.
        _llvm_pass(
            "loop-interleaving", "loop interleaving", "loop interleaving", pairs=("loop-vectorization",)
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


def with_needs(
    profiles: Mapping[str, Profile], known: Optional[Mapping[str, Profile]] = None
) -> dict[str, Profile]:
    """`profiles` with their needed knobs' flags folded in, needed first, each once (KeyError, ValueError)."""
    known = {**(known or {}), **profiles}

    def flags_of(name: str, seen: tuple[str, ...]) -> tuple[str, ...]:
        if name in seen:
            raise ValueError(f"knob '{seen[0]}' needs itself ({' -> '.join((*seen, name))})")
        p = known[name]  # KeyError: a knob nobody defines
        inherited = [f for need in p.needs for f in flags_of(need, (*seen, name))]
        return tuple(dict.fromkeys([*inherited, *p.flags]))

    return {n: dataclasses.replace(p, flags=flags_of(n, ())) if p.needs else p for n, p in profiles.items()}


BUILTIN_PROFILES = with_needs(BUILTIN_PROFILES)


def is_vmvx(profile: Profile) -> bool:
    return VMVX in profile.flags


# What `iree-matrix tune` compares when the matrix names no profiles of its own.
TUNE_PROFILES = ("default", "generic", "O3", "no-data-tiling", "ukernels", "stripped")

# The flag search's knobs: `default` plus one change. A release lacking a knob's flag skips it (its
# `--help-hidden`); a pass inside a pipeline string can only be tried.
SEARCH_KNOBS = (
    "O2",
    "O3-stack",
    "no-data-tiling",
    "data-tiling",
    "dt-ukernels",
    "ukernels",
    "channels-last",
    "im2col",
    "aggressive-fusion",
    "transposes",
    "reassociate-fp",
    "softmax-unfused",
    "fast-min-max",
    "vector-256",
    "avx2",
    "loop-unrolling",
    "slp-vectorization",
    "loop-vectorization",
    "loop-interleaving",
)


def llvmcpu_prefix(version: str) -> str:
    if versions.is_date_versioned(version) and Version(version) < _LLVMCPU_RENAME:
        return "--iree-llvm-"
    return "--iree-llvmcpu-"


def target_cpu(target: targets.Target, profile: Profile) -> Optional[str]:
    """The CPU to tune for: a board's own CPU replaces "host"; a generic profile stays generic."""
    return None if profile.target_cpu is None else target.cpu or profile.target_cpu


def compile_flags(version: str, arch: str, profile: Profile) -> list[str]:
    """iree-compile flags for `profile` on target `arch`, spelled for compiler `version`."""
    if not profile.applies_to(version):
        raise StageSkipped(f"profile '{profile.name}' is for IREE {profile.releases}, not {version}")
    target = targets.parse(arch)
    if is_vmvx(profile):  # one backend, not llvm-cpu beside it (the option is a list); no CPU flags
        return [VMVX, *opt_level_flags(version, profile), *(f for f in profile.flags if f != VMVX)]
    # The one target flag every version accepts (deprecated for --iree-hal-target-device, still accepted).
    prefix = llvmcpu_prefix(version)
    flags = ["--iree-hal-target-backends=llvm-cpu", f"{prefix}target-triple={target.triple}"]
    if cpu := target_cpu(target, profile):
        flags.append(f"{prefix}target-cpu={cpu}")
    if target.arch.features:
        flags.append(f"{prefix}target-cpu-features={','.join(target.arch.features)}")
    if target.arch.float_abi:
        # Without it IREE gives ARM32 kernels the hard-float calling convention whatever the triple
        # says; the runtime here is armel (soft-float).
        flags.append(f"{prefix}target-float-abi={target.arch.float_abi}")
    if target.arch.bare_metal:  # kernels as a static library for a firmware (cortex_m.py)
        flags.extend(STATIC_LIBRARY_FLAGS)
    return [*flags, *opt_level_flags(version, profile), *profile.flags]


def opt_level_flags(version: str, profile: Profile) -> list[str]:
    if not profile.opt_level:
        return []
    if versions.is_date_versioned(version) or Version(version) < _OPT_LEVEL_SINCE:
        raise StageSkipped(
            f"profile '{profile.name}' needs --iree-opt-level, which IREE {version} lacks "
            f"(it exists from {_OPT_LEVEL_SINCE})"
        )
    return [f"--iree-opt-level={profile.opt_level}"]


def missing_flags(flags: Sequence[str], help_text: str) -> list[str]:
    """The flags (by name) a compiler's `--help-hidden` listing does not mention."""
    listed = set(re.findall(r"^\s+(--[\w.-]+)", help_text, flags=re.MULTILINE))
    return [name for f in flags if (name := f.split("=", 1)[0]) not in listed]


def combine(name: str, known: Mapping[str, Profile]) -> Profile:
    """A profile by its name: a known one, or "a+b", the union of their changes to `default`. A named
    CPU replaces the others' `host`; two opt levels, two named CPUs, or generic with any, cannot combine."""
    if name in known:
        return known[name]
    parts = list(Config.parse(name).names) or [name]
    if unknown := [p for p in parts if p not in known]:
        raise KeyError(unknown[0])
    chosen = [known[p] for p in parts]
    levels = {p.opt_level for p in chosen if p.opt_level}
    cpus = {p.target_cpu for p in chosen}
    if len(cpus) > 1 and None not in cpus:
        cpus.discard("host")  # the named CPU is the change; the others' flags apply on top
    if len(levels) > 1 or len(cpus) > 1:
        raise ValueError(f"profiles {', '.join(parts)} set different opt levels or target CPUs")
    linkers = {p.arm32_linker for p in chosen} - {ARM32_LINKER}
    if len(linkers) > 1:
        raise ValueError(f"profiles {', '.join(parts)} link ARM32 kernels differently")
    return Profile(
        name,
        target_cpu=cpus.pop(),
        opt_level=levels.pop() if levels else None,
        flags=tuple(dict.fromkeys(f for p in chosen for f in p.flags)),
        description=" + ".join(p.description or p.name for p in chosen),
        arm32_linker=linkers.pop() if linkers else ARM32_LINKER,
        releases=",".join(p.releases for p in chosen if p.releases),  # every part's range at once
    )


def flags_text(flags: Sequence[str]) -> str:
    """Flags as a shell reads them back, each quoted where it must be."""
    return " ".join(shlex.quote(f) for f in flags)


def compile_line(flags: Sequence[str]) -> str:
    """An answer's iree-compile command, pasted as printed: the export's file in, a module out."""
    return f"iree-compile model.mlir {flags_text(flags)} -o model.vmfb"
