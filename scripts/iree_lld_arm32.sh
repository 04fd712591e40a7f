#!/bin/sh
# The embedded linker for 32-bit ARM kernels: IREE's own iree-lld, plus one definition.
#
# LLVM gives every ARM function an EHABI unwind entry (.ARM.exidx) that names a personality routine:
# __aeabi_unwind_cpp_pr0, or pr1/pr2 where the frame's unwind takes more than three opcodes (a
# dispatch that calls a custom kernel and saves eight registers: pr1). Nothing in a kernel throws, so
# the routines are never called, but iree-lld links -nostdlib and leaves the references undefined, and
# the runtime's platform-agnostic loader refuses the module: "ELF imports one or more symbols (trying
# '__aeabi_unwind_cpp_pr1'); imports are not supported". Defining them as 0 satisfies the references.
#
# iree-compile runs this as --iree-llvmcpu-embedded-linker-path; IREE_MATRIX_PYTHON is the
# compiler environment's Python, which knows where its iree-lld is.
set -eu
lld=$("${IREE_MATRIX_PYTHON:-python3}" -c \
  'import os, iree.compiler as c; print(os.path.join(os.path.dirname(c.__file__), "_mlir_libs", "iree-lld"))')
exec "$lld" "$@" --defsym=__aeabi_unwind_cpp_pr0=0 --defsym=__aeabi_unwind_cpp_pr1=0 --defsym=__aeabi_unwind_cpp_pr2=0
