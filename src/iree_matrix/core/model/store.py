"""The content-addressed store: `<cache>/store/<stage>/<key>/` holds a stage's artifacts and its
`record.json`, renamed into place fully written. Every artifact's sha256 is kept and checked before
reuse; only regular files and directories are stored, readable by all, writable by the tool alone."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shutil
import stat
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Optional

from iree_matrix.core import console
from iree_matrix.core.atomic_files import storage_error
from iree_matrix.core.hashing import file_sha256
from iree_matrix.core.model.results import Record, Status
from iree_matrix.core.system.bubblewrap import walk

logger = console.logger(__name__)

RECORD = "record.json"
SUMS = "SHA256SUMS"
VERIFIED = ".verified"  # per file named in SUMS (and SUMS): its stat when its sum last matched


@dataclasses.dataclass(frozen=True)
class Entry:
    record: Record
    path: Path  # the artifact directory

    def artifact(self, name: str) -> Path:
        return self.path / name


class Store:
    def __init__(self, root: Path) -> None:
        # Absolute: a stage's tools write into its staging directory from other directories (iree-compile
        # runs in a scratch one), where a relative path would name something else.
        self.root = Path(os.path.abspath(root))
        self._staging = self.root / "staging"

    def is_empty(self) -> bool:
        return not self.root.is_dir() or all(p == self._staging for p in self.root.iterdir())

    def entry_path(self, stage: str, key: str) -> Path:
        return self.root / stage / key

    def get(self, stage: str, key: str) -> Optional[Entry]:
        path = self.entry_path(stage, key)
        try:
            record = Record.from_dict(json.loads((path / RECORD).read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # none, or unreadable: treat as absent, the stage runs again and replaces it
        if (damaged := _damaged(path)) is None:
            return Entry(record, path)
        said = "does not match its stored sha256"
        if damaged == SUMS:
            said = "empty, unreadable or not sums, so it vouches for nothing"
        logger.warning(f"{path / damaged}: {said}; entry discarded, the stage will be redone")
        shutil.rmtree(path, ignore_errors=True)
        return None

    def staging(self) -> contextlib.AbstractContextManager[Path]:
        """A private scratch directory; removed on exit unless `commit` moved it into place."""
        return _directory(self._staging / uuid.uuid4().hex, "cannot create a staging directory")

    def commit(self, stage: str, key: str, staged: Path, record: Record) -> Entry:
        """Move a staged result into place; a `StorageError` when the disk refuses, earlier entries intact."""
        final = self.entry_path(stage, key)
        needed = len(record.to_json()) + 4096  # the record and SHA256SUMS: the artifacts are written
        unsafe = refused(staged)
        if unsafe is not None:  # the caller checks first (and stores the failure): never stored
            raise UnsafeOutput(f"{staged}: {unsafe}")
        try:
            _as_data(staged)
            artifacts = _artifacts(staged)
            sums = [f"{file_sha256(f)}  {f.relative_to(staged).as_posix()}\n" for f in artifacts]
            (staged / SUMS).write_text("".join(sums), encoding="utf-8")
            _remember_verified(staged, [f.relative_to(staged).as_posix() for f in artifacts])
            tmp = staged / (RECORD + ".tmp")
            tmp.write_text(record.to_json(), encoding="utf-8")
            os.replace(tmp, staged / RECORD)
            # On disk before the rename makes it an entry: a power loss after a rename whose files were
            # still in the page cache left an entry with an empty SHA256SUMS and a module of zeros.
            _sync_tree(staged)
            final.parent.mkdir(parents=True, exist_ok=True)
            if final.exists():  # a stale entry being replaced (e.g. --retry-failed)
                shutil.rmtree(final)
            os.rename(staged, final)
            _sync(final.parent)  # the rename itself
        except OSError as exc:
            # The staged directory is removed by `staging()`; nothing under `final` is half-written.
            raise storage_error(final, exc, needed=needed, doing="cannot store the result") from None
        return Entry(record, final)

    def changed(self, entry: Entry) -> Optional[str]:
        """The first artifact of an entry whose bytes changed, discarding the entry; None when all match."""
        if not (entry.path / RECORD).is_file():  # discarded meanwhile (another stage found it changed)
            return RECORD
        if (damaged := _damaged(entry.path)) is not None:
            shutil.rmtree(entry.path, ignore_errors=True)
        return damaged

    def clean_staging(self) -> None:
        """Forget what an interrupted run left half-done."""
        shutil.rmtree(self._staging, ignore_errors=True)


def scratch(staged: Path, inputs: Sequence[Path] = ()) -> contextlib.AbstractContextManager[Path]:
    """A tool's working directory beside `staged`, `inputs` symlinked into it; removed after."""
    return _directory(staged.parent / f"{staged.name}.cwd", "cannot create a working directory", inputs)


@contextlib.contextmanager
def _directory(path: Path, doing: str, inputs: Sequence[Path] = ()) -> Iterator[Path]:
    try:
        path.mkdir(parents=True)
        for source in inputs:
            (path / source.name).symlink_to(os.path.relpath(source, path))
    except OSError as exc:
        shutil.rmtree(path, ignore_errors=True)
        raise storage_error(path, exc, doing=doing) from None
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _sync(path: Path) -> None:
    """fsync a file or a directory (a directory's fsync makes the names in it durable)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | (os.O_DIRECTORY if path.is_dir() else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_tree(root: Path) -> None:
    """fsync every file under `root`, then every directory, deepest first, `root` last."""
    found = sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True)
    for path in [p for p in found if p.is_file() and not p.is_symlink()]:
        _sync(path)
    for path in [*(p for p in found if p.is_dir() and not p.is_symlink()), root]:
        _sync(path)


class UnsafeOutput(ValueError):
    """A stage's output that is not only regular files and directories (`refused` says why)."""


# What the store refuses in a stage's output, by the file type lstat gives.
_KINDS = {
    stat.S_IFLNK: "a symbolic link",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


def refused(staged: Path) -> Optional[str]:
    """Why a stage's output in `staged` may not be stored (None when it may)."""
    for path, found in walk(staged):  # `staged` itself first: a directory, never refused
        name = path.relative_to(staged).as_posix()
        if (kind := _KINDS.get(stat.S_IFMT(found.st_mode))) == "a symbolic link":
            target = "?"
            with contextlib.suppress(OSError):
                target = os.readlink(path)
            return (
                f"its output holds {name}, a symbolic link (to {target[:200]!r}): a stage's output is "
                "regular files only, and the store follows no link; nothing of it is stored"
            )
        if kind is not None:
            only = "a stage's output is regular files only; nothing of it is stored"
            return f"its output holds {name}, {kind}: {only}"
        bits = found.st_mode & (stat.S_ISUID | stat.S_ISGID)
        if stat.S_ISREG(found.st_mode) and bits:
            named = ((stat.S_ISUID, "setuid"), (stat.S_ISGID, "setgid"))
            which = " and ".join(word for bit, word in named if bits & bit)
            return (
                f"its output holds {name} with the {which} bit (mode {stat.S_IMODE(found.st_mode):o}): "
                "a stage's output is data, never a program that runs as its owner; nothing of it is stored"
            )
    return None


def disarm(folder: Path) -> list[str]:
    """A folder a sandboxed command wrote outside the store made data as store entries are: what changed."""
    changed = []
    for path, found in list(walk(folder)):
        name, kind = path.relative_to(folder).as_posix(), _KINDS.get(stat.S_IFMT(found.st_mode))
        if kind is not None:
            path.unlink()
            changed.append(f"{name}, {kind}, removed")
        elif stat.S_ISREG(found.st_mode) and found.st_mode & (stat.S_ISUID | stat.S_ISGID):
            os.chmod(path, stat.S_IMODE(found.st_mode) & ~(stat.S_ISUID | stat.S_ISGID))
            changed.append(f"{name}: its setuid or setgid bit cleared")
    _as_data(folder)
    return changed


def _as_data(staged: Path) -> None:
    """The staged output made the tool's, writable by it alone and readable by all, whatever the umask."""
    uid, gid = os.geteuid(), os.getegid()
    for path, found in list(walk(staged)):
        if uid == 0 and (found.st_uid, found.st_gid) != (uid, gid):
            os.chown(path, uid, gid, follow_symlinks=False)
        mode = stat.S_IMODE(found.st_mode)
        keep = (mode & 0o755) | 0o644 if stat.S_ISREG(found.st_mode) else 0o755
        if keep != mode:
            os.chmod(path, keep)


def _artifacts(entry: Path) -> list[Path]:
    """The regular files of an entry (never a link's target), but the store's own."""
    own = {entry / RECORD, entry / SUMS, entry / VERIFIED}
    return sorted(f for f, found in walk(entry) if stat.S_ISREG(found.st_mode) and f not in own)


def _stat(path: Path) -> list[int]:
    found = path.stat()
    return [found.st_size, found.st_ino, found.st_mtime_ns, found.st_ctime_ns]


def _remember_verified(entry: Path, names: list[str]) -> None:
    """Note each file's stat now that its sum matched (best effort: a read-only store re-hashes)."""
    with contextlib.suppress(OSError):
        seen = {name: _stat(entry / name) for name in [*names, SUMS]}
        tmp = entry / (VERIFIED + f".{uuid.uuid4().hex}.tmp")
        tmp.write_text(json.dumps(seen, sort_keys=True), encoding="utf-8")
        os.replace(tmp, entry / VERIFIED)


def _unchanged_since_verified(entry: Path, names: list[str]) -> bool:
    try:
        seen = json.loads((entry / VERIFIED).read_text(encoding="utf-8"))
        return isinstance(seen, dict) and all(seen.get(n) == _stat(entry / n) for n in [*names, SUMS])
    except (OSError, ValueError):
        return False


def _damaged(entry: Path) -> Optional[str]:
    """The first artifact whose content is not what was committed; None when all match or SHA256SUMS is
    absent (an older entry). A SHA256SUMS unreadable, not sums, or empty beside artifacts is damage."""
    try:
        sums = _sums(entry)
    except (OSError, UnicodeDecodeError, ValueError):
        return SUMS
    if sums is None:
        return None
    if not sums and _artifacts(entry):
        return SUMS
    if _unchanged_since_verified(entry, [name for _, name in sums]):
        return None
    for digest, name in sums:
        try:
            if not stat.S_ISREG(os.lstat(entry / name).st_mode) or file_sha256(entry / name) != digest:
                return name  # a link put in a file's place is never followed
        except OSError:
            return name
    _remember_verified(entry, [name for _, name in sums])
    return None


def unvouched(path: Path) -> Optional[str]:
    """Why the file at `path` is not an artifact of an intact store entry, or None when it is one."""
    for entry in Path(os.path.abspath(path)).parents:
        if (entry / RECORD).is_file():
            break
    else:
        return "is not in an iree-matrix store entry"
    try:
        sums = _sums(entry)
    except (OSError, UnicodeDecodeError, ValueError):
        return f"is in a store entry whose {SUMS} is unreadable"
    if sums is None:
        return None
    if Path(os.path.abspath(path)).relative_to(entry).as_posix() not in {name for _, name in sums}:
        return f"is not one of its store entry's artifacts ({entry / SUMS})"
    damaged = _damaged(entry)
    return None if damaged is None else f"is in a store entry whose {damaged} changed after it was stored"


def _sums(entry: Path) -> Optional[list[tuple[str, str]]]:
    """(sha256, name) of each artifact SHA256SUMS lists; None when it has none; ValueError on a bad line."""
    try:
        text = (entry / SUMS).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    sums = [(digest, name) for digest, _, name in (line.partition("  ") for line in text.splitlines())]
    for digest, name in sums:
        if not _SHA256.fullmatch(digest) or not name or name.startswith("/") or ".." in name.split("/"):
            raise ValueError(f"{entry / SUMS}: a line that is no sha256 and name ({digest[:70]!r})")
    return sums


_SHA256 = re.compile(r"[0-9a-f]{64}")


def failure_is_stale(entry: Entry, deps: Mapping[str, Entry]) -> bool:
    """A stored failure whose inputs were made again after it says nothing about them now: redo it."""
    if entry.record.status is Status.OK or not entry.record.started:
        return False
    return any((dep.record.finished or "") > entry.record.started for dep in deps.values())
