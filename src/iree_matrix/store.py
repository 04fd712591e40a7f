"""The content-addressed store: `<cache>/store/<stage>/<key>/` holds a stage's artifacts and its
`record.json`.

A directory is only ever created by renaming a fully written staging directory into place, and
`record.json` is written last inside it, so an entry that exists is complete: a crash or Ctrl-C
mid-stage leaves only a staging directory, which the next run ignores and cleans.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Optional

from iree_matrix.results import Record

RECORD = "record.json"


@dataclasses.dataclass(frozen=True)
class Entry:
    record: Record
    path: Path  # the artifact directory

    def artifact(self, name: str) -> Path:
        return self.path / name


class Store:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
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
        return Entry(record, path)

    @contextlib.contextmanager
    def staging(self) -> Iterator[Path]:
        """A private scratch directory; removed on exit unless `commit` moved it into place."""
        self._staging.mkdir(parents=True, exist_ok=True)
        path = self._staging / uuid.uuid4().hex
        path.mkdir()
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)

    def commit(self, stage: str, key: str, staged: Path, record: Record) -> Entry:
        tmp = staged / (RECORD + ".tmp")
        tmp.write_text(record.to_json(), encoding="utf-8")
        os.replace(tmp, staged / RECORD)
        final = self.entry_path(stage, key)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():  # a stale entry being replaced (e.g. --retry-failed)
            shutil.rmtree(final)
        os.rename(staged, final)
        return Entry(record, final)

    def clean_staging(self) -> None:
        """Forget what an interrupted run left half-done."""
        shutil.rmtree(self._staging, ignore_errors=True)
