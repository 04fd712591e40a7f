"""What a compiled module (.vmfb, a zip of `module.fb`, a size-prefixed FlatBuffer `BytecodeModuleDef`,
and its executables) asks of the runtime that loads it: the bytecode version, the required feature bits
and the minimum versions of the modules it imports. The field ids are the schema's declaration order,
which FlatBuffers keeps stable; a field an older compiler did not write reads as absent."""

from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path
from typing import Any, Optional

import flatbuffers
from flatbuffers import number_types as N
from flatbuffers.table import Table

_IDENTIFIER = b"IREE"
_MODULE_MEMBER = "module.fb"
# BytecodeModuleDef field ids
_REQUIREMENTS, _DEPENDENCIES, _BYTECODE_VERSION = 2, 5, 13
# ModuleDependencyDef field ids
_DEP_NAME, _DEP_MINIMUM_VERSION = 0, 1
_EXECUTABLE_MEMBER = re.compile(
    r"_(embedded_elf|system_elf|vmvx|static)_?([a-z0-9_]*)\.(so|dll|dylib|bin|vmfb)$"
)


class NotAModule(ValueError):
    """A file that is no IREE module (no FlatBuffer identifier, or a zip without the module member)."""


def module_versions(path: Path) -> dict[str, Any]:
    """{"bytecode": "17.0", "hal": "7", "features": "0xc", "executables": "embedded_elf_x86_64"}:
    what a runtime must offer to load this module (keys an older module lacks are left out)."""
    buf, members = _flatbuffer(Path(path))
    root = Table(buf, flatbuffers.encode.Get(N.UOffsetTFlags.packer_type, buf, 0))
    versions: dict[str, Any] = {}
    if (bytecode := _u32(root, _BYTECODE_VERSION)) is not None:
        versions["bytecode"] = f"{bytecode >> 16}.{bytecode & 0xFFFF}"
    versions.update((name, str(minimum)) for name, minimum in _dependencies(buf, root))
    if features := _u32(root, _REQUIREMENTS):
        versions["features"] = hex(features)
    found = {"_".join(p for p in m.groups()[:2] if p) for m in map(_EXECUTABLE_MEMBER.search, members) if m}
    if formats := sorted(found):
        versions["executables"] = ",".join(formats)
    return versions


def part_digests(path: Path) -> dict[str, str]:
    """sha256 of each part of the module by member name (`module.fb` and each executable): where two modules
    differ. Empty for a module that is not a zip."""
    try:
        with zipfile.ZipFile(path) as archive:
            return {
                info.filename: hashlib.sha256(archive.read(info)).hexdigest() for info in archive.infolist()
            }
    except (zipfile.BadZipFile, OSError, ValueError):
        return {}


def _flatbuffer(path: Path) -> tuple[bytearray, list[str]]:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.namelist()
            data = bytearray(archive.read(_MODULE_MEMBER))
    except zipfile.BadZipFile:
        members, data = [], bytearray(path.read_bytes())  # a bare FlatBuffer (no executables)
    except KeyError:
        raise NotAModule(f"{path}: a zip without {_MODULE_MEMBER}: not an IREE module") from None
    for start in (4, 0):  # size-prefixed (what iree-compile writes) or not
        if data[start + 4 : start + 8] == _IDENTIFIER:
            return data[start:], members
    raise NotAModule(f"{path}: no IREE FlatBuffer identifier: not an IREE module")


def _u32(table: Table, field: int) -> Optional[int]:
    offset = table.Offset(4 + 2 * field)
    return table.Get(N.Uint32Flags, table.Pos + offset) if offset else None


def _dependencies(buf: bytearray, root: Table) -> list[tuple[str, int]]:
    if not (offset := root.Offset(4 + 2 * _DEPENDENCIES)):
        return []
    start, found = root.Vector(offset), []
    for i in range(root.VectorLen(offset)):
        dep = Table(buf, root.Indirect(start + 4 * i))
        if name_at := dep.Offset(4 + 2 * _DEP_NAME):
            found.append((dep.String(dep.Pos + name_at).decode(), _u32(dep, _DEP_MINIMUM_VERSION) or 0))
    return found
