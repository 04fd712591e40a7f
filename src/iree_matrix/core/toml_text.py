"""A TOML document written from data, never by formatting values into text: a value from a record
another party made, spliced into `key = "{value}"`, could add keys of its own. Every string is
escaped, and the document is parsed back and compared with the data before it is returned. A page of
code rather than one more dependency (`tomli-w`) for every environment that installs iree-matrix.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any

# tomllib, or on 3.9/3.10 tomli: every module that reads TOML takes it from here
if sys.version_info >= (3, 11):
    import tomllib as tomllib
else:  # pragma: no cover - the lint and the unit tests run on 3.11
    import tomli as tomllib

# A bare key: TOML's own alphabet for keys that need no quotes.
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


class TomlValueError(ValueError):
    """A value this writer does not write (a nested list, a table inside a table, NaN)."""


def string(text: str) -> str:
    """`text` as a TOML basic string. TOML escapes `"` and `\\` and forbids U+0000-U+001F (but tab)
    and U+007F raw; those, and every other character outside printable ASCII, are written as
    `\\uXXXX` / `\\UXXXXXXXX` escapes, so the result is one line of ASCII whatever `text` holds."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif 0x20 <= code < 0x7F:
            out.append(char)
        elif 0xD800 <= code <= 0xDFFF:  # a lone surrogate is no character: TOML has no escape for it
            raise TomlValueError(f"{text!r}: a lone surrogate (U+{code:04X}) is not text")
        else:
            out.append(f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}")
    out.append('"')
    return "".join(out)


def key(name: str) -> str:
    return name if _BARE_KEY.fullmatch(name) else string(name)


def value(item: Any) -> str:
    if isinstance(item, bool):  # before int: a bool is an int to Python
        return "true" if item else "false"
    if isinstance(item, int):
        return str(item)
    if isinstance(item, float):
        if not math.isfinite(item):
            raise TomlValueError(f"{item!r}: only finite numbers are written")
        return repr(item)
    if isinstance(item, str):
        return string(item)
    if isinstance(item, Sequence):
        if any(not isinstance(x, (str, int, float)) for x in item):
            raise TomlValueError(f"{item!r}: a list holds strings and numbers only")
        return "[" + ", ".join(value(x) for x in item) + "]"
    raise TomlValueError(f"{item!r}: a {type(item).__name__} is not written")


def dumps(document: Mapping[str, Any]) -> str:
    """`document` as TOML: its values first, then each table (a Mapping value) under its header.
    Parsed back before it is returned; a `TomlValueError` when it would not read back as `document`."""
    lines = [f"{key(n)} = {value(v)}" for n, v in document.items() if not isinstance(v, Mapping)]
    tables = [(n, v) for n, v in document.items() if isinstance(v, Mapping)]
    for name, table in tables:
        lines += ["", f"[{key(name)}]"]
        for inner, item in table.items():
            if isinstance(item, Mapping):
                raise TomlValueError(f"[{name}] {inner}: a table inside a table is not written")
            lines.append(f"{key(inner)} = {value(item)}")
    text = "\n".join(lines) + "\n"
    if tomllib.loads(text) != _plain(document):
        raise TomlValueError("the document does not read back as the data it was written from")
    return text


def _plain(item: Any) -> Any:
    """`item` as tomllib reads it back: mappings as dicts, sequences as lists."""
    if isinstance(item, Mapping):
        return {k: _plain(v) for k, v in item.items()}
    return [_plain(v) for v in item] if isinstance(item, (list, tuple)) else item
