"""A venv command's own /dev/shm (a model wrote into the host's and deleted another program's file):
in the child before exec, a mount namespace of its own (in a user namespace when not root) with a
fresh tmpfs on /dev/shm. Where neither can be made, the caller denies writes there instead
(`landlock.DEVICES`). For the venv commands outside bubblewrap only, as `landlock`.
"""

from __future__ import annotations

import os

from iree_matrix.core.system.landlock import c_library

SHM = "/dev/shm"

# include/uapi/linux/sched.h and mount.h
_CLONE_NEWNS = 0x00020000
_CLONE_NEWUSER = 0x10000000
_MS_NOSUID, _MS_NODEV, _MS_REC, _MS_PRIVATE = 2, 4, 0x4000, 1 << 18


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def private_shm(size: int) -> bool:
    """In the child before exec: give this process and all it starts a /dev/shm of their own (a
    tmpfs of at most `size` bytes). False when the kernel refuses a step: the host's is still seen."""
    if (libc := c_library()) is None or not os.path.isdir(SHM):
        return False
    uid, gid = os.getuid(), os.getgid()
    try:
        if libc.unshare(_CLONE_NEWNS) != 0:  # not root: a user namespace maps us to ourselves
            if libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNS) != 0:
                return False
            _write("/proc/self/setgroups", "deny")
            _write("/proc/self/uid_map", f"{uid} {uid} 1")
            _write("/proc/self/gid_map", f"{gid} {gid} 1")
    except OSError:
        return False
    # Our mounts stay ours (a shared / would propagate the tmpfs to the host's namespace).
    if libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None) != 0:
        return False
    options = f"size={max(size, 1 << 20)},mode=1777".encode()
    mounted: int = libc.mount(b"tmpfs", SHM.encode(), b"tmpfs", _MS_NOSUID | _MS_NODEV, options)
    return mounted == 0
