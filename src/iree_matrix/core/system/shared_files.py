"""What the tool copies out of a user's folder (into the store, into merged results) is only what every
other user could already read there by that very path, since the store makes it readable by all: each
folder on the way (of the path and of what a link names) lets others pass, the file lets others read,
and it has one name (a hard link's other may be private). `refusal` is the rule; `copy` applies it."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

from iree_matrix.core.system import bubblewrap


class UnsharedFile(ValueError):
    """A file `copy` refuses: its one-line reason is the message."""


def refusal(
    path: Path,
    folders: Sequence[tuple[Path, os.stat_result]],
    found: os.stat_result,
    real: Optional[Path] = None,
) -> Optional[str]:
    """Why a copy of `path` would show others what they cannot read of it (None: they can): `folders`
    are the directories passed on the way to it, each with its stat; `found` is the file's own stat,
    a link followed to `real`."""
    name = f"{path} (a link to {real})" if real is not None and real != path else str(path)
    for folder, seen in folders:
        if not seen.st_mode & stat.S_IXOTH:
            return (
                f"{name}: the folder {folder} (mode {stat.S_IMODE(seen.st_mode):o}) lets no other user pass, "
                "so a copy would show what others cannot read: keep the file in a folder others may enter"
            )
    if not stat.S_ISREG(found.st_mode):
        return f"{name}: not a regular file; only regular files are copied"
    if not found.st_mode & stat.S_IROTH:
        return (
            f"{name} (mode {stat.S_IMODE(found.st_mode):o}) is not readable by other users, so a copy would "
            f"show it to them: chmod o+r {real or path}, or leave it out"
        )
    if found.st_nlink > 1:
        return (
            f"{name}: a hard link ({found.st_nlink} names; another may be a file others cannot read): "
            "copy the file (cp) instead of linking it"
        )
    return None


def problem(
    path: Path, found: Optional[os.stat_result] = None, folders: Optional[bool] = None
) -> Optional[str]:
    """`refusal` for `path` as it is on disk (None: every other user may read it by that path); `found`:
    the file's stat where the caller holds it open. The folders on its way are checked when the tool
    runs as root (`folders` None), whose store every user reaches (a sandbox reads it as uid 65534); a
    user's store lies in that user's own folders, whose modes keep it as private as they keep theirs."""
    given = Path(os.path.abspath(path))
    real = Path(os.path.realpath(given))
    walked = bubblewrap.as_root() if folders is None else folders
    ways = dict.fromkeys([*given.parents, *real.parents]) if walked else {}
    try:
        seen = [(folder, os.stat(folder)) for folder in ways]
        found = found or os.stat(given)
    except OSError as exc:
        return f"{path}: {exc.strerror}"
    return refusal(path, seen, found, real if real != given else None)


def copy(source: Path, target: Path) -> None:
    """`source` copied to `target` if every other user may read it (else `UnsharedFile`, one line), the
    copy's mode its source's, never wider. Checked on the file it opened (never blocking on a FIFO),
    so a name swapped after the check is not what is copied."""
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise UnsharedFile(f"{source}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as src:
        found = os.fstat(fd)
        if (why := problem(source, found)) is not None:
            raise UnsharedFile(why)
        with open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
    os.chmod(target, stat.S_IMODE(found.st_mode) & 0o777)
