"""Files a user names as input, read with a bound: a regular file (`/dev/zero` reports 0 bytes and
is endless, a FIFO hangs the open), checked before the open and on the descriptor, opened without
blocking, and read at most one byte past the limit.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Optional

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class InputFileError(ValueError):
    """A named input that is not a regular file of bounded size: why, in words (the caller names the
    file, and the kind of file it should be)."""

    def __init__(self, reason: str, *, missing: bool = False, too_large: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        # the two a caller words itself: where such files are, and how large one is
        self.missing = missing
        self.too_large = too_large


def not_regular(mode: int) -> str:
    """What a file of this (not regular) mode is, in words ("a FIFO (named pipe), not a regular file")."""
    return next((f"{kind}, not a regular file" for test, kind in _KINDS if test(mode)), "not a regular file")


def _os_reason(exc: OSError) -> InputFileError:
    if exc.errno == errno.ELOOP:
        return InputFileError("a loop of symbolic links (each names the next): point it at the file itself")
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        return InputFileError("no such file", missing=True)
    return InputFileError(f"cannot read: {exc.strerror}")


def is_link_loop(path: Path) -> bool:
    """Whether `path` is (or runs through) a loop of symbolic links: `Path.exists()` says False of it
    and `Path.resolve()` raises RuntimeError (before Python 3.13), neither of which names the loop."""
    try:
        os.stat(path)
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False


def check_regular(path: Path) -> None:
    """An `InputFileError` when `path` (its symbolic links followed) is not a regular file."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise _os_reason(exc) from None
    if not stat.S_ISREG(mode):
        raise InputFileError(not_regular(mode))


def read_bounded(path: Path, limit: int) -> bytes:
    """The bytes of the regular file `path`, at most `limit` of them; an `InputFileError` saying why
    not (no such file, a directory, device, FIFO or socket, a symlink loop, larger than `limit`)."""
    check_regular(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise _os_reason(exc) from None
    try:
        if not stat.S_ISREG(mode := os.fstat(fd).st_mode):  # replaced between the check and the open
            raise InputFileError(not_regular(mode))
        chunks, size = [], 0
        while size <= limit:
            if not (chunk := os.read(fd, min(1 << 20, limit + 1 - size))):
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise _os_reason(exc) from None
    finally:
        os.close(fd)
    if size > limit:
        raise InputFileError(f"larger than {_size(limit)}", too_large=True)
    return b"".join(chunks)


def _size(n: int) -> str:
    return f"{n >> 20} MiB" if n >= 1 << 20 and not n % (1 << 20) else f"{n} bytes"


def blocking_file(to: Path) -> Optional[Path]:
    """The first of `to` and the folders above it that exists and is no directory, where a folder
    cannot be made (a file, a dangling link), or None: said before anything is made there."""
    for where in (to, *to.parents):
        if where.is_dir():
            return None
        if where.exists() or where.is_symlink():
            return where
    return None


def blocking(to: Path) -> str:
    """Why no directory can be made at `to` ("/x/f is a file, so no directory can be made there";
    a link to nothing too), or "" when one can (or is there)."""
    if (where := blocking_file(to)) is None:
        return ""
    what = f"a link to nothing ({os.readlink(where)})" if where.is_symlink() else "a file"
    return f"{where} is {what}, so no directory can be made there"


def directory_problem(path: Path) -> str:
    """Why `path` can be no directory to write in: "exists and is not a directory", or `blocking`'s
    words; "" when it is one or can be made."""
    return "exists and is not a directory" if path.exists() and not path.is_dir() else blocking(path)
