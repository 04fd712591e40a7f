"""MLIR text's constants as older IREE compilers can take them: IREE's 2023 compilers cannot serialize
turbine's `dense_resource<...>` weights ("DenseResourceElementsAttr not yet supported for serialization"),
but take the same bytes as an inline `dense<"0x...">`: the blob's hex without its 4-byte alignment prefix."""

from __future__ import annotations

import re

_RESOURCES = "\n{-#"
_BLOB = re.compile(r'^\s*([^\s:]+|"[^"]*"):\s*"0x([0-9A-Fa-f]*)"', re.MULTILINE)
_REFERENCE = re.compile(r"dense_resource<([^>]+)>")
_ALIGNMENT_DIGITS = 8  # the blob's leading uint32 alignment, as hex


class ResourceError(ValueError):
    """A `dense_resource` the file holds no blob for."""


def inline_resources(text: str) -> str:
    """`text` with every `dense_resource<name>` replaced by `dense<"0x…">` of its blob's bytes and
    the resource section dropped. A file without resources comes back unchanged."""
    body, sep, section = text.partition(_RESOURCES)
    if not sep:
        return text
    blobs = {name.strip('"'): data for name, data in _BLOB.findall(section)}

    def inline(found: re.Match[str]) -> str:
        name = found.group(1).strip('"')
        if (data := blobs.get(name)) is None:
            raise ResourceError(f"dense_resource<{name}> has no blob in the file's dialect_resources")
        return f'dense<"0x{data[_ALIGNMENT_DIGITS:]}">'

    return _REFERENCE.sub(inline, body).rstrip("\n") + "\n"
