"""A kernel's flags are data, not commands: which of its kernel.toml's `cflags`, `requires_flags` and
`run_flags` the tool passes on (None: this one), each refusal the reason in words.

A drill's `requires_flags` ran a shell as root (`--iree-hal-preprocess-executables-with=bash -c …`,
iree-compile runs it per executable: compiler/src/iree/compiler/Dialect/HAL/Transforms/
PreprocessExecutables.cpp), another made iree-compile dlopen a file (`--iree-load-plugin=PATH`), and
`cflags = ["--include=FILE"]` put a root-only file's bytes into a stored error message. So each list
is an allow-list of shapes that neither name a host path nor run or load a program: an iree-compile
flag (`--iree-…`) or a runtime task flag (`--task_…`) whose name and value hold no word of a path,
file, dump, plugin or program, and C flags that only set the language, warnings, optimisation,
macros and code generation. Whatever a source `#include`s or `#embed`s beyond its own directory is
the sandbox's to hide (stages/kernel_build.py builds in the model's sandbox)."""

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
_COMPILE = re.compile(r"--iree-[a-z0-9-]+(=\S+)?")
_RUN = re.compile(r"--task_[a-z0-9_]+=[A-Za-z0-9_.,:+-]+")
# The C compiler's: language, warnings, optimisation, debug info, macros, code generation (-f, -m).
_C_ALLOWED = re.compile(r"-(std=[a-z0-9+]+|O[0-3sz]?|g[a-z0-9]*|w|pedantic(-errors)?|W[A-Za-z0-9=#+_-]*|"
                        r"[DU][A-Za-z_][A-Za-z0-9_]*(=.*)?|f[A-Za-z0-9=+_,.-]+|m[A-Za-z0-9=+_,.-]+|"
                        r"(I|iquote|isystem)[A-Za-z0-9_.-][A-Za-z0-9_./-]*)")  # fmt: skip
# Of those, what changes the target (the stage's), reads a file, loads a plugin, or writes one.
_C_REFUSED = re.compile(
    r"-(march|mcpu|mtune|mfloat-abi|mllvm|Wl,|Wa,|Wp,|fplugin|fpass-plugin|fprofile|fcrash|fmodule|"
    r"fsanitize-(ignore|black)list|fdebug-prefix|ffile-prefix|fmacro-prefix|fcoverage|fembed|fuse-ld)"
)
_TARGET = re.compile(r"-(target|march|mcpu|mtune|mfloat-abi)\b")


# Flags of IREE's tools that run or load a program of their value's choosing.
_RUNS = (
    "--iree-hal-preprocess-executables-with",
    "--iree-load-plugin",
    "--iree-llvmcpu-embedded-linker-path",
    "--iree-llvmcpu-system-linker-path",
    "--executable_plugin",
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
    if not _COMPILE.fullmatch(flag):
        return "expected an iree-compile flag --iree-NAME or --iree-NAME=VALUE"
    if _WORDS.search(flag):
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
    if not _C_ALLOWED.fullmatch(flag) or _C_REFUSED.match(flag) or _parent(flag):
        return (
            "expected a flag of the language, warnings, optimisation, macros or code generation "
            "(-std=, -W, -O, -D, -f, -m, -I of a folder inside the kernel's); none that reads or loads a file"
        )
    return None


def _parent(flag: str) -> bool:
    """An include directory outside the kernel's (`-I..`, `-Isub/../..`)."""
    directory = re.match(r"-(I|iquote|isystem)(.*)", flag)
    return directory is not None and ".." in directory.group(2).split("/")
