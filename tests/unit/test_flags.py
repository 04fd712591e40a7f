"""Unit tests for compile profiles turned into version-aware iree-compile flags."""

from __future__ import annotations

import pytest

from iree_matrix.core.errors import StageSkipped
from iree_matrix.iree.flags import (
    BUILTIN_PROFILES,
    SEARCH_KNOBS,
    TUNE_PROFILES,
    Profile,
    compile_flags,
    missing_flags,
)

BACKEND = "--iree-hal-target-backends=llvm-cpu"
TRIPLE = "--iree-llvmcpu-target-triple=x86_64-unknown-linux-gnu"


def test_default_profile_on_3_9():
    assert compile_flags("3.9.0", "x86_64", BUILTIN_PROFILES["default"]) == [
        BACKEND,
        TRIPLE,
        "--iree-llvmcpu-target-cpu=host",
    ]


def test_generic_profile_has_no_target_cpu():
    flags = compile_flags("3.9.0", "x86_64", BUILTIN_PROFILES["generic"])
    assert flags == [BACKEND, TRIPLE]
    assert not any("target-cpu" in f for f in flags)


def test_o2_profile_on_3_9():
    assert compile_flags("3.9.0", "x86_64", BUILTIN_PROFILES["O2"]) == [
        BACKEND,
        TRIPLE,
        "--iree-llvmcpu-target-cpu=host",
        "--iree-opt-level=O2",
    ]


def test_o2_from_3_3_0_on():
    assert "--iree-opt-level=O2" in compile_flags("3.3.0", "x86_64", BUILTIN_PROFILES["O2"])


@pytest.mark.parametrize("version", ["3.0.0", "3.2.0", "2.9.0"])
def test_o2_before_3_3_0_is_skipped(version):
    with pytest.raises(StageSkipped) as info:
        compile_flags(version, "x86_64", BUILTIN_PROFILES["O2"])
    assert "3.3.0" in info.value.reason
    assert version in info.value.reason
    assert "'O2'" in info.value.reason


def test_o2_on_a_date_versioned_compiler_is_skipped():
    with pytest.raises(StageSkipped, match="3.3.0"):
        compile_flags("20240410.865", "x86_64", BUILTIN_PROFILES["O2"])


def test_old_date_versioned_compiler_uses_the_llvm_prefix():
    assert compile_flags("20230209.425", "x86_64", BUILTIN_PROFILES["default"]) == [
        BACKEND,
        "--iree-llvm-target-triple=x86_64-unknown-linux-gnu",
        "--iree-llvm-target-cpu=host",
    ]


@pytest.mark.parametrize("version", ["20230330.474", "20240410.865"])
def test_newer_date_versioned_compiler_uses_the_llvmcpu_prefix(version):
    flags = compile_flags(version, "x86_64", BUILTIN_PROFILES["default"])
    assert flags == [BACKEND, TRIPLE, "--iree-llvmcpu-target-cpu=host"]
    assert not any(f.startswith("--iree-llvm-") for f in flags)


def test_extra_profile_flags_are_appended():
    profile = Profile(
        "tuned",
        target_cpu="znver4",
        opt_level="O3",
        flags=("--iree-opt-data-tiling", "--iree-llvmcpu-enable-ukernels=all"),
    )
    assert compile_flags("3.13.0", "x86_64", profile) == [
        BACKEND,
        TRIPLE,
        "--iree-llvmcpu-target-cpu=znver4",
        "--iree-opt-level=O3",
        "--iree-opt-data-tiling",
        "--iree-llvmcpu-enable-ukernels=all",
    ]


def test_builtin_profiles():
    assert set(BUILTIN_PROFILES) == {
        "default",
        "generic",
        "O2",
        "O3",
        "no-data-tiling",
        "ukernels",
        "stripped",
        "O3-stack",
        "channels-last",
        "im2col",
        "aggressive-fusion",
        "transposes",
        "reassociate-fp",
        "softmax-unfused",
        "fast-min-max",
        "vector-256",
        "soft-fmaf",
        "vmvx",
        "avx2",
        "stack-1m",
        "data-tiling",
        "dt-ukernels",
        "loop-unrolling",
        "slp-vectorization",
        "loop-vectorization",
        "loop-interleaving",
    }
    assert BUILTIN_PROFILES["generic"].target_cpu is None
    # what valgrind can run (no AVX-512): the instructions stage's module
    assert "--iree-llvmcpu-target-cpu=x86-64-v3" in compile_flags("3.9.0", "x86_64", BUILTIN_PROFILES["avx2"])
    assert BUILTIN_PROFILES["default"].opt_level is None
    assert set(TUNE_PROFILES) <= set(BUILTIN_PROFILES)


def test_every_builtin_flag_is_an_option_of_the_releases_that_search_it():
    """Knobs are checked against each release's own `iree-compile --help-hidden` (the table), not
    guessed: every `--iree-*` flag of a search knob exists in 3.9.0 and 3.13.0 (the releases the
    published search covers) except im2col's (from 3.11.0: skipped before, by the compile stage)."""
    from iree_matrix.iree import compiler_options

    assert {"3.9.0", "3.13.0", "2.9.0"} <= set(compiler_options.known_releases())
    for knob in SEARCH_KNOBS:
        for release in ("3.9.0", "3.13.0"):
            missing = compiler_options.unknown(release, BUILTIN_PROFILES[knob].flags)
            assert missing == (
                [] if (knob, release) != ("im2col", "3.9.0") else ["--iree-global-opt-use-im2col-for-convs"]
            )
    assert compiler_options.releases_with("--iree-opt-level")[0] == "3.3.0"  # as flags._OPT_LEVEL_SINCE says
    # every built-in profile's own options exist in some release (a typo would be in none)
    for profile in BUILTIN_PROFILES.values():
        for flag in profile.flags:
            assert compiler_options.releases_with(flag), flag


def test_a_knob_outside_its_releases_is_skipped_saying_so():
    knob = Profile("late", flags=("--iree-global-opt-use-im2col-for-convs=true",), releases=">=3.11")
    assert compile_flags("3.13.0", "x86_64", knob)[-1] == "--iree-global-opt-use-im2col-for-convs=true"
    with pytest.raises(StageSkipped, match=r"'late' is for IREE >=3.11, not 3.9.0"):
        compile_flags("3.9.0", "x86_64", knob)
    with pytest.raises(StageSkipped):
        compile_flags("20240410.865", "x86_64", knob)  # a date release lies outside any range


def test_stripped_profile_drops_dwarf_source_map_and_debug_ops():
    flags = compile_flags("3.9.0", "x86_64", BUILTIN_PROFILES["stripped"])
    assert "--iree-llvmcpu-debug-symbols=false" in flags
    assert "--iree-vm-bytecode-module-strip-source-map=true" in flags
    assert "--iree-vm-bytecode-module-strip-debug-ops=true" in flags
    assert "--iree-hal-executable-debug-level=0" in flags


_HELP = """OVERVIEW: IREE compilation driver

OPTIONS:
  --iree-opt-data-tiling                                  - Enables data tiling optimization.
  --iree-llvmcpu-enable-ukernels=<string>                 - Enables ukernels in the llvmcpu backend.
      =foo                                                - not a flag line
"""


def test_missing_flags_reads_the_compilers_own_listing():
    assert missing_flags(["--iree-opt-data-tiling=false", "--iree-llvmcpu-enable-ukernels=all"], _HELP) == []
    assert missing_flags(["--iree-global-opt-data-tiling", "--iree-opt-data-tiling"], _HELP) == [
        "--iree-global-opt-data-tiling"
    ]


def test_aarch64_board_cross_compiles_for_its_own_cpu_not_the_host():
    flags = compile_flags("3.9.0", "aarch64-cortex-a72", BUILTIN_PROFILES["default"])
    assert "--iree-llvmcpu-target-triple=aarch64-unknown-linux-gnu" in flags
    assert "--iree-llvmcpu-target-cpu=cortex-a72" in flags
    assert not any("target-cpu=host" in f for f in flags)


def test_armv6_gets_the_pi_zero_cpu_and_vfp2_features_even_when_generic():
    tuned = compile_flags("3.9.0", "armv6-arm1176jzf-s", BUILTIN_PROFILES["default"])
    assert "--iree-llvmcpu-target-triple=armv6-unknown-linux-gnueabi" in tuned  # armel, where it runs
    assert "--iree-llvmcpu-target-float-abi=soft" in tuned  # kernels default to hard-float otherwise
    assert "--iree-llvmcpu-target-cpu=arm1176jzf-s" in tuned
    assert "--iree-llvmcpu-target-cpu-features=+vfp2" in tuned
    generic = compile_flags("3.9.0", "armv6-arm1176jzf-s", BUILTIN_PROFILES["generic"])
    assert not any("target-cpu=" in f for f in generic)
    assert "--iree-llvmcpu-target-cpu-features=+vfp2" in generic


def test_vmvx_is_one_backend_with_no_cpu_flags_on_every_arch():
    """vmvx: bytecode for IREE's VM, the same module for x86_64, the Pi 4 and the Pi Zero."""
    from iree_matrix.iree.flags import BUILTIN_PROFILES, VMVX, compile_flags, is_vmvx

    vmvx = BUILTIN_PROFILES["vmvx"]
    assert is_vmvx(vmvx) and not is_vmvx(BUILTIN_PROFILES["default"])
    for arch in ("x86_64", "aarch64:cortex-a72", "armv6"):
        assert compile_flags("3.9.0", arch, vmvx) == [VMVX]
    assert "--iree-hal-target-backends=llvm-cpu" in compile_flags(
        "3.9.0", "armv6", BUILTIN_PROFILES["default"]
    )


def test_soft_fmaf_is_the_default_profiles_flags_linked_through_its_own_wrapper():
    from iree_matrix.core import shipped
    from iree_matrix.stages.compile import arm32_linker

    soft, default = BUILTIN_PROFILES["soft-fmaf"], BUILTIN_PROFILES["default"]
    assert compile_flags("3.11.0", "armv6", soft) == compile_flags("3.11.0", "armv6", default)
    assert arm32_linker(default).name == "iree_lld_arm32.sh"
    assert arm32_linker(soft).name == "iree_lld_arm32_fmaf.sh"
    for name in soft.arm32_linker:
        assert (shipped.scripts_dir() / name).is_file()
    assert 'arm32_fmaf.py" link' in arm32_linker(soft).read_text()


def test_a_named_cpu_is_one_value_made_once_and_read_back_from_knobs():
    """`bundle --cpu` and advise's `--fleet` make one NamedCpu; its profile compiles for that CPU
    and the knobs of a configuration give it back (issue 83: once three prefix reads)."""
    from iree_matrix.core.model.configuration import NamedCpu
    from iree_matrix.iree.flags import cpu_profile

    named, profile = NamedCpu("znver4"), cpu_profile(NamedCpu("znver4"))
    assert (named.name, profile.name, profile.target_cpu) == ("cpu-znver4", "cpu-znver4", "znver4")
    assert NamedCpu.of(frozenset({"data-tiling", "cpu-znver4"})) == named
    assert NamedCpu.of({"data-tiling", "avx2"}) is None
