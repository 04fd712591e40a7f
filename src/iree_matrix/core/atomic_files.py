"""Writing a file so that a reader (or a crash, or Ctrl-C) never sees half of it; and a JSON file
written so, read back."""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Union

from iree_matrix.core.errors import StorageError

if TYPE_CHECKING:
    from typing import TypeGuard  # 3.10+: for the checker only (annotations are strings here)

# Out of space, over quota, or a file system that became read-only: the disk's problem, not a result.
_DISK_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)
# What a tool prints when the disk refused it (not "Read-only file system": inputs are mounted so).
DISK_FULL_TEXT = ("No space left on device", "Disk quota exceeded")


def is_disk_full(exc: BaseException) -> TypeGuard[OSError]:
    return isinstance(exc, OSError) and exc.errno in _DISK_ERRNOS


def free_bytes(path: Path) -> Optional[int]:
    """Free space of the file system `path` is (or would be) on: its nearest existing ancestor's."""
    for candidate in (Path(path), *Path(path).parents):
        try:
            return shutil.disk_usage(candidate).free
        except OSError:
            continue
    return None


def fuller(path: Path, temporary: Optional[Path] = None) -> Path:
    """Of a stage's output directory and $TMPDIR, the one with less free space: where a tool's "No space
    left on device" most likely came from."""
    temporary = Path(tempfile.gettempdir()) if temporary is None else temporary
    existing = next((p for p in (Path(path), *Path(path).parents) if p.exists()), Path("/"))
    try:
        if os.stat(temporary).st_dev == os.stat(existing).st_dev:
            return path
    except OSError:
        return path
    free, free_tmp = free_bytes(path), free_bytes(temporary)
    return temporary if free is not None and free_tmp is not None and free_tmp < free else path


def storage_error(
    path: Path,
    why: Union[OSError, str],
    *,
    needed: Optional[int] = None,
    at_least: bool = False,
    doing: str = "cannot write",
) -> StorageError:
    """One line: where, why, how much it needed and how much is free, and that nothing is lost."""
    reason = why if isinstance(why, str) else (why.strerror or str(why))
    # One line, each of a tool's lines kept.
    reason = "; ".join(line.strip() for line in reason.splitlines() if line.strip()) or reason
    if isinstance(why, OSError) and why.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return StorageError(
            f"{path}: {doing} ({reason}): make it writable, or name a writable directory "
            "(--results-dir for results and documents, --cache for the cache)"
        )
    free = free_bytes(path)
    space = (f"it needs {'at least ' if at_least else ''}{needed} bytes, " if needed is not None else "") + (
        f"{free} are free" if free is not None else "free space unknown"
    )
    temporary = Path(tempfile.gettempdir())
    bigger = (  # a full results folder was told to move the cache
        "set TMPDIR to a bigger disk"
        if Path(path) == temporary
        else "use a bigger disk: --results-dir for results and documents, --cache for the cache"
    )
    return StorageError(
        f"{path}: {doing} ({reason}): {space}; free some space (or {bigger}) and "
        "re-run (finished results are kept)"
    )


def write_atomically(target: Path, data: str | bytes, sync: bool = True) -> Path:
    """Write to a temporary file beside `target`, fsync (`sync`: a note nothing needs may skip it), then
    rename over it. Mode 0644: mkstemp's 0600 would make a committed document private."""
    target = Path(target)
    # A path decoded by an ASCII locale holds its non-ASCII bytes as surrogates: written back as those bytes.
    payload = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
    tmp = ""  # none made yet
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            if sync:
                os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException as exc:
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)
        # A disk that is full or read-only is one line naming the directory; any other error stays what it is.
        if is_disk_full(exc) or (isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EPERM)):
            doing = f"cannot write {target.name}"
            raise storage_error(target.parent, exc, needed=len(payload), doing=doing) from None
        raise
    return target


def write_json(target: Path, value: Any) -> Path:
    """`value` as indented JSON, its keys sorted, written atomically (`write_atomically`)."""
    return write_atomically(target, json.dumps(value, indent=1, sort_keys=True))


def read_json(path: Path) -> Optional[Any]:
    """What a JSON file holds; None when there is none or it is not JSON (as if never written)."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
