"""Content hashes: of files, and of JSON-able descriptions of a stage's inputs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from iree_matrix.bundle_runner.manifest import sha256_of

# A file's digest as the bundle runner checks it (it ships without this package): one reader for both.
file_sha256 = sha256_of


def digest(value: Any) -> str:
    blob = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(blob).hexdigest()


def tools_digest(directory: str) -> str:
    """A runtime directory's identity: rebuilding the tools changes every key downstream. One digest
    of its files, order-independent, names included."""
    files = sorted(p for p in Path(directory).iterdir() if p.is_file())
    return digest({p.name: file_sha256(p) for p in files})
