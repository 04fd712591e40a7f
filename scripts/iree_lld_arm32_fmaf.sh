#!/bin/sh
# The embedded linker for 32-bit ARM kernels of the `soft-fmaf` profile: iree_lld_arm32.sh's link
# (IREE's own iree-lld, __aeabi_unwind_cpp_pr0-2 defined as 0: see that script), plus a software fmaf.
#
# On a CPU without fused multiply-add (VFPv2: the Pi Zero's ARM1176JZF-S) LLVM turns every
# llvm.fma.f32 - which IREE's polynomial approximations of exp, tanh, erf... are made of - into a
# call to fmaf, and the fmaf IREE links into embedded kernels has no code there: the calls run off
# the end of the kernels' text and fault. arm32_fmaf.py writes an object with a working one
# (iree_matrix_fmaf, in double precision) and has the link place it where the empty one is, so the
# calls land on it (see that script: the empty fmaf is a local symbol no --defsym can redirect),
# then checks in the link map that they do.
#
# iree-compile runs this as --iree-llvmcpu-embedded-linker-path; IREE_MATRIX_PYTHON is the
# compiler environment's Python, which knows where its iree-lld is.
set -eu
py="${IREE_MATRIX_PYTHON:-python3}"
lld=$("$py" -c \
  'import os, iree.compiler as c; print(os.path.join(os.path.dirname(c.__file__), "_mlir_libs", "iree-lld"))')
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
here=$(dirname "$0")
# Only a link of ARM objects gets the object and its options: iree-compile links the host's code
# for evaluating constants (x86_64) through this linker too.
fmaf=$("$py" "$here/arm32_fmaf.py" link "$tmp" "$@")
# shellcheck disable=SC2086  # $fmaf is options or nothing, without spaces inside (mktemp's paths)
"$lld" "$@" $fmaf --defsym=__aeabi_unwind_cpp_pr0=0 --defsym=__aeabi_unwind_cpp_pr1=0 \
  --defsym=__aeabi_unwind_cpp_pr2=0
"$py" "$here/arm32_fmaf.py" check "$tmp"
