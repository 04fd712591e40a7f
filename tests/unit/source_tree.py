"""The package's source as the tests that read it whole see it: each file read and parsed once per
version of it (its path, modification time and size) and shared by every such test in the process
(test_layers, test_one_place, test_thin_commands, test_console, test_container_layer, ...). Parsing
all of src/ is about a second of CPU: paid once per run of the tier, not once per check."""

from __future__ import annotations

import ast
import functools
from pathlib import Path


@functools.cache
def _read(path: str, mtime_ns: int, size: int) -> tuple[str, ast.Module]:
    text = Path(path).read_text()
    return text, ast.parse(text, path)


def source(path: Path) -> tuple[str, ast.Module]:
    """A file's text and its tree; the tree is shared, so read it and never change it."""
    stat = Path(path).stat()
    return _read(str(path), stat.st_mtime_ns, stat.st_size)


def tree(path: Path) -> ast.Module:
    return source(path)[1]


def text(path: Path) -> str:
    return source(path)[0]
