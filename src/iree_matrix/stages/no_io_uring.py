"""Run a command with io_uring refused: `python -m iree_matrix.stages.no_io_uring CMD ARGS...`.

IREE 3.13's runtime blocks a proactor thread in `io_uring_enter`, which valgrind 3.19 takes for a
call that never blocks: it keeps its one-thread lock and the counted run hangs. Refused with EPERM
(a seccomp filter, as a container's default profile does), the runtime uses its POSIX proactor.
"""

from __future__ import annotations

import ctypes
import errno
import os
import struct
import sys

IO_URING_SETUP = 425  # the same number on every Linux architecture (the unified syscall table)
_PR_SET_NO_NEW_PRIVS, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 38, 22, 2
_SECCOMP_RET_ALLOW, _SECCOMP_RET_ERRNO = 0x7FFF0000, 0x00050000
_LD_W_ABS, _JEQ_K, _RET_K = 0x20, 0x15, 0x06


def program() -> bytes:
    """The BPF filter: load the syscall number; io_uring_setup -> EPERM; anything else -> allow."""
    instructions = (
        (_LD_W_ABS, 0, 0, 0),  # seccomp_data.nr
        (_JEQ_K, 0, 1, IO_URING_SETUP),
        (_RET_K, 0, 0, _SECCOMP_RET_ERRNO | errno.EPERM),
        (_RET_K, 0, 0, _SECCOMP_RET_ALLOW),
    )
    return b"".join(struct.pack("HBBI", *i) for i in instructions)


def refuse_io_uring() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    code = program()
    filters = ctypes.create_string_buffer(code, len(code))

    class Program(ctypes.Structure):
        _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_void_p))

    prog = Program(len(code) // 8, ctypes.addressof(filters))
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP)")


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m iree_matrix.stages.no_io_uring CMD [ARGS...]", file=sys.stderr)
        return 2
    refuse_io_uring()
    os.execvp(argv[0], argv)
    return 127  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
