"""Where a venv command may write: what a container could. Landlock (Linux 5.13+) lets the child
restrict itself before exec, for good and for all it starts: a write outside the allowed directories
fails with EACCES. For the venv commands outside bubblewrap only (IREE's own tools, `--unsandboxed`
model code); without Landlock (`abi()` 0) the command runs unrestricted."""

from __future__ import annotations

import ctypes
import functools
import os
import stat
from collections.abc import Sequence
from typing import Optional

ENV = "IREE_MATRIX_LANDLOCK"  # "0": no restriction (a kernel whose Landlock breaks a tool)

# The syscalls' numbers are the same on every architecture (the unified table: 444-446).
_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

# LANDLOCK_ACCESS_FS_* (include/uapi/linux/landlock.h): what changes the file system.
_WRITE_FILE = 1 << 1
_REMOVE_DIR, _REMOVE_FILE = 1 << 4, 1 << 5
_MAKE = sum(1 << bit for bit in range(6, 13))  # char, dir, reg, sock, fifo, block, sym
_REFER = 1 << 13  # ABI 2: link or rename into another directory
_TRUNCATE = 1 << 14  # ABI 3


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


@functools.cache
def c_library() -> Optional[ctypes.CDLL]:
    """This process's C library with errno kept (the system calls Python has no wrapper for: here and
    in `shm_namespace`), None where it cannot be loaded."""
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


@functools.cache
def abi() -> int:
    """The kernel's Landlock ABI version; 0 without Landlock (or with IREE_MATRIX_LANDLOCK=0)."""
    if (libc := c_library()) is None or os.environ.get(ENV) == "0":
        return 0
    version = libc.syscall(
        _CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION)
    )
    return max(int(version), 0)


# What a command may write under /dev when it cannot have a /dev/shm of its own (`shm_namespace`):
# these files and the terminals, not /dev/shm, which is the host's and every program's.
DEVICES = (
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
    "/dev/tty",
    "/dev/pts",
    "/dev/ptmx",
)


def restrict_writes(allowed: Sequence[str], version: int) -> None:
    """In the child before exec: from now on this process and all it starts may change the file system only
    beneath `allowed` (directories, or files it may write; missing ones are left out). Raises OSError when the
    kernel refuses a step (the command then does not start: never silently unrestricted)."""
    if (libc := c_library()) is None or version <= 0:
        return
    later = (_REFER if version >= 2 else 0) | (_TRUNCATE if version >= 3 else 0)
    handled = _WRITE_FILE | _REMOVE_DIR | _REMOVE_FILE | _MAKE | later
    attr = ctypes.c_uint64(handled)
    ruleset = libc.syscall(_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(8), ctypes.c_uint32(0))
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset")
    try:
        for path in allowed:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                # A device file (DEVICES): only writing it and truncating, what a file rule may grant.
                directory = stat.S_ISDIR(os.fstat(fd).st_mode)
                rule = _PathBeneath(handled if directory else handled & (_WRITE_FILE | _TRUNCATE), fd)
                added = libc.syscall(
                    _ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), ctypes.c_uint32(0)
                )
                if added < 0:
                    raise OSError(ctypes.get_errno(), f"landlock_add_rule {path}")
            finally:
                os.close(fd)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
        if libc.syscall(_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)) < 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self")
    finally:
        os.close(ruleset)
