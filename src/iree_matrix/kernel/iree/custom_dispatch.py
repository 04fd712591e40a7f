"""IREE's custom dispatches on llvm-cpu: a C kernel compiled freestanding for the cell's target by Zig's
clang from PyPI (every target in one pinned package; Debian 12's clang 14 knows no znver4), swapped in by
a transform spec; a plugin is linked by Zig's lld into a standalone plugin IREE's ELF loader loads."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Optional

from iree_matrix.bundle_runner import manifest as runner_manifest
from iree_matrix.bundle_runner import modules as runner_modules
from iree_matrix.iree import targets

TRANSFORM_SPEC_FLAG = "--iree-preprocessing-transform-spec-filename"
OBJECT_SEARCH_PATH_FLAG = "--iree-hal-executable-object-search-path"

ZIGLANG = "ziglang"
ZIGLANG_VERSION = "0.15.1"
CC_REQUIREMENT = f"{ZIGLANG}=={ZIGLANG_VERSION}"
CC_ENV_NAME = f"{ZIGLANG}{ZIGLANG_VERSION}"
CC_MODULE = ZIGLANG  # `python -m ziglang cc ...`

# What IREE's samples compile their embedded objects with. No unwind tables: an embedded ELF has no
# unwinder, and their personality routine would be an undefined symbol at IREE's link.
BASE_CFLAGS = tuple(
    "-std=c17 -ffreestanding -fvisibility=hidden -fno-plt -fno-stack-protector -fno-unwind-tables "
    "-fno-asynchronous-unwind-tables -ffunction-sections -fdata-sections -fPIC -g0 -O3".split()
)
_CPU_NATIVE = "native"

RUNTIME_PLUGIN_FLAG = runner_modules.PLUGIN_FLAG  # iree-run-module, iree-benchmark-module, the binding
# Why a flag is no runtime flag a kernel may give its runs (--name=value, not one each run gives
# itself, not a file of flags): the bundle runner's rule, which travels without the tool.
runtime_flag_problem = runner_manifest.run_flag_problem
PLUGIN_HEADER = "runtime/src/iree/hal/local/executable_plugin.h"  # in IREE's source tree
PLUGIN_INCLUDE = "runtime/src"  # what the plugin's C is compiled with -I (relative to the tree)
# samples/custom_dispatch/cpu/plugin/CMakeLists.txt's link of a standalone plugin: no libc, every
# relocation applied at load (IREE's ELF loader binds nothing lazily), one shared ELF.
PLUGIN_LDFLAGS = tuple(
    "--build-id=none -nostdlib -static -shared --no-undefined --no-allow-shlib-undefined "
    "--allow-multiple-definition --gc-sections -z now -z relro --discard-all --icf=all "
    "--ignore-data-address-equality --ignore-function-address-equality --hash-style=sysv "
    "--strip-debug".split()
)


def zig_target(target: targets.Target) -> str:
    """Zig's spelling of a freestanding target (`arm-freestanding-eabi`: Debian armel's soft-float calls)."""
    if (arch := target.triple.split("-", 1)[0]).startswith(("armv", "thumbv")) or arch == "arm":
        abi = "eabihf" if target.arch.float_abi == "hard" else "eabi"
        return f"{'thumb' if arch.startswith('thumb') else 'arm'}-freestanding-{abi}"
    return f"{arch}-freestanding-none"


# LLVM's other names for x86 CPUs (llvm/lib/Target/X86/X86.td's ProcModel aliases) that iree-compile
# takes and Zig does not: Zig lists each CPU once, under its own name.
_ZIG_ALIASES = {"corei7-avx": "sandybridge", "core-avx-i": "ivybridge", "core-avx2": "haswell"}
# The x86-64 CPUs IREE 3.13.0 takes that Zig 0.15.1's clang does not know, with the nearest it knows.
ZIG_UNKNOWN_X86_64 = {
    "znver6": "znver5",
    **dict.fromkeys(("novalake", "wildcatlake", "c86-4g-m4", "c86-4g-m6", "c86-4g-m7", "c86-4g-m8"), ""),
}


def zig_cpu(cpu: Optional[str]) -> str:
    """Zig's spelling of an LLVM CPU (`native` for `host`; the target's baseline for none)."""
    if cpu is None:
        return "baseline"
    return _CPU_NATIVE if cpu == "host" else _ZIG_ALIASES.get(cpu, cpu).replace("-", "_").replace(".", "_")


def kernel_cpu_problem(cpu: str) -> Optional[str]:
    """Why a kernel cannot be built for the x86-64 CPU `cpu` IREE takes (Zig's clang lacks it), or None."""
    if cpu not in ZIG_UNKNOWN_X86_64:
        return None
    older = ZIG_UNKNOWN_X86_64[cpu]
    instead = f"--cpu {older} (the newest of its line Zig knows)" if older else "an older CPU of its line"
    return (
        f"the kernel's C compiler, Zig {ZIGLANG_VERSION}'s clang, does not know {cpu} (IREE 3.13.0 does): "
        f"bundle it for {instead}, or without the kernel"
    )


def cflags(target: targets.Target, cpu: Optional[str], extra: Sequence[str] = ()) -> list[str]:
    """The C compiler's flags for one kernel object: target, CPU, features, then the kernel's `cflags`."""
    flags = ["-target", zig_target(target), f"-mcpu={zig_cpu(cpu)}{_features(target)}", *BASE_CFLAGS]
    if target.arch.float_abi:  # Zig's `eabi` alone is soft float throughout (__aeabi_fadd calls):
        # VFP instructions with the soft-float calling convention (softfp) are what armv6 runs.
        flags.append("-mfloat-abi=" + ("hard" if target.arch.float_abi == "hard" else "softfp"))
    return [*flags, *extra]


def _features(target: targets.Target) -> str:
    return "".join(f"+{f.lstrip('+').replace('-', '_')}" for f in target.arch.features if f.startswith("+"))


# The runtime tools' flag that loads a standalone plugin with IREE's own ELF loader (`embedded:`:
# whatever the file's name, and where the runtime has no dlopen, a static armv6 build).
run_flag = runner_modules.plugin_flag


_C_ERROR = re.compile(r"^(?P<where>[^\s:]+:\d+:\d+): error: (?P<what>.+)$", re.MULTILINE)
_ANY_ERROR = re.compile(r"^(?:error|fatal error): (?P<what>.+)$", re.MULTILINE)


def first_c_error(output: str) -> str:
    """The C compiler's first error (a file's line, else its first `error:` line); "" when none."""
    if found := _C_ERROR.search(output):
        return f"{found.group('where')}: error: {found.group('what').strip()}"
    other = _ANY_ERROR.search(output)
    return f"error: {other.group('what').strip()}" if other else ""


# The compiler's words when the spec is refused before it matches anything (a release whose
# transform dialect or HAL attributes do not parse the spec: a recorded answer, the compiler's).
def spec_refused(output: str, spec_name: str) -> bool:
    """Whether a failed compile's errors are about the spec file itself (its name before `:LINE:`)."""
    return re.search(rf"(^|/){re.escape(spec_name)}:\d+:\d+: error:", output, re.MULTILINE) is not None


# Releases before 3.4.0 spell the workgroup count as a bare region; they read 3.4.0's `count(...)` as an op.
_NEWER_COUNT = "custom op 'count' is unknown"


def older_spelling_hint(output: str) -> str:
    """The fix where a release before 3.4 refuses a spec in the 3.4+ spelling ('' otherwise)."""
    if _NEWER_COUNT not in output:
        return ""
    return (
        "; a release before 3.4.0 takes the export's workgroup count as a bare region, not "
        "`count(...)`: give kernel.toml a [[specs]] window for the older releases "
        '(`file = "spec-old.mlir"`, `before = "3.4.0"`) holding the spec in that spelling, or let the '
        "tool write the spec (function and replaces: each release's spelling; docs/kernels.md)"
    )
