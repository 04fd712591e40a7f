"""A kernel's flags are data, not commands: which of kernel.toml's `cflags`, `requires_flags` and
`run_flags` the tool passes on (None), each refusal said in words. Allow-lists of meanings, not deny-lists
of dangers (a drill's `requires_flags` ran a shell through --iree-hal-preprocess-executables-with, another
dlopened a file, `--include=FILE` leaked a root-only file): linking, loading, outputs and the backend are
the tool's."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Optional

# Named for their own words: what runs a program, loads a library, or reads or writes a host file.
_NAMED = {
    "--iree-hal-preprocess-executables-with": "runs a program of the flag's choosing",
    "--iree-load-plugin": "loads a shared library into iree-compile",
    "--iree-hal-executable-object-search-path": "is the tool's own (it names the kernel's objects)",
    "--iree-preprocessing-transform-spec-filename": "is the tool's own (it names the kernel's spec)",
}
# A word in a flag (name or value) that says it reads or writes a file, or runs or loads something.
_WORDS = re.compile(
    r"path|file|dump|dir(ectory)?\b|plugin|librar|load|substitute|preprocess-executables|reproducer|"
    r"linker|output|search|trace|tool|sysroot|/|~|@|\$|`",
    re.IGNORECASE,
)
_RUN = re.compile(r"--task_[a-z0-9_]+=[A-Za-z0-9_.,:+-]+")
_BOOL = r"(=(true|false|1|0))?"
_NUMBER = r"=[0-9]+"
# The iree-compile flags a kernel may ask for, by name, each with the values it takes (docs/kernels.md).
COMPILE_FLAGS = {
    "--iree-preprocessing-pass-pipeline": r"=[A-Za-z0-9_.,(){}=+-]+",
    "--iree-llvmcpu-target-cpu": r"=[A-Za-z0-9_.-]+",
    "--iree-llvmcpu-target-cpu-features": r"=[A-Za-z0-9_.,+-]+",
    "--iree-llvmcpu-target-vector-width-in-bytes": _NUMBER,
    "--iree-llvmcpu-loop-vectorization": _BOOL,
    "--iree-llvmcpu-slp-vectorization": _BOOL,
    "--iree-llvmcpu-loop-unrolling": _BOOL,
    "--iree-llvmcpu-loop-interleaving": _BOOL,
    "--iree-llvmcpu-stack-allocation-limit": _NUMBER,
    "--iree-llvmcpu-fail-on-large-vector": _BOOL,
    "--iree-llvmcpu-fail-on-out-of-bounds-stack-allocation": _BOOL,
    "--iree-opt-data-tiling": _BOOL,
}
# The C compiler's: language, warnings, optimisation, debug info, macros, code generation (-m), an
# include folder inside the kernel's; and of -f, the code-generation choices named here (no -f that
# names a file: -fxray-attr-list=, -fprofile-use=, -fplugin=).
_C_ALLOWED = re.compile(
    r"-(std=[a-z0-9+]+|O[0-3sz]?|g[0-9]?|w|pedantic(-errors)?|W[A-Za-z0-9=#+_-]*|"
    r"[DU][A-Za-z_][A-Za-z0-9_]*(=.*)?|m[A-Za-z0-9=+_.-]+|"
    r"(I|iquote|isystem)[A-Za-z0-9_.-][A-Za-z0-9_./-]*)"
)
_F_ALLOWED = re.compile(
    r"-f(no-)?(fast-math|finite-math-only|math-errno|trapping-math|signed-zeros|associative-math|"
    r"reciprocal-math|unsafe-math-optimizations|fp-contract=(fast|on|off)|denormal-fp-math=[a-z,-]+|"
    r"unroll-loops|vectorize|slp-vectorize|inline|inline-functions|builtin|strict-aliasing|wrapv|"
    r"omit-frame-pointer|function-sections|data-sections|common|pic|PIC|pie|PIE|plt|"
    r"asynchronous-unwind-tables|unwind-tables|exceptions|stack-protector(-strong|-all)?|"
    r"visibility=(default|hidden|protected)|openmp-simd|zero-initialized-in-bss|"
    r"diagnostics-color|color-diagnostics|semantic-interposition)"
)
# Of the -m flags, what changes the target (the stage's) or passes words to LLVM.
_C_REFUSED = re.compile(r"-(march|mcpu|mtune|mfloat-abi|mllvm)")
_TARGET = re.compile(r"-(target|march|mcpu|mtune|mfloat-abi)\b")


# Flags of IREE's tools that run or load a program of their value's choosing.
_RUNS = tuple(
    "--iree-hal-preprocess-executables-with --iree-load-plugin --iree-llvmcpu-embedded-linker-path "
    "--iree-llvmcpu-system-linker-path --executable_plugin".split()
)


def runs_a_program(argv: Sequence[str]) -> list[str]:
    """The arguments of a recorded command that run or load a program (`show --commands` warns of
    them: a received record may carry one)."""
    return [arg for arg in argv if arg.partition("=")[0] in _RUNS]


def compile_flag_problem(flag: str) -> Optional[str]:
    """Why a kernel's `requires_flags` entry is not passed to iree-compile (None: it is)."""
    name = flag.partition("=")[0]
    if name in _NAMED or name.startswith(("--iree-hal-dump", "--iree-hal-substitute-executable")):
        return f"{_NAMED.get(name, 'reads or writes host files')}: a kernel's flags are data, never commands"
    if (value := COMPILE_FLAGS.get(name)) is None or not re.fullmatch(value, flag[len(name) :]):
        return (
            "not a flag a kernel may ask for: the preprocessing pipeline, the target CPU or its features, "
            "vector width, vectorization, unrolling, stack sizes or data tiling (docs/kernels.md); linking, "
            "loading, outputs and the target backend are the tool's"
        )
    if _WORDS.search(flag) or "interpreter" in flag:
        return "names a path, a file or a program: a kernel's iree-compile flags may not"
    return None


def run_flag_problem(flag: str) -> Optional[str]:
    """Why a kernel's `run_flags` entry is not passed to the runtime's tools (None: it is)."""
    if not _RUN.fullmatch(flag) or _WORDS.search(flag):
        return "expected a task system's flag --task_NAME=VALUE, e.g. --task_worker_stack_size=196608"
    return None


def c_flag_problem(flag: str) -> Optional[str]:
    """Why a kernel's `cflags` entry is not passed to the C compiler (None: it is)."""
    if _TARGET.match(flag):
        return "the target's flags and the output are the tool's: leave them out"
    allowed = _F_ALLOWED.fullmatch(flag) if flag.startswith("-f") else _C_ALLOWED.fullmatch(flag)
    if not allowed or _C_REFUSED.match(flag) or _parent(flag):
        return (
            "expected a flag of the language, warnings, optimisation, macros or code generation "
            "(-std=, -W, -O, -D, -m, -f of those docs/kernels.md lists, -I of a folder inside the kernel's); "
            "none that reads or loads a file"
        )
    return None


def _parent(flag: str) -> bool:
    """An include directory outside the kernel's (`-I..`, `-Isub/../..`)."""
    directory = re.match(r"-(I|iquote|isystem)(.*)", flag)
    return directory is not None and ".." in directory.group(2).split("/")
