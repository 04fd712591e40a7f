"""The content-addressed store: `<cache>/store/<stage>/<key>/` holds a stage's artifacts and its
`record.json`.

A directory is only ever created by renaming a fully written staging directory into place, and
`record.json` is written last inside it, so an entry that exists is complete: a crash or Ctrl-C
mid-stage leaves only a staging directory, which the next run ignores and cleans.

Every artifact's sha256 is kept beside the record (`SHA256SUMS`, the format `sha256sum -c` reads)
and checked before the entry is reused: a truncated or edited `module.vmfb` would otherwise be
reused, reported as a success, and make later stages store false failures.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import sys
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Optional

from iree_matrix.core._files import storage_error
from iree_matrix.core._hashing import file_sha256
from iree_matrix.core.results import Record, Status

RECORD = "record.json"
SUMS = "SHA256SUMS"


@dataclasses.dataclass(frozen=True)
class Entry:
    record: Record
    path: Path  # the artifact directory

    def artifact(self, name: str) -> Path:
        return self.path / name


class Store:
    def __init__(self, root: Path) -> None:
        # Absolute: a stage's tools write into its staging directory from other directories (iree-compile
        # runs in the MLIR's), where a relative path would name something else (#41).
        self.root = Path(os.path.abspath(root))
        self._staging = self.root / "staging"

    def entry_path(self, stage: str, key: str) -> Path:
        return self.root / stage / key

    def get(self, stage: str, key: str) -> Optional[Entry]:
        path = self.entry_path(stage, key)
        try:
            record = Record.from_dict(json.loads((path / RECORD).read_text(encoding="utf-8")))
        except (FileNotFoundError, NotADirectoryError):
            return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # unreadable: treat as absent, the stage runs again and replaces it
        damaged = _damaged(path)
        if damaged is not None:
            print(f"warning: {path / damaged}: does not match its stored sha256; entry discarded, "
                  "the stage will be redone", file=sys.stderr)  # fmt: skip
            shutil.rmtree(path, ignore_errors=True)
            return None
        return Entry(record, path)

    @contextlib.contextmanager
    def staging(self) -> Iterator[Path]:
        """A private scratch directory; removed on exit unless `commit` moved it into place."""
        path = self._staging / uuid.uuid4().hex
        try:
            path.mkdir(parents=True)
        except OSError as exc:
            raise storage_error(path, exc, doing="cannot create a staging directory") from None
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)

    def commit(self, stage: str, key: str, staged: Path, record: Record) -> Entry:
        """Move a staged result into place; a `StorageError` naming the path (and the space it
        needed) when the disk refuses, with every entry committed before it intact."""
        final = self.entry_path(stage, key)
        needed = len(record.to_json()) + 4096  # the record and SHA256SUMS: the artifacts are written
        try:
            sums = [f"{file_sha256(f)}  {f.relative_to(staged).as_posix()}\n" for f in _artifacts(staged)]
            (staged / SUMS).write_text("".join(sums), encoding="utf-8")
            tmp = staged / (RECORD + ".tmp")
            tmp.write_text(record.to_json(), encoding="utf-8")
            os.replace(tmp, staged / RECORD)
            final.parent.mkdir(parents=True, exist_ok=True)
            if final.exists():  # a stale entry being replaced (e.g. --retry-failed)
                shutil.rmtree(final)
            os.rename(staged, final)
        except OSError as exc:
            # The staged directory is removed by `staging()`; nothing under `final` is half-written.
            raise storage_error(final, exc, needed=needed, doing="cannot store the result") from None
        return Entry(record, final)

    def clean_staging(self) -> None:
        """Forget what an interrupted run left half-done."""
        shutil.rmtree(self._staging, ignore_errors=True)


def _artifacts(entry: Path) -> list[Path]:
    own = {entry / RECORD, entry / SUMS}
    return sorted(f for f in entry.rglob("*") if f.is_file() and f not in own)


def _damaged(entry: Path) -> Optional[str]:
    """The first artifact whose content is not what was committed; None when all match.
    An entry from before checksums were kept has no SHA256SUMS and is trusted as before."""
    try:
        lines = (entry / SUMS).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        return SUMS
    for line in lines:
        digest, _, name = line.partition("  ")
        try:
            if file_sha256(entry / name) != digest:
                return name
        except OSError:
            return name
    return None


def failure_is_stale(entry: Entry, deps: Mapping[str, Entry]) -> bool:
    """A stored failure whose inputs were made again after it (e.g. a damaged module.vmfb discarded
    and recompiled under the same key) says nothing about the inputs as they are now: redo it.
    A success is judged by its key alone."""
    if entry.record.status is Status.OK or not entry.record.started:
        return False
    return any((dep.record.finished or "") > entry.record.started for dep in deps.values())
